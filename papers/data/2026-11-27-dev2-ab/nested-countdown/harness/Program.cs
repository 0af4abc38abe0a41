// The bench's nested case (PoolNestedBenchmarks) in two layouts, in one process: the countdown that every job
// decrements next to the pool reference that every job of the pool's row reads ("adjacent", the layout before the
// fix), and on a line of its own ("padded"). Each round runs the four rows once, in an order drawn at random.
// Usage: dotnet run -c Release --project papers/data/2026-11-27-dev2-ab/nested-countdown/harness/harness.csproj -- ROUNDS
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using FastThreadPool;

public abstract class NestedCase
{
    private const int Depth = 16;
    public const int Jobs = (1 << Depth) - 1;
    private readonly Pool _pool = new(new PoolOptions { KeepDone = false });
    private readonly ManualResetEventSlim _done = new(false);

    protected abstract ref long Remaining { get; }

    private void Ran()
    {
        if (Interlocked.Decrement(ref Remaining) == 0)
        {
            _done.Set();
        }
    }

    private void ThreadPoolNode(int depth)
    {
        if (depth > 1)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Self.ThreadPoolNode(s.Depth), (Self: this, Depth: depth - 1), preferLocal: true);
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Self.ThreadPoolNode(s.Depth), (Self: this, Depth: depth - 1), preferLocal: true);
        }

        Ran();
    }

    private void PoolNode(int depth)
    {
        if (depth > 1)
        {
            _pool.Submit(static s => s.Self.PoolNode(s.Depth), (Self: this, Depth: depth - 1));
            _pool.Submit(static s => s.Self.PoolNode(s.Depth), (Self: this, Depth: depth - 1));
        }

        Ran();
    }

    public void ThreadPoolNested()
    {
        Remaining = Jobs;
        _done.Reset();
        ThreadPoolNode(Depth);
        _done.Wait();
    }

    public void PoolNested()
    {
        Remaining = Jobs;
        _done.Reset();
        _pool.Submit(static s => s.PoolNode(Depth), this);
        _done.Wait();
    }
}

public sealed class Adjacent : NestedCase
{
    private long _remaining;

    protected override ref long Remaining => ref _remaining;
}

public sealed class Padded : NestedCase
{
    private Line _remaining;

    protected override ref long Remaining => ref _remaining.Value;

    [StructLayout(LayoutKind.Explicit, Size = 136)]
    private struct Line
    {
        [FieldOffset(64)]
        public long Value;
    }
}

public static class Program
{
    public static void Main(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0]) : 100;
        var adjacent = new Adjacent();
        var padded = new Padded();
        var names = new[] { "ThreadPool, adjacent", "Pool, adjacent", "ThreadPool, padded", "Pool, padded" };
        var rows = new Action[] { adjacent.ThreadPoolNested, adjacent.PoolNested, padded.ThreadPoolNested, padded.PoolNested };
        var times = names.Select(_ => new List<double>()).ToArray();
        var order = Enumerable.Range(0, rows.Length).ToArray();
        var random = new Random(20261127);
        for (int r = 0; r < rounds + 20; r++)
        {
            random.Shuffle(order);
            foreach (int k in order)
            {
                long start = Stopwatch.GetTimestamp();
                rows[k]();
                double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / NestedCase.Jobs;
                if (r >= 20)
                {
                    times[k].Add(ns);
                }
            }
        }

        Console.WriteLine($"{rounds} rounds, ns per job: 25th percentile, median, 75th percentile");
        for (int k = 0; k < rows.Length; k++)
        {
            var s = times[k].OrderBy(x => x).ToList();
            Console.WriteLine($"{names[k],-22} {s[s.Count / 4],7:F1} {s[s.Count / 2],7:F1} {s[3 * s.Count / 4],7:F1}");
        }
    }
}

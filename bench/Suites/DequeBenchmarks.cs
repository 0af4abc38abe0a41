using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading;
using BenchmarkDotNet.Attributes;
using FastThreadPool.Benchmarks.Infrastructure;
using FastThreadPool.Primitives;

namespace FastThreadPool.Benchmarks.Suites;

/// <summary>Work-stealing operations behind a struct (see <see cref="IQueueOps"/>).</summary>
public interface IDequeOps
{
    /// <summary>Owner: add an item.</summary>
    void Push(long item);

    /// <summary>Owner: take its most recent item.</summary>
    bool TryPop(out long item);

    /// <summary>Any other thread: take an item.</summary>
    bool TrySteal(out long item);
}

public readonly struct WorkStealingDequeOps(WorkStealingDeque<long> d) : IDequeOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(long item) => d.Push(item);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPop(out long item) => d.TryPop(out item);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TrySteal(out long item) => d.TrySteal(out item);
}

/// <summary><see cref="ConcurrentBag{T}"/>: Add and TryTake on the owner's thread-local list; other threads' TryTake
/// steal from it.</summary>
public readonly struct ConcurrentBagOps(ConcurrentBag<long> b) : IDequeOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(long item) => b.Add(item);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPop(out long item) => b.TryTake(out item);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TrySteal(out long item) => b.TryTake(out item);
}

/// <summary><see cref="ConcurrentStack{T}"/>: one lock-free stack for everyone.</summary>
public readonly struct ConcurrentStackOps(ConcurrentStack<long> s) : IDequeOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(long item) => s.Push(item);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPop(out long item) => s.TryPop(out item);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TrySteal(out long item) => s.TryPop(out item);
}

/// <summary>Suite "deque", case "owner": the owner pushes and pops one item, the pattern of a worker running its
/// own jobs. Time per push+pop pair.</summary>
[BenchmarkCategory("headline", "deque")]
public class DequeOwnerBenchmarks
{
    private const int Ops = 1024;
    private readonly ConcurrentBag<long> _bag = new();
    private readonly ConcurrentStack<long> _stack = new();
    private readonly WorkStealingDeque<long> _deque = new();

    private static long Pairs<TD>(TD d) where TD : struct, IDequeOps
    {
        long sum = 0;
        for (long i = 0; i < Ops; i++)
        {
            d.Push(i);
            d.TryPop(out long v);
            sum += v;
        }

        return sum;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    [Row("deque", "owner", "ConcurrentBag")]
    public long ConcurrentBag() => Pairs(new ConcurrentBagOps(_bag));

    [Benchmark(OperationsPerInvoke = Ops)]
    [Row("deque", "owner", "ConcurrentStack")]
    public long ConcurrentStack() => Pairs(new ConcurrentStackOps(_stack));

    [Benchmark(OperationsPerInvoke = Ops)]
    [Row("deque", "owner", "WorkStealingDeque", Ours = true)]
    public long WorkStealingDeque() => Pairs(new WorkStealingDequeOps(_deque));
}

/// <summary>
/// Suite "deque", cases "stealN": one owner pushes 2^18 items (and pops none) while N thieves steal them all; time
/// per item. The thieves' throughput is what a pool whose idle workers take jobs from a busy one depends on.
/// </summary>
public abstract class DequeStealBase
{
    protected const int Items = 1 << 18;

    public abstract int Thieves { get; set; }

    protected static void Run<TD>(TD d, int thieves) where TD : struct, IDequeOps
    {
        long taken = 0;
        var threads = new Thread[thieves];
        using var start = new Barrier(thieves + 1);
        for (int k = 0; k < thieves; k++)
        {
            threads[k] = new Thread(() =>
            {
                start.SignalAndWait();
                long mine = 0;
                SpinWait spinner = default;
                while (Volatile.Read(ref taken) < Items)
                {
                    if (d.TrySteal(out _))
                    {
                        // Count in batches to keep the shared counter off the measured path.
                        if (++mine == 64)
                        {
                            Interlocked.Add(ref taken, mine);
                            mine = 0;
                        }

                        spinner = default;
                    }
                    else
                    {
                        if (mine > 0)
                        {
                            Interlocked.Add(ref taken, mine);
                            mine = 0;
                        }

                        spinner.SpinOnce(sleep1Threshold: -1);
                    }
                }
            });
            threads[k].Start();
        }

        start.SignalAndWait();
        for (long i = 0; i < Items; i++)
        {
            d.Push(i);
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }
    }

    // One instance per benchmark, reused by every invocation (each ends empty), so that growth happens in the
    // warm-up and bytes per operation show the steady state.
    private readonly ConcurrentBag<long> _bag = new();
    private readonly ConcurrentStack<long> _stack = new();
    private readonly WorkStealingDeque<long> _deque = new();

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    [Row("deque", "steal{Thieves}", "ConcurrentBag", "1+{Thieves}")]
    public void ConcurrentBag() => Run(new ConcurrentBagOps(_bag), Thieves);

    [Benchmark(OperationsPerInvoke = Items)]
    [Row("deque", "steal{Thieves}", "ConcurrentStack", "1+{Thieves}")]
    public void ConcurrentStack() => Run(new ConcurrentStackOps(_stack), Thieves);

    [Benchmark(OperationsPerInvoke = Items)]
    [Row("deque", "steal{Thieves}", "WorkStealingDeque", "1+{Thieves}", Ours = true)]
    public void WorkStealingDeque() => Run(new WorkStealingDequeOps(_deque), Thieves);
}

/// <summary>Headline: one thief, and three (a steal-heavy fan-out; oversubscribed on 2 cores).</summary>
[BenchmarkCategory("headline", "deque")]
public class DequeStealBenchmarks : DequeStealBase
{
    [Params(1, 3)]
    public override int Thieves { get; set; }
}

/// <summary>Scaling: 1 to 15 thieves (run on a machine with 16 cores).</summary>
[BenchmarkCategory("scaling", "deque")]
public class DequeStealScalingBenchmarks : DequeStealBase
{
    [Params(1, 2, 4, 8, 15)]
    public override int Thieves { get; set; }
}

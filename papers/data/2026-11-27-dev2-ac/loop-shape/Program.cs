// The bench's 1p1c loop (QueueProducerConsumerBase.Run, copied) against the same loop with the captured values copied
// into locals before it ("hoisted"), for ConcurrentQueue, the 2^14 and 2^20 rings and the unbounded queue, all eight in
// an order drawn at random every round. Per call: ns per item, failed dequeues per 1,000 items, and the queue's length
// when the consumer had taken half the items (how far the producer was ahead). Medians over the last three quarters of
// the rounds, with the 25th and 75th percentiles of the time.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using FastThreadPool.Primitives;

int rounds = args.Length > 0 ? int.Parse(args[0]) : 100;
var cq = new ConcurrentQueue<long>();
var b14 = new BoundedMpmcQueue<long>(1 << 14);
var b20 = new BoundedMpmcQueue<long>(1 << 20);
var u = new UnboundedMpmcQueue<long>();
var cases = new (string Name, Func<Stat> Run)[]
{
    ("ConcurrentQueue, bench loop", () => Loops.Bench(new CqOps(cq))),
    ("ConcurrentQueue, hoisted", () => Loops.Hoisted(new CqOps(cq))),
    ("ring 2^14, bench loop", () => Loops.Bench(new BOps(b14))),
    ("ring 2^14, hoisted", () => Loops.Hoisted(new BOps(b14))),
    ("ring 2^20, bench loop", () => Loops.Bench(new BOps(b20))),
    ("ring 2^20, hoisted", () => Loops.Hoisted(new BOps(b20))),
    ("unbounded, bench loop", () => Loops.Bench(new UOps(u))),
    ("unbounded, hoisted", () => Loops.Hoisted(new UOps(u))),
};
var results = cases.ToDictionary(c => c.Name, _ => new List<Stat>());
var random = new Random(1);
for (int r = 0; r < rounds; r++)
{
    foreach (var c in cases.OrderBy(_ => random.Next()))
    {
        results[c.Name].Add(c.Run());
    }
}

Console.WriteLine($"{rounds} rounds; medians over the last {rounds - rounds / 4}");
Console.WriteLine("| loop | ns per item | 25th-75th | failed dequeues per 1,000 | length at half |");
Console.WriteLine("|---|---:|---:|---:|---:|");
foreach (var c in cases)
{
    var kept = results[c.Name].Skip(rounds / 4).ToList();
    double Q(Func<Stat, double> f, double q) { var a = kept.Select(f).OrderBy(x => x).ToList(); return a[(int)(q * (a.Count - 1))]; }
    Console.WriteLine($"| {c.Name} | {Q(s => s.Ns, 0.5):F2} | {Q(s => s.Ns, 0.25):F2}-{Q(s => s.Ns, 0.75):F2} | {Q(s => s.Empties, 0.5):F2} | {Q(s => s.LengthAtHalf, 0.5):F0} |");
}

record struct Stat(double Ns, double Empties, double LengthAtHalf);

interface IOps
{
    bool TryEnqueue(long x);
    bool TryDequeue(out long x);
    int Count { get; }
}

readonly struct CqOps(ConcurrentQueue<long> q) : IOps
{
    public bool TryEnqueue(long x) { q.Enqueue(x); return true; }
    public bool TryDequeue(out long x) => q.TryDequeue(out x);
    public int Count => q.Count;
}

readonly struct BOps(BoundedMpmcQueue<long> q) : IOps
{
    public bool TryEnqueue(long x) => q.TryEnqueue(x);
    public bool TryDequeue(out long x) => q.TryDequeue(out x);
    public int Count => q.Count;
}

readonly struct UOps(UnboundedMpmcQueue<long> q) : IOps
{
    public bool TryEnqueue(long x) { q.Enqueue(x); return true; }
    public bool TryDequeue(out long x) => q.TryDequeue(out x);
    public int Count => q.Count;
}

static class Loops
{
    private static long s_empties;
    private static int s_lengthAtHalf;
    private const int Per = Items, Half = Items / 2;
    private const int Items = 1 << 20;

    private static Stat Finish(Stopwatch clock)
    {
        var s = new Stat(clock.Elapsed.TotalNanoseconds / Items, s_empties * 1000.0 / Items, s_lengthAtHalf);
        s_empties = 0;
        s_lengthAtHalf = 0;
        return s;
    }

    // The bench's loop: the lambdas read q, per and basis from their closures in every iteration (the queue's
    // interlocked operations keep the JIT from keeping them in registers).
    public static Stat Bench<TQ>(TQ q) where TQ : struct, IOps
    {
        int per = Per;
        long basis = 0;
        using var start = new Barrier(2);
        var producer = new Thread(() =>
        {
            start.SignalAndWait();
            SpinWait spinner = default;
            for (long i = 0; i < per; i++)
            {
                while (!q.TryEnqueue(basis + i))
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }
        });
        var consumer = new Thread(() =>
        {
            start.SignalAndWait();
            SpinWait spinner = default;
            for (int i = 0; i < per; i++)
            {
                while (!q.TryDequeue(out _))
                {
                    s_empties++;
                    spinner.SpinOnce(sleep1Threshold: -1);
                }

                if (i == Half)
                {
                    s_lengthAtHalf = q.Count;
                }
            }
        });
        var clock = Stopwatch.StartNew();
        producer.Start();
        consumer.Start();
        producer.Join();
        consumer.Join();
        return Finish(clock);
    }

    // The same with the captured values copied into locals before the loops.
    public static Stat Hoisted<TQ>(TQ q) where TQ : struct, IOps
    {
        int per = Per;
        long basis = 0;
        using var start = new Barrier(2);
        var producer = new Thread(() =>
        {
            start.SignalAndWait();
            SpinWait spinner = default;
            TQ lq = q;
            long lb = basis;
            int lper = per;
            for (long i = 0; i < lper; i++)
            {
                while (!lq.TryEnqueue(lb + i))
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }
        });
        var consumer = new Thread(() =>
        {
            start.SignalAndWait();
            SpinWait spinner = default;
            TQ lq = q;
            int lper = per;
            for (int i = 0; i < lper; i++)
            {
                while (!lq.TryDequeue(out _))
                {
                    s_empties++;
                    spinner.SpinOnce(sleep1Threshold: -1);
                }

                if (i == Half)
                {
                    s_lengthAtHalf = lq.Count;
                }
            }
        });
        var clock = Stopwatch.StartNew();
        producer.Start();
        consumer.Start();
        producer.Join();
        consumer.Join();
        return Finish(clock);
    }
}

using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using FastThreadPool.Benchmarks.Infrastructure;
using FastThreadPool.Primitives;

namespace FastThreadPool.Benchmarks.Suites;

/// <summary>Suite "queue", case "pair": one thread, Enqueue then TryDequeue, on an empty queue.</summary>
[BenchmarkCategory("headline", "queue")]
public class QueuePairBenchmarks
{
    private const int Ops = 1024;
    private readonly ConcurrentQueue<long> _cq = new();
    private readonly BoundedMpmcQueue<long> _bounded = new(1024);
    private readonly UnboundedMpmcQueue<long> _unbounded = new();
    private readonly Channel<long> _channel = System.Threading.Channels.Channel.CreateUnbounded<long>();

    private static long Pairs<TQ>(TQ q) where TQ : struct, IQueueOps
    {
        long sum = 0;
        for (long i = 0; i < Ops; i++)
        {
            q.TryEnqueue(i);
            q.TryDequeue(out long v);
            sum += v;
        }

        return sum;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    [Row("queue", "pair", "ConcurrentQueue")]
    public long ConcurrentQueue() => Pairs(new ConcurrentQueueOps(_cq));

    [Benchmark(OperationsPerInvoke = Ops)]
    [Row("queue", "pair", "Channel (unbounded)")]
    public long Channel() => Pairs(new ChannelOps(_channel));

    [Benchmark(OperationsPerInvoke = Ops)]
    [Row("queue", "pair", "BoundedMpmcQueue", Ours = true)]
    public long BoundedMpmcQueue() => Pairs(new BoundedOps(_bounded));

    [Benchmark(OperationsPerInvoke = Ops)]
    [Row("queue", "pair", "UnboundedMpmcQueue", Ours = true)]
    public long UnboundedMpmcQueue() => Pairs(new UnboundedOps(_unbounded));

    private readonly PairFloor _floor = new();

    /// <summary>The floor of any queue that makes one atomic read-modify-write per operation: each operation reads
    /// its index, advances it with a compare-and-swap, and stores or loads the item; nothing else (not a queue: it
    /// never checks for full or empty, so a reference row, as the semaphore suite's, whose ratio shows what is left to
    /// gain). A dequeue cannot do without such an instruction or a store-load fence (Attiya et al., "Laws of Order",
    /// POPL 2011), and no queue measured here makes less than one per enqueue either.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    [Row("queue", "pair", "floor: a CAS and the item per operation")]
    public long Floor() => Pairs(new PairFloorOps(_floor));
}

/// <summary>The state of <see cref="QueuePairBenchmarks.Floor"/>: two indices on lines of their own, and the items.</summary>
public sealed class PairFloor
{
    internal readonly long[] Slots = new long[1024];
    private PaddedInt64 _enqueue;
    private PaddedInt64 _dequeue;

    internal ref long EnqueueIndex => ref _enqueue.Value;

    internal ref long DequeueIndex => ref _dequeue.Value;
}

/// <summary>
/// Suite "queue", cases "NpNc": N producers and N consumers move 2^20 items; the time is per item. Each producer
/// enqueues its share (spinning while a bounded queue is full), each consumer dequeues its share. Each queue is made
/// once and drained by every invocation, so an invocation measures the queue at work, not its construction: a new
/// 16K-slot ring per invocation (256 KB, on the large-object heap) set off a full collection in a quarter of them,
/// and so did <c>ConcurrentQueue</c>'s growing segments.
/// </summary>
public abstract class QueueProducerConsumerBase
{
    protected internal const int Items = 1 << 20;

    /// <summary>The bounded ring's slots in the <c>BoundedMpmcQueue</c> rows, and in the rows of the ring as large as
    /// the run.</summary>
    protected internal const int RingSlots = 1 << 14, LargeRingSlots = 1 << 20;

    public abstract int Pairs { get; set; }

    private ConcurrentQueue<long> _cq = null!;
    private Channel<long> _channel = null!;
    private BoundedMpmcQueue<long> _bounded = null!;
    private BoundedMpmcQueue<long> _boundedLarge = null!;
    private UnboundedMpmcQueue<long> _unbounded = null!;

    [GlobalSetup]
    public void Setup()
    {
        _cq = new ConcurrentQueue<long>();
        _channel = System.Threading.Channels.Channel.CreateUnbounded<long>();
        _bounded = new BoundedMpmcQueue<long>(RingSlots);
        _boundedLarge = new BoundedMpmcQueue<long>(LargeRingSlots);
        _unbounded = new UnboundedMpmcQueue<long>();
    }

    protected internal static void Run<TQ>(TQ q, int pairs) where TQ : struct, IQueueOps
    {
        int per = Items / pairs;
        var threads = new Thread[2 * pairs];
        using var start = new Barrier(2 * pairs);
        for (int p = 0; p < pairs; p++)
        {
            long basis = (long)p * per;
            threads[p] = new Thread(() =>
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
        }

        for (int c = 0; c < pairs; c++)
        {
            threads[pairs + c] = new Thread(() =>
            {
                start.SignalAndWait();
                SpinWait spinner = default;
                for (int i = 0; i < per; i++)
                {
                    while (!q.TryDequeue(out _))
                    {
                        spinner.SpinOnce(sleep1Threshold: -1);
                    }
                }
            });
        }

        foreach (Thread t in threads)
        {
            t.Start();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    [Row("queue", "{Pairs}p{Pairs}c", "ConcurrentQueue", "{Pairs}+{Pairs}")]
    public void ConcurrentQueue() => Run(new ConcurrentQueueOps(_cq), Pairs);

    [Benchmark(OperationsPerInvoke = Items)]
    [Row("queue", "{Pairs}p{Pairs}c", "Channel (unbounded)", "{Pairs}+{Pairs}")]
    public void Channel() => Run(new ChannelOps(_channel), Pairs);

    [Benchmark(OperationsPerInvoke = Items)]
    [Row("queue", "{Pairs}p{Pairs}c", "BoundedMpmcQueue", "{Pairs}+{Pairs}", Ours = true)]
    public void BoundedMpmcQueue() => Run(new BoundedOps(_bounded), Pairs);

    // The same ring with the memory ConcurrentQueue keeps here: its segments grow to 2^20 slots (its largest) while
    // the producer runs ahead, and the last one stays. A 2^14 ring is lapped every 16K items, so each slot's line,
    // last written by the consumer, must come back to the producer's core; in a ring as large as the run it need not.
    [Benchmark(OperationsPerInvoke = Items)]
    [Row("queue", "{Pairs}p{Pairs}c", "BoundedMpmcQueue (2^20 slots)", "{Pairs}+{Pairs}", Ours = true)]
    public void BoundedMpmcQueueLarge() => Run(new BoundedOps(_boundedLarge), Pairs);

    [Benchmark(OperationsPerInvoke = Items)]
    [Row("queue", "{Pairs}p{Pairs}c", "UnboundedMpmcQueue", "{Pairs}+{Pairs}", Ours = true)]
    public void UnboundedMpmcQueue() => Run(new UnboundedOps(_unbounded), Pairs);
}

/// <summary>Headline: 1p1c and 2p2c.</summary>
[BenchmarkCategory("headline", "queue")]
public class QueueProducerConsumerBenchmarks : QueueProducerConsumerBase
{
    [Params(1, 2)]
    public override int Pairs { get; set; }
}

/// <summary>Scaling: 1p1c to 8p8c (run on a machine with 16 cores).</summary>
[BenchmarkCategory("scaling", "queue")]
public class QueueScalingBenchmarks : QueueProducerConsumerBase
{
    [Params(1, 2, 4, 8)]
    public override int Pairs { get; set; }
}

/// <summary>
/// Suite "queue", case "bursty": one producer enqueues bursts of 64 items and waits until the consumer has taken
/// them all, so the consumer keeps finding the queue empty between bursts (hand-off latency plus empty polls).
/// </summary>
[BenchmarkCategory("headline", "queue")]
public class QueueBurstyBenchmarks
{
    private const int Burst = 64;
    private const int Bursts = 2048;

    private static void Run<TQ>(TQ q) where TQ : struct, IQueueOps
    {
        long consumed = 0;
        var consumer = new Thread(() =>
        {
            long n = 0;
            SpinWait spinner = default;
            while (n < (long)Burst * Bursts)
            {
                if (q.TryDequeue(out _))
                {
                    Volatile.Write(ref consumed, ++n);
                    spinner = default;
                }
                else
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }
        });
        consumer.Start();
        long produced = 0;
        for (int b = 0; b < Bursts; b++)
        {
            for (int i = 0; i < Burst; i++)
            {
                while (!q.TryEnqueue(produced))
                {
                    Thread.SpinWait(1);
                }

                produced++;
            }

            SpinWait spinner = default;
            while (Volatile.Read(ref consumed) != produced)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }

        consumer.Join();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Burst * Bursts)]
    [Row("queue", "bursty", "ConcurrentQueue", "2")]
    public void ConcurrentQueue() => Run(new ConcurrentQueueOps(new ConcurrentQueue<long>()));

    [Benchmark(OperationsPerInvoke = Burst * Bursts)]
    [Row("queue", "bursty", "BlockingCollection", "2")]
    public void BlockingCollection() => Run(new BlockingCollectionOps(new BlockingCollection<long>()));

    [Benchmark(OperationsPerInvoke = Burst * Bursts)]
    [Row("queue", "bursty", "BoundedMpmcQueue", "2", Ours = true)]
    public void BoundedMpmcQueue() => Run(new BoundedOps(new BoundedMpmcQueue<long>(256)));

    [Benchmark(OperationsPerInvoke = Burst * Bursts)]
    [Row("queue", "bursty", "UnboundedMpmcQueue", "2", Ours = true)]
    public void UnboundedMpmcQueue() => Run(new UnboundedOps(new UnboundedMpmcQueue<long>()));
}

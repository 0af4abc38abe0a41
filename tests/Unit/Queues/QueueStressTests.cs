using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using FastThreadPool.Guides;
using FastThreadPool.Primitives;
using FastThreadPool.Tests.Unit.Linearizability;
using Xunit;

namespace FastThreadPool.Tests.Unit.Queues;

/// <summary>
/// Native multi-threaded runs. Items are tagged (producer &lt;&lt; 32 | sequence); a bitmap shows every item taken
/// exactly once, each consumer sees each producer's items in order, and nothing is left. Thread counts go below and
/// above the core count; every run is bounded in items and in time.
/// </summary>
public abstract class QueueStressTests
{
    protected abstract IMpmcQueue<long> Create();

    /// <summary>One take of a consumer in <see cref="EveryItemTakenExactlyOnceInProducerOrder"/>: how many items it put
    /// into <paramref name="into"/> (0 when it found none), in queue order. A single dequeue unless overridden.</summary>
    protected virtual int Take(IMpmcQueue<long> q, long[] into) => q.TryDequeue(out into[0]) ? 1 : 0;

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1, 1, 200_000)]
    [InlineData(2, 2, 100_000)]
    [InlineData(4, 4, 40_000)]
    [InlineData(3, 1, 60_000)]
    [InlineData(1, 3, 150_000)]
    public void EveryItemTakenExactlyOnceInProducerOrder(int producers, int consumers, int perProducer)
    {
        IMpmcQueue<long> q = Create();
        long total = (long)producers * perProducer;
        var taken = new int[total];
        long takenCount = 0;
        var failures = new List<string>();
        var deadline = Stopwatch.StartNew();
        var threads = new List<Thread>();
        using var start = new Barrier(producers + consumers);

        for (int p = 0; p < producers; p++)
        {
            int id = p;
            threads.Add(new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < perProducer; i++)
                {
                    long item = ((long)id << 32) | (uint)i;
                    SpinWait spinner = default;
                    while (!q.TryEnqueue(item))
                    {
                        if (deadline.Elapsed > Limit)
                        {
                            return;
                        }

                        spinner.SpinOnce(sleep1Threshold: -1);
                    }
                }
            }));
        }

        for (int c = 0; c < consumers; c++)
        {
            threads.Add(new Thread(() =>
            {
                start.SignalAndWait();
                var last = new long[producers];
                Array.Fill(last, -1);
                var buffer = new long[8];
                SpinWait spinner = default;
                while (Volatile.Read(ref takenCount) < total && deadline.Elapsed < Limit)
                {
                    int n = Take(q, buffer);
                    if (n == 0)
                    {
                        spinner.SpinOnce(sleep1Threshold: -1);
                        continue;
                    }

                    for (int k = 0; k < n; k++)
                    {
                        long item = buffer[k];
                        int producer = (int)(item >> 32);
                        long seq = (uint)item;
                        if (seq <= last[producer])
                        {
                            lock (failures)
                            {
                                failures.Add($"producer {producer}: {seq} after {last[producer]}");
                            }
                        }

                        last[producer] = seq;
                        if (Interlocked.Increment(ref taken[(long)producer * perProducer + seq]) != 1)
                        {
                            lock (failures)
                            {
                                failures.Add($"item {producer}:{seq} taken twice");
                            }
                        }

                        Interlocked.Increment(ref takenCount);
                    }
                }
            }));
        }

        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.True(deadline.Elapsed < Limit, $"run did not finish within {Limit}: {takenCount} of {total} taken");
        Assert.Empty(failures);
        Assert.Equal(total, takenCount);
        Assert.All(taken, n => Assert.Equal(1, n));
        Assert.False(q.TryDequeue(out _));
        Assert.True(q.IsEmpty);
    }

    /// <summary>
    /// Many short rounds of 3 threads with 3-4 operations each, every round checked by the exact
    /// linearizability search; then long histories checked by the four aspects.
    /// </summary>
    [Fact]
    public void ShortHistoriesAreLinearizable()
    {
        for (int round = 0; round < 300; round++)
        {
            IMpmcQueue<long> q = Create();
            var recorder = new HistoryRecorder(3);
            long value = 0;
            RunThreads(3, t =>
            {
                var rnd = new Random(round * 7 + t);
                for (int i = 0; i < 4; i++)
                {
                    if (rnd.Next(2) == 0)
                    {
                        recorder.Enqueue(t, Interlocked.Increment(ref value), q.TryEnqueue);
                    }
                    else
                    {
                        recorder.Dequeue(t, q.TryDequeue);
                    }
                }
            });

            string? violation = QueueLinearizability.CheckExact(recorder.Ops(), q.IsBounded ? q.Capacity : int.MaxValue);
            Assert.True(violation is null, $"round {round}: {violation}");
        }
    }

    [Fact]
    public void LongHistoriesHaveNoLinearizabilityViolation()
    {
        for (int round = 0; round < 4; round++)
        {
            IMpmcQueue<long> q = Create();
            int threads = 2 + round;
            var recorder = new HistoryRecorder(threads);
            RunThreads(threads, t =>
            {
                var rnd = new Random(round * 31 + t);
                for (int i = 0; i < 20_000; i++)
                {
                    if (rnd.Next(2) == 0)
                    {
                        recorder.Enqueue(t, ((long)t << 32) | (uint)i, q.TryEnqueue);
                    }
                    else
                    {
                        recorder.Dequeue(t, q.TryDequeue);
                    }
                }
            });

            string? violation = QueueLinearizability.CheckAspects(recorder.Ops());
            Assert.True(violation is null, $"round {round} ({threads} threads): {violation}");
        }
    }

    private static void RunThreads(int count, Action<int> body)
    {
        using var start = new Barrier(count);
        var threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            int id = i;
            threads[i] = new Thread(() =>
            {
                start.SignalAndWait();
                body(id);
            });
            threads[i].Start();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }
    }
}

public sealed class BoundedMpmcQueueStressTests : QueueStressTests
{
    protected override IMpmcQueue<long> Create() => new BoundedMpmcQueue<long>(8);
}

/// <summary>A ring large enough for the consumers' second wait (a reach of 1,024 positions).</summary>
public sealed class BoundedMpmcQueueWithReachStressTests : QueueStressTests
{
    protected override IMpmcQueue<long> Create() => new BoundedMpmcQueue<long>(4096);
}

/// <summary>The same over references.</summary>
public sealed class BoundedMpmcQueueWithReachOverReferencesStressTests : QueueStressTests
{
    protected override IMpmcQueue<long> Create() => new BoxedQueue(new BoundedMpmcQueue<object>(4096));
}

/// <summary>The bounded queue over references: Vyukov's protocol (see <see cref="BoxedQueue"/>).</summary>
public sealed class BoundedMpmcQueueOverReferencesStressTests : QueueStressTests
{
    protected override IMpmcQueue<long> Create() => new BoxedQueue(new BoundedMpmcQueue<object>(8));
}

public sealed class UnboundedMpmcQueueStressTests : QueueStressTests
{
    protected override IMpmcQueue<long> Create() => new UnboundedMpmcQueue<long>(segmentSize: 4);
}

/// <summary>Segments of 16 slots given the consumers' second wait (for their segment's last slot; by default only
/// segments of 1,024 slots or more make it), so that the waits, answered and not, the queue's note and the cooling of
/// emptied segments while it streams come often.</summary>
public sealed class UnboundedWithFarWaitStressTests : QueueStressTests
{
    protected override IMpmcQueue<long> Create() => new UnboundedMpmcQueue<long>(segmentSize: 16, spareSegments: 1, farWait: true);
}

/// <summary>The same over references (whose recycled segments are cleared), with a short line of cooling segments
/// (reused once two others wait behind them), so that segments cycle through it often.</summary>
public sealed class UnboundedWithFarWaitOverReferencesStressTests : QueueStressTests
{
    protected override IMpmcQueue<long> Create() => new BoxedQueue(new UnboundedMpmcQueue<object>(segmentSize: 16, spareSegments: 1, farWait: true, cooling: 2));
}

public sealed class UnboundedWithSpareSegmentsStressTests : QueueStressTests
{
    protected override IMpmcQueue<long> Create() => new UnboundedMpmcQueue<long>(segmentSize: 4, spareSegments: 8);
}

/// <summary>Consumers that take batches (one claim for a run of published slots), falling back to a single dequeue when
/// a batch finds nothing to claim, as the pool's workers do.</summary>
public sealed class UnboundedBatchConsumersStressTests : QueueStressTests
{
    protected override IMpmcQueue<long> Create() => new UnboundedMpmcQueue<long>(segmentSize: 8);

    protected override int Take(IMpmcQueue<long> q, long[] into)
    {
        DequeueMark mark = default;
        int n = ((UnboundedMpmcQueue<long>)q).TryDequeueMany(into, ref mark);
        return n > 0 ? n : base.Take(q, into);
    }
}

public sealed class LockedQueueStressTests : QueueStressTests
{
    protected override IMpmcQueue<long> Create() => new GuideLockedQueue<long>(16);
}

using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;
using Xunit;

namespace FastThreadPool.Tests.Unit.Queues;

public class QueueSpecificTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(BoundedMpmcQueue<int>.MaxCapacity + 1)]
    public void BoundedRejectsBadCapacity(int capacity)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new BoundedMpmcQueue<int>(capacity));
        Assert.Equal("capacity", e.ParamName);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(1000, 1024)]
    public void BoundedRoundsCapacityUp(int requested, int expected) =>
        Assert.Equal(expected, new BoundedMpmcQueue<int>(requested).Capacity);

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData((1 << 20) + 1)]
    public void UnboundedRejectsBadSegmentSize(int size)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new UnboundedMpmcQueue<int>(size));
        Assert.Equal("segmentSize", e.ParamName);
    }

    [Theory]
    [InlineData(long.MaxValue - 5)]
    [InlineData(-3)]
    [InlineData(uint.MaxValue - 2L)]
    public void BoundedRingWrapsAroundIndexOverflow(long start)
    {
        var ring = new BoundedRing<long, NoHooks>(4, start);
        long next = 0, expect = 0;
        for (int round = 0; round < 50; round++)
        {
            for (int i = 0; i < 3; i++)
            {
                Assert.True(ring.TryEnqueue(next++));
            }

            Assert.Equal(3, ring.Count);
            for (int i = 0; i < 3; i++)
            {
                Assert.True(ring.TryDequeue(out long v));
                Assert.Equal(expect++, v);
            }

            Assert.True(ring.IsEmpty);
        }

        for (int i = 0; i < 4; i++)
        {
            Assert.True(ring.TryEnqueue(i));
        }

        Assert.False(ring.TryEnqueue(9));
    }

    [Fact]
    public void UnboundedSteadyStateRecyclesSegments()
    {
        var q = new UnboundedMpmcQueue<long>(segmentSize: 16);
        for (long i = 0; i < 100_000; i++)
        {
            q.Enqueue(i);
            if (i % 7 != 0)
            {
                Assert.True(q.TryDequeue(out _));
            }
        }

        while (q.TryDequeue(out _))
        {
        }

        long grown = q.SegmentsAllocated;
        for (long i = 0; i < 100_000; i++)
        {
            q.Enqueue(i);
            q.Enqueue(i);
            Assert.True(q.TryDequeue(out _));
            Assert.True(q.TryDequeue(out _));
        }

        // Draining and refilling within the segments that exist allocates no more of them.
        Assert.Equal(grown, q.SegmentsAllocated);
        Assert.True(grown <= 100_000 / 7 / 16 + 3, $"allocated {grown} segments");
    }

    // Standing back (the consumer waits for a producer to fill the rest of its group of four): a wait that nobody
    // answers leaves a note that keeps the next 4,096 tickets of the segment's life from waiting, so a lone item, or
    // one thread's enqueue-dequeue pairs, pay for one unanswered wait per 4,096 dequeues at most.
    [Fact]
    public void UnboundedStandsBackOnceForALoneProducer()
    {
        var q = new UnboundedMpmcQueue<long>(segmentSize: 1 << 16);
        Assert.Equal(0, q.HeadQuietUntil);

        // Ticket 0 of the first segment's first life (0; the word is life << 32 | ticket): the group's last slot (3)
        // is not published, nobody publishes it, the wait ends unanswered and leaves the note.
        q.Enqueue(1);
        Assert.True(q.TryDequeue(out long item));
        Assert.Equal(1, item);
        long firstNote = 4096;
        Assert.Equal(firstNote, q.HeadQuietUntil);

        // The pairs that follow, up to the note, leave it alone (none of them waits).
        for (long i = 1; i < 4096; i++)
        {
            q.Enqueue(i);
            Assert.True(q.TryDequeue(out item));
            Assert.Equal(i, item);
            Assert.Equal(firstNote, q.HeadQuietUntil);
        }

        // Ticket 4096 starts a group again, past the note: one wait, and a note for the next 4,096.
        q.Enqueue(4096);
        Assert.True(q.TryDequeue(out item));
        Assert.Equal(4096, item);
        Assert.Equal(4096 + 4096, q.HeadQuietUntil);

        // A group whose last slot is published before the consumer comes: nothing to wait for, and no note.
        var filled = new UnboundedMpmcQueue<long>(segmentSize: 1 << 16);
        for (long i = 0; i < 8; i++)
        {
            filled.Enqueue(i);
        }

        for (long i = 0; i < 8; i++)
        {
            Assert.True(filled.TryDequeue(out item));
            Assert.Equal(i, item);
        }

        Assert.Equal(0, filled.HeadQuietUntil);
    }

    // The note belongs to a segment's life: the dequeue words of the next life are greater, so a recycled segment
    // stands back again at its first unanswered wait.
    [Fact]
    public void UnboundedQuietNoteEndsWithTheSegmentsLife()
    {
        var q = new UnboundedMpmcQueue<long>(segmentSize: 8);
        var notes = new List<long>();
        for (long i = 0; i < 8 * 12; i++)
        {
            q.Enqueue(i);
            Assert.True(q.TryDequeue(out long item));
            Assert.Equal(i, item);
            if (i % 8 == 4)
            {
                notes.Add(q.HeadQuietUntil);
            }
        }

        // Two segments take turns (one in use, one spare), so every second note is the same segment's, one life on.
        // A linked segment's ticket 0 is taken by the slow path (the one that moves the head), which does not stand
        // back, so its first wait comes at ticket 4; the first segment's came at ticket 0.
        Assert.Equal(2, q.SegmentsAllocated);
        for (int k = 0; k < notes.Count; k++)
        {
            Assert.Equal(k == 0 ? 4096 : 4100, notes[k] & 0xFFFF_FFFFL);
            if (k >= 2)
            {
                Assert.Equal((notes[k - 2] >> 32) + 1, notes[k] >> 32);
            }
        }
    }

    // The bounded ring stands back as the unbounded queue does; its note is a position, counted across laps and across
    // the wrap-around of the 64-bit positions.
    [Theory]
    [InlineData(0L)]
    [InlineData(long.MaxValue - 2)]
    public void BoundedStandsBackOnceForALoneProducer(long start)
    {
        var ring = new BoundedRing<long, NoHooks>(1024, start);
        Assert.Equal(start, ring.HeadQuietUntil);

        // The first group starts at the first multiple of four from start on (after the wrap-around for the second case).
        long firstGroup = unchecked((start + 3) & ~3L);
        long pos = start;
        long note = start;
        for (int i = 0; i < 5000; i++, pos = unchecked(pos + 1))
        {
            Assert.True(ring.TryEnqueue(i));
            Assert.True(ring.TryDequeue(out long item));
            Assert.Equal(i, item);
            if ((pos & 3) == 0 && unchecked(pos - note) >= 0)
            {
                // A group's first position, past the note: an unanswered wait, and the note 4,096 positions on.
                note = unchecked(pos + 4096);
            }

            Assert.Equal(note, ring.HeadQuietUntil);
        }

        Assert.Equal(unchecked(firstGroup + 4096 + 4096), note);
    }

    // The second wait: in rings of 4,096 slots or more a consumer whose group was filled waits for the position 1,024
    // ahead; smaller rings wait for their group only.
    [Theory]
    [InlineData(2, 4)]
    [InlineData(2048, 4)]
    [InlineData(2049, 1024)]
    [InlineData(4096, 1024)]
    [InlineData(1 << 20, 1024)]
    public void BoundedReachFollowsTheRingsSize(int capacity, int reach)
    {
        Assert.Equal(reach, new BoundedMpmcQueue<long>(capacity).Reach);
        Assert.Equal(reach, new BoundedMpmcQueue<object>(capacity).Reach);
    }

    // The unbounded queue's second wait, for the segment's last slot: in segments of 1,024 slots or more (the default
    // size); smaller segments wait for their group only.
    [Theory]
    [InlineData(2, false)]
    [InlineData(1023, false)]
    [InlineData(1024, true)]
    [InlineData(1 << 20, true)]
    public void UnboundedSecondWaitFollowsTheSegmentSize(int segmentSize, bool waits)
    {
        Assert.Equal(waits, new UnboundedMpmcQueue<long>(segmentSize, 1).WaitsForSegmentsEnd);
        Assert.Equal(waits, new UnboundedMpmcQueue<object>(segmentSize, 1).WaitsForSegmentsEnd);
        Assert.True(new UnboundedMpmcQueue<long>().WaitsForSegmentsEnd);
        Assert.False(new UnboundedMpmcQueue<long>().Streaming);
    }

    // Cooling: while it streams, a queue reuses an emptied segment only once a core's L2 cache's worth (1 MiB) of
    // emptied segments waits behind it, at most 64; none without the second wait.
    [Theory]
    [InlineData(1023, 0, 0)]
    [InlineData(1024, 64, 64)] // 16-byte slots (a long or a reference, and the state)
    [InlineData(4096, 16, 16)]
    [InlineData(1 << 16, 1, 1)]
    [InlineData(1 << 20, 1, 1)]
    public void UnboundedCoolingFollowsTheSegmentsBytes(int segmentSize, int forLong, int forObject)
    {
        Assert.Equal(forLong, new UnboundedMpmcQueue<long>(segmentSize, 1).Cooling);
        Assert.Equal(forObject, new UnboundedMpmcQueue<object>(segmentSize, 1).Cooling);
        Assert.Equal(43, new UnboundedMpmcQueue<(long, long)>(1024, 1).Cooling); // 24-byte slots: 1 MiB / 24 KiB, rounded up
    }

    // The queue's note of the second wait: one thread's own enqueue-dequeue pairs never make the second wait (the group
    // wait, which comes first, is never answered), so the note stays unset while the head moves segment by segment.
    [Fact]
    public void UnboundedOneThreadsPairsLeaveTheSecondWaitsNoteAlone()
    {
        var q = new UnboundedMpmcQueue<long>(1024, 1);
        int span = q.FarSpan;
        for (long i = 0; i < 5 * 1024; i++)
        {
            q.Enqueue(i);
            Assert.True(q.TryDequeue(out long item));
            Assert.Equal(i, item);
        }

        Assert.Equal(4, q.HeadMoves);
        Assert.Equal(0, q.FarNote);
        Assert.Equal(span, q.FarSpan);
        Assert.Equal(4, span);
    }

    [Fact]
    public void BoundedRingOfTwoNeverStandsBack()
    {
        var q = new BoundedMpmcQueue<long>(2);
        for (long i = 0; i < 100; i++)
        {
            Assert.True(q.TryEnqueue(i));
            Assert.True(q.TryDequeue(out long item));
            Assert.Equal(i, item);
            Assert.Equal(0, q.HeadQuietUntil);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void UnboundedSegmentsSmallerThanAGroupNeverStandBack(int segmentSize)
    {
        var q = new UnboundedMpmcQueue<long>(segmentSize);
        for (long i = 0; i < 100; i++)
        {
            q.Enqueue(i);
            Assert.True(q.TryDequeue(out long item));
            Assert.Equal(i, item);
            Assert.Equal(0, q.HeadQuietUntil);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData((1 << 20) + 1)]
    public void UnboundedRejectsBadSpareSegments(int spares)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new UnboundedMpmcQueue<int>(16, spares));
        Assert.Equal("spareSegments", e.ParamName);
    }

    /// <summary>Bursts 20 segments deep, drained in between: with one spare every burst allocates its segments again;
    /// with 32 spares, none once the first bursts have made them.</summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(32, true)]
    public void UnboundedSpareSegmentsAbsorbBursts(int spares, bool free)
    {
        var q = new UnboundedMpmcQueue<long>(segmentSize: 64, spareSegments: spares);
        void Burst()
        {
            for (int i = 0; i < 20 * 64; i++)
            {
                q.Enqueue(i);
            }

            for (int i = 0; i < 20 * 64; i++)
            {
                Assert.True(q.TryDequeue(out long item));
                Assert.Equal(i, item);
            }
        }

        Burst();
        Burst(); // the segment the first burst ended in is recycled only once the second leaves it
        long before = q.SegmentsAllocated;
        for (int round = 0; round < 5; round++)
        {
            Burst();
        }

        long grown = q.SegmentsAllocated - before;
        if (free)
        {
            Assert.Equal(0, grown);
        }
        else
        {
            Assert.True(grown >= 5 * 18, $"allocated only {grown} segments in five bursts");
        }
    }

    [Fact]
    public void UnboundedSteadyStateAllocatesNothing()
    {
        var q = new UnboundedMpmcQueue<long>(segmentSize: 64);
        for (int i = 0; i < 10_000; i++)
        {
            q.Enqueue(i);
            q.TryDequeue(out _);
        }

        Assert.Equal(0, Allocations.Least(() =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                q.Enqueue(i);
                q.TryDequeue(out _);
            }
        }));
    }

    // A producer and a consumer on two threads, the producer held to at most 8,192 items ahead: whether or not the
    // queue streams (that depends on timing), its segments are reused, at most the cooling line's 2 x 64 and the
    // backlog's 8 or 9 beyond the first, and never one per 1,024 items (2,048 here).
    [Fact]
    public void UnboundedStreamingReusesItsSegments()
    {
        const int Items = 1 << 21;
        var q = new UnboundedMpmcQueue<long>();
        long consumed = 0;
        var consumer = new Thread(() =>
        {
            long expected = 0;
            while (expected < Items)
            {
                if (q.TryDequeue(out long item))
                {
                    Assert.Equal(expected++, item);
                    Volatile.Write(ref consumed, expected);
                }
            }
        });
        consumer.Start();
        for (long i = 0; i < Items; i++)
        {
            while (i - Volatile.Read(ref consumed) >= 8192)
            {
                Thread.SpinWait(16);
            }

            q.Enqueue(i);
        }

        consumer.Join();
        Assert.True(q.SegmentsAllocated <= 1 + 2 * q.Cooling + 10, $"{q.SegmentsAllocated} segments allocated");
    }

    [Fact]
    public void BoundedAllocatesNothingAfterConstruction()
    {
        var q = new BoundedMpmcQueue<long>(64);
        q.TryEnqueue(1);
        q.TryDequeue(out _);
        Assert.Equal(0, Allocations.Least(() =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                q.TryEnqueue(i);
                q.TryDequeue(out _);
            }
        }));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference EnqueueGarbage(IMpmcQueue<object> q)
    {
        var o = new object();
        q.TryEnqueue(o);
        return new WeakReference(o);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool DequeueAndDrop(IMpmcQueue<object> q) => q.TryDequeue(out _);

    [Fact]
    public void BoundedReleasesDequeuedReferences()
    {
        var q = new BoundedMpmcQueue<object>(4);
        WeakReference weak = EnqueueGarbage(q);
        Assert.True(DequeueAndDrop(q));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.False(weak.IsAlive);
    }

    [Fact]
    public void UnboundedReleasesReferencesWhenItsSegmentIsRecycled()
    {
        var q = new UnboundedMpmcQueue<object>(segmentSize: 4);
        WeakReference weak = EnqueueGarbage(q);
        Assert.True(DequeueAndDrop(q));

        // Dequeued references stay in their segment until it is recycled: at most one segment's worth.
        for (int i = 0; i < 8; i++)
        {
            q.TryEnqueue(i);
            q.TryDequeue(out _);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.False(weak.IsAlive);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 8)]
    [InlineData(64, 1)]
    [InlineData(1024, 1)]
    public void UnboundedBatchDequeueMatchesASequentialQueue(int segmentSize, int spares)
    {
        var q = new UnboundedMpmcQueue<int>(segmentSize, spares);
        var oracle = new Queue<int>();
        var rnd = new Random(segmentSize * 31 + spares);
        var buffer = new int[9];
        var mark = default(DequeueMark);
        int next = 0;
        long batchItems = 0;
        int largest = 0;
        for (int op = 0; op < 20_000; op++)
        {
            int kind = rnd.Next(10);
            if (kind < 5)
            {
                // Enqueue a run, so that batches find runs longer than one.
                for (int i = rnd.Next(1, 6); i > 0; i--)
                {
                    q.Enqueue(next);
                    oracle.Enqueue(next++);
                }
            }
            else if (kind < 7)
            {
                Assert.Equal(oracle.Count > 0, q.TryDequeue(out int item));
                if (oracle.Count > 0)
                {
                    Assert.Equal(oracle.Dequeue(), item);
                }
            }
            else
            {
                TakeBatch(rnd.Next(1, buffer.Length + 1));
            }

            Assert.Equal(oracle.Count, q.Count);
        }

        while (oracle.Count > 0)
        {
            TakeBatch(buffer.Length);
        }

        Assert.Equal(0, q.TryDequeueMany(buffer, ref mark));
        Assert.True(q.IsEmpty);
        Assert.True(batchItems > 1000, $"batches took {batchItems} items");
        // A batch stops at its segment's end, and the single dequeue that moves to the next segment takes its first
        // slot, so in segments of 2 every batch is of one item.
        Assert.InRange(largest, Math.Min(segmentSize - 1, buffer.Length), buffer.Length);

        void TakeBatch(int want)
        {
            int n = q.TryDequeueMany(buffer.AsSpan(0, want), ref mark);
            Assert.InRange(n, 0, Math.Min(want, oracle.Count));
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(oracle.Dequeue(), buffer[i]);
            }

            // Alone, a batch takes nothing only when the queue is empty or its head segment is used up; the single
            // dequeue then moves on.
            if (n == 0 && oracle.Count > 0)
            {
                Assert.True(q.TryDequeue(out int item));
                Assert.Equal(oracle.Dequeue(), item);
            }

            batchItems += n;
            largest = Math.Max(largest, n);
        }
    }

    [Fact]
    public void BatchDequeueKeepsTheMark()
    {
        var q = new UnboundedMpmcQueue<int>(16);
        for (int i = 0; i < 12; i++)
        {
            q.Enqueue(i);
        }

        var mine = default(DequeueMark);
        var other = default(DequeueMark);
        var buffer = new int[3];
        Assert.True(q.TryDequeue(out int a, ref mine));
        Assert.Equal(0, a);
        Assert.Equal(3, q.TryDequeueMany(buffer, ref mine));
        Assert.Equal([1, 2, 3], buffer);
        Assert.True(mine.Consecutive);

        Assert.True(q.TryDequeue(out int b, ref other));
        Assert.Equal(4, b);
        Assert.Equal(3, q.TryDequeueMany(buffer, ref mine));
        Assert.Equal([5, 6, 7], buffer);
        Assert.False(mine.Consecutive); // the other consumer took 4

        Assert.True(q.TryDequeue(out int c, ref mine));
        Assert.Equal(8, c);
        Assert.True(mine.Consecutive);
    }

    [Fact]
    public void DequeueMarkTellsWhetherAnotherConsumerTookAnItemInBetween()
    {
        // Segments of 4, so that the marks cross segment boundaries too.
        var q = new UnboundedMpmcQueue<int>(4);
        for (int i = 0; i < 20; i++)
        {
            q.Enqueue(i);
        }

        var mine = default(DequeueMark);
        var other = default(DequeueMark);
        Assert.True(q.TryDequeue(out int a, ref mine));
        Assert.Equal(0, a);
        Assert.False(mine.Consecutive); // no earlier dequeue of this caller

        Assert.True(q.TryDequeue(out int b, ref mine));
        Assert.Equal(1, b);
        Assert.True(mine.Consecutive);

        Assert.True(q.TryDequeue(out int c, ref other));
        Assert.Equal(2, c);
        Assert.True(q.TryDequeue(out int d, ref mine));
        Assert.Equal(3, d);
        Assert.False(mine.Consecutive); // the other consumer took 2

        // The plain TryDequeue is another consumer as well.
        Assert.True(q.TryDequeue(out int e));
        Assert.Equal(4, e);
        Assert.True(q.TryDequeue(out int f, ref mine));
        Assert.Equal(5, f);
        Assert.False(mine.Consecutive);

        // Runs of one consumer, across segments: every dequeue after the first of a run is consecutive, except where the
        // slow path took it (at a segment's start); items keep their order.
        int expected = 6;
        int consecutive = 0;
        while (q.TryDequeue(out int g, ref mine))
        {
            Assert.Equal(expected++, g);
            consecutive += mine.Consecutive ? 1 : 0;
        }

        Assert.Equal(20, expected);
        Assert.InRange(consecutive, 7, 13);
        Assert.False(mine.Consecutive); // the last call found the queue empty
    }
}

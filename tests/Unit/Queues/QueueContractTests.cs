using System;
using System.Collections.Generic;
using FastThreadPool.Primitives;
using Xunit;

namespace FastThreadPool.Tests.Unit.Queues;

/// <summary>
/// The contract of <see cref="IMpmcQueue{T}"/>, run against every implementation through <see cref="Create"/>,
/// with <see cref="Queue{T}"/> as the sequential oracle.
/// </summary>
public abstract class QueueContractTests
{
    /// <summary>Creates the queue under test; <paramref name="capacity"/> is a hint that bounded queues honour.</summary>
    protected abstract IMpmcQueue<long> Create(int capacity);

    /// <summary>The capacity a queue created with <paramref name="requested"/> really has, or -1 if unbounded.</summary>
    protected abstract int ExpectedCapacity(int requested);

    [Fact]
    public void NewQueueIsEmpty()
    {
        IMpmcQueue<long> q = Create(8);
        Assert.True(q.IsEmpty);
        Assert.Equal(0, q.Count);
        Assert.False(q.TryDequeue(out long item));
        Assert.Equal(0, item);
    }

    [Fact]
    public void ReportsCapacity()
    {
        IMpmcQueue<long> q = Create(5);
        Assert.Equal(ExpectedCapacity(5), q.Capacity);
        Assert.Equal(ExpectedCapacity(5) != IMpmcQueue<long>.Unbounded, q.IsBounded);
    }

    [Fact]
    public void KeepsFifoOrder()
    {
        IMpmcQueue<long> q = Create(64);
        for (long i = 0; i < 50; i++)
        {
            Assert.True(q.TryEnqueue(i));
        }

        Assert.Equal(50, q.Count);
        for (long i = 0; i < 50; i++)
        {
            Assert.True(q.TryDequeue(out long v));
            Assert.Equal(i, v);
        }

        Assert.True(q.IsEmpty);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 2)]
    [InlineData(16, 3)]
    [InlineData(1024, 4)]
    public void MatchesOracleOnRandomOperations(int capacity, int seed)
    {
        IMpmcQueue<long> q = Create(capacity);
        int cap = ExpectedCapacity(capacity);
        var oracle = new Queue<long>();
        var random = new Random(seed);
        long next = 0;
        for (int step = 0; step < 20_000; step++)
        {
            // Bias towards enqueues in bursts and dequeues in bursts so the queue crosses full and empty often.
            bool enqueue = (step / 37 % 2 == 0) ? random.Next(4) != 0 : random.Next(4) == 0;
            if (enqueue)
            {
                bool expected = cap == IMpmcQueue<long>.Unbounded || oracle.Count < cap;
                Assert.Equal(expected, q.TryEnqueue(next));
                if (expected)
                {
                    oracle.Enqueue(next);
                }

                next++;
            }
            else
            {
                bool expected = oracle.TryDequeue(out long want);
                Assert.Equal(expected, q.TryDequeue(out long got));
                Assert.Equal(want, got);
            }

            Assert.Equal(oracle.Count, q.Count);
            Assert.Equal(oracle.Count == 0, q.IsEmpty);
        }
    }

    [Fact]
    public void FullQueueRejectsAndRecovers()
    {
        IMpmcQueue<long> q = Create(4);
        int cap = ExpectedCapacity(4);
        if (cap == IMpmcQueue<long>.Unbounded)
        {
            for (int i = 0; i < 10_000; i++)
            {
                Assert.True(q.TryEnqueue(i));
            }

            Assert.Equal(10_000, q.Count);
            return;
        }

        for (int i = 0; i < cap; i++)
        {
            Assert.True(q.TryEnqueue(i));
        }

        Assert.False(q.TryEnqueue(99));
        Assert.Equal(cap, q.Count);
        Assert.True(q.TryDequeue(out long first));
        Assert.Equal(0, first);
        Assert.True(q.TryEnqueue(100));
        Assert.False(q.TryEnqueue(101));
    }

    [Fact]
    public void ManyLapsKeepOrder()
    {
        IMpmcQueue<long> q = Create(2);
        for (long i = 0; i < 100_000; i++)
        {
            Assert.True(q.TryEnqueue(i));
            Assert.True(q.TryDequeue(out long v));
            Assert.Equal(i, v);
        }
    }
}

public sealed class BoundedMpmcQueueContractTests : QueueContractTests
{
    protected override IMpmcQueue<long> Create(int capacity) => new BoundedMpmcQueue<long>(capacity);

    protected override int ExpectedCapacity(int requested) => (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(requested, 2));
}

/// <summary>The bounded queue over references (Vyukov's protocol; over <c>long</c> it runs read before claim): each
/// item travels boxed.</summary>
public sealed class BoundedMpmcQueueOverReferencesContractTests : QueueContractTests
{
    protected override IMpmcQueue<long> Create(int capacity) => new BoxedQueue(new BoundedMpmcQueue<object>(capacity));

    protected override int ExpectedCapacity(int requested) => (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(requested, 2));
}

/// <summary>A queue of <c>long</c> over a queue of references: the item boxed on the way in, unboxed on the way out.</summary>
internal sealed class BoxedQueue(IMpmcQueue<object> inner) : IMpmcQueue<long>
{
    public int Count => inner.Count;

    public int Capacity => inner.Capacity;

    public bool IsEmpty => inner.IsEmpty;

    public bool TryEnqueue(long item) => inner.TryEnqueue(item);

    public bool TryDequeue(out long item)
    {
        bool taken = inner.TryDequeue(out object? boxed);
        item = taken ? (long)boxed! : 0;
        return taken;
    }
}

public sealed class UnboundedMpmcQueueContractTests : QueueContractTests
{
    protected override IMpmcQueue<long> Create(int capacity) => new UnboundedMpmcQueue<long>(segmentSize: Math.Max(2, Math.Min(capacity, 64)));

    protected override int ExpectedCapacity(int requested) => IMpmcQueue<long>.Unbounded;
}

public sealed class UnboundedWithSpareSegmentsContractTests : QueueContractTests
{
    protected override IMpmcQueue<long> Create(int capacity) => new UnboundedMpmcQueue<long>(segmentSize: 2, spareSegments: 4);

    protected override int ExpectedCapacity(int requested) => IMpmcQueue<long>.Unbounded;
}

public sealed class UnboundedDefaultSegmentContractTests : QueueContractTests
{
    protected override IMpmcQueue<long> Create(int capacity) => new UnboundedMpmcQueue<long>();

    protected override int ExpectedCapacity(int requested) => IMpmcQueue<long>.Unbounded;
}

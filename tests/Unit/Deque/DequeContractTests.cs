using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using FastThreadPool.Primitives;
using Xunit;

namespace FastThreadPool.Tests.Unit.Deque;

/// <summary>
/// Single-threaded behaviour against a sequential oracle (a list used as a deque: the owner's end is the back, the
/// thieves' end the front), across growth from many initial sizes and far past the first lap of the array.
/// </summary>
public class DequeContractTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(8, 4)]
    [InlineData(32, 5)]
    [InlineData(1024, 6)]
    public void RandomOperationsMatchTheOracle(int capacity, int seed)
    {
        var deque = new WorkStealingDeque<long>(capacity);
        var oracle = new LinkedList<long>();
        var rnd = new Random(seed);
        long next = 0;
        int maxCount = 0;
        for (int step = 0; step < 50_000; step++)
        {
            // Phases that drift up and down so the deque grows, drains and wraps many times.
            int phase = step / 2_000 % 3;
            int roll = rnd.Next(100);
            int pushBelow = phase == 0 ? 60 : phase == 1 ? 35 : 50;
            if (roll < pushBelow)
            {
                deque.Push(next);
                oracle.AddLast(next);
                next++;
            }
            else if (roll < pushBelow + (100 - pushBelow) / 2)
            {
                bool ok = deque.TryPop(out long v);
                Assert.Equal(oracle.Count > 0, ok);
                if (ok)
                {
                    Assert.Equal(oracle.Last!.Value, v);
                    oracle.RemoveLast();
                }
            }
            else
            {
                StealStatus status = deque.Steal(out long v);
                Assert.NotEqual(StealStatus.Retry, status); // no other thread: a steal never loses a race
                Assert.Equal(oracle.Count > 0, status == StealStatus.Success);
                if (status == StealStatus.Success)
                {
                    Assert.Equal(oracle.First!.Value, v);
                    oracle.RemoveFirst();
                }
            }

            Assert.Equal(oracle.Count, deque.Count);
            Assert.Equal(oracle.Count == 0, deque.IsEmpty);
            maxCount = Math.Max(maxCount, oracle.Count);
        }

        Assert.True(deque.Capacity >= maxCount);
        Assert.True(next > 10 * deque.Capacity || capacity >= 1024, "the run should lap the array many times");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(64)]
    public void GrowsAcrossManySizesKeepingOrder(int capacity)
    {
        var deque = new WorkStealingDeque<int>(capacity);
        for (int round = 0; round < 3; round++)
        {
            // Steal a few first so the live range starts mid-array when it grows.
            for (int i = 0; i < 7; i++)
            {
                deque.Push(-1);
            }

            for (int i = 0; i < 7; i++)
            {
                Assert.True(deque.TrySteal(out _));
            }

            const int n = 100_000;
            for (int i = 0; i < n; i++)
            {
                deque.Push(i);
            }

            Assert.Equal(n, deque.Count);
            Assert.True(deque.Capacity >= n);
            for (int i = 0; i < n / 2; i++)
            {
                Assert.True(deque.TrySteal(out int v));
                Assert.Equal(i, v);
            }

            for (int i = n - 1; i >= n / 2; i--)
            {
                Assert.True(deque.TryPop(out int v));
                Assert.Equal(i, v);
            }

            Assert.False(deque.TryPop(out _));
            Assert.Equal(StealStatus.Empty, deque.Steal(out _));
        }
    }

    [Fact]
    public void CapacityIsRoundedUpToAPowerOfTwo()
    {
        Assert.Equal(2, new WorkStealingDeque<int>(1).Capacity);
        Assert.Equal(8, new WorkStealingDeque<int>(5).Capacity);
        Assert.Equal(WorkStealingDeque<int>.DefaultCapacity, new WorkStealingDeque<int>().Capacity);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData(WorkStealingDeque<int>.MaxCapacity + 1)]
    public void BadCapacityIsRejected(int capacity) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkStealingDeque<int>(capacity));

    [Fact]
    public void EmptyDequeAnswersEmptyEverywhere()
    {
        var deque = new WorkStealingDeque<string>();
        Assert.False(deque.TryPop(out string? popped));
        Assert.Null(popped);
        Assert.Equal(StealStatus.Empty, deque.Steal(out string? stolen));
        Assert.Null(stolen);
        Assert.False(deque.TrySteal(out _));
        Assert.True(deque.IsEmpty);
        Assert.Equal(0, deque.Count);

        // And it still works after the empty pops moved bottom below top and back.
        deque.Push("a");
        Assert.True(deque.TryPop(out popped));
        Assert.Equal("a", popped);
    }

    [Fact]
    public void OwnerOperationsAllocateNothingAfterWarmUp()
    {
        var deque = new WorkStealingDeque<long>(64);
        for (int i = 0; i < 64; i++)
        {
            deque.Push(i);
            deque.TryPop(out _);
            deque.Push(i);
            deque.Steal(out _);
        }

        Assert.Equal(0, Allocations.Least(() =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                deque.Push(i);
                deque.TryPop(out _);
                deque.Push(i);
                deque.Push(i);
                deque.Steal(out _);
                deque.TrySteal(out _);
            }
        }));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference PushGarbage(WorkStealingDeque<object> deque)
    {
        var o = new object();
        deque.Push(o);
        return new WeakReference(o);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Take(WorkStealingDeque<object> deque, bool steal)
    {
        Assert.True(steal ? deque.TrySteal(out _) : deque.TryPop(out _));
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(true, 5)]
    public void TakenItemsAreNotKeptAlive(bool steal, int others)
    {
        var deque = new WorkStealingDeque<object>(4);
        for (int i = 0; i < others; i++)
        {
            deque.Push("other");
        }

        WeakReference weak = PushGarbage(deque);
        if (steal)
        {
            // Steal everything up to and including the garbage item, then let the owner pop once.
            for (int i = 0; i <= others; i++)
            {
                Take(deque, steal: true);
            }

            deque.Push("next");
            Take(deque, steal: false);
        }
        else
        {
            Take(deque, steal: false);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.False(weak.IsAlive);
    }

    [Fact]
    public void StolenSlotsAreClearedWhenTheOwnerFindsTheDequeEmpty()
    {
        var deque = new WorkStealingDeque<object>(4);
        WeakReference weak = PushGarbage(deque);
        Take(deque, steal: true);
        Assert.False(deque.TryPop(out _));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.False(weak.IsAlive);
    }

#if DEBUG
    [Fact]
    [Trait("Category", "DebugChecks")]
    public void DebugBuildsRejectOwnerCallsFromAnotherThread()
    {
        var deque = new WorkStealingDeque<int>();
        deque.Push(1);
        Exception? push = null;
        Exception? pop = null;
        var other = new System.Threading.Thread(() =>
        {
            push = Record.Exception(() => deque.Push(2));
            pop = Record.Exception(() => deque.TryPop(out _));
            Assert.True(deque.TrySteal(out _)); // stealing stays open to every thread
        });
        other.Start();
        other.Join();
        Assert.IsType<InvalidOperationException>(push);
        Assert.IsType<InvalidOperationException>(pop);

        // A handover through BindOwner.
        var next = new System.Threading.Thread(() =>
        {
            deque.BindOwner();
            deque.Push(3);
            Assert.True(deque.TryPop(out int v));
            Assert.Equal(3, v);
        });
        next.Start();
        next.Join();
    }
#endif
}

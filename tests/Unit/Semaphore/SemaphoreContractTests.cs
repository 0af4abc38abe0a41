using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using FastThreadPool.Primitives;
using Xunit;

namespace FastThreadPool.Tests.Unit.Semaphore;

/// <summary>The contract of <see cref="FastSemaphore"/>, run on each parking backend available here.</summary>
public class SemaphoreContractTests
{
    public static TheoryData<ParkingBackend> Backends()
    {
        var data = new TheoryData<ParkingBackend> { ParkingBackend.Monitor };
        if (FastSemaphore.DefaultBackend == ParkingBackend.Futex)
        {
            data.Add(ParkingBackend.Futex);
        }

        return data;
    }

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds.</summary>
    internal static void Eventually(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Patience, $"timed out waiting until {what}");
            Thread.Sleep(1);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void RandomTryWaitAndReleaseMatchTheOracle(ParkingBackend backend)
    {
        var rnd = new Random(7);
        const int max = 10;
        var sem = new FastSemaphore(3, max, backend);
        int oracle = 3;
        for (int step = 0; step < 20_000; step++)
        {
            if (rnd.Next(2) == 0)
            {
                Assert.Equal(oracle > 0, sem.TryWait());
                oracle = Math.Max(0, oracle - 1);
            }
            else
            {
                int n = rnd.Next(1, 4);
                if (oracle + n > max)
                {
                    Assert.Throws<SemaphoreFullException>(() => sem.Release(n));
                }
                else
                {
                    Assert.Equal(oracle, sem.Release(n));
                    oracle += n;
                }
            }

            Assert.Equal(oracle, sem.CurrentCount);
        }

        Assert.Equal(0, sem.WaitingCount);
    }

    [Fact]
    public void ConstructorRejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastSemaphore(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastSemaphore(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastSemaphore(2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastSemaphore(0, 1, (ParkingBackend)42));
        var sem = new FastSemaphore(5);
        Assert.Equal(int.MaxValue, sem.MaxCount);
        Assert.Equal(5, sem.CurrentCount);
        Assert.NotEqual(ParkingBackend.Default, sem.Backend);
        Assert.Equal(FastSemaphore.DefaultBackend, sem.Backend);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void BadArgumentsAreRejectedWithoutSideEffects(ParkingBackend backend)
    {
        var sem = new FastSemaphore(1, 2, backend);
        Assert.Throws<ArgumentOutOfRangeException>(() => sem.Release(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => sem.Release(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => sem.Wait(-2));
        Assert.Throws<ArgumentOutOfRangeException>(() => sem.Wait(TimeSpan.FromMilliseconds(-2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => sem.Wait(TimeSpan.FromMilliseconds((double)int.MaxValue + 1)));
        Assert.Throws<SemaphoreFullException>(() => sem.Release(2));
        Assert.Equal(1, sem.CurrentCount);
        Assert.Equal(1, sem.Release());
        Assert.Throws<SemaphoreFullException>(() => sem.Release());
        Assert.Equal(2, sem.CurrentCount);

        var full = new FastSemaphore(int.MaxValue, int.MaxValue, backend);
        Assert.Throws<SemaphoreFullException>(() => full.Release());
        Assert.Equal(int.MaxValue, full.CurrentCount);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ZeroAndShortTimeoutsReturnFalseAndLeaveNothingBehind(ParkingBackend backend)
    {
        var sem = new FastSemaphore(0, 10, backend);
        Assert.False(sem.Wait(0));
        Assert.False(sem.Wait(TimeSpan.Zero));
        var clock = Stopwatch.StartNew();
        Assert.False(sem.Wait(30));
        Assert.True(clock.ElapsedMilliseconds >= 25, $"returned after {clock.ElapsedMilliseconds} ms");
        Assert.False(sem.Wait(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(0, sem.CurrentCount);
        Assert.Equal(0, sem.WaitingCount);
        Assert.Equal(0, sem.Lot.ParkedCount);

        sem.Release();
        Assert.True(sem.Wait(0));
        sem.Release();
        Assert.True(sem.Wait(Timeout.InfiniteTimeSpan));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void AnAlreadyCancelledTokenThrowsEvenWithAPermitFree(ParkingBackend backend)
    {
        var sem = new FastSemaphore(1, 10, backend);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => sem.Wait(cts.Token));
        Assert.Throws<OperationCanceledException>(() => sem.Wait(10, cts.Token));
        Assert.Equal(1, sem.CurrentCount);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void CancellingAParkedWaiterThrowsAndTakesNoPermit(ParkingBackend backend)
    {
        var sem = new FastSemaphore(0, 10, backend);
        using var cts = new CancellationTokenSource();
        Exception? error = null;
        var waiter = new Thread(() => error = Record.Exception(() => sem.Wait(cts.Token)));
        waiter.Start();
        Eventually(() => sem.Lot.ParkedCount == 1, "the waiter parked");
        cts.Cancel();
        Assert.True(waiter.Join(Patience));
        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.Equal(0, sem.CurrentCount);
        Assert.Equal(0, sem.WaitingCount);
        Assert.Equal(0, sem.Lot.ParkedCount);

        sem.Release();
        Assert.Equal(1, sem.CurrentCount);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void TimedOutParkedWaiterReturnsFalse(ParkingBackend backend)
    {
        var sem = new FastSemaphore(0, 10, backend);
        bool? result = null;
        var waiter = new Thread(() => result = sem.Wait(TimeSpan.FromMilliseconds(200)));
        waiter.Start();
        Assert.True(waiter.Join(Patience));
        Assert.False(result);
        Assert.Equal(0, sem.WaitingCount);
        Assert.Equal(0, sem.Lot.ParkedCount);
        Assert.Equal(0, sem.SignaledCount);
    }

    /// <summary>Starts <paramref name="count"/> waiters one after another, each parked before the next starts; each
    /// records its index in <paramref name="order"/> when it gets a permit.</summary>
    private static List<Thread> ParkWaiters(FastSemaphore sem, int count, List<int> order)
    {
        var threads = new List<Thread>();
        for (int i = 0; i < count; i++)
        {
            int id = i;
            var t = new Thread(() =>
            {
                sem.Wait();
                lock (order)
                {
                    order.Add(id);
                }
            });
            threads.Add(t);
            t.Start();
            Eventually(() => sem.Lot.ParkedCount == id + 1, $"waiter {id} parked");
        }

        return threads;
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ReleaseWakesTheMostRecentlyParkedFirstAndNoMoreThanItMust(ParkingBackend backend)
    {
        var sem = new FastSemaphore(0, 10, backend);
        var order = new List<int>();
        List<Thread> threads = ParkWaiters(sem, 3, order);

        Assert.Equal(3, sem.WaitingCount);
        sem.Release(2);
        Assert.True(threads[2].Join(Patience));
        Assert.True(threads[1].Join(Patience));
        Assert.Equal(new[] { 1, 2 }, order.GetRange(0, 2).Order());
        Thread.Sleep(50);
        Assert.True(threads[0].IsAlive, "a release of 2 woke 3 waiters");
        Assert.Equal(1, sem.Lot.ParkedCount);
        Assert.Equal(1, sem.WaitingCount);
        Assert.Equal(0, sem.CurrentCount);

        sem.Release();
        Assert.True(threads[0].Join(Patience));
        Assert.Equal(0, sem.WaitingCount);
        Assert.Equal(0, sem.SignaledCount);

        // LIFO, one at a time.
        order.Clear();
        threads = ParkWaiters(sem, 3, order);

        for (int i = 2; i >= 0; i--)
        {
            sem.Release();
            Assert.True(threads[i].Join(Patience), $"waiter {i} was not the one woken");
        }

        Assert.Equal(new[] { 2, 1, 0 }, order.ToArray());
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ReleaseBeforeTheWaiterParksIsNotLost(ParkingBackend backend)
    {
        // Many short rounds: the release lands at every point of the waiter's spin, registration and parking.
        var sem = new FastSemaphore(0, 10, backend);
        for (int round = 0; round < 2_000; round++)
        {
            var waiter = new Thread(() => sem.Wait());
            waiter.Start();
            Thread.SpinWait(round % 50 * 20);
            sem.Release();
            Assert.True(waiter.Join(Patience), $"round {round}: waiter never woke");
        }

        Assert.Equal(0, sem.CurrentCount);
        Assert.Equal(0, sem.WaitingCount);
        Assert.Equal(0, sem.SignaledCount);
        Assert.Equal(0, sem.Lot.PendingTokens);
    }
}

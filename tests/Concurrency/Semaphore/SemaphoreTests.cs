using System;
using System.Collections.Generic;
using System.Threading;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;
using FastThreadPool.Tests.Concurrency.Harness;
using Microsoft.Coyote.Specifications;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Semaphore;

/// <summary>
/// <see cref="FastSemaphore"/> with the managed parking protocol under Coyote. Each scenario joins every thread and
/// then checks conservation (permits released = permits taken + permits left) and that nobody is left registered or
/// parked; a waiter that is never woken shows as a deadlock.
/// </summary>
public class SemaphoreTests
{
    private static FastSemaphore Create(int initial, Fault faults = Fault.None) =>
        new(initial, int.MaxValue, new CoyoteParker(), faults);

    private static void Run(params Action[] bodies)
    {
        var threads = new List<Thread>();
        foreach (Action body in bodies)
        {
            threads.Add(new Thread(() => body()));
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

    private static void CheckQuiescent(FastSemaphore sem, int released, int taken)
    {
        Specification.Assert(released == taken + sem.CurrentCount,
            "permits not conserved: released {0}, taken {1}, left {2}", released, taken, sem.CurrentCount);
        Specification.Assert(sem.WaitingCount == 0, "{0} waiters still registered", sem.WaitingCount);
        Specification.Assert(sem.Lot.ParkedCount == 0, "{0} threads still parked", sem.Lot.ParkedCount);
    }

    private static void LostWakeUp(Fault faults)
    {
        FastSemaphore sem = Create(0, faults);
        Run(() => sem.Wait(), () => sem.Release());
        CheckQuiescent(sem, released: 1, taken: 1);
    }

    [Fact]
    public void ReleaseWakesAWaiterWhereverItIs() =>
        Scenario.AssertNoBug(nameof(ReleaseWakesAWaiterWhereverItIs), () => LostWakeUp(Fault.None));

    [Fact]
    public void FindsLostWakeUpWhenRegisteringWithoutRecheck() =>
        Scenario.AssertFindsBug(nameof(FindsLostWakeUpWhenRegisteringWithoutRecheck), () => LostWakeUp(Fault.RegisterWithoutRecheck), "Deadlock");

    private static void ReleaseNToSeveral(Fault faults)
    {
        FastSemaphore sem = Create(0, faults);
        Run(() => sem.Wait(), () => sem.Wait(), () => sem.Wait(), () =>
        {
            sem.Release(2);
            sem.Release();
        });
        CheckQuiescent(sem, released: 3, taken: 3);
    }

    [Fact]
    public void ReleaseNWithSeveralWaiters() =>
        Scenario.AssertNoBug(nameof(ReleaseNWithSeveralWaiters), () => ReleaseNToSeveral(Fault.None));

    [Fact]
    public void FindsReleaseNWakingOne() =>
        Scenario.AssertFindsBug(nameof(FindsReleaseNWakingOne), () => ReleaseNToSeveral(Fault.ReleaseWakesOne), "Deadlock");

    [Fact]
    public void TimeoutRacingRelease() =>
        Scenario.AssertNoBug(nameof(TimeoutRacingRelease), () =>
        {
            FastSemaphore sem = Create(0);
            bool got = false;
            Run(() => got = sem.Wait(10), () => sem.Release());
            CheckQuiescent(sem, released: 1, taken: got ? 1 : 0);
        });

    [Fact]
    public void CancellationRacingRelease() =>
        Scenario.AssertNoBug(nameof(CancellationRacingRelease), () =>
        {
            FastSemaphore sem = Create(0);
            using var cts = new CancellationTokenSource();
            bool got = false;
            Run(
                () =>
                {
                    try
                    {
                        sem.Wait(cts.Token);
                        got = true;
                    }
                    catch (OperationCanceledException)
                    {
                    }
                },
                () => sem.Release(),
                () => cts.Cancel());
            CheckQuiescent(sem, released: 1, taken: got ? 1 : 0);
        });

    // A timed waiter that may take a token and give up, a barging TryWait, and an untimed waiter that must still be
    // woken: three permits, so the untimed waiter always has one.
    private static void GiveUpWithToken(Fault faults)
    {
        FastSemaphore sem = Create(0, faults);
        bool timed = false;
        bool barged = false;
        Run(
            () => timed = sem.Wait(10),
            () => sem.Wait(),
            () => barged = sem.TryWait(),
            () =>
            {
                sem.Release();
                sem.Release();
                sem.Release();
            });
        int taken = 1 + (timed ? 1 : 0) + (barged ? 1 : 0);
        CheckQuiescent(sem, released: 3, taken: taken);
    }

    [Fact]
    public void GiveUpAfterTakingAWakeUpToken() =>
        Scenario.AssertNoBug(nameof(GiveUpAfterTakingAWakeUpToken), () => GiveUpWithToken(Fault.None));

    [Fact]
    public void FindsDroppedTokenOnGiveUp() =>
        Scenario.AssertFindsBug(nameof(FindsDroppedTokenOnGiveUp), () => GiveUpWithToken(Fault.DropTokenOnGiveUp), "Deadlock", iterations: 20_000);

    [Fact]
    public void WaitersParkedAtShutdownAreAllReleased() =>
        Scenario.AssertNoBug(nameof(WaitersParkedAtShutdownAreAllReleased), () =>
        {
            FastSemaphore sem = Create(0);
            Run(() => sem.Wait(), () => sem.Wait(), () => sem.Wait(), () => sem.Release(3));
            CheckQuiescent(sem, released: 3, taken: 3);
        });
}

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
        Threads.Run(() => sem.Wait(), () => sem.Release());
        CheckQuiescent(sem, released: 1, taken: 1);
    }

    [Fact]
    public void ReleaseWakesAWaiterWhereverItIs() =>
        Scenario.AssertNoBug(nameof(ReleaseWakesAWaiterWhereverItIs), () => LostWakeUp(Fault.None));

    [Fact]
    public void FindsLostWakeUpWhenRegisteringWithoutRecheck() =>
        Scenario.AssertFindsBug(nameof(FindsLostWakeUpWhenRegisteringWithoutRecheck), () => LostWakeUp(Fault.RegisterWithoutRecheck), "Deadlock"); // the probabilistic strategy's first schedule with the bug comes after its 2,000th

    // With registered: true, the releaser first waits until all three waiters have registered (none is left
    // spinning), so every release must wake as many waiters as it adds permits.
    private static void ReleaseNToSeveral(Fault faults, bool registered)
    {
        FastSemaphore sem = Create(0, faults);
        Threads.Run(() => sem.Wait(), () => sem.Wait(), () => sem.Wait(), () =>
        {
            while (registered && sem.WaitingCount < 3)
            {
                Thread.Yield();
            }

            sem.Release(2);
            sem.Release();
        });
        CheckQuiescent(sem, released: 3, taken: 3);
    }

    [Fact]
    public void ReleaseNWithSeveralWaiters() =>
        Scenario.AssertNoBug(nameof(ReleaseNWithSeveralWaiters), () => ReleaseNToSeveral(Fault.None, registered: false));

    [Fact]
    public void ReleaseNWithSeveralRegisteredWaiters() =>
        Scenario.AssertNoBug(nameof(ReleaseNWithSeveralRegisteredWaiters), () => ReleaseNToSeveral(Fault.None, registered: true));

    [Fact]
    public void FindsReleaseNWakingOne() =>
        Scenario.AssertFindsBug(nameof(FindsReleaseNWakingOne), () => ReleaseNToSeveral(Fault.ReleaseWakesOne, registered: true), "Deadlock");

    [Fact]
    public void TimeoutRacingRelease() =>
        Scenario.AssertNoBug(nameof(TimeoutRacingRelease), () =>
        {
            FastSemaphore sem = Create(0);
            bool got = false;
            Threads.Run(() => got = sem.Wait(10), () => sem.Release());
            CheckQuiescent(sem, released: 1, taken: got ? 1 : 0);
        });

    [Fact]
    public void CancellationRacingRelease() =>
        Scenario.AssertNoBug(nameof(CancellationRacingRelease), () =>
        {
            FastSemaphore sem = Create(0);
            using var cts = new CancellationTokenSource();
            bool got = false;
            Threads.Run(
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
        Threads.Run(
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
        Scenario.AssertFindsBug(nameof(FindsDroppedTokenOnGiveUp), () => GiveUpWithToken(Fault.DropTokenOnGiveUp), "Deadlock");

    [Fact]
    public void WaitersParkedAtShutdownAreAllReleased() =>
        Scenario.AssertNoBug(nameof(WaitersParkedAtShutdownAreAllReleased), () =>
        {
            FastSemaphore sem = Create(0);
            Threads.Run(() => sem.Wait(), () => sem.Wait(), () => sem.Wait(), () => sem.Release(3));
            CheckQuiescent(sem, released: 3, taken: 3);
        });
}

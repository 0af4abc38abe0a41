using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;
using FastThreadPool.Tests.Concurrency.Harness;
using Microsoft.Coyote.Specifications;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Pool;

/// <summary>
/// Timers and async jobs under Coyote: a one-worker pool on the managed parking backend and a clock that the
/// scenario moves by hand (<see cref="ManualClock"/>; its timers fire on the thread that moves it). Each scenario
/// shuts the pool down, joins its threads and checks the conservation invariant.
/// </summary>
public class TimerScenarioTests
{
    private static FastThreadPool.Pool Create(ManualClock clock, Fault faults = Fault.None) =>
        new(new PoolOptions { MaxWorkers = 1, Parking = ParkingBackend.Monitor, KeepDone = false, TimeProvider = clock, Faults = faults | Fault.PlainThreads });

    private static void ShutdownAndCheck(FastThreadPool.Pool pool) => PoolScenarioTests.ShutdownAndCheck(pool);

    // A timer firing racing Cancel: the job runs xor Cancel returns true.
    private static void FireRace(Fault faults)
    {
        var clock = new ManualClock();
        FastThreadPool.Pool pool = Create(clock, faults);
        int ran = 0;
        long id = pool.SubmitLater(TimeSpan.FromSeconds(1), () => { Interlocked.Increment(ref ran); });
        bool cancelled = false;
        Threads.Run(() => clock.Advance(TimeSpan.FromSeconds(1)), () => cancelled = pool.Cancel(id));

        // The job's fate is settled by the timer or the cancel, not by the shutdown below.
        Specification.Assert(pool.WaitIdle(Timeout.InfiniteTimeSpan), "never idle");
        ShutdownAndCheck(pool);
        Specification.Assert(cancelled != (ran == 1), "cancelled {0} but ran {1} times", cancelled, ran);
        Specification.Assert(pool.CancelledCount == (cancelled ? 1 : 0), "CancelledCount {0}", pool.CancelledCount);
    }

    [Fact]
    public void TimerFiringRacingCancel() => Scenario.AssertNoBug(nameof(TimerFiringRacingCancel), () => FireRace(Fault.None));

    [Fact]
    public void FindsTimerCancelWithoutCas() =>
        Scenario.AssertFindsBug(nameof(FindsTimerCancelWithoutCas), () => FireRace(Fault.CancelWithoutCas), "not conserved|cancelled True but ran 1|Deadlock");

    // A periodic job (and a delayed one due at its first tick) racing Shutdown: no run starts after Shutdown
    // returned, and every run is counted.
    private static void PeriodicRace(Fault faults)
    {
        var clock = new ManualClock();
        FastThreadPool.Pool pool = Create(clock, faults);
        int runs = 0;
        int runsWhenStopped = -1;
        pool.Submit(() => { }); // the worker is started before the timers fire
        Specification.Assert(pool.WaitIdle(Timeout.InfiniteTimeSpan), "never idle");
        long id = pool.Schedule(TimeSpan.FromSeconds(1), () => { Interlocked.Increment(ref runs); });
        pool.SubmitLater(TimeSpan.FromSeconds(1), () => { Interlocked.Increment(ref runs); });
        Threads.Run(
            () =>
            {
                clock.Advance(TimeSpan.FromSeconds(1));
                clock.Advance(TimeSpan.FromSeconds(1));
            },
            () =>
            {
                Specification.Assert(pool.Shutdown(), "shutdown did not end");
                Volatile.Write(ref runsWhenStopped, Volatile.Read(ref runs));
            });
        clock.Advance(TimeSpan.FromSeconds(1)); // after shutdown: nothing may fire
        Specification.Assert(Volatile.Read(ref runs) == runsWhenStopped, "{0} runs, {1} when Shutdown returned", runs, runsWhenStopped);
        Specification.Assert(!pool.Cancel(id), "the schedule outlived shutdown");
        ShutdownAndCheck(pool);
        Specification.Assert(pool.DoneCount == runs + 1, "done {0}, runs {1}", pool.DoneCount, runs);
    }

    [Fact]
    public void PeriodicJobRacingShutdown() => Scenario.AssertNoBug(nameof(PeriodicJobRacingShutdown), () => PeriodicRace(Fault.None));

    [Fact]
    public void FindsFiringWithoutTheStopCheck() =>
        Scenario.AssertFindsBug(nameof(FindsFiringWithoutTheStopCheck), () => PeriodicRace(Fault.FireWithoutStopCheck), "not conserved");

    // SubmitAsync racing its token: the task ends with the result (the job ran) xor cancelled (it never ran).
    private static void AsyncRace(Fault faults)
    {
        var clock = new ManualClock();
        FastThreadPool.Pool pool = Create(clock, faults);
        using var cts = new CancellationTokenSource();
        int ran = 0;
        ValueTask<int> task = pool.SubmitAsync(() => Interlocked.Increment(ref ran), cts.Token);
        Threads.Run(() => cts.Cancel());
        ShutdownAndCheck(pool);
        Specification.Assert(task.IsCompleted, "the task never completed");
        Specification.Assert(task.IsCompletedSuccessfully == (ran == 1), "task {0} but ran {1} times", task.IsCompletedSuccessfully ? "succeeded" : "cancelled", ran);
        Specification.Assert(task.IsCanceled == (pool.CancelledCount == 1), "task cancelled {0}, CancelledCount {1}", task.IsCanceled, pool.CancelledCount);
    }

    [Fact]
    public void SubmitAsyncRacingItsToken() => Scenario.AssertNoBug(nameof(SubmitAsyncRacingItsToken), () => AsyncRace(Fault.None));

    [Fact]
    public void FindsAsyncCancelWithoutCas() =>
        Scenario.AssertFindsBug(nameof(FindsAsyncCancelWithoutCas), () => AsyncRace(Fault.CancelWithoutCas), "not conserved|succeeded but ran|task cancelled|Unhandled|exception");
}

/// <summary>A clock moved by hand; its timers fire on the thread that moves it (Coyote sees every step).</summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(GetTimestamp());

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        lock (_gate)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock, then fires the timers that came due (outside the lock).</summary>
    public void Advance(TimeSpan by)
    {
        long now = Interlocked.Add(ref _ticks, by.Ticks);
        var due = new List<ManualTimer>();
        lock (_gate)
        {
            foreach (ManualTimer timer in _timers)
            {
                if (timer.Due <= now)
                {
                    timer.Due = long.MaxValue;
                    due.Add(timer);
                }
            }
        }

        foreach (ManualTimer timer in due)
        {
            timer.Fire();
        }
    }

    internal void Set(ManualTimer timer, long due)
    {
        lock (_gate)
        {
            timer.Due = due;
        }
    }

    internal void Remove(ManualTimer timer)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
        }
    }

    internal sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long Due = long.MaxValue;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            // One-shot timers only (all the pool uses): the period is ignored.
            long due = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : clock.GetTimestamp() + dueTime.Ticks;
            clock.Set(this, due);
            if (due <= clock.GetTimestamp())
            {
                clock.Set(this, long.MaxValue);
                Fire();
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose() => clock.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

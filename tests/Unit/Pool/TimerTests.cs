using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace FastThreadPool.Tests.Unit.Pool;

/// <summary>
/// Delayed and periodic jobs on a fake clock: the test moves time by hand, so every deadline is exact. Each test
/// ends by shutting the pool down and checking the conservation invariant.
/// </summary>
public class TimerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // Long enough for the timer thread to act on a clock change if it wrongly would (used only to check that
    // something does NOT happen; every positive check waits for its event).
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(50);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private FastThreadPool.Pool Create(int workers = 1, bool keepDone = true) =>
        new(new PoolOptions { MaxWorkers = workers, TimeProvider = _time, KeepDone = keepDone });

    private static void Until(Func<bool> condition, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, Patience), $"timed out waiting until {what}");

    private static void ShutdownAndCheck(FastThreadPool.Pool pool)
    {
        Assert.True(pool.Shutdown(Patience));
        Assert.Equal(0, pool.TimerCount);
        Assert.Equal(pool.SubmittedCount, pool.DoneCount + pool.FailedCount + pool.CancelledCount);
    }

    private TimeSpan Elapsed(DateTimeOffset start) => _time.GetUtcNow() - start;

    [Fact]
    public void DueJobsRunInDeadlineOrderWithTiesInSubmissionOrder()
    {
        var pool = Create();
        var order = new List<string>();
        void Add(string s)
        {
            lock (order)
            {
                order.Add(s);
            }
        }

        pool.SubmitLater(TimeSpan.FromMilliseconds(30), () => Add("30"));
        pool.SubmitLater(TimeSpan.FromMilliseconds(10), () => Add("10a"));
        pool.SubmitLater(TimeSpan.FromMilliseconds(20), () => Add("20"));
        pool.SubmitLater(TimeSpan.FromMilliseconds(10), () => Add("10b"));
        Assert.Equal(4, pool.TimerCount);

        _time.Advance(TimeSpan.FromMilliseconds(30));
        Until(() => pool.DoneCount == 4, "all four ran");
        Assert.Equal(["10a", "10b", "20", "30"], order);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void DueJobsKeepDeadlineOrderAcrossBatchesWhileTheWorkerIsBusy()
    {
        var pool = Create();
        using var gate = new ManualResetEventSlim();
        var order = new List<int>();
        pool.Submit(() => gate.Wait());
        Until(() => pool.Busy == 1, "the worker is busy");
        for (int i = 1; i <= 5; i++)
        {
            int n = i;
            pool.SubmitLater(TimeSpan.FromMilliseconds(n), () => { lock (order) { order.Add(n); } });
        }

        // One millisecond at a time: the timer thread hands over five separate batches while the worker is busy.
        for (int i = 1; i <= 5; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            Until(() => pool.TimerCount == 5 - i, $"timer {i} fired");
        }

        gate.Set();
        Until(() => pool.DoneCount == 6, "all ran");
        Assert.Equal([1, 2, 3, 4, 5], order);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void ADelayedJobRunsAtItsDeadlineAndNotBefore()
    {
        var pool = Create();
        DateTimeOffset start = _time.GetUtcNow();
        TimeSpan ranAt = TimeSpan.MinValue;
        long id = pool.SubmitLater(TimeSpan.FromSeconds(10), () => ranAt = Elapsed(start));

        _time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Thread.Sleep(Settle);
        Assert.Equal(0, pool.DoneCount);
        Assert.Equal(1, pool.TimerCount);

        _time.Advance(TimeSpan.FromTicks(1));
        Until(() => pool.DoneCount == 1, "the job ran");
        Assert.Equal(TimeSpan.FromSeconds(10), ranAt);
        Assert.True(pool.Done.TryDequeue(out PoolJob? done));
        Assert.Equal(id, done.Id);
        Assert.False(pool.Cancel(id));
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void SubmitLaterWithResultAndDoneCallback()
    {
        var pool = Create();
        PoolJob? seen = null;
        long id = pool.SubmitLater(TimeSpan.FromMilliseconds(5), () => 42, job => seen = job);
        _time.Advance(TimeSpan.FromMilliseconds(5));
        Until(() => pool.DoneCount == 1, "the job ran");
        Assert.NotNull(seen);
        Assert.Equal(id, seen.Id);
        Assert.Equal(42, seen.GetResult<int>());
        Assert.True(pool.Done.IsEmpty); // the callback took it
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void ZeroDelayRunsAtOnce()
    {
        var pool = Create();
        pool.SubmitLater(TimeSpan.Zero, () => 1);
        Until(() => pool.DoneCount == 1, "the job ran without the clock moving");
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void SubmitAtTakesTheWallClockOfTheProvider()
    {
        var pool = Create();
        DateTimeOffset start = _time.GetUtcNow();
        TimeSpan ranAt = TimeSpan.MinValue;
        pool.SubmitAt(start.AddSeconds(3), () => ranAt = Elapsed(start));
        pool.SubmitAt(start, () => 0); // now is not the past
        Until(() => pool.DoneCount == 1, "the job due now ran");
        _time.Advance(TimeSpan.FromSeconds(2));
        Thread.Sleep(Settle);
        Assert.Equal(1, pool.DoneCount);
        _time.Advance(TimeSpan.FromSeconds(1));
        Until(() => pool.DoneCount == 2, "the job ran");
        Assert.Equal(TimeSpan.FromSeconds(3), ranAt);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void FixedRateKeepsTheGridWhenARunIsLate()
    {
        var pool = Create();
        DateTimeOffset start = _time.GetUtcNow();
        var runs = new List<TimeSpan>();
        long id = pool.Schedule(TimeSpan.FromMilliseconds(100), () => { lock (runs) { runs.Add(Elapsed(start)); } });

        _time.Advance(TimeSpan.FromMilliseconds(100));
        Until(() => pool.DoneCount == 1, "run 1");
        _time.Advance(TimeSpan.FromMilliseconds(150)); // 250: the tick at 200 comes late
        Until(() => pool.DoneCount == 2, "run 2");
        _time.Advance(TimeSpan.FromMilliseconds(50)); // 300: back on the grid, not at 350
        Until(() => pool.DoneCount == 3, "run 3");
        _time.Advance(TimeSpan.FromMilliseconds(350)); // 650: the ticks at 400, 500 and 600 were missed: one run
        Until(() => pool.DoneCount == 4, "run 4");
        Thread.Sleep(Settle);
        Assert.Equal(4, pool.DoneCount);
        _time.Advance(TimeSpan.FromMilliseconds(50)); // 700
        Until(() => pool.DoneCount == 5, "run 5");

        Assert.Equal(new[] { 100, 250, 300, 650, 700 }.Select(ms => TimeSpan.FromMilliseconds(ms)), runs);
        Assert.True(pool.Cancel(id));
        ShutdownAndCheck(pool);
        Assert.Equal(1, pool.CancelledCount); // the schedule itself
        Assert.Equal(5, pool.DoneCount);
    }

    [Fact]
    public void FixedDelayCountsFromTheEndOfEachRun()
    {
        var pool = Create();
        DateTimeOffset start = _time.GetUtcNow();
        var runs = new List<TimeSpan>();
        pool.Schedule(TimeSpan.FromMilliseconds(100), () => { lock (runs) { runs.Add(Elapsed(start)); } }, mode: ScheduleMode.FixedDelay);

        _time.Advance(TimeSpan.FromMilliseconds(150)); // due at 100, runs at 150: next due at 250
        Until(() => pool.DoneCount == 1, "run 1");
        Until(() => pool.Timers.LiveInHeap == 1, "the schedule is re-armed after its run");
        _time.Advance(TimeSpan.FromMilliseconds(50)); // 200: not due
        Thread.Sleep(Settle);
        Assert.Equal(1, pool.DoneCount);
        _time.Advance(TimeSpan.FromMilliseconds(50)); // 250
        Until(() => pool.DoneCount == 2, "run 2");
        Assert.Equal([TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(250)], runs);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void PeriodicRunsAreJobsOfTheirOwnWithResults()
    {
        var pool = Create();
        int n = 0;
        long id = pool.Schedule(TimeSpan.FromSeconds(1), () => Interlocked.Increment(ref n));
        for (int i = 1; i <= 3; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Until(() => pool.DoneCount == i, $"run {i}");
        }

        PoolJob[] done = [.. Drain(pool)];
        Assert.Equal([1, 2, 3], done.Select(j => j.GetResult<int>()));
        Assert.Equal(3, done.Select(j => j.Id).Distinct().Count());
        Assert.DoesNotContain(id, done.Select(j => j.Id));
        Assert.All(done, j => Assert.True(j.Id > id));
        ShutdownAndCheck(pool);
    }

    private static IEnumerable<PoolJob> Drain(FastThreadPool.Pool pool)
    {
        while (pool.Done.TryDequeue(out PoolJob? job))
        {
            yield return job;
        }
    }

    [Fact]
    public void PeriodicRunsNeverOverlap()
    {
        var pool = Create(workers: 2);
        using var gate = new ManualResetEventSlim();
        int running = 0;
        int most = 0;
        int runs = 0;
        pool.Schedule(TimeSpan.FromMilliseconds(10), () =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            Interlocked.Increment(ref runs);
            gate.Wait();
            Interlocked.Decrement(ref running);
        });

        _time.Advance(TimeSpan.FromMilliseconds(10));
        Until(() => Volatile.Read(ref runs) == 1, "run 1 started");
        for (int i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(10)); // ticks while run 1 is still running: skipped
        }

        Thread.Sleep(Settle);
        Assert.Equal(1, Volatile.Read(ref runs));
        gate.Set();
        Until(() => pool.DoneCount == 1, "run 1 ended");
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Until(() => pool.DoneCount == 2, "run 2");
        Assert.Equal(1, most);
        ShutdownAndCheck(pool);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int prior = Interlocked.CompareExchange(ref target, value, seen);
            if (prior == seen)
            {
                return;
            }

            seen = prior;
        }
    }

    [Fact]
    public void CancelBeforeTheFirstRun()
    {
        var pool = Create();
        long delayed = pool.SubmitLater(TimeSpan.FromSeconds(1), () => 1);
        long periodic = pool.Schedule(TimeSpan.FromSeconds(1), () => 2);
        Assert.Equal(2, pool.TimerCount);
        Assert.True(pool.Cancel(delayed));
        Assert.True(pool.Cancel(periodic));
        Assert.False(pool.Cancel(periodic));
        Assert.Equal(0, pool.TimerCount); // taken out of the heap at once
        _time.Advance(TimeSpan.FromSeconds(5));
        Thread.Sleep(Settle);
        Assert.Equal(0, pool.DoneCount);
        Assert.Equal(2, pool.CancelledCount);
        Assert.True(pool.WaitIdle(Patience));
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void CancelAfterTheFirstRunStopsTheSchedule()
    {
        var pool = Create();
        long id = pool.Schedule(TimeSpan.FromSeconds(1), () => 1);
        _time.Advance(TimeSpan.FromSeconds(1));
        Until(() => pool.DoneCount == 1, "run 1");
        Assert.True(pool.Cancel(id));
        _time.Advance(TimeSpan.FromSeconds(5));
        Thread.Sleep(Settle);
        Assert.Equal(1, pool.DoneCount);
        Assert.Equal(1, pool.CancelledCount);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void CancellingAScheduleCancelsItsQueuedRun()
    {
        var pool = Create();
        using var gate = new ManualResetEventSlim();
        pool.Submit(() => gate.Wait());
        Until(() => pool.Busy == 1, "the worker is busy");
        long id = pool.Schedule(TimeSpan.FromSeconds(1), () => 1);
        _time.Advance(TimeSpan.FromSeconds(1));
        Until(() => pool.Pending == 2, "the run is queued"); // the schedule and its run
        Assert.True(pool.Cancel(id));
        gate.Set();
        Assert.True(pool.WaitIdle(Patience));
        Assert.Equal(1, pool.DoneCount); // only the blocking job
        Assert.Equal(2, pool.CancelledCount); // the schedule and its queued run
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void CancelAllLeavesTimersUnlessAsked()
    {
        var pool = Create();
        using var gate = new ManualResetEventSlim();
        pool.Submit(() => gate.Wait());
        Until(() => pool.Busy == 1, "the worker is busy");
        pool.Submit(() => 1);
        pool.SubmitLater(TimeSpan.FromSeconds(1), () => 2);
        pool.Schedule(TimeSpan.FromSeconds(1), () => 3);
        Assert.Equal(1, pool.CancelAll());
        Assert.Equal(2, pool.TimerCount);
        Assert.Equal(2, pool.CancelAll(timers: true));
        Assert.Equal(0, pool.TimerCount);
        gate.Set();
        Assert.True(pool.WaitIdle(Patience));
        Assert.Equal(3, pool.CancelledCount);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void ShutdownStopsEveryTimerAndCountsThemCancelled()
    {
        var pool = Create();
        int ran = 0;
        pool.SubmitLater(TimeSpan.FromSeconds(1), () => Interlocked.Increment(ref ran));
        pool.Schedule(TimeSpan.FromSeconds(1), () => Interlocked.Increment(ref ran));
        pool.Submit(() => Interlocked.Increment(ref ran));
        ShutdownAndCheck(pool);
        Assert.Equal(1, ran); // the plain job ran (graceful); the timers were stopped
        Assert.Equal(2, pool.CancelledCount);
        _time.Advance(TimeSpan.FromSeconds(10));
        Thread.Sleep(Settle);
        Assert.Equal(1, ran);
        Assert.Throws<PoolStoppedException>(() => pool.SubmitLater(TimeSpan.FromSeconds(1), () => 1));
        Assert.Throws<PoolStoppedException>(() => pool.Schedule(TimeSpan.FromSeconds(1), () => 1));
        Assert.Throws<PoolStoppedException>(() => pool.SubmitAt(_time.GetUtcNow().AddSeconds(1), () => 1));
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void BadTimesAndIntervalsAreRefusedWithoutTakingAnId()
    {
        var pool = Create();
        DateTimeOffset now = _time.GetUtcNow();
        Assert.Throws<ArgumentOutOfRangeException>("delay", () => pool.SubmitLater(TimeSpan.FromTicks(-1), () => 1));
        Assert.Throws<ArgumentOutOfRangeException>("delay", () => pool.SubmitLater(Timeout.InfiniteTimeSpan, () => { }));
        Assert.Throws<ArgumentOutOfRangeException>("delay", () => pool.SubmitLater(TimeSpan.MaxValue, () => 1));
        Assert.Throws<ArgumentOutOfRangeException>("when", () => pool.SubmitAt(now.AddTicks(-1), () => 1));
        Assert.Throws<ArgumentOutOfRangeException>("when", () => pool.SubmitAt(DateTimeOffset.MinValue, () => { }));
        Assert.Throws<ArgumentOutOfRangeException>("interval", () => pool.Schedule(TimeSpan.Zero, () => 1));
        Assert.Throws<ArgumentOutOfRangeException>("interval", () => pool.Schedule(TimeSpan.FromTicks(-5), () => { }));
        Assert.Throws<ArgumentOutOfRangeException>("interval", () => pool.Schedule(TimeSpan.MaxValue, () => 1));
        Assert.Throws<ArgumentOutOfRangeException>("mode", () => pool.Schedule(TimeSpan.FromSeconds(1), () => 1, mode: (ScheduleMode)7));
        Assert.Throws<ArgumentNullException>("job", () => pool.SubmitLater(TimeSpan.Zero, (Action)null!));
        Assert.Throws<ArgumentNullException>("job", () => pool.SubmitAt(now, (Func<int>)null!));
        Assert.Throws<ArgumentNullException>("job", () => pool.Schedule(TimeSpan.FromSeconds(1), (Action)null!));
        Assert.Throws<ArgumentNullException>("TimeProvider", () => new FastThreadPool.Pool(new PoolOptions { TimeProvider = null! }));
        Assert.Equal(0, pool.SubmittedCount);
        Assert.Equal(0, pool.TimerCount);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void ManyCancelledTimersLeaveNothingBehind()
    {
        var pool = Create();
        var ids = new List<long>();
        for (int i = 0; i < 100_000; i++)
        {
            ids.Add(pool.SubmitLater(TimeSpan.FromSeconds(1 + (i % 1000)), () => { }));
        }

        Assert.Equal(100_000, pool.TimerCount);
        foreach (long id in ids)
        {
            Assert.True(pool.Cancel(id));
        }

        Assert.Equal(0, pool.TimerCount);
        Assert.True(pool.Timers.HeapCapacity <= 256, $"heap capacity {pool.Timers.HeapCapacity} after every timer was cancelled");
        ShutdownAndCheck(pool);
        Assert.Equal(100_000, pool.CancelledCount);
    }

    [Fact]
    public void TheSystemClockRunsDelayedJobsNoEarlierThanTheirDeadline()
    {
        var pool = new FastThreadPool.Pool(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var elapsed = new TimeSpan[3];
        for (int i = 0; i < 3; i++)
        {
            int n = i;
            pool.SubmitLater(TimeSpan.FromMilliseconds(20 * (n + 1)), () => elapsed[n] = clock.Elapsed);
        }

        Until(() => pool.DoneCount == 3, "all three ran");
        for (int i = 0; i < 3; i++)
        {
            Assert.True(elapsed[i] >= TimeSpan.FromMilliseconds(20 * (i + 1)), $"job {i} ran at {elapsed[i]}");
        }

        ShutdownAndCheck(pool);
    }

    /// <summary>The complex example: 100 jobs, a SubmitFirst, a cancel of the last job, a delayed job, a periodic job,
    /// CancelAll with timers, Shutdown; every outcome checked.</summary>
    [Fact]
    public void TheComplexExample()
    {
        var pool = Create(workers: 1);
        using var gate = new ManualResetEventSlim();
        var order = new List<string>();
        void Log(string what)
        {
            lock (order)
            {
                order.Add(what);
            }
        }

        long blocker = pool.Submit(() => gate.Wait());
        Until(() => pool.Busy == 1, "the worker is busy");
        var ids = new List<long>();
        for (int i = 0; i < 100; i++)
        {
            int n = i;
            ids.Add(pool.Submit(() => { Log($"job {n}"); return n * n; }));
        }

        long first = pool.SubmitFirst(() => { Log("first"); return -1; });
        Assert.True(pool.Cancel(ids[^1]));
        Assert.False(pool.Cancel(ids[^1]));
        long delayed = pool.SubmitLater(TimeSpan.FromSeconds(1), () => { Log("delayed"); return 1000; });
        long periodic = pool.Schedule(TimeSpan.FromMilliseconds(500), () => { Log("tick"); return 500; });
        Assert.Equal(2, pool.TimerCount);

        gate.Set();
        Until(() => pool.DoneCount == 101, "the blocker, the first job and 99 jobs ran");
        Assert.Equal("first", order[0]);
        Assert.Equal(Enumerable.Range(0, 99).Select(i => $"job {i}"), order.Skip(1));

        _time.Advance(TimeSpan.FromMilliseconds(500));
        Until(() => pool.DoneCount == 102, "tick 1");
        _time.Advance(TimeSpan.FromMilliseconds(500)); // the delayed job and tick 2 are due together: deadline ties go in submission order
        Until(() => pool.DoneCount == 104, "the delayed job and tick 2");
        Assert.Equal(["tick", "delayed", "tick"], order.Skip(100));

        Assert.Equal(1, pool.CancelAll(timers: true)); // the schedule (the delayed job has run)
        Assert.Equal(0, pool.TimerCount);
        _time.Advance(TimeSpan.FromSeconds(5));
        Thread.Sleep(Settle);
        Assert.Equal(104, pool.DoneCount);

        Assert.True(pool.Shutdown(Patience));
        Assert.Equal(0, pool.Alive);
        Assert.Equal(106, pool.SubmittedCount); // blocker, 100 jobs, first, delayed, schedule, 2 ticks
        Assert.Equal(104, pool.DoneCount);
        Assert.Equal(0, pool.FailedCount);
        Assert.Equal(2, pool.CancelledCount); // the last job and the schedule
        ShutdownAndCheck(pool);

        var results = Drain(pool).ToDictionary(j => j.Id);
        Assert.Equal(104, results.Count);
        Assert.Null(results[blocker].Result);
        Assert.Equal(-1, results[first].GetResult<int>());
        Assert.Equal(1000, results[delayed].GetResult<int>());
        Assert.Equal(Enumerable.Range(0, 99).Sum(i => i * i), ids.Take(99).Sum(id => results[id].GetResult<int>()));
        Assert.DoesNotContain(ids[^1], results.Keys);
        Assert.DoesNotContain(periodic, results.Keys);
        Assert.Equal(2, results.Values.Count(j => j.Result is 500));
        Assert.Throws<PoolStoppedException>(() => pool.Submit(() => 1));
    }
}

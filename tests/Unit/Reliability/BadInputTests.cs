using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FastThreadPool.Primitives;
using Xunit;
using static FastThreadPool.Tests.Unit.Reliability.Report;

namespace FastThreadPool.Tests.Unit.Reliability;

/// <summary>The bad-input table (<c>artifacts/reliability/bad-input.md</c>).</summary>
public sealed class BadInputReport : Report
{
    protected override string Name => "bad-input";

    protected override string[] Columns => ["API", "input", "expected", "observed", "afterwards"];
}

/// <summary>
/// The bad-input contract, table-driven over the public API: every bad argument, call after shutdown or misuse gets
/// its documented exception or result, and the pool stays usable (or cleanly stopped) afterwards.
/// </summary>
public class BadInputTests(BadInputReport report) : IClassFixture<BadInputReport>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Negative = TimeSpan.FromMilliseconds(-2);

    /// <param name="Api">The member.</param>
    /// <param name="Input">What is passed.</param>
    /// <param name="Expected">The documented outcome, as <see cref="Report.Outcome"/> words it.</param>
    /// <param name="Act">The call, on a fresh two-worker pool.</param>
    /// <param name="Stopped">Whether the pool is shut down before the call.</param>
    public sealed record Case(string Api, string Input, string Expected, Func<FastThreadPool.Pool, object?> Act, bool Stopped = false);

    private static readonly Action Job = static () => { };

    private static long Finished(FastThreadPool.Pool pool)
    {
        long id = pool.Submit(Job);
        pool.WaitIdle(Patience);
        return id;
    }

    // A job that ended done, taken from the pool's Done queue.
    private static PoolJob DoneJob(FastThreadPool.Pool pool)
    {
        pool.Submit(static () => 1);
        pool.WaitIdle(Patience);
        return pool.Done.TryDequeue(out PoolJob? job) ? job : throw new InvalidOperationException("no job in Done");
    }

    public static readonly Case[] Cases =
    [
        // Construction.
        new("new Pool(int)", "0 workers", "throws ArgumentOutOfRangeException (MaxWorkers)", _ => new FastThreadPool.Pool(0)),
        new("new Pool(int)", "-1 workers", "throws ArgumentOutOfRangeException (MaxWorkers)", _ => new FastThreadPool.Pool(-1)),
        new("new Pool(PoolOptions)", "null", "throws ArgumentNullException (options)", _ => new FastThreadPool.Pool(null!)),
        new("new Pool(PoolOptions)", "DoneMax = -1", "throws ArgumentOutOfRangeException (DoneMax)", _ => new FastThreadPool.Pool(new PoolOptions { DoneMax = -1 })),
        new("new Pool(PoolOptions)", "WorkerNamePrefix = null", "throws ArgumentNullException (WorkerNamePrefix)", _ => new FastThreadPool.Pool(new PoolOptions { WorkerNamePrefix = null! })),
        new("new Pool(PoolOptions)", "TimeProvider = null", "throws ArgumentNullException (TimeProvider)", _ => new FastThreadPool.Pool(new PoolOptions { TimeProvider = null! })),
        new("new Pool(PoolOptions)", "Parking = (ParkingBackend)9", "throws ArgumentOutOfRangeException (backend)", _ => new FastThreadPool.Pool(new PoolOptions { Parking = (ParkingBackend)9 })),

        // Submission.
        new("Submit(Action)", "null", "throws ArgumentNullException (job)", p => p.Submit((Action)null!)),
        new("Submit(Func<T>)", "null", "throws ArgumentNullException (job)", p => p.Submit((Func<int>)null!)),
        new("Submit(Action<T>, T)", "null job", "throws ArgumentNullException (job)", p => p.Submit((Action<int>)null!, 1)),
        new("Submit(Func<T, R>, T)", "null job", "throws ArgumentNullException (job)", p => p.Submit((Func<int, int>)null!, 1)),
        new("Submit(Action, done)", "null done", "throws ArgumentNullException (done)", p => p.Submit(Job, null!)),
        new("Submit(Action<CancellationToken>, token)", "null job", "throws ArgumentNullException (job)", p => p.Submit((Action<CancellationToken>)null!, CancellationToken.None)),
        new("Submit(Action<CancellationToken>, token)", "a cancelled token", "returns an id; the job ends cancelled", p =>
        {
            long id = p.Submit(_ => { }, new CancellationToken(canceled: true));
            return p.CancelledCount == 1 && !p.Cancel(id) ? "an id; the job ends cancelled" : "WRONG";
        }),
        new("SubmitFirst(Action)", "null", "throws ArgumentNullException (job)", p => p.SubmitFirst((Action)null!)),
        new("TrySubmit(Action, out id)", "null", "throws ArgumentNullException (job)", p => p.TrySubmit(null!, out _)),
        new("SubmitAsync(Func<T>)", "null", "throws ArgumentNullException (job)", p => p.SubmitAsync((Func<int>)null!)),
        new("SubmitAsync(Func<T>, token)", "a cancelled token", "returns a cancelled task, nothing accepted", p =>
        {
            ValueTask<int> t = p.SubmitAsync(() => 1, new CancellationToken(canceled: true));
            return t.IsCanceled && p.SubmittedCount == 0 ? "a cancelled task, nothing accepted" : "WRONG";
        }),

        // Timers.
        new("SubmitLater(TimeSpan, Action)", "-1 tick", "throws ArgumentOutOfRangeException (delay)", p => p.SubmitLater(TimeSpan.FromTicks(-1), Job)),
        new("SubmitLater(TimeSpan, Action)", "Timeout.InfiniteTimeSpan", "throws ArgumentOutOfRangeException (delay)", p => p.SubmitLater(Timeout.InfiniteTimeSpan, Job)),
        new("SubmitLater(TimeSpan, Action)", "TimeSpan.MaxValue (overflows)", "throws ArgumentOutOfRangeException (delay)", p => p.SubmitLater(TimeSpan.MaxValue, Job)),
        new("SubmitLater(TimeSpan, Action)", "null job", "throws ArgumentNullException (job)", p => p.SubmitLater(TimeSpan.Zero, (Action)null!)),
        new("SubmitAt(DateTimeOffset, Action)", "a second ago", "throws ArgumentOutOfRangeException (when)", p => p.SubmitAt(DateTimeOffset.UtcNow.AddSeconds(-1), Job)),
        new("SubmitAt(DateTimeOffset, Action)", "DateTimeOffset.MaxValue (far, but fits the clock)", "returns an id, pending until cancelled", p =>
        {
            long id = p.SubmitAt(DateTimeOffset.MaxValue, Job);
            return p.TimerCount == 1 && p.Cancel(id) && p.TimerCount == 0 ? "an id, pending until cancelled" : "WRONG";
        }),
        new("Schedule(TimeSpan, Action)", "zero interval", "throws ArgumentOutOfRangeException (interval)", p => p.Schedule(TimeSpan.Zero, Job)),
        new("Schedule(TimeSpan, Action)", "negative interval", "throws ArgumentOutOfRangeException (interval)", p => p.Schedule(TimeSpan.FromTicks(-1), Job)),
        new("Schedule(TimeSpan, Action)", "TimeSpan.MaxValue (overflows)", "throws ArgumentOutOfRangeException (interval)", p => p.Schedule(TimeSpan.MaxValue, Job)),
        new("Schedule(TimeSpan, Action, done, mode)", "mode = (ScheduleMode)7", "throws ArgumentOutOfRangeException (mode)", p => p.Schedule(TimeSpan.FromSeconds(1), Job, null, (ScheduleMode)7)),

        // Map.
        new("Map(worker, items)", "null worker", "throws ArgumentNullException (worker)", p => p.Map((Func<int, int>)null!, [1])),
        new("Map(worker, items)", "null items", "throws ArgumentNullException (items)", p => p.Map(static (int x) => x, null!)),
        new("Map(worker, items, chunkSize)", "chunkSize = -1", "throws ArgumentOutOfRangeException (chunkSize)", p => p.Map(static (int x) => x, [1], chunkSize: -1)),
        new("Map(worker, items, done)", "null done", "throws ArgumentNullException (done)", p => p.Map(static (int x) => x, [1], (Action<int>)null!)),
        new("Map(worker, items)", "no items", "returns an empty array", p => p.Map(static (int x) => x, Array.Empty<int>()).Length == 0 ? "an empty array" : "WRONG"),

        // Cancellation.
        new("Cancel(long)", "an unknown id", "returns false", p => p.Cancel(123_456)),
        new("Cancel(long)", "-1", "returns false", p => p.Cancel(-1)),
        new("Cancel(long)", "0 (never handed out)", "returns false", p => p.Cancel(0)),
        new("Cancel(long)", "a finished job's id", "returns false", p => p.Cancel(Finished(p))),
        new("Cancel(long)", "the same queued id twice", "returns true, then false", p =>
        {
            using var gate = new ManualResetEventSlim();
            var one = new FastThreadPool.Pool(1);
            one.Submit(() => gate.Wait());
            SpinWait.SpinUntil(() => one.Busy == 1, Patience);
            long id = one.Submit(Job);
            string result = $"{one.Cancel(id)}, then {one.Cancel(id)}".ToLowerInvariant();
            gate.Set();
            one.Shutdown();
            return result;
        }),

        // Waiting and lifecycle.
        new("WaitIdle(TimeSpan)", "-2 ms", "throws ArgumentOutOfRangeException (timeout)", p => p.WaitIdle(Negative)),
        new("WaitIdle(TimeSpan)", "TimeSpan.MaxValue", "throws ArgumentOutOfRangeException (timeout)", p => p.WaitIdle(TimeSpan.MaxValue)),
        new("WaitIdle()", "from one of the pool's jobs", "throws InvalidOperationException", p => { p.SubmitAsync(() => p.WaitIdle()).AsTask().GetAwaiter().GetResult(); return null; }),
        new("WaitIdle(TimeSpan)", "50 ms, from one of the pool's jobs", "returns false", p => p.SubmitAsync(() => p.WaitIdle(TimeSpan.FromMilliseconds(50))).AsTask().GetAwaiter().GetResult()),
        new("Shutdown(TimeSpan, bool)", "-2 ms", "throws ArgumentOutOfRangeException (timeout)", p => p.Shutdown(Negative)),
        new("Join(TimeSpan)", "-2 ms", "throws ArgumentOutOfRangeException (timeout)", p => p.Join(Negative)),
        new("AsCompleted(timeout, count)", "count = -1", "throws ArgumentOutOfRangeException (count)", p => p.AsCompleted(count: -1)),
        new("AsCompleted(timeout, count)", "timeout = -2 ms", "throws ArgumentOutOfRangeException (timeout)", p => p.AsCompleted(timeout: Negative)),
        new("AsCompletedAsync(timeout, count)", "count = -1", "throws ArgumentOutOfRangeException (count)", p => p.AsCompletedAsync(count: -1)),
        new("Done.TryEnqueue(PoolJob)", "null", "throws ArgumentNullException (item)", p => p.Done.TryEnqueue(null!)),

        // Handing jobs back.
        new("Return(PoolJob)", "null", "throws ArgumentNullException (job)", p => { p.Return(null!); return null; }),
        new("Return(PoolJob)", "a queued job", "throws InvalidOperationException", p =>
        {
            using var gate = new ManualResetEventSlim();
            using var one = new FastThreadPool.Pool(1);
            one.Submit(() => gate.Wait());
            long id = one.Submit(Job);
            try
            {
                one.Return(one.FindJob(id)!);
                return null;
            }
            finally
            {
                gate.Set();
            }
        }),
        new("Return(PoolJob)", "a job returned already", "throws InvalidOperationException", p =>
        {
            PoolJob job = DoneJob(p);
            p.Return(job);
            p.Return(job);
            return null;
        }),
        new("Return(PoolJob)", "another pool's job, to a pool that keeps spare jobs", "throws ArgumentException (job)", p =>
        {
            using var keeping = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 1, SpareJobs = 64 });
            keeping.Return(DoneJob(p));
            return null;
        }),

        // After shutdown.
        new("Submit(Action)", "after Shutdown", "throws PoolStoppedException", p => p.Submit(Job), Stopped: true),
        new("SubmitFirst(Action)", "after Shutdown", "throws PoolStoppedException", p => p.SubmitFirst(Job), Stopped: true),
        new("TrySubmit(Action, out id)", "after Shutdown", "throws PoolStoppedException", p => p.TrySubmit(Job, out _), Stopped: true),
        new("SubmitAsync(Func<T>)", "after Shutdown", "throws PoolStoppedException", p => p.SubmitAsync(() => 1), Stopped: true),
        new("SubmitLater(TimeSpan, Action)", "after Shutdown", "throws PoolStoppedException", p => p.SubmitLater(TimeSpan.FromSeconds(1), Job), Stopped: true),
        new("SubmitAt(DateTimeOffset, Action)", "after Shutdown", "throws PoolStoppedException", p => p.SubmitAt(DateTimeOffset.UtcNow.AddSeconds(1), Job), Stopped: true),
        new("Schedule(TimeSpan, Action)", "after Shutdown", "throws PoolStoppedException", p => p.Schedule(TimeSpan.FromSeconds(1), Job), Stopped: true),
        new("Map(worker, items)", "after Shutdown", "throws PoolStoppedException", p => p.Map(static (int x) => x, [1, 2]), Stopped: true),
        new("TaskScheduler (Task.Start)", "after Shutdown", "throws TaskSchedulerException (PoolStoppedException)", p => { new Task(Job).Start(p.TaskScheduler); return null; }, Stopped: true),
        new("Shutdown()", "a second time", "returns true", p => p.Shutdown(), Stopped: true),
        new("Dispose()", "a second time", "returns", p => { p.Dispose(); return null; }, Stopped: true),
        new("Cancel(long)", "after Shutdown", "returns false", p => p.Cancel(1), Stopped: true),
        new("CancelAll(bool)", "after Shutdown", "returns 0", p => p.CancelAll(timers: true), Stopped: true),
        new("WaitIdle(TimeSpan)", "after Shutdown", "returns true", p => p.WaitIdle(TimeSpan.Zero), Stopped: true),

        // Primitives.
        new("new BoundedMpmcQueue<T>(int)", "capacity 0", "throws ArgumentOutOfRangeException (capacity)", _ => new BoundedMpmcQueue<int>(0)),
        new("new BoundedMpmcQueue<T>(int)", "capacity 2^30 + 1", "throws ArgumentOutOfRangeException (capacity)", _ => new BoundedMpmcQueue<int>((1 << 30) + 1)),
        new("new UnboundedMpmcQueue<T>(int)", "segment size 1", "throws ArgumentOutOfRangeException (segmentSize)", _ => new UnboundedMpmcQueue<int>(1)),
        new("new UnboundedMpmcQueue<T>(int)", "segment size 2^20 + 1", "throws ArgumentOutOfRangeException (segmentSize)", _ => new UnboundedMpmcQueue<int>((1 << 20) + 1)),
        new("new WorkStealingDeque<T>(int)", "capacity 0", "throws ArgumentOutOfRangeException (capacity)", _ => new WorkStealingDeque<int>(0)),
        new("new FastSemaphore(int)", "-1", "throws ArgumentOutOfRangeException (initialCount)", _ => new FastSemaphore(-1)),
        new("new FastSemaphore(int, int)", "initial 3 > max 2", "throws ArgumentOutOfRangeException (initialCount)", _ => new FastSemaphore(3, 2)),
        new("new FastSemaphore(int, int)", "max 0", "throws ArgumentOutOfRangeException (maxCount)", _ => new FastSemaphore(0, 0)),
        new("FastSemaphore.Release(int)", "0", "throws ArgumentOutOfRangeException (releaseCount)", _ => new FastSemaphore(0).Release(0)),
        new("FastSemaphore.Release()", "past the maximum", "throws SemaphoreFullException", _ => new FastSemaphore(1, 1).Release()),
        new("FastSemaphore.Release(int)", "int.MaxValue on a count of 1", "throws SemaphoreFullException", _ => new FastSemaphore(1).Release(int.MaxValue)),
        new("FastSemaphore.Wait(int)", "-2 ms", "throws ArgumentOutOfRangeException (millisecondsTimeout)", _ => new FastSemaphore(0).Wait(-2)),
        new("FastSemaphore.Wait(TimeSpan)", "-2 ms", "throws ArgumentOutOfRangeException (timeout)", _ => new FastSemaphore(0).Wait(Negative)),
        new("FastSemaphore.Wait(TimeSpan)", "TimeSpan.MaxValue", "throws ArgumentOutOfRangeException (timeout)", _ => new FastSemaphore(0).Wait(TimeSpan.MaxValue)),
        new("FastSemaphore.Wait(CancellationToken)", "a cancelled token, a permit free", "throws OperationCanceledException", _ => { new FastSemaphore(1).Wait(new CancellationToken(canceled: true)); return null; }),
        new("FastSemaphore.Wait(TimeSpan)", "zero, no permit", "returns false", _ => new FastSemaphore(0).Wait(TimeSpan.Zero)),
    ];

    public static IEnumerable<object[]> Names => Cases.Select((c, i) => new object[] { i, $"{c.Api}: {c.Input}" });

    [Theory]
    [MemberData(nameof(Names))]
    public void GetsItsDocumentedOutcome(int index, string name)
    {
        Case c = Cases[index];
        var pool = new FastThreadPool.Pool(2);
        if (c.Stopped)
        {
            pool.Submit(Job);
            Assert.True(pool.Shutdown(Patience));
        }

        string observed = Outcome(() => c.Act(pool));

        // Afterwards: a running pool still runs jobs; a stopped one stays stopped and consistent.
        string after;
        if (c.Stopped)
        {
            after = pool.Shutdown(Patience) && pool.Alive == 0 ? "stays stopped" : "NOT CLEANLY STOPPED";
        }
        else
        {
            int ran = 0;
            try
            {
                pool.Submit(() => Interlocked.Increment(ref ran));
                after = pool.WaitIdle(Patience) && ran == 1 ? "still runs jobs" : "NO LONGER RUNS JOBS";
            }
            catch (PoolStoppedException)
            {
                after = "NO LONGER ACCEPTS JOBS";
            }

            pool.Shutdown(Patience);
        }

        bool conserved = pool.SubmittedCount == pool.DoneCount + pool.FailedCount + pool.CancelledCount;
        after += conserved ? ", counts conserved" : ", COUNTS NOT CONSERVED";
        report.Add($"{index:D3}", c.Api, c.Input, c.Expected, observed, after);
        Assert.Equal(c.Expected, observed);
        Assert.True(after is "still runs jobs, counts conserved" or "stays stopped, counts conserved", $"{name}: {after}");
    }
}

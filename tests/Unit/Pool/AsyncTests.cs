using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace FastThreadPool.Tests.Unit.Pool;

/// <summary><c>SubmitAsync</c>, cancellation tokens, <c>AsCompletedAsync</c>, the pool's <c>TaskScheduler</c> and
/// its metrics.</summary>
public class AsyncTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static void Until(Func<bool> condition, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, Patience), $"timed out waiting until {what}");

    private static void ShutdownAndCheck(FastThreadPool.Pool pool)
    {
        Assert.True(pool.Shutdown(Patience));
        Assert.Equal(pool.SubmittedCount, pool.DoneCount + pool.FailedCount + pool.CancelledCount);
    }

    /// <summary>Occupies the pool's only worker until <paramref name="gate"/> is set.</summary>
    private static void BlockTheWorker(FastThreadPool.Pool pool, ManualResetEventSlim gate)
    {
        pool.Submit(() => gate.Wait());
        Until(() => pool.Busy == 1, "the worker is busy");
    }

    [Fact]
    public async Task SubmitAsyncCompletesWithTheResultAfterTheJobIsCounted()
    {
        var pool = new FastThreadPool.Pool(2);
        for (int i = 0; i < 1000; i++)
        {
            int n = i;
            Assert.Equal(n * 2, await pool.SubmitAsync(() => n * 2));
        }

        // Counted before the task completed: the last await already sees every job done.
        Assert.Equal(1000, pool.DoneCount);
        await pool.SubmitAsync(() => { });
        Assert.Equal(1001, pool.DoneCount);
        Assert.True(pool.Done.IsEmpty); // async jobs report to their task only
        ShutdownAndCheck(pool);
    }

    [Fact]
    public async Task CodeAfterAnAwaitIsNotAJobUnlessAskedFor()
    {
        // The continuation is registered while the job is held at a gate, so it is a real continuation (not code that
        // runs on after an already-completed task), with no scheduling context.
        static async Task<WorkerContext?> WhereTheContinuationRuns(FastThreadPool.Pool pool)
        {
            using var gate = new ManualResetEventSlim();
            ValueTask<int> task = pool.SubmitAsync(() => { gate.Wait(); return 1; });
            var where = new TaskCompletionSource<WorkerContext?>(TaskCreationOptions.RunContinuationsAsynchronously);
            task.ConfigureAwait(false).GetAwaiter().OnCompleted(() => where.SetResult(FastThreadPool.Pool.CurrentWorker));
            gate.Set();
            return await where.Task;
        }

        var pool = new FastThreadPool.Pool(1);
        Assert.Null(await WhereTheContinuationRuns(pool)); // on the .NET thread pool, not the worker
        pool.Submit(() => 2);
        Assert.True(pool.WaitIdle(Patience));               // allowed from code that is not one of the pool's jobs
        ShutdownAndCheck(pool);

        var inline = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 1, SynchronousContinuations = true });
        Assert.Same(inline, (await WhereTheContinuationRuns(inline))?.Pool); // inline on the worker that ended the job
        ShutdownAndCheck(inline);
    }

    [Fact]
    public async Task SubmitAsyncCarriesTheJobsException()
    {
        var pool = new FastThreadPool.Pool(1);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () => await pool.SubmitAsync<int>(() => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", e.Message);
        await Assert.ThrowsAsync<FormatException>(async () => await pool.SubmitAsync(() => throw new FormatException()));
        Assert.Equal(2, pool.FailedCount);
        Assert.True(pool.Failed.IsEmpty);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public async Task ATokenCancelledBeforeTheJobStartsCancelsIt()
    {
        var pool = new FastThreadPool.Pool(1);
        using var gate = new ManualResetEventSlim();
        BlockTheWorker(pool, gate);
        using var cts = new CancellationTokenSource();
        int ran = 0;
        ValueTask<int> task = pool.SubmitAsync(() => Interlocked.Increment(ref ran), cts.Token);
        cts.Cancel();
        var oce = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await task);
        Assert.Equal(cts.Token, oce.CancellationToken);
        gate.Set();
        Assert.True(pool.WaitIdle(Patience));
        Assert.Equal(0, ran);
        Assert.Equal(1, pool.CancelledCount);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenIsNotAccepted()
    {
        var pool = new FastThreadPool.Pool(1);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        ValueTask<int> task = pool.SubmitAsync(() => 1, cts.Token);
        Assert.True(task.IsCanceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pool.SubmitAsync(() => { }, cts.Token));
        Assert.Equal(0, pool.SubmittedCount);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public async Task ARunningJobSeesItsToken()
    {
        var pool = new FastThreadPool.Pool(1);
        using var cts = new CancellationTokenSource();
        using var started = new ManualResetEventSlim();
        ValueTask<int> task = pool.SubmitAsync(token =>
        {
            started.Set();
            int spins = 0;
            while (!token.IsCancellationRequested)
            {
                spins++;
                Thread.Yield();
            }

            return spins;
        }, cts.Token);
        Assert.True(started.Wait(Patience));
        cts.Cancel(); // too late to cancel the job: it sees the token and returns
        Assert.True(await task >= 0);
        Assert.Equal(1, pool.DoneCount);
        Assert.Equal(0, pool.CancelledCount);

        using var cts2 = new CancellationTokenSource();
        ValueTask plain = pool.SubmitAsync(token => token.ThrowIfCancellationRequested(), cts2.Token);
        await plain;
        ShutdownAndCheck(pool);
    }

    [Fact]
    public async Task CancelAllAndShutdownWithCancelPendingCancelTheirTasks()
    {
        var pool = new FastThreadPool.Pool(1);
        using var gate = new ManualResetEventSlim();
        BlockTheWorker(pool, gate);
        ValueTask<int> first = pool.SubmitAsync(() => 1);
        Assert.Equal(1, pool.CancelAll());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first);
        ValueTask<int> second = pool.SubmitAsync(() => 2);
        Task<int> secondTask = second.AsTask();
        var shutdown = Task.Run(() => pool.Shutdown(Patience, cancelPending: true));
        Until(() => pool.CancelledCount == 2, "shutdown cancelled the queued job");
        gate.Set();
        Assert.True(await shutdown);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => secondTask);
        Assert.True(secondTask.IsCanceled);
        Assert.Throws<PoolStoppedException>(() => pool.SubmitAsync(() => 3));
        Assert.Equal(2, pool.CancelledCount);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public async Task TokenRegistrationsAreRemovedWhenJobsEnd()
    {
        // A long-lived token: each job registers on it and must unregister when it ends, or the token would keep
        // every job alive. (The pool's id table holds jobs in chunks of 1,024 ids until every id of a chunk has ended,
        // and the queue's slots until their segment is recycled, so only the jobs of the first chunks are checked.)
        var pool = new FastThreadPool.Pool(2);
        using var cts = new CancellationTokenSource();
        var weak = new List<WeakReference>();
        for (int i = 0; i < 3000; i++)
        {
            var payload = new object();
            if (i < 1000)
            {
                weak.Add(new WeakReference(payload));
            }

            await pool.SubmitAsync(() => payload.GetHashCode(), cts.Token);
            await Task.Yield(); // off the worker (the continuation ran on it), so that every job is submitted from outside
        }

        Assert.True(pool.WaitIdle(Patience));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.True(weak.Count(w => w.IsAlive) == 0, $"{weak.Count(w => w.IsAlive)} of 1000 ended jobs still reachable");
        GC.KeepAlive(cts);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void SubmitWithATokenCancelsTheQueuedJobAndHandsTheTokenToARunningOne()
    {
        var pool = new FastThreadPool.Pool(1);
        using var gate = new ManualResetEventSlim();
        BlockTheWorker(pool, gate);
        using var cts = new CancellationTokenSource();
        int ran = 0;
        long queued = pool.Submit(_ => { Interlocked.Increment(ref ran); }, cts.Token);
        long withResult = pool.Submit(token => token.CanBeCanceled ? 0 : 7, CancellationToken.None);
        cts.Cancel();
        Assert.Equal(1, pool.CancelledCount);
        Assert.False(pool.Cancel(queued));

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        long already = pool.Submit(_ => { Interlocked.Increment(ref ran); }, cancelled.Token);
        Assert.Equal(2, pool.CancelledCount);
        Assert.True(already > queued);

        using var late = new CancellationTokenSource();
        using var started = new ManualResetEventSlim();
        long running = pool.Submit(token =>
        {
            started.Set();
            while (!token.IsCancellationRequested)
            {
                Thread.Yield();
            }

            return 42;
        }, late.Token);
        gate.Set();
        Assert.True(started.Wait(Patience));
        late.Cancel(); // too late to cancel: the job sees the token and returns
        Assert.True(pool.WaitIdle(Patience));
        Assert.Equal(0, ran);
        Assert.Equal(2, pool.CancelledCount);
        var done = new Dictionary<long, PoolJob>();
        while (pool.Done.TryDequeue(out PoolJob? job))
        {
            done[job.Id] = job;
        }

        Assert.Equal(7, done[withResult].GetResult<int>()); // CancellationToken.None cannot be cancelled
        Assert.Equal(42, done[running].GetResult<int>());
        Assert.DoesNotContain(queued, done.Keys);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public async Task AsCompletedAsyncYieldsEveryEndedJobThenEnds()
    {
        var pool = new FastThreadPool.Pool(2);
        var ids = new HashSet<long>();
        for (int i = 0; i < 200; i++)
        {
            int n = i;
            ids.Add(n % 10 == 0 ? pool.Submit(() => throw new InvalidOperationException(n.ToString())) : pool.Submit(() => n));
        }

        var seen = new HashSet<long>();
        int failed = 0;
        await foreach (PoolJob job in pool.AsCompletedAsync(timeout: Patience))
        {
            Assert.True(seen.Add(job.Id));
            failed += job.Status == PoolJobStatus.Failed ? 1 : 0;
        }

        Assert.Equal(ids, seen);
        Assert.Equal(20, failed);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public async Task AsCompletedAsyncWaitsWithoutAThreadAndHonoursCountTimeoutAndToken()
    {
        var pool = new FastThreadPool.Pool(1);
        using var gate = new ManualResetEventSlim();
        long blocker = pool.Submit(() => gate.Wait());
        pool.Submit(() => 2);

        // Both jobs are outstanding; nothing ends within the timeout.
        var early = new List<PoolJob>();
        await foreach (PoolJob job in pool.AsCompletedAsync(timeout: TimeSpan.FromMilliseconds(50)))
        {
            early.Add(job);
        }

        Assert.Empty(early);

        Task<List<long>> reader = Task.Run(async () =>
        {
            var got = new List<long>();
            await foreach (PoolJob job in pool.AsCompletedAsync(count: 1))
            {
                got.Add(job.Id);
            }

            return got;
        });
        await Task.Delay(20);
        Assert.False(reader.IsCompleted);
        gate.Set();
        Assert.Equal([blocker], await reader);

        using var cts = new CancellationTokenSource();
        pool.Submit(() => Thread.Sleep(10));
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (PoolJob job in pool.AsCompletedAsync(cancellationToken: cts.Token))
            {
            }
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.AsCompletedAsync(count: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.AsCompletedAsync(timeout: TimeSpan.FromMilliseconds(-2)));
        ShutdownAndCheck(pool);
    }

    [Fact]
    public async Task TheTaskSchedulerRunsTasksOnTheWorkers()
    {
        var pool = new FastThreadPool.Pool(2);
        TaskScheduler scheduler = pool.TaskScheduler;
        Assert.Same(scheduler, pool.TaskScheduler);
        Assert.Equal(2, scheduler.MaximumConcurrencyLevel);

        WorkerContext? ctx = await Task.Factory.StartNew(() => FastThreadPool.Pool.CurrentWorker, CancellationToken.None, TaskCreationOptions.None, scheduler);
        Assert.NotNull(ctx);
        Assert.Same(pool, ctx.Pool);

        // async code started on the scheduler: its continuations come back to the pool's workers.
        bool[] onWorker = await Task.Factory.StartNew(async () =>
        {
            var where = new List<bool>();
            for (int i = 0; i < 5; i++)
            {
                await Task.Yield();
                where.Add(FastThreadPool.Pool.CurrentWorker?.Pool == pool);
            }

            return where.ToArray();
        }, CancellationToken.None, TaskCreationOptions.None, scheduler).Unwrap();
        Assert.All(onWorker, Assert.True);

        // Parallel over the pool's scheduler.
        long sum = 0;
        Parallel.For(0, 10_000, new ParallelOptions { TaskScheduler = scheduler }, i =>
        {
            Interlocked.Add(ref sum, i);
        });
        Assert.Equal(10_000L * 9_999 / 2, sum);

        // A task that throws: the task holds the exception; the pool counts its job done and reports nothing.
        Task failing = Task.Factory.StartNew(() => throw new InvalidOperationException(), CancellationToken.None, TaskCreationOptions.None, scheduler);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Assert.True(pool.WaitIdle(Patience));
        Assert.True(pool.Failed.IsEmpty);
        Assert.True(pool.Done.IsEmpty);
        ShutdownAndCheck(pool);

        Task late = new(() => { });
        var e = Assert.Throws<TaskSchedulerException>(() => late.Start(scheduler));
        Assert.IsType<PoolStoppedException>(e.InnerException);
    }

    [Fact]
    public void MetricsAreVisibleToAMeterListener()
    {
        var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 2, WorkerNamePrefix = "metrics-test", KeepDone = false });
        var longs = new Dictionary<string, long>();
        var waits = new List<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == FastThreadPool.Pool.MeterName
                && instrument.Meter.Tags?.Any(t => t.Key == "fastthreadpool.pool.name" && (string?)t.Value == "metrics-test") == true)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => { lock (longs) { longs[instrument.Name] = value; } });
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => { lock (longs) { longs[instrument.Name] = value; } });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => { lock (waits) { waits.Add(value); } });
        listener.Start();

        for (int i = 0; i < 100; i++)
        {
            pool.Submit(() => { });
        }

        pool.Submit(() => throw new InvalidOperationException());
        Until(() => pool.DoneCount + pool.FailedCount == 101, "the first jobs ended");
        using var gate = new ManualResetEventSlim();
        pool.Submit(() => gate.Wait());
        pool.Submit(() => gate.Wait());
        Until(() => pool.Busy == 2, $"both workers are busy ({pool.DebugState})");
        Assert.True(pool.Cancel(pool.Submit(() => { })));
        pool.Submit(() => { });
        pool.SubmitLater(TimeSpan.FromHours(1), () => { });

        listener.RecordObservableInstruments();
        lock (longs)
        {
            Assert.Equal(pool.SubmittedCount, longs["fastthreadpool.jobs.submitted"]);
            Assert.Equal(pool.DoneCount, longs["fastthreadpool.jobs.done"]);
            Assert.Equal(1, longs["fastthreadpool.jobs.failed"]);
            Assert.Equal(1, longs["fastthreadpool.jobs.cancelled"]);
            Assert.Equal(2, longs["fastthreadpool.workers.busy"]);
            Assert.Equal(2, longs["fastthreadpool.workers.alive"]);
            Assert.Equal(1, longs["fastthreadpool.timers.pending"]);
            Assert.Equal(2, longs["fastthreadpool.queue.length"]); // the queued job and the timer
        }

        gate.Set();
        Assert.True(pool.Shutdown(Patience));
        lock (waits)
        {
            // Every job that started while the histogram was listened to recorded its wait (the cancelled ones and
            // the timer never started).
            Assert.Equal(pool.DoneCount + pool.FailedCount, waits.Count);
            Assert.All(waits, w => Assert.InRange(w, 0, Patience.TotalSeconds));
        }
    }
}

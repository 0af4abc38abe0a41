using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace FastThreadPool;

public sealed partial class Pool
{
    private TaskCompletionSource? _completionSignal;

    /// <summary>Whether continuations of <c>SubmitAsync</c> tasks run inline on the worker (see
    /// <see cref="PoolOptions.SynchronousContinuations"/>).</summary>
    internal bool SynchronousContinuations => _options.SynchronousContinuations;
    private int _asyncCompletionWaiters;
    private PoolTaskScheduler? _taskScheduler;

    /// <summary>A <see cref="System.Threading.Tasks.TaskScheduler"/> that runs tasks on this pool's workers:
    /// <c>Task.Factory.StartNew(..., pool.TaskScheduler)</c>, <see cref="Parallel"/> with
    /// <see cref="ParallelOptions.TaskScheduler"/>, and async code started on it (its continuations come back to the
    /// pool). Each task is one job of the pool (counted, never in <see cref="Done"/> or <see cref="Failed"/>: the task
    /// holds its outcome). Queuing a task after shutdown throws <see cref="PoolStoppedException"/> (wrapped by the TPL
    /// in a <see cref="TaskSchedulerException"/>).</summary>
    public TaskScheduler TaskScheduler
    {
        get
        {
            // Made once: the CAS publishes it (a full fence), losers take the winner's.
            PoolTaskScheduler? scheduler = Volatile.Read(ref _taskScheduler);
            if (scheduler is null)
            {
                var fresh = new PoolTaskScheduler(this);
                scheduler = Interlocked.CompareExchange(ref _taskScheduler, fresh, null) ?? fresh;
            }

            return scheduler;
        }
    }

    /// <summary>Queues a job and returns a task of its outcome. The task completes (after the job has been counted)
    /// when the job returns, with the exception it threw, or as cancelled when it was cancelled before it started: by
    /// <paramref name="cancellationToken"/>, <see cref="CancelAll()"/> or a shutdown that cancels pending jobs. The job
    /// does not go to <see cref="Done"/> or <see cref="Failed"/>. Code after an <c>await</c> of the task runs on the
    /// awaiter's synchronization context or the .NET thread pool, not inline on the pool's worker (it is not a job of
    /// this pool; to run async code on the workers, start it on <see cref="TaskScheduler"/>), unless
    /// <see cref="PoolOptions.SynchronousContinuations"/> is set.</summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Cancels the job while it is queued.</param>
    /// <returns>A task that completes when the job has ended. A <see cref="ValueTask"/>: await it once (or call
    /// <see cref="ValueTask.AsTask"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public ValueTask SubmitAsync(Action job, CancellationToken cancellationToken = default) =>
        StartAsync(Checked(job), cancellationToken);

    /// <summary>Queues a job that is handed the token (so that it can stop early once running) and returns a task
    /// of its outcome (see <see cref="SubmitAsync(Action, CancellationToken)"/>).</summary>
    /// <param name="job">The job; it receives <paramref name="cancellationToken"/>.</param>
    /// <param name="cancellationToken">Cancels the job while it is queued; the running job sees it.</param>
    /// <returns>A task that completes when the job has ended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public ValueTask SubmitAsync(Action<CancellationToken> job, CancellationToken cancellationToken) =>
        StartAsync(Checked(job), cancellationToken);

    /// <summary>Queues a job that produces a result and returns a task of it (see
    /// <see cref="SubmitAsync(Action, CancellationToken)"/>).</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Cancels the job while it is queued.</param>
    /// <returns>A task of the job's result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public ValueTask<TResult> SubmitAsync<TResult>(Func<TResult> job, CancellationToken cancellationToken = default) =>
        StartAsync<TResult>(Checked(job), cancellationToken);

    /// <summary>Queues a job that is handed the token and produces a result, and returns a task of it (see
    /// <see cref="SubmitAsync(Action, CancellationToken)"/>).</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="job">The job; it receives <paramref name="cancellationToken"/>.</param>
    /// <param name="cancellationToken">Cancels the job while it is queued; the running job sees it.</param>
    /// <returns>A task of the job's result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public ValueTask<TResult> SubmitAsync<TResult>(Func<CancellationToken, TResult> job, CancellationToken cancellationToken) =>
        StartAsync<TResult>(Checked(job), cancellationToken);

    // An already cancelled token gives a cancelled task and accepts nothing; otherwise the job is accepted with its
    // token registered before it is queued.
    private ValueTask StartAsync(Delegate job, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        var j = new AsyncJob<VoidResult>(this, job, cancellationToken);
        TryAccept(j, first: false, wait: true, armed: j);
        return new ValueTask(j, j.Version);
    }

    private ValueTask<TResult> StartAsync<TResult>(Delegate job, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TResult>(cancellationToken);
        }

        var j = new AsyncJob<TResult>(this, job, cancellationToken);
        TryAccept(j, first: false, wait: true, armed: j);
        return new ValueTask<TResult>(j, j.Version);
    }

    /// <summary>
    /// The asynchronous <see cref="AsCompleted(TimeSpan?, int?)"/>: yields the jobs that end, done or failed, as they
    /// end, without blocking a thread while it waits.
    /// </summary>
    /// <param name="timeout">How long to wait for the next job; null for no limit.</param>
    /// <param name="count">The most jobs to yield; null for no limit.</param>
    /// <param name="cancellationToken">Stops the enumeration (it then throws
    /// <see cref="OperationCanceledException"/>).</param>
    /// <returns>The ended jobs, as they are taken out of <see cref="Done"/> and <see cref="Failed"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than infinite) or
    /// <paramref name="count"/> is negative.</exception>
    public IAsyncEnumerable<PoolJob> AsCompletedAsync(TimeSpan? timeout = null, int? count = null, CancellationToken cancellationToken = default)
    {
        long waitMs = ToMilliseconds(timeout ?? Timeout.InfiniteTimeSpan);
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must not be negative.");
        }

        return CompletedAsync(waitMs, count ?? int.MaxValue, cancellationToken);
    }

    private async IAsyncEnumerable<PoolJob> CompletedAsync(long waitMs, int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        int yielded = 0;
        while (yielded < count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TakeCompleted(out PoolJob? job))
            {
                yielded++;
                yield return job;
                continue;
            }

            // Arm a signal and announce the wait, then look again (pairs with FinishOne, as in AsCompleted).
            TaskCompletionSource signal = CompletionSignal();
            bool end = false;
            AnnounceWaiter(ref _asyncCompletionWaiters);
            try
            {
                bool got = TakeCompleted(out job);
                if (!got && Outstanding() == 0)
                {
                    got = TakeCompleted(out job);
                    end = !got;
                }
                else if (!got)
                {
                    try
                    {
                        await signal.Task.WaitAsync(waitMs == Timeout.Infinite ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(waitMs), cancellationToken).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        end = true;
                    }

                    if (!end)
                    {
                        continue; // look again
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref _asyncCompletionWaiters);
            }

            if (end)
            {
                yield break;
            }

            yielded++;
            yield return job!;
        }
    }

    private TaskCompletionSource CompletionSignal()
    {
        // One signal per round of waiting: the CAS installs it; FinishOne's exchange takes it out as it completes it.
        TaskCompletionSource? signal = Volatile.Read(ref _completionSignal);
        if (signal is null)
        {
            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            signal = Interlocked.CompareExchange(ref _completionSignal, fresh, null) ?? fresh;
        }

        return signal;
    }

    private void SignalAsyncCompletion()
    {
        // After the ended job was counted; pairs with the waiter's AnnounceWaiter before its second look.
        if (Volatile.Read(ref _asyncCompletionWaiters) > 0)
        {
            Interlocked.Exchange(ref _completionSignal, null)?.TrySetResult();
        }
    }

    /// <summary>Queues a task as a job (for <see cref="PoolTaskScheduler"/>).</summary>
    internal void QueueTask(PoolTaskScheduler scheduler, Task task) => Accept(new TaskJob(scheduler, task), first: false);

    /// <summary>Whether the calling thread is one of this pool's workers.</summary>
    internal bool OnWorker => t_worker?.Pool == this;

    private sealed class TaskJob(PoolTaskScheduler scheduler, Task task) : PoolJob(null)
    {
        public override object? Argument => task;

        public override object? Result => null;

        internal override bool Reported => false;

        private protected override void Invoke() => scheduler.Run(task);
    }
}

/// <summary>The <see cref="TaskScheduler"/> of <see cref="Pool.TaskScheduler"/>.</summary>
internal sealed class PoolTaskScheduler(Pool pool) : TaskScheduler
{
    public override int MaximumConcurrencyLevel => pool.MaxWorkers;

    public void Run(Task task) => TryExecuteTask(task);

    protected override void QueueTask(Task task) => pool.QueueTask(this, task);

    // Inline only on the pool's own workers (a task queued earlier then finds itself already run, and its job does
    // nothing).
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => pool.OnWorker && TryExecuteTask(task);

    // Queued tasks sit in lock-free queues that cannot be listed without taking them out.
    protected override IEnumerable<Task>? GetScheduledTasks() => null;
}

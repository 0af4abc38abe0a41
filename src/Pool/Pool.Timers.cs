using System;
using System.Collections.Generic;
using System.Threading;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool;

public sealed partial class Pool
{
    /// <summary>Timers pending: delayed jobs not yet due, and periodic schedules not cancelled.</summary>
    public int TimerCount => Timers.Count;

    internal TimerQueue Timers { get; }

    // Due timer jobs, in deadline order: a FIFO that workers look at before anything else, so that jobs due earlier
    // run earlier even when the timer thread hands over several batches. _dueCount lets workers skip it with one read.
    private readonly UnboundedMpmcQueue<PoolJob> _due = new();
    private int _dueCount;

    /// <summary>Queues a job to run once <paramref name="delay"/> has passed (on the clock of
    /// <see cref="PoolOptions.TimeProvider"/>). When it is due it goes to the head of the queue: workers take due
    /// timer jobs before any other, in deadline order (ties in submission order).</summary>
    /// <param name="delay">How long from now; zero runs it at once.</param>
    /// <param name="job">The job.</param>
    /// <param name="done">Optional: runs with the finished job instead of it going to <see cref="Done"/>.</param>
    /// <returns>The job's id: <see cref="Cancel(long)"/> takes it back until the job starts.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative (this includes
    /// <see cref="Timeout.InfiniteTimeSpan"/>) or so large that the deadline overflows the clock.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    /// <remarks>Shutdown stops every timer: a delayed job that is not due by then ends cancelled.</remarks>
    public long SubmitLater(TimeSpan delay, Action job, Action<PoolJob>? done = null) =>
        AddTimer(new ActionJob(Checked(job), done), Timers.DeadlineAfter(delay, nameof(delay)));

    /// <summary>Queues a job that produces a result to run once <paramref name="delay"/> has passed (see
    /// <see cref="SubmitLater(TimeSpan, Action, Action{PoolJob}?)"/>).</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="delay">How long from now; zero runs it at once.</param>
    /// <param name="job">The job.</param>
    /// <param name="done">Optional: runs with the finished job instead of it going to <see cref="Done"/>.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative or overflows the clock.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long SubmitLater<TResult>(TimeSpan delay, Func<TResult> job, Action<PoolJob>? done = null) =>
        AddTimer(new FuncJob<TResult>(Checked(job), done), Timers.DeadlineAfter(delay, nameof(delay)));

    /// <summary>Queues a job to run at a wall-clock time. The time is turned into a delay from
    /// <see cref="TimeProvider.GetUtcNow"/> once, here, and the job waits on the monotonic clock, so a later change of
    /// the system time does not move it.</summary>
    /// <param name="when">When to run it: now or later.</param>
    /// <param name="job">The job.</param>
    /// <param name="done">Optional: runs with the finished job instead of it going to <see cref="Done"/>.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="when"/> is in the past.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long SubmitAt(DateTimeOffset when, Action job, Action<PoolJob>? done = null) =>
        AddTimer(new ActionJob(Checked(job), done), Timers.DeadlineAt(when, nameof(when)));

    /// <summary>Queues a job that produces a result to run at a wall-clock time (see
    /// <see cref="SubmitAt(DateTimeOffset, Action, Action{PoolJob}?)"/>).</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="when">When to run it: now or later.</param>
    /// <param name="job">The job.</param>
    /// <param name="done">Optional: runs with the finished job instead of it going to <see cref="Done"/>.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="when"/> is in the past.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long SubmitAt<TResult>(DateTimeOffset when, Func<TResult> job, Action<PoolJob>? done = null) =>
        AddTimer(new FuncJob<TResult>(Checked(job), done), Timers.DeadlineAt(when, nameof(when)));

    /// <summary>
    /// Runs a job periodically, first one interval from now. Each run is a job of its own (with its own id; it goes to
    /// <see cref="Done"/> or <paramref name="done"/>, or to <see cref="Failed"/>) and enters the head of the queue when
    /// due. Runs of one schedule never overlap.
    /// </summary>
    /// <param name="interval">The period, greater than zero.</param>
    /// <param name="job">The job.</param>
    /// <param name="done">Optional: runs with each finished run instead of it going to <see cref="Done"/>.</param>
    /// <param name="mode">Fixed rate (the default: no drift) or fixed delay between runs.</param>
    /// <returns>The schedule's id: <see cref="Cancel(long)"/> stops it (and cancels a run that is queued; a run in
    /// progress finishes). The schedule counts as one accepted job that ends cancelled when it is stopped, by
    /// <c>Cancel</c>, <see cref="CancelAll(bool)"/> with timers, or shutdown; until then <see cref="WaitIdle()"/>
    /// does not see the pool idle.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is zero, negative or overflows the
    /// clock, or <paramref name="mode"/> is not defined.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Schedule(TimeSpan interval, Action job, Action<PoolJob>? done = null, ScheduleMode mode = ScheduleMode.FixedRate) =>
        AddTimer(new ActionSchedule(Checked(job), CheckedInterval(interval, mode), mode, done), Timers.DeadlineAfter(interval, nameof(interval)));

    /// <summary>Runs a job that produces a result periodically (see
    /// <see cref="Schedule(TimeSpan, Action, Action{PoolJob}?, ScheduleMode)"/>).</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="interval">The period, greater than zero.</param>
    /// <param name="job">The job.</param>
    /// <param name="done">Optional: runs with each finished run instead of it going to <see cref="Done"/>.</param>
    /// <param name="mode">Fixed rate (the default) or fixed delay.</param>
    /// <returns>The schedule's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is zero, negative or overflows the
    /// clock, or <paramref name="mode"/> is not defined.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Schedule<TResult>(TimeSpan interval, Func<TResult> job, Action<PoolJob>? done = null, ScheduleMode mode = ScheduleMode.FixedRate) =>
        AddTimer(new FuncSchedule<TResult>(Checked(job), CheckedInterval(interval, mode), mode, done), Timers.DeadlineAfter(interval, nameof(interval)));

    /// <summary>Cancels every job still queued and, with <paramref name="timers"/>, every pending timer: delayed jobs
    /// not yet due and periodic schedules (the original's <c>cancel(None, True)</c>).</summary>
    /// <param name="timers">Also stop the timers.</param>
    /// <returns>How many jobs (and schedules) this call cancelled.</returns>
    public int CancelAll(bool timers)
    {
        int n = 0;
        if (timers)
        {
            n += CancelMany(Timers.Snapshot());
        }

        return n + CancelAll();
    }

    private static long CheckedInterval(TimeSpan interval, ScheduleMode mode)
    {
        if (interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "The interval must be greater than zero.");
        }

        if (mode is not ScheduleMode.FixedRate and not ScheduleMode.FixedDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown schedule mode.");
        }

        return interval.Ticks;
    }

    private long AddTimer(PoolJob job, long due)
    {
        bool registered = Register(job);
        if (Volatile.Read(ref _stopping) != 0 || !Timers.Add(job, due))
        {
            Refuse(job, registered);
            throw new PoolStoppedException();
        }

        return job.Id;
    }

    /// <summary>Cancels a job found by the pool itself (a schedule's queued run).</summary>
    internal void CancelJobInternal(PoolJob job) => CancelJob(job);

    /// <summary>
    /// The timer thread hands over what is due, in deadline order: delayed jobs, and ticks of periodic schedules
    /// (each makes a run job, unless the schedule's previous run is still queued or running). All go onto the
    /// FIFO of due jobs in that order.
    /// </summary>
    internal void FireTimers(List<PoolJob> due)
    {
        var batch = new List<PoolJob>(due.Count);
        foreach (PoolJob timer in due)
        {
            if (timer is ScheduleJob schedule)
            {
                if (schedule.State != PoolJob.QueuedState || schedule.CurrentRun is { State: <= PoolJob.RunningState or PoolJob.PendingState })
                {
                    continue; // cancelled, or the previous run has not ended: skip this tick
                }

                PoolJob run = schedule.CreateRun();
                bool registered = Register(run);
                if (Volatile.Read(ref _stopping) != 0 && !_options.Faults.Has(Fault.FireWithoutStopCheck))
                {
                    Refuse(run, registered);
                    continue;
                }

                schedule.CurrentRun = run;
                batch.Add(run);
            }
            else if (timer.State == PoolJob.QueuedState)
            {
                batch.Add(timer);
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        if (_metrics.WaitTimeEnabled)
        {
            uint now = PoolMetrics.Stamp();
            foreach (PoolJob job in batch)
            {
                job.QueuedAt = now;
            }
        }

        // Counted before they are queued, so that a worker that sees the count zero has nothing to miss.
        Interlocked.Add(ref _dueCount, batch.Count);
        foreach (PoolJob job in batch)
        {
            _due.Enqueue(job); // an atomic read-modify-write: a full fence before the reads below
        }

        // A schedule cancelled meanwhile may not have seen its new run (it reads CurrentRun after its own CAS): cancel
        // the run here too; whichever CAS comes first counts it. After shutdown, take back what the workers may miss
        // (as TryAccept does).
        bool stopping = Volatile.Read(ref _stopping) != 0 && !_options.Faults.Has(Fault.FireWithoutStopCheck);
        if (stopping)
        {
            CancelMany(batch);
        }
        else
        {
            foreach (PoolJob job in batch)
            {
                if (job is ScheduledRunBase { Owner.State: not PoolJob.QueuedState })
                {
                    CancelJob(job);
                }
            }
        }

        if (!stopping)
        {
            WakeOrStart(fence: false);
        }
    }

    /// <summary>A due timer job, if any (workers look here first).</summary>
    private PoolJob? TakeDue()
    {
        if (Volatile.Read(ref _dueCount) != 0 && _due.TryDequeue(out PoolJob? job))
        {
            Interlocked.Decrement(ref _dueCount); // after the take: the count never says empty while a job waits
            return job;
        }

        return null;
    }
}

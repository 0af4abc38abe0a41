using System;
using System.Threading;

namespace FastThreadPool;

/// <summary>How a periodic job (<see cref="Pool.Schedule(TimeSpan, Action, Action{PoolJob}?, ScheduleMode)"/>) keeps
/// its cadence.</summary>
public enum ScheduleMode
{
    /// <summary>Runs are due at <c>start + k * interval</c>, whatever each run takes, so the cadence does not drift.
    /// A tick that comes while the previous run is still queued or running is skipped (runs never overlap), and ticks
    /// missed while the timer was late are skipped, not replayed.</summary>
    FixedRate,

    /// <summary>Each run is due one interval after the previous run ended.</summary>
    FixedDelay,
}

/// <summary>
/// A periodic schedule, accepted as a job of its own: it holds its id (which <see cref="Pool.Cancel(long)"/> takes),
/// never runs itself, stays queued until it is cancelled (by <c>Cancel</c>, <c>CancelAll(timers: true)</c> or
/// shutdown) and then ends cancelled. Each tick makes a run job with an id of its own, which ends done or failed as
/// any job does.
/// </summary>
internal abstract class ScheduleJob(long interval, ScheduleMode mode, Action<PoolJob>? runDone) : PoolJob(null)
{
    private PoolJob? _currentRun;

    public long Interval { get; } = interval;

    public ScheduleMode Mode { get; } = mode;

    public Action<PoolJob>? RunDone { get; } = runDone;

    // Written by the timer thread before it queues the run (then a full fence) and read by a canceller after its CAS
    // on the schedule's state: the Dekker pair that FireTimers describes.
    public PoolJob? CurrentRun
    {
        get => Volatile.Read(ref _currentRun);
        set => Volatile.Write(ref _currentRun, value);
    }

    public override object? Argument => null;

    public override object? Result => null;

    internal override bool Reported => false;

    /// <summary>A new run job for the next tick.</summary>
    public abstract PoolJob CreateRun();

    /// <summary>Cancelled: the schedule leaves the timers (also while a fixed-delay run has it out of the heap), and
    /// a run that is still queued is cancelled too (one that is running finishes).</summary>
    internal override void Ended(Pool pool)
    {
        pool.Timers.Forget(this);
        if (CurrentRun is { } run)
        {
            pool.CancelJobInternal(run);
        }
    }

    private protected override void Invoke() => throw new InvalidOperationException("A schedule never runs itself.");
}

internal sealed class ActionSchedule(Action action, long interval, ScheduleMode mode, Action<PoolJob>? runDone)
    : ScheduleJob(interval, mode, runDone)
{
    public override PoolJob CreateRun() => new ScheduledRun<VoidResult>(this, action, null, RunDone);
}

internal sealed class FuncSchedule<TResult>(Func<TResult> func, long interval, ScheduleMode mode, Action<PoolJob>? runDone)
    : ScheduleJob(interval, mode, runDone)
{
    public override PoolJob CreateRun() => new ScheduledRun<TResult>(this, null, func, RunDone);
}

/// <summary>The result type of jobs without a result.</summary>
internal readonly struct VoidResult;

/// <summary>One run of a periodic schedule.</summary>
internal abstract class ScheduledRunBase(ScheduleJob owner, Action<PoolJob>? done) : PoolJob(done)
{
    public ScheduleJob Owner { get; } = owner;

    /// <summary>A fixed-delay schedule is due again one interval after this run ended (or was cancelled).</summary>
    internal override void Ended(Pool pool)
    {
        if (Owner.Mode == ScheduleMode.FixedDelay && Owner.State == QueuedState)
        {
            pool.Timers.Rearm(Owner, pool.Timers.Now + Owner.Interval);
        }
    }
}

/// <summary>One run of a periodic schedule, with its result.</summary>
internal sealed class ScheduledRun<TResult>(ScheduleJob owner, Action? action, Func<TResult>? func, Action<PoolJob>? done)
    : ScheduledRunBase(owner, done), IResultHolder<TResult>
{
    private TResult _value = default!;

    public TResult Value => _value;

    public override object? Argument => null;

    public override object? Result => func is not null && Status == PoolJobStatus.Done ? _value : null;

    private protected override void Invoke()
    {
        if (func is not null)
        {
            _value = func();
        }
        else
        {
            action!();
        }
    }
}

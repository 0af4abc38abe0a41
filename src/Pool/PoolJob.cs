using System;
using System.Threading;

namespace FastThreadPool;

/// <summary>Where a job is in its life.</summary>
public enum PoolJobStatus
{
    /// <summary>Accepted and waiting in a queue.</summary>
    Queued,

    /// <summary>A worker is running it.</summary>
    Running,

    /// <summary>It returned (its result, if any, is in <see cref="PoolJob.Result"/>).</summary>
    Done,

    /// <summary>It threw (the exception is in <see cref="PoolJob.Exception"/>).</summary>
    Failed,

    /// <summary>It was cancelled before it started; it never ran.</summary>
    Cancelled,
}

/// <summary>
/// One accepted job: its id, its status, and once it has ended its result or exception. The pool's
/// <see cref="Pool.Done"/> and <see cref="Pool.Failed"/> queues hold these; a queue passed to the pool through
/// <see cref="PoolOptions.Queue"/> stores them.
/// </summary>
public abstract class PoolJob
{
    internal const int QueuedState = 0;
    internal const int RunningState = 1;
    internal const int DoneState = 2;
    internal const int FailedState = 3;
    internal const int CancelledState = 4;

    private int _state;

    // Link for the pool's stack of SubmitFirst jobs.
    internal PoolJob? NextFirst;

    internal PoolJob(Action<PoolJob>? doneCallback) => DoneCallback = doneCallback;

    /// <summary>The job's id: unique for the lifetime of the pool that accepted it. Ids taken by one thread increase
    /// in its submission order (a worker submitting from inside jobs draws them from a block it reserved).</summary>
    public long Id { get; internal set; }

    /// <summary>The job's status now.</summary>
    public PoolJobStatus Status => (PoolJobStatus)Volatile.Read(ref _state);

    /// <summary>The exception the job threw, once <see cref="Status"/> is <see cref="PoolJobStatus.Failed"/>.</summary>
    public Exception? Exception { get; private set; }

    /// <summary>The argument the job was submitted with (boxed if it is a value type), or null for a job without
    /// one.</summary>
    public abstract object? Argument { get; }

    /// <summary>The result (boxed if it is a value type), once <see cref="Status"/> is
    /// <see cref="PoolJobStatus.Done"/>; null for a job without a result. <see cref="GetResult{T}"/> reads it
    /// without boxing.</summary>
    public abstract object? Result { get; }

    /// <summary>The result, typed, without boxing.</summary>
    /// <typeparam name="T">The result type the job was submitted with.</typeparam>
    /// <returns>The result.</returns>
    /// <exception cref="InvalidOperationException">The job has not ended as <see cref="PoolJobStatus.Done"/>, or its
    /// result is not a <typeparamref name="T"/>.</exception>
    public T GetResult<T>()
    {
        if (Status != PoolJobStatus.Done)
        {
            throw new InvalidOperationException($"Job {Id} is {Status}, not Done.");
        }

        return this is IResultHolder<T> holder
            ? holder.Value
            : throw new InvalidOperationException($"Job {Id} has no result of type {typeof(T)}.");
    }

    internal Action<PoolJob>? DoneCallback { get; }

    internal int State => Volatile.Read(ref _state);

    /// <summary>Queued -> Running; false if the job was cancelled first.</summary>
    internal bool TryStart() => Interlocked.CompareExchange(ref _state, RunningState, QueuedState) == QueuedState;

    /// <summary>Queued -> Cancelled; false if a worker started it first (or it ended).</summary>
    internal bool TryCancel() => Interlocked.CompareExchange(ref _state, CancelledState, QueuedState) == QueuedState;

    /// <summary>Broken on purpose (systematic tests): check, then mark, with no CAS between them.</summary>
    internal bool MarkCancelledWithoutCas()
    {
        if (Volatile.Read(ref _state) != QueuedState)
        {
            return false;
        }

        Volatile.Write(ref _state, CancelledState);
        return true;
    }

    /// <summary>Runs the job on the current (worker) thread and records how it ended.</summary>
    internal bool Execute()
    {
        try
        {
            Invoke();
            Volatile.Write(ref _state, DoneState);
            return true;
        }
        catch (Exception e)
        {
            Exception = e;
            Volatile.Write(ref _state, FailedState);
            return false;
        }
    }

    /// <summary>Records a failure that happened outside the job (its done callback threw).</summary>
    internal void FailAfterDone(Exception e)
    {
        Exception = e;
        Volatile.Write(ref _state, FailedState);
    }

    /// <summary>Whether the job goes to <see cref="Pool.Done"/> or <see cref="Pool.Failed"/> (or the pool's done and
    /// failed callbacks) when it ends: the pool's own helper jobs and jobs whose outcome goes to a task do not.</summary>
    internal virtual bool Reported => true;

    /// <summary>Called once the job has ended and has been counted (after it ran, or after it was cancelled).</summary>
    internal virtual void Ended(Pool pool)
    {
    }

    /// <summary>Called when a submission is refused after the job was prepared (the pool was stopping).</summary>
    internal virtual void Refused()
    {
    }

    /// <summary>When the job was queued, in units of <see cref="PoolMetrics"/>'s clock (only while the wait-time
    /// histogram is listened to); <see cref="TimerQueue.InHeap"/> while the job holds a live slot in the timer heap.
    /// 32 bits, in space the object's layout leaves free.</summary>
    internal uint QueuedAt;

    private protected abstract void Invoke();
}

internal interface IResultHolder<T>
{
    T Value { get; }
}

internal sealed class ActionJob(Action action, Action<PoolJob>? done) : PoolJob(done)
{
    public override object? Argument => null;

    public override object? Result => null;

    private protected override void Invoke() => action();
}

internal sealed class ActionJob<TArg>(Action<TArg> action, TArg arg, Action<PoolJob>? done) : PoolJob(done)
{
    public override object? Argument => arg;

    public override object? Result => null;

    private protected override void Invoke() => action(arg);
}

internal sealed class FuncJob<TResult>(Func<TResult> func, Action<PoolJob>? done) : PoolJob(done), IResultHolder<TResult>
{
    private TResult _value = default!;

    public TResult Value => _value;

    public override object? Argument => null;

    public override object? Result => Status == PoolJobStatus.Done ? _value : null;

    private protected override void Invoke() => _value = func();
}

internal sealed class FuncJob<TArg, TResult>(Func<TArg, TResult> func, TArg arg, Action<PoolJob>? done) : PoolJob(done), IResultHolder<TResult>
{
    private TResult _value = default!;

    public TResult Value => _value;

    public override object? Argument => arg;

    public override object? Result => Status == PoolJobStatus.Done ? _value : null;

    private protected override void Invoke() => _value = func(arg);
}

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

    private const int StateBits = 3;
    private const long StateMask = (1 << StateBits) - 1;

    // The id and the state in one word: (id << 3) | state. A pool reuses the objects of jobs that nobody else can see
    // (see Pool.Recycle), while its id table may still point at them under their old ids: Cancel compares the whole
    // word, so a stale id never cancels the job the object holds now.
    private long _word;

    // The job's rarer parts in one field, so that a plain job (Submit(Action): this, the id word, the wait stamp, the
    // flag and the delegate) is a 48-byte object rather than 64: fewer bytes to allocate and to move between cores
    // per job. It holds null, the done callback alone (an Action<PoolJob>), or an Extras once the job needs more
    // (a link on the SubmitFirst stack, or the exception it threw). Written only while one thread owns the job: its
    // submitter before it is queued, the worker that runs it before it ends (End's release publishes the write), and
    // the worker that popped it from the SubmitFirst stack.
    private object? _extra;

    private sealed class Extras(Action<PoolJob>? doneCallback)
    {
        public readonly Action<PoolJob>? DoneCallback = doneCallback;
        public Exception? Exception;
        public PoolJob? NextFirst;
    }

    internal PoolJob(Action<PoolJob>? doneCallback) => _extra = doneCallback;

    // The job's Extras, made if it has none yet (by the thread that owns the job, see _extra).
    private Extras Extended() => _extra as Extras ?? (Extras)(_extra = new Extras(_extra as Action<PoolJob>));

    /// <summary>Link for the pool's stack of SubmitFirst jobs. SubmitFirst jobs are always new objects, never reused
    /// ones, so the stack sees each object at most once (no ABA). Set by the submitter before the push, read by
    /// poppers, cleared by the one that popped it.</summary>
    internal PoolJob? NextFirst
    {
        get => (_extra as Extras)?.NextFirst;
        set
        {
            if (value is not null || _extra is Extras)
            {
                Extended().NextFirst = value;
            }
        }
    }

    /// <summary>The job's id: unique for the lifetime of the pool that accepted it. Ids taken by one thread increase
    /// in its submission order (a worker submitting from inside jobs draws them from a block it reserved).</summary>
    public long Id => Volatile.Read(ref _word) >> StateBits;

    /// <summary>The job's status now.</summary>
    public PoolJobStatus Status => (PoolJobStatus)(Volatile.Read(ref _word) & StateMask);

    /// <summary>The exception the job threw, once <see cref="Status"/> is <see cref="PoolJobStatus.Failed"/>.</summary>
    public Exception? Exception
    {
        get => (_extra as Extras)?.Exception;
        private set => Extended().Exception = value;
    }

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

    internal Action<PoolJob>? DoneCallback => _extra is Extras extras ? extras.DoneCallback : (Action<PoolJob>?)_extra;

    internal int State => (int)(Volatile.Read(ref _word) & StateMask);

    /// <summary>Whether the pool may reuse this object once the job has ended (see Pool.Recycle).</summary>
    internal bool Recyclable;

    /// <summary>Gives a new (or reused) job its id, queued. A plain store: the job is published to other threads
    /// by the release of the structure it is queued in, or of the id table's slot.</summary>
    internal void Assign(long id) => _word = id << StateBits;

    /// <summary>Queued -> Running for the job this object holds now; false if it was cancelled first. Only the
    /// worker that took the object from a queue calls it, and the object cannot be reused before that worker ends
    /// it, so the id it reads here is the one it was queued with.</summary>
    internal bool TryStart()
    {
        long word = Volatile.Read(ref _word);
        return (word & StateMask) == QueuedState
            && Interlocked.CompareExchange(ref _word, word | RunningState, word) == word;
    }

    /// <summary>Queued -> Cancelled for the job with this id; false if a worker started it first, it ended, or the
    /// object now holds another job.</summary>
    internal bool TryCancel(long id)
    {
        long queued = id << StateBits;
        return Interlocked.CompareExchange(ref _word, queued | CancelledState, queued) == queued;
    }

    /// <summary>Queued -> Cancelled for whichever job the object holds now (for a caller that holds the object
    /// itself, taken from a queue, rather than an id).</summary>
    internal bool TryCancel() => TryCancel(Volatile.Read(ref _word) >> StateBits);

    /// <summary>Broken on purpose (systematic tests): check, then mark, with no CAS between them.</summary>
    internal bool MarkCancelledWithoutCas(long id)
    {
        long queued = id << StateBits;
        if (Volatile.Read(ref _word) != queued)
        {
            return false;
        }

        Volatile.Write(ref _word, queued | CancelledState);
        return true;
    }

    /// <summary>Broken on purpose (systematic tests): a cancel that compares the state and not the id, so that a
    /// stale id cancels the job a reused object holds now.</summary>
    internal bool TryCancelIgnoringId()
    {
        long word = Volatile.Read(ref _word);
        return (word & StateMask) == QueuedState
            && Interlocked.CompareExchange(ref _word, word | CancelledState, word) == word;
    }

    /// <summary>Runs the job on the current (worker) thread and records how it ended.</summary>
    internal bool Execute()
    {
        try
        {
            Invoke();
            End(DoneState);
            return true;
        }
        catch (Exception e)
        {
            Exception = e;
            End(FailedState);
            return false;
        }
    }

    /// <summary>Records a failure that happened outside the job (its done callback threw).</summary>
    internal void FailAfterDone(Exception e)
    {
        Exception = e;
        End(FailedState);
    }

    // Running -> Done or Failed: only the running worker writes the word now, so a plain read of it is its own.
    private void End(int state) => Volatile.Write(ref _word, (_word & ~StateMask) | (uint)state);

    /// <summary>Whether the job goes to <see cref="Pool.Done"/> or <see cref="Pool.Failed"/> (or the pool's done and
    /// failed callbacks) when it ends: the pool's own helper jobs and jobs whose outcome goes to a task do not.</summary>
    internal virtual bool Reported => true;

    /// <summary>Called once the job has ended and has been counted (after it ran, or after it was cancelled).</summary>
    internal virtual void Ended(Pool pool)
    {
    }

    /// <summary>Keeps the ended job among its worker's spares (see Pool.Recycle); only reusable job types override it.</summary>
    internal virtual void Recycle()
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

internal sealed class ActionJob(Action? action, Action<PoolJob>? done) : PoolJob(done)
{
    private Action? _action = action;

    public override object? Argument => null;

    public override object? Result => null;

    /// <summary>Prepares a reused job (see Pool.Recycle); its id is assigned next.</summary>
    internal void Reuse(Action action) => _action = action;

    /// <summary>Lets go of the delegate of an ended job kept for reuse, so that it holds nothing of the user's.</summary>
    internal void Clear() => _action = null;

    private protected override void Invoke() => _action!();
}

internal sealed class ActionJob<TArg>(Action<TArg> action, TArg arg, Action<PoolJob>? done) : PoolJob(done)
{
    private Action<TArg>? _action = action;
    private TArg _arg = arg;

    public override object? Argument => _arg;

    public override object? Result => null;

    /// <summary>Prepares a reused job (see Pool.Recycle); its id is assigned next.</summary>
    internal void Reuse(Action<TArg> action, TArg arg)
    {
        _action = action;
        _arg = arg;
    }

    /// <summary>Clears the ended job (so that it holds nothing of the user's) and keeps it for its worker.</summary>
    internal override void Recycle()
    {
        _action = null;
        _arg = default!;
        QueuedAt = 0;
        WorkerSpares<ActionJob<TArg>>.Put(this);
    }

    private protected override void Invoke() => _action!(_arg);
}

/// <summary>
/// A worker thread's ended jobs of one type, kept for the jobs it submits next (see Pool.Recycle). Thread-static: a
/// worker thread serves one pool for its whole life, and only that pool's code on it touches these.
/// </summary>
internal static class WorkerSpares<TJob>
    where TJob : PoolJob
{
    [ThreadStatic]
    private static TJob[]? t_jobs;

    [ThreadStatic]
    private static int t_count;

    /// <summary>The job kept last (its cache line is the most likely still here), or null.</summary>
    public static TJob? Take()
    {
        int n = t_count;
        if (n == 0)
        {
            return null;
        }

        t_count = n - 1;
        return t_jobs![n - 1];
    }

    /// <summary>Keeps a job; false if there is no room.</summary>
    public static bool Put(TJob job)
    {
        TJob[] jobs = t_jobs ??= new TJob[Pool.SpareChain];
        int n = t_count;
        if (n == jobs.Length)
        {
            return false;
        }

        jobs[n] = job;
        t_count = n + 1;
        return true;
    }

    /// <summary>Hands back the (full) array of kept jobs and starts over with <paramref name="empty"/>.</summary>
    public static TJob[] Swap(TJob[] empty)
    {
        TJob[] full = t_jobs!;
        t_jobs = empty;
        t_count = 0;
        return full;
    }
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

using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
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

    /// <summary>It ended done or failed and was handed back with <see cref="Pool.Return(PoolJob)"/>: the object is the
    /// pool's again and may already hold another job.</summary>
    Returned,
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

    /// <summary>A canceller has claimed the queued job and not yet decided whether it is cancelled (see
    /// <see cref="TryRequestCancel(long)"/>); shown as <see cref="PoolJobStatus.Queued"/>.</summary>
    internal const int PendingState = 5;

    /// <summary>Handed back with <see cref="Pool.Return(PoolJob)"/> (see <see cref="TryMarkReturned"/>).</summary>
    internal const int ReturnedState = 6;

    private const int StateBits = 3;
    private const long StateMask = (1 << StateBits) - 1;

    // The id and the state in one word: (id << 3) | state. A pool reuses the objects of jobs that nobody else can see
    // (see Pool.Recycle), while its id table may still point at them under their old ids: Cancel compares the whole
    // word, so a stale id never cancels the job the object holds now.
    private long _word;

    // The job's rarer parts in one field, so that a plain job (Submit(Action): this, the id word, the wait stamp, the
    // flag and the delegate) is a 48-byte object rather than 64: fewer bytes to allocate and to move between cores
    // per job. It holds null, the done callback alone (an Action<PoolJob>), the pool that reported the job in its Done
    // queue alone (a Pool), or an Extras once the job needs more (a link on the SubmitFirst stack, the exception it
    // threw, or one of those and the reporting pool). Written only while one thread owns the job: its
    // submitter before it is queued, the worker that runs it before it ends (End's release publishes the write) and
    // before it reports it (the Done or Failed queue's release), the worker that popped it from the SubmitFirst stack,
    // and the caller that returned it (Pool.Return) before the pool hands it on.
    private object? _extra;

    private sealed class Extras(Action<PoolJob>? doneCallback)
    {
        public readonly Action<PoolJob>? DoneCallback = doneCallback;
        public Exception? Exception;
        public PoolJob? NextFirst;
        public Pool? Reporter;
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
    public PoolJobStatus Status
    {
        get
        {
            int state = (int)(Volatile.Read(ref _word) & StateMask);
            return state switch
            {
                PendingState => PoolJobStatus.Queued,
                ReturnedState => PoolJobStatus.Returned,
                _ => (PoolJobStatus)state,
            };
        }
    }

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

    internal Action<PoolJob>? DoneCallback => _extra is Extras extras ? extras.DoneCallback : _extra as Action<PoolJob>;

    /// <summary>The pool that put this job in its <see cref="Pool.Done"/> or <see cref="Pool.Failed"/> queue, or null
    /// (see <see cref="Pool.Return(PoolJob)"/>).</summary>
    internal Pool? Reporter => _extra as Pool ?? (_extra as Extras)?.Reporter;

    /// <summary>Records the pool that is about to put this job in its <see cref="Pool.Done"/> or
    /// <see cref="Pool.Failed"/> queue (by the worker that ended it, before the queue's release). A job with nothing
    /// else in its rarer parts, the common case, keeps the pool in that field itself.</summary>
    internal void MarkReported(Pool pool)
    {
        if (_extra is null)
        {
            _extra = pool;
        }
        else
        {
            Extended().Reporter = pool;
        }
    }

    internal int State => (int)(Volatile.Read(ref _word) & StateMask);

    /// <summary>Whether the pool may reuse this object once the job has ended (see Pool.Recycle).</summary>
    internal bool Recyclable;

    /// <summary>Gives a new (or reused) job its id, queued. A plain store: the job is published to other threads
    /// by the release of the structure it is queued in, or of the id table's slot.</summary>
    internal void Assign(long id)
    {
        _started = false;
        _word = id << StateBits;
    }

    // Set by the worker that is starting the job, before it looks at the state a second time (see TryStart): the
    // flag a canceller reads after its process-wide barrier. Reset by Assign. A byte in space the layout leaves free.
    private bool _started;

    /// <summary>
    /// Queued -> Running for the job this object holds now; false if it was cancelled first. Only the worker that took
    /// the object from a queue calls it, and the object cannot be reused before that worker ends it, so the id it
    /// reads here is the one it was queued with.
    /// </summary>
    /// <remarks>
    /// No atomic read-modify-write on the way to Running: the worker marks the job started, reads the state again and,
    /// if it is still queued, stores Running. A canceller claims the queued state with a CAS (Pending), then runs a
    /// process-wide barrier, then reads the mark (<see cref="DecideCancel(long)"/>). The barrier makes this an
    /// asymmetric Dekker pair: either the worker's mark is visible to the canceller after the barrier, or the worker's
    /// second read comes after the barrier and sees Pending. Whoever sees the other goes to one CAS that decides:
    /// the canceller turns Pending into Running (the worker may have seen Queued and will run the job) or Cancelled
    /// (no mark: the worker will see Pending), and a worker that saw Pending turns it into Cancelled unless the
    /// canceller already chose Running. A canceller that wins its claim after the worker's second read sees the mark
    /// (it was stored before that read) and chooses Running, and the worker's plain store of Running, which may land
    /// on Pending, writes the same decision.
    /// </remarks>
    /// <param name="missRunDecision">Broken on purpose (systematic tests, <c>Fault.StartMissesRunDecision</c>): skip the
    /// job when a canceller has decided that it runs.</param>
    internal bool TryStart(bool missRunDecision = false)
    {
        long word = Volatile.Read(ref _word);
        if ((word & StateMask) == QueuedState)
        {
            Volatile.Write(ref _started, true);
            long again = Volatile.Read(ref _word);
            if (again == word)
            {
                Volatile.Write(ref _word, word | RunningState);
                return true;
            }

            // A canceller claimed the job after this worker's first read. If it has already decided, after seeing the
            // mark, the job is Running: run it.
            if ((again & StateMask) == RunningState && !missRunDecision)
            {
                return true;
            }

            word = again;
        }

        if ((word & StateMask) != PendingState)
        {
            return false; // cancelled while queued: counted by the canceller
        }

        // A canceller has claimed the job: decide with it. Cancelled unless it chose Running first.
        long pending = word;
        long seen = Interlocked.CompareExchange(ref _word, (pending & ~StateMask) | CancelledState, pending);
        return seen != pending && (seen & StateMask) == RunningState;
    }

    /// <summary>Cancels the job with this id if the object still holds it, queued, while a worker may be starting it:
    /// <see cref="TryRequestCancel(long)"/>, the process-wide barrier unless no worker can be starting the job
    /// (<see cref="NeedsBarrierAfterClaim"/>; left out also by a deliberately broken variant for the native litmus
    /// test), <see cref="DecideCancel(long)"/>.</summary>
    internal bool TryCancel(long id, bool barrier = true)
    {
        if (!TryRequestCancel(id))
        {
            return false;
        }

        if (barrier && NeedsBarrierAfterClaim)
        {
            Interlocked.MemoryBarrierProcessWide();
        }

        return DecideCancel(id);
    }

    /// <summary>
    /// After a successful claim (<see cref="TryRequestCancel(long)"/>): whether a worker may have read the job's state
    /// before the claim, so that the canceller needs the process-wide barrier before it reads the mark. Not for a
    /// schedule (no worker ever starts one), nor for a job whose slot in the timer heap is still live: a worker gets it
    /// only after the timer thread takes that slot with a CAS on <see cref="QueuedAt"/>, which comes after this read
    /// (it saw the slot live), which comes after the claim's full fence, so that worker's first read sees Pending and
    /// it never marks the job. The common case of <see cref="Pool.Cancel(long)"/> on delayed jobs pays no barrier.
    /// </summary>
    internal bool NeedsBarrierAfterClaim => this is not ScheduleJob && Volatile.Read(ref QueuedAt) != TimerQueue.InHeap;

    /// <summary>
    /// Queued -> Pending for the job with this id: the first step of a cancel. False if a worker started it first, it
    /// ended, another canceller holds it, or the object now holds another job. After it, the caller runs
    /// <see cref="Interlocked.MemoryBarrierProcessWide"/> (one for any number of requests) and then
    /// <see cref="DecideCancel(long)"/>.
    /// </summary>
    internal bool TryRequestCancel(long id)
    {
        long queued = id << StateBits;
        return Interlocked.CompareExchange(ref _word, queued | PendingState, queued) == queued;
    }

    /// <summary>
    /// The second step of a cancel, after a successful <see cref="TryRequestCancel(long)"/> and a process-wide
    /// barrier: true if the job is now cancelled (it never runs), false if a worker is running it. The mark read here
    /// may belong to a later job of a reused object; the CAS then fails (the word no longer holds Pending with this id:
    /// the worker overwrote it with Running) and the answer is false, which is right, since that worker ran the job.
    /// </summary>
    internal bool DecideCancel(long id)
    {
        long pending = (id << StateBits) | PendingState;
        long target = (id << StateBits) | (uint)(Volatile.Read(ref _started) ? RunningState : CancelledState);
        long seen = Interlocked.CompareExchange(ref _word, target, pending);
        return seen == pending ? (target & StateMask) == CancelledState : seen == ((id << StateBits) | CancelledState);
    }

    /// <summary>Queued -> Cancelled for a job that no worker can start: the caller took the object out of the queue
    /// (or stack, deque or heap) that held it. False if another canceller holds it (that one counts it) or it is not
    /// queued.</summary>
    internal bool TryCancelOwned()
    {
        long word = Volatile.Read(ref _word);
        return (word & StateMask) == QueuedState
            && Interlocked.CompareExchange(ref _word, word | CancelledState, word) == word;
    }

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

    /// <summary>Done or Failed -> Returned, with a CAS so that of two returns of one object only one succeeds; false if
    /// the job has not ended done or failed, or was returned already.</summary>
    internal bool TryMarkReturned()
    {
        long word = Volatile.Read(ref _word); // a look: the CAS below decides
        long state = word & StateMask;
        return state is DoneState or FailedState
            && Interlocked.CompareExchange(ref _word, (word & ~StateMask) | ReturnedState, word) == word;
    }

    /// <summary>Gives a returned job's object to <paramref name="pool"/> for reuse (see <see cref="Pool.Return(PoolJob)"/>);
    /// only the job types that <c>Submit</c> can reuse override it, the others are left to the garbage collector.</summary>
    internal virtual void KeepIn(Pool pool)
    {
    }

    /// <summary>Clears a returned job before it is kept: what its type holds of the user's
    /// (<see cref="ClearForReuse"/>), and the done callback, exception and reporting pool.</summary>
    private protected void ClearToKeep()
    {
        ClearForReuse();
        _extra = null;
    }

    /// <summary>Prefetches a job object's lines, from <c>p</c> (its first field) to <c>p + lastByte</c> (a hint: if
    /// the collector moves the object in between, it fetches lines nobody needs, and a prefetch never faults). The
    /// header, at <c>p - 8</c>, is left out: reuse never writes it.</summary>
    internal static unsafe void PrefetchLines(PoolJob job, int lastByte)
    {
        byte* p = (byte*)Unsafe.As<PoolJob, nint>(ref job);
        Sse.Prefetch0(p);
        Sse.Prefetch0(p + lastByte);
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

    /// <summary>Lets go of what the ended job holds of the user's, before its worker keeps it for reuse (see
    /// Pool.Recycle); only reusable job types override it.</summary>
    internal virtual void ClearForReuse()
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
    internal override void ClearForReuse()
    {
        _action = null;
        QueuedAt = 0;
    }

    internal override void KeepIn(Pool pool)
    {
        if (pool.ReusesEndedJobs)
        {
            return; // that pool's Submit(Action) reuses the jobs its workers end, not these
        }

        ClearToKeep();
        pool.Keep(this);
    }

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

    /// <summary>Clears the ended job, so that it holds nothing of the user's while its worker keeps it.</summary>
    internal override void ClearForReuse()
    {
        _action = null;
        _arg = default!;
        QueuedAt = 0;
    }

    internal override void KeepIn(Pool pool)
    {
        if (pool.ReusesEndedJobs)
        {
            return; // as ActionJob.KeepIn
        }

        ClearToKeep();
        pool.Keep(this);
    }

    private protected override void Invoke() => _action!(_arg);
}

internal sealed class FuncJob<TResult>(Func<TResult> func, Action<PoolJob>? done) : PoolJob(done), IResultHolder<TResult>
{
    private Func<TResult>? _func = func;
    private TResult _value = default!;

    public TResult Value => _value;

    public override object? Argument => null;

    public override object? Result => Status == PoolJobStatus.Done ? _value : null;

    /// <summary>Prepares a returned job for reuse (see <see cref="Pool.Return(PoolJob)"/>); its id is assigned next.</summary>
    internal void Reuse(Func<TResult> func) => _func = func;

    internal override void ClearForReuse()
    {
        _func = null;
        _value = default!;
        QueuedAt = 0;
    }

    internal override void KeepIn(Pool pool)
    {
        ClearToKeep();
        pool.Keep(this);
    }

    private protected override void Invoke() => _value = _func!();
}

internal sealed class FuncJob<TArg, TResult>(Func<TArg, TResult> func, TArg arg, Action<PoolJob>? done) : PoolJob(done), IResultHolder<TResult>
{
    private Func<TArg, TResult>? _func = func;
    private TArg _arg = arg;
    private TResult _value = default!;

    public TResult Value => _value;

    public override object? Argument => _arg;

    public override object? Result => Status == PoolJobStatus.Done ? _value : null;

    /// <summary>Prepares a returned job for reuse (see <see cref="Pool.Return(PoolJob)"/>); its id is assigned next.</summary>
    internal void Reuse(Func<TArg, TResult> func, TArg arg)
    {
        _func = func;
        _arg = arg;
    }

    internal override void ClearForReuse()
    {
        _func = null;
        _arg = default!;
        _value = default!;
        QueuedAt = 0;
    }

    internal override void KeepIn(Pool pool)
    {
        ClearToKeep();
        pool.Keep(this);
    }

    private protected override void Invoke() => _value = _func!(_arg);
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Threading;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool;

/// <summary>
/// A pool of dedicated worker threads with a small per-job overhead, built from the primitives of
/// <c>FastThreadPool.Primitives</c>: jobs from outside wait in an MPMC queue (pluggable, see
/// <see cref="PoolOptions.Queue"/>), jobs submitted from inside a job go to the worker's own work-stealing deque,
/// <see cref="SubmitFirst(Action)"/> jobs go to a stack that workers look at first, and idle workers park on a
/// <see cref="FastSemaphore"/>.
/// </summary>
/// <remarks>
/// <para>Every accepted job ends exactly once as done, failed or cancelled, and is counted:
/// <see cref="SubmittedCount"/> = <see cref="DoneCount"/> + <see cref="FailedCount"/> + <see cref="CancelledCount"/>
/// once the pool is idle. A job that throws never kills its worker.</para>
/// <para>Waking: a submission wakes at most one parked worker, and only when no wake-up is already on its way; a
/// worker that finds work while more is queued and workers are parked wakes the next one. Workers are started
/// lazily, up to <see cref="PoolOptions.MaxWorkers"/>, when work arrives and no worker is idle.</para>
/// </remarks>
public sealed partial class Pool : IDisposable
{
    // An idle worker keeps looking for this many SpinWait iterations (pauses, no yields) before it parks; at most
    // MaxSearchers workers do so at once.
    private const int SearchSpins = 10;
    private const int MaxSearchers = 1;

    // Ids a worker reserves at a time for the jobs it submits.
    private const int IdBlock = 64;

    /// <summary>The default of <see cref="PoolOptions.InjectionBatch"/>.</summary>
    internal const int DefaultInjectionBatch = 8;

    /// <summary>The default of <see cref="PoolOptions.SpareJobs"/>: no reuse (see there).</summary>
    internal const int DefaultSpareJobs = 0;

    // Ended jobs kept for reuse travel from the workers to the submitters in arrays of this many.
    internal const int SpareChain = 64;

    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> each pool publishes its metrics on
    /// (<c>dotnet-counters monitor --counters FastThreadPool</c>): counters <c>fastthreadpool.jobs.submitted</c>,
    /// <c>.done</c>, <c>.failed</c>, <c>.cancelled</c>; up-down counters <c>fastthreadpool.queue.length</c>,
    /// <c>fastthreadpool.workers.busy</c>, <c>fastthreadpool.workers.alive</c>, <c>fastthreadpool.timers.pending</c>;
    /// and the histogram <c>fastthreadpool.job.wait_time</c> (seconds from queued to started, recorded only while
    /// listened to). Each pool's meter is tagged <c>fastthreadpool.pool.name</c> with its worker name prefix, and is
    /// disposed when the pool has shut down.</summary>
    public const string MeterName = "FastThreadPool";

    [ThreadStatic]
    private static Worker? t_worker;

    // A submitting thread's array of reusable jobs, taken from one pool's spares (see RentActionJob).
    [ThreadStatic]
    private static SpareCache? t_spares;

    private readonly PoolOptions _options;
    private readonly IMpmcQueue<PoolJob> _queue;
    private readonly Worker?[] _workers;
    private readonly FastSemaphore _parking;
    private readonly FastSemaphore _completed;
    private readonly DoneQueue _done;
    private int _completionWaiters;
    private readonly JobTable _table;
    private readonly PoolMetrics _metrics;
    private readonly object _idleGate = new();

    // The counters that change on every job, apart from the rest of the pool's fields and from each other by who
    // writes them: a submitter's atomic add on a line that workers keep writing waits for that line every time.
    private HotCounters _hot;
    private readonly bool _queueFences;
    private readonly bool _batchOnlyWhenShared;
    private readonly UnboundedMpmcQueue<PoolJob>? _ownQueue;

    // Whether ended jobs may be reused (see Recycle): nothing outside the pool keeps them.
    private readonly bool _reuse;

    // Full arrays of ended jobs for reuse by other threads (null: workers reuse only their own; see Recycle), and the
    // arrays those threads emptied.
    private readonly BoundedMpmcQueue<ActionJob[]>? _spares;
    private readonly BoundedMpmcQueue<ActionJob[]>? _emptySpares;

    // Returned jobs kept for reuse (see Return), one KeptJobs per job type, at JobKind<TJob>.Index; null unless the
    // pool keeps spare jobs. Grown under _keptGate, published with a release store; read with a plain load.
    private KeptJobs?[]? _kept;
    private readonly object _keptGate = new();

    private PoolJob? _firstHead;
    private int _started;
    private int _alive;
    private int _stopping;
    private int _idleWaiters;
    private long _refused;
    private long _retiredIds;
    private long _cancelled;
    private long _outsideWakes;
    private int _callbackFailures;
    private Exception? _lastCallbackException;

    /// <summary>Creates a pool with one worker per processor and default options.</summary>
    public Pool()
        : this(new PoolOptions())
    {
    }

    /// <summary>Creates a pool with at most <paramref name="maxWorkers"/> workers.</summary>
    /// <param name="maxWorkers">The most worker threads, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxWorkers"/> is less than 1.</exception>
    public Pool(int maxWorkers)
        : this(new PoolOptions { MaxWorkers = maxWorkers })
    {
    }

    /// <summary>Creates a pool with the given options (copied: later changes to them have no effect).</summary>
    /// <param name="options">The options.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/>, its worker name prefix or its time provider is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="PoolOptions.MaxWorkers"/> is less than 1, or
    /// <see cref="PoolOptions.DoneMax"/> or <see cref="PoolOptions.SpareJobs"/> is negative.</exception>
    public Pool(PoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone().Validated();
        _parking = new FastSemaphore(0, int.MaxValue, _options.Parking);
        _completed = new FastSemaphore(0, int.MaxValue, _options.Parking);
        // A pool that reuses its jobs also keeps its queues' emptied segments, for queues as deep as its spare jobs.
        int spareSegments = Math.Max(1, _options.SpareJobs / UnboundedMpmcQueue<PoolJob>.DefaultSegmentSize);
        _done = new DoneQueue(_options.DoneMax == 0 ? null : new FastSemaphore(_options.DoneMax, _options.DoneMax, _options.Parking), spareSegments);
        _queue = _options.Queue ?? new UnboundedMpmcQueue<PoolJob>(UnboundedMpmcQueue<PoolJob>.DefaultSegmentSize, spareSegments);
        _table = new JobTable(_options.SpareJobs);

        // Our queues enqueue with an atomic read-modify-write, a full fence; a user's queue may not.
        _queueFences = _queue is UnboundedMpmcQueue<PoolJob> or BoundedMpmcQueue<PoolJob>;
        _ownQueue = _queue as UnboundedMpmcQueue<PoolJob>;
        _batchOnlyWhenShared = _options.BatchOnlyWhenShared && _options.MaxWorkers > 1;
        _workers = new Worker?[_options.MaxWorkers];
        Timers = new TimerQueue(this, _options.TimeProvider, _options.Parking, _options.Faults);
        _metrics = new PoolMetrics(this, _options.WorkerNamePrefix);
        if (_options.AdaptiveWorkers && _options.MaxWorkers > 1)
        {
            _restGate = _options.RestParker is { } parker ? new FastSemaphore(0, int.MaxValue, parker) : new FastSemaphore(0, int.MaxValue, _options.Parking);
            _steering = new Steering(_options.MaxWorkers, _options.FixedWorkerLimit);
        }

        // Jobs are reused only where nothing outside the pool keeps them: not in Done, not handed to a callback.
        _reuse = !_options.KeepDone && _options.DoneCallback is null;
        if (_reuse && _options.SpareJobs > 0)
        {
            int chains = Math.Max(2, (int)Math.Min(1 << 30, BitOperations.RoundUpToPowerOf2((uint)((_options.SpareJobs + SpareChain - 1) / SpareChain))));
            _spares = new BoundedMpmcQueue<ActionJob[]>(chains);
            _emptySpares = new BoundedMpmcQueue<ActionJob[]>(chains);
        }

        if (_options.SpareJobs > 0)
        {
            _kept = new KeptJobs?[8];
        }
    }

    /// <summary>The context of the worker running the calling code, or null outside this library's workers.</summary>
    public static WorkerContext? CurrentWorker => t_worker?.Context;

    /// <summary>Jobs that ended done, in completion order (unless a done callback took them or
    /// <see cref="PoolOptions.KeepDone"/> is false).</summary>
    /// <remarks>With <see cref="PoolOptions.DoneMax"/> set, every job taken out of it frees room for a waiting
    /// worker. A job taken out of it can be handed back for reuse with <see cref="Return(PoolJob)"/>.</remarks>
    public IMpmcQueue<PoolJob> Done => _done;

    /// <summary>Jobs that ended failed (a job that threw, or whose done callback threw), with their exception.</summary>
    public IMpmcQueue<PoolJob> Failed { get; } = new UnboundedMpmcQueue<PoolJob>();

    /// <summary>The most worker threads.</summary>
    public int MaxWorkers => _options.MaxWorkers;

    /// <summary>Worker threads started and not yet ended.</summary>
    public int Alive => Volatile.Read(ref _alive);

    /// <summary>Workers running a job now.</summary>
    public int Busy
    {
        get
        {
            int n = 0;
            foreach (Worker? w in _workers)
            {
                n += w is not null && Volatile.Read(ref w.Busy) ? 1 : 0;
            }

            return n;
        }
    }

    /// <summary>Accepted jobs that have not started (approximate while jobs run).</summary>
    public long Pending => Math.Max(0, Outstanding() - Busy);

    /// <summary>Jobs accepted so far.</summary>
    public long SubmittedCount
    {
        get
        {
            // Ids handed out, less the refused ones, less the ones workers reserved and have not handed out yet, less
            // the reserved ones they gave up. Retired ids are read first: a worker moves its NextId to the block end
            // before it adds them to the retired count, so a reader that sees them retired sees them used, and never
            // subtracts them twice (it may, briefly, not subtract them at all; see Settle).
            long retired = Volatile.Read(ref _retiredIds);

            // Refused before the last id, for the same reason: a refused id was handed out before it was refused.
            long refused = Volatile.Read(ref _refused);
            long unused = 0;
            foreach (Worker? w in _workers)
            {
                if (w is not null)
                {
                    // BlockEnd before NextId: a worker writes NextId before BlockEnd, so we never pair a new block's
                    // end with an old NextId (that would count too few submissions).
                    long end = Volatile.Read(ref w.BlockEnd);
                    unused += Math.Max(0, end - Volatile.Read(ref w.NextId));
                }
            }

            return Volatile.Read(ref _hot.LastId) - refused - retired - unused;
        }
    }

    /// <summary>Jobs that ended done.</summary>
    public long DoneCount => Sum(static w => Volatile.Read(ref w.Done));

    /// <summary>Jobs that ended failed.</summary>
    public long FailedCount => Sum(static w => Volatile.Read(ref w.Failed));

    /// <summary>Jobs cancelled before they started.</summary>
    public long CancelledCount => Volatile.Read(ref _cancelled);

    /// <summary>Init, finish and failed callbacks that threw (done callbacks that throw fail their job instead).</summary>
    public int CallbackFailures => Volatile.Read(ref _callbackFailures);

    /// <summary>The last exception counted in <see cref="CallbackFailures"/>.</summary>
    public Exception? LastCallbackException => Volatile.Read(ref _lastCallbackException);

    /// <summary>Whether <see cref="Shutdown(TimeSpan, bool)"/> (or <see cref="Dispose"/>) has been called.</summary>
    public bool IsStopping => Volatile.Read(ref _stopping) != 0;

    /// <summary>Chunks of the id table still held (for tests; see <see cref="JobTable"/>).</summary>
    internal int LiveIdChunks => _table.LiveChunks;

    /// <summary>The scheduler's state in one line, for messages of tests that time out.</summary>
    internal string DebugState =>
        $"idle {Volatile.Read(ref _hot.Idle)}, searching {Volatile.Read(ref _hot.Searching)}, waking {Volatile.Read(ref _hot.Waking)}, " +
        $"permits {_parking.CurrentCount}, parked {_parking.WaitingCount}, signaled {_parking.SignaledCount}, started {Volatile.Read(ref _started)}, alive {Alive}, " +
        $"busy {Busy}, queue empty {_queue.IsEmpty}, first {(Volatile.Read(ref _firstHead) is null ? "empty" : "has jobs")}, due {Volatile.Read(ref _dueCount)}";

    /// <summary>Scheduling counts since the pool started, for measurements (the <c>pool-probe</c> benchmark mode) and
    /// tests: parks, wake-ups issued by workers and by other threads, looks at other workers' deques, jobs stolen, jobs
    /// taken from the submission queue, and batches (takes of more jobs into a worker's deque after the one it runs).
    /// Each worker writes its own; approximate while workers run.</summary>
    internal PoolDiagnostics Diagnostics =>
        new(Sum(static w => Volatile.Read(ref w.Parks)), Sum(static w => Volatile.Read(ref w.Wakes)), Volatile.Read(ref _outsideWakes),
            Sum(static w => Volatile.Read(ref w.StealScans)), Sum(static w => Volatile.Read(ref w.Steals)),
            Sum(static w => Volatile.Read(ref w.QueueTakes)), Sum(static w => Volatile.Read(ref w.Batches)),
            Sum(static w => Volatile.Read(ref w.Rests)));

    // Per-worker counters, summed: a shared counter would move its cache line between the workers on every job.
    private long Sum(Func<Worker, long> counter)
    {
        long n = 0;
        foreach (Worker? w in _workers)
        {
            if (w is not null)
            {
                n += counter(w);
            }
        }

        return n;
    }

    /// <summary>Accepted jobs not yet ended (ids handed out and not refused count as accepted). Never 0 while a job is
    /// outstanding: the ended counts are read first, and every job they count was submitted before they were read,
    /// so the submitted count read after them includes it; a job submitted after that read is counted as submitted
    /// and not as ended. (Read the other way round, a job that submits another and ends between the two reads is
    /// counted as ended while the other's submission is not counted: the count reads 0 with the other queued.)
    /// </summary>
    private long Outstanding()
    {
        if (_options.Faults.Has(Fault.ReadSubmittedBeforeEnded))
        {
            return SubmittedCount - DoneCount - FailedCount - CancelledCount;
        }

        long ended = DoneCount + FailedCount + CancelledCount;
        return SubmittedCount - ended;
    }

    // ---- Submission ------------------------------------------------------------------------------------------

    /// <summary>Queues a job.</summary>
    /// <param name="job">The job.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Submit(Action job)
    {
        Worker? self = OwnWorker();
        return TryAccept(RentActionJob(Checked(job), self), first: false, wait: true, armed: null, self);
    }

    /// <summary>Queues a job with a callback that runs (in the worker) with the job once it has ended done,
    /// instead of the job going to <see cref="Done"/>.</summary>
    /// <param name="job">The job.</param>
    /// <param name="done">Runs with the finished job; if it throws, the job is reported in <see cref="Failed"/>.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> or <paramref name="done"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Submit(Action job, Action<PoolJob> done) => Accept(new ActionJob(Checked(job), Checked(done, nameof(done))), first: false);

    /// <summary>Queues a job that produces a result (read it with <see cref="PoolJob.GetResult{T}"/>).</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="job">The job.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Submit<TResult>(Func<TResult> job) => Accept(RentFuncJob(Checked(job)), first: false);

    /// <summary>Queues a job that produces a result, with a done callback (see <see cref="Submit(Action, Action{PoolJob})"/>).</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="job">The job.</param>
    /// <param name="done">Runs with the finished job.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> or <paramref name="done"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Submit<TResult>(Func<TResult> job, Action<PoolJob> done) => Accept(new FuncJob<TResult>(Checked(job), Checked(done, nameof(done))), first: false);

    /// <summary>Queues a job with an argument (no closure needed).</summary>
    /// <typeparam name="TArg">The argument type.</typeparam>
    /// <param name="job">The job.</param>
    /// <param name="arg">Its argument.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Submit<TArg>(Action<TArg> job, TArg arg)
    {
        Worker? self = OwnWorker();
        return TryAccept(RentActionJob(Checked(job), arg, self), first: false, wait: true, armed: null, self);
    }

    /// <summary>Queues a job with an argument that produces a result.</summary>
    /// <typeparam name="TArg">The argument type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="job">The job.</param>
    /// <param name="arg">Its argument.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Submit<TArg, TResult>(Func<TArg, TResult> job, TArg arg) => Accept(RentFuncJob(Checked(job), arg), first: false);

    /// <summary>Queues a job with an argument that produces a result, with a done callback.</summary>
    /// <typeparam name="TArg">The argument type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="job">The job.</param>
    /// <param name="arg">Its argument.</param>
    /// <param name="done">Runs with the finished job.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> or <paramref name="done"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Submit<TArg, TResult>(Func<TArg, TResult> job, TArg arg, Action<PoolJob> done) =>
        Accept(new FuncJob<TArg, TResult>(Checked(job), arg, Checked(done, nameof(done))), first: false);

    /// <summary>Queues a job that can be cancelled with a token: cancelling <paramref name="cancellationToken"/> before
    /// the job starts cancels it (as <see cref="Cancel(long)"/> does, counted in <see cref="CancelledCount"/>); the
    /// running job receives the token, to stop early if it wants. A token that is already cancelled gives a job that
    /// ends cancelled at once.</summary>
    /// <param name="job">The job; it receives <paramref name="cancellationToken"/>.</param>
    /// <param name="cancellationToken">Cancels the job while it is queued.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Submit(Action<CancellationToken> job, CancellationToken cancellationToken)
    {
        var j = new CancellableJob<VoidResult>(this, Checked(job), cancellationToken);
        return TryAccept(j, first: false, wait: true, armed: j);
    }

    /// <summary>Queues a job that produces a result and can be cancelled with a token (see
    /// <see cref="Submit(Action{CancellationToken}, CancellationToken)"/>).</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="job">The job; it receives <paramref name="cancellationToken"/>.</param>
    /// <param name="cancellationToken">Cancels the job while it is queued.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long Submit<TResult>(Func<CancellationToken, TResult> job, CancellationToken cancellationToken)
    {
        var j = new CancellableJob<TResult>(this, Checked(job), cancellationToken);
        return TryAccept(j, first: false, wait: true, armed: j);
    }

    /// <summary>Queues a job at the head: it runs before every job still queued by <c>Submit</c>; among several
    /// <c>SubmitFirst</c> jobs, the latest runs first.</summary>
    /// <param name="job">The job.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long SubmitFirst(Action job) => Accept(new ActionJob(Checked(job), null), first: true);

    /// <summary>Queues a job that produces a result at the head (see <see cref="SubmitFirst(Action)"/>).</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="job">The job.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long SubmitFirst<TResult>(Func<TResult> job) => Accept(new FuncJob<TResult>(Checked(job), null), first: true);

    /// <summary>Queues a job with an argument at the head (see <see cref="SubmitFirst(Action)"/>).</summary>
    /// <typeparam name="TArg">The argument type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="job">The job.</param>
    /// <param name="arg">Its argument.</param>
    /// <returns>The job's id.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public long SubmitFirst<TArg, TResult>(Func<TArg, TResult> job, TArg arg) => Accept(new FuncJob<TArg, TResult>(Checked(job), arg, null), first: true);

    /// <summary>Queues a job unless the pool's queue is bounded and full.</summary>
    /// <param name="job">The job.</param>
    /// <param name="id">The job's id, when it was accepted.</param>
    /// <returns><see langword="true"/> if the job was accepted.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public bool TrySubmit(Action job, out long id)
    {
        Worker? self = OwnWorker();
        id = TryAccept(RentActionJob(Checked(job), self), first: false, wait: false, armed: null, self);
        return id != 0;
    }

    /// <summary>A job for <paramref name="action"/>: a reused one if the pool reuses jobs and has one at hand, else
    /// a new one. A worker takes the jobs it ended itself; another thread takes a whole array of them from the pool's
    /// spares (<see cref="PoolOptions.SpareJobs"/>) and uses it up over its next submissions, and after finding none
    /// it allocates for a while before it looks again.</summary>
    /// <remarks>The submitter only stores to a reused job (its delegate, its id, the links of the queue), never
    /// loads from it: the job's cache line was last written by the worker that ended it, and a store to a line that
    /// is elsewhere waits in the store buffer while a load would stall. (A chain linked through the jobs themselves
    /// measured slower than allocating: each step of the walk waited for one such line.) Hence arrays, and no type
    /// check on the jobs taken from them.</remarks>
    private ActionJob RentActionJob(Action action, Worker? self)
    {
        if (!_reuse)
        {
            return _kept is null ? new ActionJob(action, null) : RentKept(action);
        }

        ActionJob? job = self is not null ? self.TakeSpare() : _spares is null ? null : TakeSpare();
        if (job is null)
        {
            return new ActionJob(action, null) { Recyclable = true };
        }

        job.Reuse(action);
        return job;
    }

    /// <summary>As <see cref="RentActionJob(Action, Worker?)"/> for a job with an argument: only a worker reuses these, the
    /// ones it ended itself of those that workers submitted.</summary>
    private ActionJob<TArg> RentActionJob<TArg>(Action<TArg> action, TArg arg, Worker? self)
    {
        if (!_reuse)
        {
            return _kept is null ? new ActionJob<TArg>(action, arg, null) : RentKept(action, arg);
        }

        if (self is null)
        {
            // Not kept when it ends: only a worker's own submissions take these, so a stream from outside would fill a
            // worker's array once and then only cost it the check for room on every job.
            return new ActionJob<TArg>(action, arg, null);
        }

        ActionJob<TArg>? job = self.TakeOther<ActionJob<TArg>>();
        if (job is null)
        {
            return new ActionJob<TArg>(action, arg, null) { Recyclable = true };
        }

        job.Reuse(action, arg);
        return job;
    }

    /// <summary>
    /// Hands a job taken from this pool's <see cref="Done"/> or <see cref="Failed"/> queue (or yielded by
    /// <see cref="AsCompleted"/>) back to the pool, which may reuse its object for a later submission of the same kind:
    /// with <see cref="PoolOptions.SpareJobs"/> above 0, the objects of <c>Submit</c> jobs (with or without an argument
    /// or a result, without a done callback of their own) are kept, up to that many and up to two arrays of 64 per
    /// thread, and reused, so that a stream of jobs whose results are taken and returned allocates no job objects.
    /// Without spare jobs, or for other kinds of jobs, the object is left to the garbage collector.
    /// </summary>
    /// <remarks>After this call the caller must not use the object: its <see cref="PoolJob.Status"/> is
    /// <see cref="PoolJobStatus.Returned"/> until the pool reuses it, and then it holds another job, with another id (a
    /// <see cref="Cancel(long)"/> by the old id still cancels nothing). Read the result, the id and the exception first.
    /// Reuse trades the allocation and the collector's copying of jobs still waiting for one more trip of each job's
    /// cache lines between cores (papers/pool.md section 3 measures both).</remarks>
    /// <param name="job">A job that ended done or failed, taken from this pool's <see cref="Done"/> or
    /// <see cref="Failed"/> queue.</param>
    /// <exception cref="ArgumentNullException"><paramref name="job"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The job has not ended done or failed (it is queued, running or
    /// cancelled), or was returned already.</exception>
    /// <exception cref="ArgumentException">The pool keeps spare jobs and the job did not come from its
    /// <see cref="Done"/> or <see cref="Failed"/> queue: it is another pool's (its id could be one of this pool's), or
    /// it went to a done or failed callback (whose worker may still be using it).</exception>
    public void Return(PoolJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.State is not (PoolJob.DoneState or PoolJob.FailedState))
        {
            throw NotReturnable(job);
        }

        if (_kept is not null && job.Reporter != this)
        {
            throw new ArgumentException($"Job {job.Id} was not taken from this pool's Done or Failed queue.", nameof(job));
        }

        if (!job.TryMarkReturned())
        {
            throw NotReturnable(job); // returned by another thread meanwhile
        }

        // Not kept once the pool is stopping: it will take no more jobs (and its kept ones are let go, see DropSpares).
        // A look, paired with nothing: a job kept while the pool stops stays in its store until the pool is collected.
        if (_kept is not null && Volatile.Read(ref _stopping) == 0)
        {
            job.KeepIn(this);
        }
    }

    /// <summary>Before a job goes to <see cref="Done"/> or <see cref="Failed"/>: a pool that reuses returned jobs
    /// records itself in it, so that <see cref="Return"/> can refuse jobs of other pools (a pool that keeps none never
    /// reuses what it is handed, so it skips the store).</summary>
    private void MarkReported(PoolJob job)
    {
        if (_kept is not null)
        {
            job.MarkReported(this);
        }
    }

    private static InvalidOperationException NotReturnable(PoolJob job) =>
        new($"Job {job.Id} is {job.Status}: only a job that ended done or failed can be returned, and only once.");

    /// <summary>Whether this pool's workers keep the jobs they end for reuse (<see cref="PoolOptions.KeepDone"/> false and
    /// no done callback): its <c>Submit(Action)</c> jobs then come from those, and returned ones of those types are not
    /// kept.</summary>
    internal bool ReusesEndedJobs => _reuse;

    /// <summary>Keeps a returned, cleared job for this pool's next submissions of its type (see <see cref="Return"/>).</summary>
    internal void Keep<TJob>(TJob job)
        where TJob : PoolJob =>
        Kept(JobKind<TJob>.Index, create: true)!.Keep(job);

    /// <summary>Takes a kept job of type <typeparamref name="TJob"/>, or null.</summary>
    private TJob? TakeKept<TJob>()
        where TJob : PoolJob =>
        Kept(JobKind<TJob>.Index, create: false)?.Take() is { } job ? Unsafe.As<TJob>(job) : null; // only TJobs are kept under its kind

    /// <summary>This pool's store of returned jobs of one kind; null if it has none and <paramref name="create"/> is
    /// false.</summary>
    private KeptJobs? Kept(int kind, bool create)
    {
        KeptJobs?[]? kept = _kept;
        if (kept is not null && (uint)kind < (uint)kept.Length && kept[kind] is { } found)
        {
            return found;
        }

        return create ? CreateKept(kind) : null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private KeptJobs CreateKept(int kind)
    {
        lock (_keptGate)
        {
            KeptJobs?[] kept = _kept!;
            if (kind >= kept.Length)
            {
                Array.Resize(ref kept, Math.Max(kind + 1, kept.Length * 2));
            }

            if (kept[kind] is not { } jobs)
            {
                jobs = new KeptJobs(kind, _options.SpareJobs, _options.SortKeptJobs);
                kept[kind] = jobs;
            }

            // Release: a submitter that reads the array (a plain load, then a dependent one) sees the store it holds.
            Volatile.Write(ref _kept, kept);
            return jobs;
        }
    }

    // The jobs of Submit(Func) with and without an argument: new ones unless the pool keeps returned jobs. The kept
    // path stays out of line, so that a pool without spare jobs pays one test.
    private FuncJob<TResult> RentFuncJob<TResult>(Func<TResult> func) =>
        _kept is null ? new FuncJob<TResult>(func, null) : RentKept(func);

    private FuncJob<TArg, TResult> RentFuncJob<TArg, TResult>(Func<TArg, TResult> func, TArg arg) =>
        _kept is null ? new FuncJob<TArg, TResult>(func, arg, null) : RentKept(func, arg);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private FuncJob<TResult> RentKept<TResult>(Func<TResult> func)
    {
        if (TakeKept<FuncJob<TResult>>() is { } job)
        {
            job.Reuse(func);
            return job;
        }

        return new FuncJob<TResult>(func, null);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private FuncJob<TArg, TResult> RentKept<TArg, TResult>(Func<TArg, TResult> func, TArg arg)
    {
        if (TakeKept<FuncJob<TArg, TResult>>() is { } job)
        {
            job.Reuse(func, arg);
            return job;
        }

        return new FuncJob<TArg, TResult>(func, arg, null);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ActionJob RentKept(Action action)
    {
        if (TakeKept<ActionJob>() is { } job)
        {
            job.Reuse(action);
            return job;
        }

        return new ActionJob(action, null);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ActionJob<TArg> RentKept<TArg>(Action<TArg> action, TArg arg)
    {
        if (TakeKept<ActionJob<TArg>>() is { } job)
        {
            job.Reuse(action, arg);
            return job;
        }

        return new ActionJob<TArg>(action, arg, null);
    }

    /// <summary>The calling thread's worker if it is one of this pool's workers, else null (one thread-static read).</summary>
    private Worker? OwnWorker() => t_worker is { } self && self.Pool == this ? self : null;

    /// <summary>How many reused jobs the calling thread has taken from pools' spares (for tests).</summary>
    internal static long ReusedByThisThread => t_spares?.Taken ?? 0;

    /// <summary>The object the id table holds for an id (for tests).</summary>
    internal PoolJob? FindJob(long id) => _table.Find(id);

    // Out of line: only pools with SpareJobs call it, and Submit, which every pool shares, keeps its own layout.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ActionJob? TakeSpare()
    {
        SpareCache cache = t_spares ??= new SpareCache();
        if (cache.Owner != _spares)
        {
            cache.Owner = _spares;
            cache.Jobs = null;
            cache.Skip = 0;
        }

        ActionJob[]? jobs = cache.Jobs;
        if (jobs is null || cache.Next == jobs.Length)
        {
            if (jobs is not null)
            {
                _emptySpares!.TryEnqueue(jobs); // the workers fill it again; they only write its slots, so no order is needed
                cache.Jobs = null;
            }

            if (cache.Skip > 0)
            {
                cache.Skip--;
                return null;
            }

            // Acquire: pairs with the release of the worker's enqueue (Recycle), so the jobs' cleared fields are seen.
            if (!_spares!.TryDequeue(out jobs))
            {
                cache.Skip = SpareChain;
                return null;
            }

            cache.Jobs = jobs;
            cache.Next = 0;
        }

        cache.Taken++;
        int next = cache.Next++;
        if (Sse.IsSupported && next + SparePrefetchDistance < jobs.Length)
        {
            // Ask now for the lines of a job a few submissions ahead: each reused job's lines were last written by the
            // worker that ended it, and the submission's locked instructions would otherwise wait for that trip every
            // time (the stores to a reused job queue behind them). A read prefetch, since .NET has none for write;
            // it halved the time per job of a stream of reused jobs (papers/pool.md section 3).
            PoolJob.PrefetchLines(jobs[next + SparePrefetchDistance], 39); // a 48-byte object: p - 8 (its header) to p + 39
        }

        return jobs[next];
    }

    /// <summary>How many reused jobs ahead of the one taken <see cref="TakeSpare"/> prefetches.</summary>
    private const int SparePrefetchDistance = 6;

    /// <summary>Keeps an ended job for reuse. Only a job that nothing outside the pool can see comes here, after the
    /// worker that ran it has counted it: the id table may still point at it under its old id, which is harmless
    /// (see <see cref="PoolJob.TryRequestCancel(long)"/>). The job goes to the worker's own spares (its next submissions
    /// take them, with the job's cache line still on this core); a <c>Submit(Action)</c> job whose worker has a full
    /// array of them hands that array to the pool's spares, for other threads, with one enqueue. When there is no
    /// room, the job is left to the garbage collector, as it is (delegate and all).</summary>
    private void Recycle(Worker self, PoolJob job)
    {
        if (job is not ActionJob ended)
        {
            // A job with an argument, submitted by a worker: to this worker's other spares, if there is room.
            if (self.OtherCount < SpareChain)
            {
                job.ClearForReuse();
                self.PutOther(job);
            }

            return;
        }

        // The common case once a worker's array is full and the pool keeps no spares for other threads: nothing would
        // take the job, so it is not cleared either (a plain read of a field of this worker's own object).
        if (self.SpareCount == SpareChain && _spares is null)
        {
            return;
        }

        ended.ClearForReuse();
        if (self.PutSpare(ended))
        {
            return;
        }

        // Full: hand the array over (release: the thread that dequeues it sees its items and their cleared fields)
        // and start another.
        ActionJob[] full = self.SwapSpares(_emptySpares!.TryDequeue(out ActionJob[]? empty) ? empty : new ActionJob[SpareChain]);
        _spares!.TryEnqueue(full);
        self.PutSpare(ended);
    }

    /// <summary>Lets go of the spare jobs once the last worker has ended (threads that submitted may still hold one
    /// array each, of cleared jobs, until they submit to another pool that reuses jobs).</summary>
    private void DropSpares()
    {
        while (_spares is not null && _spares.TryDequeue(out _))
        {
        }

        while (_emptySpares is not null && _emptySpares.TryDequeue(out _))
        {
        }

        if (_kept is { } kept)
        {
            foreach (KeptJobs? jobs in kept)
            {
                jobs?.Drop();
            }
        }
    }

    private static T Checked<T>(T value, string name = "job")
        where T : class
    {
        ArgumentNullException.ThrowIfNull(value, name);
        return value;
    }


    private long Accept(PoolJob job, bool first) => TryAccept(job, first, wait: true);

    /// <summary>Registers and queues a job; its id, or 0 if it was refused because the queue was full and
    /// <paramref name="wait"/> is false. The id is read before the job is queued: once a worker has taken the job, its
    /// cache line belongs to that worker's core, and reading it again here would pull it back.</summary>
    private long TryAccept(PoolJob job, bool first, bool wait, TokenJob? armed = null) =>
        TryAccept(job, first, wait, armed, OwnWorker()); // a worker of another pool submits like any outside thread

    /// <summary>As <see cref="TryAccept(PoolJob, bool, bool, TokenJob?)"/>, for a caller that has looked up
    /// <see cref="OwnWorker"/> already.</summary>
    private long TryAccept(PoolJob job, bool first, bool wait, TokenJob? armed, Worker? self)
    {
        bool registered = Register(job, self, out long id);
        if (Volatile.Read(ref _stopping) != 0)
        {
            Refuse(job, registered);
            throw new PoolStoppedException();
        }

        // A cancellation token is registered before the job can be seen by a worker.
        armed?.Arm();
        if (_metrics.WaitTimeEnabled)
        {
            job.QueuedAt = PoolMetrics.Stamp();
        }

        bool fence;
        if (first)
        {
            PushFirst(job);
            fence = false; // a CAS: a full fence
        }
        else if (self is not null)
        {
            self.Deque.Push(job);
            fence = true; // a release store only
        }
        else
        {
            fence = !_queueFences;
            if (!_queue.TryEnqueue(job))
            {
                if (!wait)
                {
                    Refuse(job, registered);
                    return 0;
                }

                SpinWait spinner = default;
                while (!_queue.TryEnqueue(job))
                {
                    spinner.SpinOnce();
                }
            }
        }

        // The job is queued; with a full fence after that (see WakeOrStart), look at _stopping again. Shutdown sets
        // it before the workers look at the queues for the last time, so if it is still clear here, a worker will see
        // the job. If it is set, the workers may be gone: take the job back unless a worker started it already.
        if (fence)
        {
            Interlocked.MemoryBarrier();
        }

        if (Volatile.Read(ref _stopping) != 0 && CancelQueued(job, id))
        {
            Refuse(job, registered);
            throw new PoolStoppedException();
        }

        WakeOrStart(fence: false);
        return id;
    }

    /// <summary>Gives the job its id and registers it for <see cref="Cancel(long)"/>; false if it could not be
    /// registered (see <see cref="JobTable"/>).</summary>
    private bool Register(PoolJob job, Worker? self = null) => Register(job, self, out _);

    /// <summary>As <see cref="Register(PoolJob, Worker?)"/>, handing back the id (without reading it from the job:
    /// see <see cref="RentActionJob"/>).</summary>
    private bool Register(PoolJob job, Worker? self, out long id)
    {
        // The id is taken only here, after the arguments were checked, so every id is accepted or refused.
        id = self is not null ? self.TakeId(this) : Interlocked.Increment(ref _hot.LastId);
        job.Assign(id);
        return _table.Add(job, id);
    }

    private void Refuse(PoolJob job, bool registered)
    {
        job.Refused();
        // A full fence before FinishOne reads the waiters (as for every ended job).
        Interlocked.Increment(ref _refused);
        if (registered)
        {
            _table.Remove(job.Id);
        }

        FinishOne(); // WaitIdle counted the id as accepted
    }

    private void PushFirst(PoolJob job)
    {
        PoolJob? head = Volatile.Read(ref _firstHead);
        while (true)
        {
            job.NextFirst = head;
            PoolJob? seen = Interlocked.CompareExchange(ref _firstHead, job, head);
            if (seen == head)
            {
                return;
            }

            head = seen;
        }
    }

    private PoolJob? PopFirst()
    {
        PoolJob? head = Volatile.Read(ref _firstHead);
        while (head is not null)
        {
            // No ABA: a job object is pushed at most once, so a head seen twice is the same push.
            PoolJob? seen = Interlocked.CompareExchange(ref _firstHead, head.NextFirst, head);
            if (seen == head)
            {
                head.NextFirst = null;
                return head;
            }

            head = seen;
        }

        return null;
    }

    /// <summary>Wakes one parked worker if none is on its way, or starts a worker if none is idle.</summary>
    private void WakeOrStart(bool fence)
    {
        // The job must be queued (visibly) before we read _hot.Idle, and a worker announces itself idle before it looks
        // at the queues one last time: with a full fence on both sides, one of the two sees the other. Our queues'
        // enqueue and the SubmitFirst CAS are full fences already.
        if (fence)
        {
            Interlocked.MemoryBarrier();
        }

        // A searching worker will find the job: it decrements _hot.Searching (a full fence) before it announces itself
        // idle and looks once more.
        if (Volatile.Read(ref _hot.Searching) > 0)
        {
            return;
        }

        if (Volatile.Read(ref _hot.Idle) > 0)
        {
            if (Volatile.Read(ref _hot.Waking) == 0 && Interlocked.CompareExchange(ref _hot.Waking, 1, 0) == 0)
            {
                if (t_worker is { } waker && waker.Pool == this)
                {
                    waker.Wakes++;
                }
                else
                {
                    // A count only (for Diagnostics), orders nothing; atomic because any outside thread may add to it.
                    Interlocked.Increment(ref _outsideWakes);
                }

                _parking.Release();
            }

            return;
        }

        // No worker is idle: start another while there is room (the ones that exist are busy or about to look).
        if (Volatile.Read(ref _started) < _workers.Length)
        {
            StartWorker();
        }
    }

    private void StartWorker()
    {
        int index;
        do
        {
            index = Volatile.Read(ref _started);
            if (index >= _workers.Length)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _started, index + 1, index) != index); // claims the slot index

        string name = $"{_options.WorkerNamePrefix} {index}";
        var worker = new Worker(this, index, name);
        // Release: a thief's Volatile.Read of the slot (FindWork) sees the worker fully built. _alive is a counter
        // for diagnostics only.
        Volatile.Write(ref _workers[index], worker);
        Interlocked.Increment(ref _alive);
        worker.Thread.Start();
    }

    // ---- Cancellation ----------------------------------------------------------------------------------------

    /// <summary>Cancels a queued job: it will never run. O(1), lock-free.</summary>
    /// <remarks>Workers start jobs without a locked instruction, so a cancel of a job that a worker may be taking
    /// runs one process-wide memory barrier (<see cref="Interlocked.MemoryBarrierProcessWide"/>): from a few hundred
    /// nanoseconds to microseconds, growing with the processors that run the process's threads. A delayed job still
    /// waiting for its time, a periodic schedule, and every job that <see cref="CancelAll()"/> or a cancelling
    /// <see cref="Shutdown(TimeSpan, bool)"/> takes out of the queues cancel without it; to cancel many jobs by id,
    /// <see cref="Cancel(ReadOnlySpan{long})"/> runs one barrier for all of them.</remarks>
    /// <param name="jobId">The id <c>Submit</c> returned.</param>
    /// <returns><see langword="true"/> if the job was queued and is now cancelled; <see langword="false"/> if it is
    /// running or has ended, or the id is unknown.</returns>
    public bool Cancel(long jobId)
    {
        PoolJob? job = _table.Find(jobId);
        return job is not null && CancelJob(job, jobId);
    }

    /// <summary>Cancels the queued jobs among <paramref name="jobIds"/>, with one process-wide memory barrier for all
    /// of them rather than one per id (see <see cref="Cancel(long)"/>). O(n), lock-free.</summary>
    /// <param name="jobIds">Ids <c>Submit</c> returned; ids of running, ended or unknown jobs are passed over, and an id
    /// given twice is cancelled once.</param>
    /// <returns>How many jobs this call cancelled.</returns>
    public int Cancel(ReadOnlySpan<long> jobIds)
    {
        var claimed = new List<(PoolJob Job, long Id)>(jobIds.Length);
        foreach (long id in jobIds)
        {
            if (_table.Find(id) is { } job)
            {
                claimed.Add((job, id));
            }
        }

        return CancelMany(claimed);
    }

    /// <summary>Cancels every job still queued (the original's <c>cancel(None)</c>).</summary>
    /// <returns>How many jobs this call cancelled.</returns>
    public int CancelAll()
    {
        // Each job is taken out of the structure that held it, so no worker can start it: no barrier needed.
        int n = 0;
        while (TakeDue() is { } due)
        {
            n += CancelOwned(due) ? 1 : 0;
        }

        while (PopFirst() is { } first)
        {
            n += CancelOwned(first) ? 1 : 0;
        }

        while (_queue.TryDequeue(out PoolJob? queued))
        {
            n += CancelOwned(queued) ? 1 : 0;
        }

        foreach (Worker? w in _workers)
        {
            if (w is null)
            {
                continue;
            }

            while (w.Deque.TrySteal(out PoolJob? local))
            {
                n += CancelOwned(local) ? 1 : 0;
            }
        }

        return n;
    }

    /// <summary>Cancels the job the object holds now (an object the pool found itself, which a worker may be
    /// starting).</summary>
    private bool CancelJob(PoolJob job) => CancelJob(job, job.Id);

    /// <summary>Cancels the job with this id if the object still holds it, queued, while a worker may be starting it
    /// (see <see cref="PoolJob.TryStart"/>). A cancelled object is never reused, so it keeps its id and its timer mark.
    /// </summary>
    private bool CancelJob(PoolJob job, long id)
    {
        bool cancelled = _options.Faults switch
        {
            Fault.None => CancelQueued(job, id),
            var f when f.Has(Fault.CancelWithoutCas) => job.MarkCancelledWithoutCas(id),
            var f when f.Has(Fault.CancelIgnoresId) => job.TryCancelIgnoringId(),
            _ => CancelQueued(job, id),
        };
        return cancelled && CountCancelled(job, id);
    }

    /// <summary>Cancels a job taken out of the queue, stack, deque or heap that held it: no worker can start it.</summary>
    private bool CancelOwned(PoolJob job)
    {
        long id = job.Id;
        bool cancelled = _options.Faults switch
        {
            Fault.None => job.TryCancelOwned(),
            var f when f.Has(Fault.CancelWithoutCas) => job.MarkCancelledWithoutCas(id),
            var f when f.Has(Fault.CancelIgnoresId) => job.TryCancelIgnoringId(),
            _ => job.TryCancelOwned(),
        };
        return cancelled && CountCancelled(job, id);
    }

    /// <summary>The canceller's side of <see cref="PoolJob.TryStart"/>: claim, process-wide barrier, decide.</summary>
    private bool CancelQueued(PoolJob job, long id) => job.TryCancel(id, barrier: !_options.Faults.Has(Fault.CancelWithoutBarrier));

    /// <summary>Cancels jobs that workers may be starting, with one process-wide barrier for all of them.</summary>
    private int CancelMany(IEnumerable<PoolJob> jobs)
    {
        var pairs = new List<(PoolJob Job, long Id)>();
        foreach (PoolJob job in jobs)
        {
            pairs.Add((job, job.Id));
        }

        return CancelMany(pairs);
    }

    /// <summary>Cancels each job of the list by its id: claims them all, runs one barrier if any claimed job needs it,
    /// then decides each (see <see cref="PoolJob.TryCancel(long, bool)"/>).</summary>
    private int CancelMany(List<(PoolJob Job, long Id)> jobs)
    {
        if (_options.Faults != Fault.None)
        {
            int m = 0;
            foreach ((PoolJob job, long id) in jobs)
            {
                m += CancelJob(job, id) ? 1 : 0;
            }

            return m;
        }

        int claimed = 0;
        bool barrier = false;
        for (int i = 0; i < jobs.Count; i++)
        {
            (PoolJob job, long id) = jobs[i];
            if (job.TryRequestCancel(id))
            {
                jobs[claimed++] = (job, id);
                barrier |= job.NeedsBarrierAfterClaim;
            }
        }

        if (barrier)
        {
            Interlocked.MemoryBarrierProcessWide();
        }

        int n = 0;
        for (int i = 0; i < claimed; i++)
        {
            (PoolJob job, long id) = jobs[i];
            n += job.DecideCancel(id) && CountCancelled(job, id) ? 1 : 0;
        }

        return n;
    }

    private bool CountCancelled(PoolJob job, long id)
    {
        // The job object may still sit in a queue; the worker that takes it sees it cancelled and skips it. A timer's
        // entry leaves the heap at once.
        _table.Remove(id);
        if (job.QueuedAt == TimerQueue.InHeap)
        {
            Timers.Forget(job);
        }

        Interlocked.Increment(ref _cancelled); // a full fence before FinishOne reads the waiters
        FinishOne();
        job.Ended(this);
        return true;
    }

    // ---- Lifecycle -------------------------------------------------------------------------------------------

    /// <summary>Waits until every accepted job has ended (done, failed or cancelled).</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <returns><see langword="true"/> if the pool became idle in time.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than
    /// infinite).</exception>
    /// <exception cref="InvalidOperationException">Called from one of this pool's jobs with an infinite timeout
    /// (it would wait for itself).</exception>
    public bool WaitIdle(TimeSpan timeout)
    {
        long ms = ToMilliseconds(timeout);
        if (ms == Timeout.Infinite && t_worker?.Pool == this)
        {
            throw new InvalidOperationException("WaitIdle with no timeout from one of the pool's own jobs would wait for itself.");
        }

        if (Outstanding() == 0)
        {
            return true;
        }

        var clock = Stopwatch.StartNew();
        // Announce the wait, then check (pairs with FinishOne: a job's counter, then the waiter count).
        AnnounceWaiter(ref _idleWaiters);
        try
        {
            lock (_idleGate)
            {
                while (Outstanding() != 0)
                {
                    long left = ms == Timeout.Infinite ? Timeout.Infinite : ms - clock.ElapsedMilliseconds;
                    if (ms != Timeout.Infinite && left <= 0)
                    {
                        return false;
                    }

                    Monitor.Wait(_idleGate, (int)Math.Min(left, int.MaxValue));
                }

                return true;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _idleWaiters);
        }
    }

    /// <summary>Waits until every accepted job has ended, without a time limit.</summary>
    public void WaitIdle() => WaitIdle(Timeout.InfiniteTimeSpan);

    /// <summary>
    /// Stops accepting jobs and lets the workers end: gracefully (every accepted job runs first), or with
    /// <paramref name="cancelPending"/>, cancelling the jobs still queued (they are counted in
    /// <see cref="CancelledCount"/>). Safe to call more than once, and from a job of this pool (it then does not wait
    /// for its own worker).
    /// </summary>
    /// <param name="timeout">How long to wait for the workers to end; <see cref="Timeout.InfiniteTimeSpan"/> for no
    /// limit, <see cref="TimeSpan.Zero"/> to not wait.</param>
    /// <param name="cancelPending">Cancel queued jobs instead of running them.</param>
    /// <returns><see langword="true"/> if every worker (other than the calling one) ended in time.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than
    /// infinite).</exception>
    public bool Shutdown(TimeSpan timeout, bool cancelPending = false)
    {
        long ms = ToMilliseconds(timeout);
        // Full fence: set before the workers are woken and look at the queues for the last time; pairs with the
        // re-read of _stopping after a submission queues its job (TryAccept).
        Interlocked.Exchange(ref _stopping, 1);
        CancelMany(Timers.Stop());

        if (cancelPending)
        {
            CancelAll();
        }

        WakeAll();
        var clock = Stopwatch.StartNew();
        bool timerEnded = Timers.Join((int)Math.Min(int.MaxValue, ms));
        long left = ms == Timeout.Infinite ? Timeout.Infinite : Math.Max(0, ms - clock.ElapsedMilliseconds);
        bool ended = JoinWorkers(left) && timerEnded;
        if (ended)
        {
            _metrics.Dispose();
        }

        return ended;
    }

    /// <summary>Shuts down gracefully and waits for the workers without a time limit.</summary>
    /// <returns><see langword="true"/> if every worker (other than the calling one) ended.</returns>
    public bool Shutdown() => Shutdown(Timeout.InfiniteTimeSpan);

    /// <summary>Waits for the workers to end after <see cref="Shutdown(TimeSpan, bool)"/> (the original's <c>join</c>).</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns><see langword="true"/> if every worker (other than the calling one) has ended.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than
    /// infinite).</exception>
    public bool Join(TimeSpan timeout) => JoinWorkers(ToMilliseconds(timeout));

    /// <summary>Shuts down gracefully: every accepted job runs, then the workers end.</summary>
    public void Dispose() => Shutdown();

    private void WakeAll()
    {
        int n = Volatile.Read(ref _started);
        if (n > 0)
        {
            _parking.Release(n);
            _restGate?.Release(n);
        }
    }

    private bool JoinWorkers(long ms)
    {
        var clock = Stopwatch.StartNew();
        bool all = true;
        foreach (Worker? w in _workers)
        {
            if (w is null || w.Thread == Thread.CurrentThread)
            {
                continue;
            }

            long left = ms == Timeout.Infinite ? Timeout.Infinite : Math.Max(0, ms - clock.ElapsedMilliseconds);
            all &= w.Thread.Join((int)Math.Min(left, int.MaxValue));
        }

        return all;
    }

    private static long ToMilliseconds(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return Timeout.Infinite;
        }

        long ms = (long)Math.Ceiling(timeout.TotalMilliseconds);
        if (ms < 0 || ms > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be Timeout.InfiniteTimeSpan or between 0 and int.MaxValue milliseconds.");
        }

        return ms;
    }

    // ---- Workers ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Counts a thread that is about to wait for jobs to end, before it looks at the counts and queues once more. A
    /// worker that ends a job writes its count with a plain store and then reads the waiter counts (FinishOne) with
    /// no fence between them; the process-wide barrier here makes that safe at the waiter's expense (microseconds,
    /// once per wait): every other thread passes a full fence during the call, so a worker either made its count
    /// visible before that point (this thread's next look sees it) or reads the waiter counts after it (and sees this
    /// thread counted, since the increment came before the call).
    /// </summary>
    private static void AnnounceWaiter(ref int waiters)
    {
        Interlocked.Increment(ref waiters);
        Interlocked.MemoryBarrierProcessWide();
    }

    /// <summary>After a job ended and was counted: wake the threads that wait for jobs to end (see AnnounceWaiter).</summary>
    private void FinishOne()
    {
        // AsCompleted waits on _completed: wake it (it re-checks the queues and whether anything is outstanding).
        // The counter of the ended job was incremented with a full fence before this read.
        if (Volatile.Read(ref _completionWaiters) > 0)
        {
            _completed.Release();
        }

        SignalAsyncCompletion();

        if (Volatile.Read(ref _idleWaiters) > 0)
        {
            // A full fence before reading the other workers' counts: ours was written with a plain store, and two
            // workers that end the last two jobs at once could otherwise each read the other's count before it left
            // its store buffer, and neither would wake the waiter. (The process-wide barrier of AnnounceWaiter orders
            // the waiter against each worker, not the workers against one another.) Only while someone waits.
            Interlocked.MemoryBarrier();
            if (Outstanding() == 0)
            {
                lock (_idleGate)
                {
                    Monitor.PulseAll(_idleGate);
                }
            }
        }
    }

    private void ReportCallbackFailure(Exception e)
    {
        // Diagnostics only: a count and the last exception (release, so a reader sees it fully built).
        Interlocked.Increment(ref _callbackFailures);
        Volatile.Write(ref _lastCallbackException, e);
    }

    private PoolJob? FindWork(Worker self, out bool shared, bool polling = false)
    {
        shared = true;
        if (TakeDue() is { } due)
        {
            return due;
        }

        if (PopFirst() is { } first)
        {
            return first;
        }

        if (self.Deque.TryPop(out PoolJob? own))
        {
            shared = false;
            return own;
        }

        // While polling, look at our own queue's head slot before dequeuing: a dequeue from an empty queue reads the
        // enqueue index, whose cache line the submitters write on every job.
        if ((!polling || _ownQueue is null || _ownQueue.MayHaveItems) && TakeQueued(self, out PoolJob? queued))
        {
            self.QueueTakes++;

            // A batch only while other workers take from the queue too: it saves them the contended claims on its
            // head, and costs the batch's owner a deque push and pop (with its fence) per job. A worker that is the
            // queue's only consumer takes one job at a time (pool.md section 3: 24 against 36 ns per job on 2 cores).
            // Except in a pool of one worker: taking single jobs, it kept up with the submitter on the 16-core machine
            // and then polled the very slot the submitter was writing (130 against 87 ns per job).
            if (self.Batch is not null && !(_batchOnlyWhenShared && self.Mark.Consecutive))
            {
                TakeMore(self);
            }

            return queued;
        }

        // Steal, starting after ourselves so that thieves spread over victims.
        int n = Volatile.Read(ref _started);
        self.StealScans++;
        for (int i = 1; i < n; i++)
        {
            Worker? victim = Volatile.Read(ref _workers[(self.Index + i) % n]);
            if (victim is not null && victim.Deque.TrySteal(out PoolJob? stolen))
            {
                self.Steals++;
                self.LookAround = true; // the victim's deque may hold more, and its owner may be blocked in a job
                return stolen;
            }
        }

        return null;
    }

    private bool TakeQueued(Worker self, [MaybeNullWhen(false)] out PoolJob job) =>
        _ownQueue is not null ? _ownQueue.TryDequeue(out job, ref self.Mark) : _queue.TryDequeue(out job);

    /// <summary>
    /// After a worker took a job from the submission queue: moves up to <see cref="PoolOptions.InjectionBatch"/> - 1
    /// more into its own deque, so that a stream of jobs costs one contended dequeue per batch rather than one per
    /// job per worker (the queue's head, and whatever the jobs share, stay in one core's cache for the batch). Idle
    /// workers steal from the deque, and the hand-on after this wakes one. The jobs are pushed last first, so that the
    /// worker pops them in queue order.
    /// </summary>
    private void TakeMore(Worker self)
    {
        // Nothing more to take (the usual case at low load): skip the transfer count's locked increment.
        if (_ownQueue is not null && !_ownQueue.MayHaveItems)
        {
            return;
        }

        // Odd while jobs are on their way (taken, not yet in the deque): a worker about to end looks at this (see
        // NothingQueuedElsewhere). The increment is a full fence, so it is visible before the first dequeue below.
        Interlocked.Increment(ref self.Transfers);
        PoolJob[] batch = self.Batch!;
        int n = 0;
        if (_ownQueue is not null)
        {
            // Our own queue claims the whole run with one CAS on its head, instead of one contended CAS per job.
            n = _ownQueue.TryDequeueMany(batch, ref self.Mark);
        }
        else
        {
            while (n < batch.Length && TakeQueued(self, out PoolJob? job))
            {
                Unchecked.At(batch, n++) = job; // n < batch.Length, checked above
            }
        }

        self.QueueTakes += n;
        self.Batches += n > 0 ? 1 : 0;

        for (int i = n - 1; i >= 0; i--)
        {
            self.Deque.Push(batch[i]);
            batch[i] = null!;
        }

        // A full fence: the pushes above are visible to whoever reads the even count, and to a worker that stops
        // searching after the hand-on that follows reads the searching count (see HandOn).
        Interlocked.Increment(ref self.Transfers);
    }

    /// <summary>
    /// For a worker about to end at shutdown: whether every other worker's deque is empty and no batch was on its way
    /// into one during the look. Each worker's transfer count is read before and after the look at the deques; a
    /// batch whose jobs left the shared queue before that queue was last seen empty was either counted as on its way
    /// (odd) or finished (its pushes visible to the look), and one that started during the look changes its count.
    /// </summary>
    private bool NothingQueuedElsewhere(Worker self)
    {
        int n = Volatile.Read(ref _started);
        var before = new long[n];
        for (int i = 0; i < n; i++)
        {
            Worker? w = Volatile.Read(ref _workers[i]);
            before[i] = w is null ? 0 : Volatile.Read(ref w.Transfers);
            if ((before[i] & 1) != 0)
            {
                return false;
            }
        }

        if (!_queue.IsEmpty)
        {
            return false;
        }

        for (int i = 0; i < n; i++)
        {
            Worker? w = Volatile.Read(ref _workers[i]);
            if (w is not null && w != self && (!w.Deque.IsEmpty || Volatile.Read(ref w.Transfers) != before[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether work waits, for the wake-up hand-on (read only when a worker is idle or the pool has room to start one).
    /// It must count a job whose submitter has claimed its slot and not yet published it: that submitter may have read
    /// the searching count before this worker stopped searching (its publishing store can still sit in its store
    /// buffer when it reads the count: a store, then a load) and so relies on this look. The claim is an atomic
    /// read-modify-write, a full fence, made before the submitter reads the count, and this worker reads the queue's
    /// indices after its own full fence (leaving the searchers), so one of the two sees the other. Our queues'
    /// <c>IsEmpty</c> compares those indices; the cheap look at the head slot alone would miss the claim, and the job
    /// would wait for this worker's job to end. The cheap look goes first: while jobs stream in, it answers without
    /// reading the enqueue index, whose cache line the submitter writes on every job.
    /// </summary>
    private bool MayHaveMoreWork(Worker self) =>
        Volatile.Read(ref _dueCount) != 0 || Volatile.Read(ref _firstHead) is not null || !self.Deque.IsEmpty
        || (_ownQueue?.MayHaveItems ?? false) || !_queue.IsEmpty;

    private bool NothingQueued(Worker self) =>
        Volatile.Read(ref _dueCount) == 0 && Volatile.Read(ref _firstHead) is null && self.Deque.IsEmpty && _queue.IsEmpty;

    private void RunJob(Worker self, PoolJob job)
    {
        if (!job.TryStart(_options.Faults.Has(Fault.StartMissesRunDecision)))
        {
            return; // cancelled while queued: counted by the canceller
        }

        if (job.QueuedAt != 0)
        {
            _metrics.RecordWait(job.QueuedAt);
        }

        // Busy is read only by the Busy and Pending properties (diagnostics); release stores are enough.
        Volatile.Write(ref self.Busy, true);
        bool ok = job.Execute();
        Volatile.Write(ref self.Busy, false);
        self.CountEnded(_table, job.Id);
        if (ok)
        {
            // Read once: the job keeps its callback in a shared field (PoolJob._extra), behind a type test.
            Action<PoolJob>? own = job.DoneCallback;
            Action<PoolJob>? callback = own ?? _options.DoneCallback;
            if (callback is not null && (own is not null || job.Reported))
            {
                try
                {
                    callback(job);
                }
                catch (Exception e)
                {
                    job.FailAfterDone(e);
                    ok = false;
                }
            }
            else if (_options.KeepDone && job.Reported)
            {
                MarkReported(job);
                _done.Add(job);
            }
        }

        // The worker's own counters, written only by it: plain increments with release stores (the job's outcome,
        // its Done or Failed entry included, is visible before the count). FinishOne reads the waiter counts with no
        // fence in between: every waiter runs Interlocked.MemoryBarrierProcessWide after announcing itself (see
        // AnnounceWaiter); FinishOne fences only before it reads the other workers' counts for a WaitIdle waiter.
        if (ok)
        {
            Volatile.Write(ref self.Done, self.Done + 1);
        }
        else
        {
            // Report before counting: AsCompleted ends when nothing is outstanding, so a job must be in its queue
            // by the time it stops counting as outstanding.
            if (job.Reported)
            {
                ReportFailed(job);
            }

            Volatile.Write(ref self.Failed, self.Failed + 1);
        }

        FinishOne();
        job.Ended(this); // counted first: a task that completes here sees the pool's counts include its job
        if (ok && job.Recyclable)
        {
            Recycle(self, job);
        }
    }

    private void ReportFailed(PoolJob job)
    {
        Action<PoolJob>? callback = _options.FailedCallback;
        if (callback is null)
        {
            MarkReported(job);
            Failed.TryEnqueue(job);
            return;
        }

        try
        {
            callback(job);
        }
        catch (Exception e)
        {
            ReportCallbackFailure(e);
            MarkReported(job);
            Failed.TryEnqueue(job);
        }
    }

    // Compiled optimized at once: the loop never returns, so with tiered compilation it would run as on-stack-replacement
    // code forever (which calls back into the runtime on every pass), never as a fully optimized method.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WorkerLoop(Worker self)
    {
        // Named, and a background thread so that a pool that is never disposed does not keep the process alive.
        // (The systematic tests leave both alone: their tester loses control of a thread whose name or background
        // flag is set.)
        if (!_options.Faults.Has(Fault.PlainThreads))
        {
            Thread.CurrentThread.Name = self.Context.Name;
            Thread.CurrentThread.IsBackground = true;
        }
        t_worker = self;
        self.Deque.BindOwner();
        RunCallback(_options.InitCallback, self.Context);
        try
        {
            while (true)
            {
                PoolJob? job = FindWork(self, out _);
                if (job is null && Volatile.Read(ref _stopping) == 0 && Volatile.Read(ref _hot.Searching) < MaxSearchers)
                {
                    // Keep looking for a moment before parking, as the one searching worker: submitters do not wake
                    // anyone while a worker searches, so a steady stream of jobs costs no wake-ups. Pausing only (no
                    // yield), and only one searcher, so that it does not take the processor from the submitters.
                    Interlocked.Increment(ref _hot.Searching);
                    SpinWait searching = default;
                    for (int i = 0; i < SearchSpins && job is null; i++)
                    {
                        searching.SpinOnce(sleep1Threshold: -1);
                        job = FindWork(self, out _, polling: true);
                    }

                    // A full fence before the idle announcement below (see WakeOrStart), and before the hand-on's look
                    // at the other deques (see HandOn).
                    Interlocked.Decrement(ref _hot.Searching);
                    self.LookAround |= job is not null;
                }

                if (job is not null)
                {
                    HandOn(self);
                    RunJob(self, job);
                    if (_steering is not null)
                    {
                        AfterJobSteered(self);
                    }

                    continue;
                }

                if (Volatile.Read(ref _stopping) != 0)
                {
                    // Graceful end: nothing queued, in the shared queues or in any worker's deque, and no batch on
                    // its way into one (a job there may be what a running job waits for). A submission that queues a
                    // job after this look sees _stopping and takes its job back; see TryAccept.
                    if (NothingQueued(self) && (_options.Faults.Has(Fault.EndWithoutLookingElsewhere) || NothingQueuedElsewhere(self)))
                    {
                        return;
                    }

                    Thread.Yield();
                    continue;
                }

                // Announce idleness, then look once more (see WakeOrStart), then park.
                Interlocked.Increment(ref _hot.Idle);
                job = FindWork(self, out _);
                if (job is not null || Volatile.Read(ref _stopping) != 0)
                {
                    Interlocked.Decrement(ref _hot.Idle);
                    if (job is not null)
                    {
                        self.LookAround = true;
                        HandOn(self);
                        RunJob(self, job);
                    }

                    continue;
                }

                // Going to sleep: hand over the ended ids counted for the id table, and the ids of our block that we
                // will not hand out, so that their chunks can go.
                Settle(self);
                self.Parks++;
                _parking.Wait();
                Interlocked.Decrement(ref _hot.Idle);

                // We are the wake-up that was on its way (or a stale permit): let the next submission wake another.
                // A full fence before the hand-on's look at the other deques (see HandOn).
                Interlocked.Exchange(ref _hot.Waking, 0);
                self.LookAround = true;
            }
        }
        finally
        {
            Settle(self);
            RunCallback(_options.FinishCallback, self.Context);
            if (Interlocked.Decrement(ref _alive) == 0 && Volatile.Read(ref _stopping) != 0)
            {
                DropSpares();
            }

            t_worker = null;
        }
    }

    /// <summary>A worker that took a job while more work waits passes the wake-up on: to a parked worker, or to a new
    /// one while the pool has room. (A submission that saw this worker still counted idle relied on it; without the
    /// hand-on a job queued then would wait until this worker's job ends.)</summary>
    private void HandOn(Worker self)
    {
        bool room = Volatile.Read(ref _started) < _workers.Length && !_options.Faults.Has(Fault.HandOnWithoutStart);
        if ((Volatile.Read(ref _hot.Idle) > 0 || room)
            && (MayHaveMoreWork(self) || (self.LookAround && !_options.Faults.Has(Fault.HandOnOwnDequeOnly) && WorkInOtherDeques(self))))
        {
            WakeOrStart(fence: false);
        }

        self.LookAround = false;
    }

    /// <summary>
    /// Whether another worker's deque holds a job: the look of a hand-on by a worker that may have taken the job
    /// another worker's wake-up was meant for. A worker that pushes into its deque (a nested submission, a batch) and
    /// then finds a worker searching, or a wake-up on its way, or starts a new worker, wakes no one more: it counts on
    /// that worker. But that worker may take another job (from the shared queue, or a steal from a third deque), and
    /// the pusher may be blocked in its job, waiting for the one in its deque. So a worker that is new, woken, leaves
    /// the search with a job, or steals, looks at every deque before it runs its job. The pusher's full fence after its
    /// push (the nested submission's barrier, the batch's transfer count) before it reads the searching and waking
    /// counts, and this worker's full fence when it leaves them, make one of the two see the other. Only these hand-ons
    /// look: a worker taking job after job from its own deque or the queue stays with the cheap look.
    /// </summary>
    private bool WorkInOtherDeques(Worker self)
    {
        int n = Volatile.Read(ref _started);
        for (int i = 0; i < n; i++)
        {
            Worker? w = Volatile.Read(ref _workers[i]);
            if (w is not null && w != self && !w.Deque.IsEmpty)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Hands the worker's batched id-table counts over: the ended ids of its current chunk, and the ids left
    /// in its reserved block, which it gives up (they count as retired, not as submitted).</summary>
    private void Settle(Worker self)
    {
        self.FlushEnded(_table);
        long next = self.NextId;
        long end = self.BlockEnd;
        if (end > next)
        {
            // NextId first, then the retired count (a full fence): a reader of SubmittedCount may briefly count these
            // ids as submitted, never as both unused and retired; FinishOne below wakes a waiter that read that.
            Volatile.Write(ref self.NextId, end);
            Interlocked.Add(ref _retiredIds, end - next);
            _table.RemoveUnused(next + 1, end);
            FinishOne();
        }
    }

    private void RunCallback(Action<WorkerContext>? callback, WorkerContext context)
    {
        if (callback is null)
        {
            return;
        }

        try
        {
            callback(context);
        }
        catch (Exception e)
        {
            ReportCallbackFailure(e);
        }
    }

    [StructLayout(LayoutKind.Explicit, Size = 4 * CacheLine.Size)]
    private struct HotCounters
    {
        // Written by submitters.
        [FieldOffset(1 * CacheLine.Size)] public long LastId;

        // Written by workers as they go idle and wake; read by submitters.
        [FieldOffset(2 * CacheLine.Size)] public int Idle;
        [FieldOffset((2 * CacheLine.Size) + 4)] public int Waking;

        // Written by workers as they start and stop searching, and read by every submission first: on a line of its
        // own, so that workers going idle and waking do not take it from the submitters' caches.
        [FieldOffset(3 * CacheLine.Size)] public int Searching;
    }

    private sealed class SpareCache
    {
        public object? Owner;
        public ActionJob[]? Jobs;
        public int Next;
        public int Skip;
        public long Taken;
    }

    private sealed class Worker
    {
        public readonly Pool Pool;
        public readonly int Index;
        public readonly WorkerContext Context;
        public readonly WorkStealingDeque<PoolJob> Deque = new();
        public readonly Thread Thread;
        public long Done;

        // Ids reserved from the pool's counter in blocks, so that workers submitting jobs from jobs do not all
        // increment one shared counter; NextId is the last id handed out, BlockEnd the last one reserved.
        public long NextId;
        public long BlockEnd;

        public long TakeId(Pool pool)
        {
            long next = NextId + 1;
            if (next > BlockEnd)
            {
                long end = Interlocked.Add(ref pool._hot.LastId, IdBlock);
                next = end - IdBlock + 1;
                Volatile.Write(ref NextId, next);
                Volatile.Write(ref BlockEnd, end);
                return next;
            }

            Volatile.Write(ref NextId, next);
            return next;
        }
        public long Failed;
        public bool Busy;

        // Diagnostics, written by the owner only (see Pool.Diagnostics): parks, wake-ups this worker issued, looks at
        // the other deques, jobs stolen, jobs taken from the submission queue, batches taken (beyond a first job).
        public long Parks;
        public long Wakes;
        public long StealScans;
        public long Steals;
        public long QueueTakes;
        public long Batches;
        public long Rests;

        // Steering (Pool.Steering.cs): worker 0's job count between its looks at the clock.
        public int SteerCount;

        // Where this worker's last take from the default queue was (see FindWork).
        public DequeueMark Mark;

        // Room for the jobs a worker takes from the submission queue after the one it runs (null: no batching), and
        // the count of such batches, odd while one is on its way into the deque.
        public readonly PoolJob[]? Batch; // its entries are null between transfers
        public long Transfers;

        // Set when this worker may have taken the job that another worker's wake-up was meant for: it is new, was
        // woken, left the search with a job, or stole. Its next hand-on then looks at every deque (see HandOn).
        public bool LookAround = true;

        // Ended Submit(Action) jobs kept for this worker's own next submissions (see Pool.Recycle): fields of the worker,
        // not thread statics, so that RunJob's check for room is one read of a line this thread owns.
        private ActionJob[] _spares = new ActionJob[SpareChain];
        public int SpareCount;

        /// <summary>The job kept last (its cache line is the most likely still here), or null.</summary>
        public ActionJob? TakeSpare()
        {
            int n = SpareCount;
            if (n == 0)
            {
                return null;
            }

            SpareCount = n - 1;
            return _spares[n - 1];
        }

        /// <summary>Keeps a job; false if there is no room.</summary>
        public bool PutSpare(ActionJob job)
        {
            int n = SpareCount;
            ActionJob[] spares = _spares;
            if ((uint)n >= (uint)spares.Length)
            {
                return false;
            }

            spares[n] = job;
            SpareCount = n + 1;
            return true;
        }

        /// <summary>Hands back the (full) array of kept jobs and starts over with <paramref name="empty"/>.</summary>
        public ActionJob[] SwapSpares(ActionJob[] empty)
        {
            ActionJob[] full = _spares;
            _spares = empty;
            SpareCount = 0;
            return full;
        }

        // Ended jobs with an argument (of any argument type), kept for this worker's own next submissions of such jobs.
        private readonly PoolJob[] _others = new PoolJob[SpareChain];
        public int OtherCount;

        /// <summary>The job kept last if it is of type <typeparamref name="TJob"/> (a worker that submits one type of
        /// job keeps that type), else null; a job of another type is let go, so that a worker whose jobs change type
        /// soon keeps the new type. The type test reads the job's header, on a line this worker wrote last.</summary>
        public TJob? TakeOther<TJob>()
            where TJob : PoolJob
        {
            int n = OtherCount;
            if (n == 0)
            {
                return null;
            }

            OtherCount = n - 1;
            return Unchecked.At(_others, (nint)(uint)(n - 1)) as TJob;
        }

        /// <summary>Keeps a job with an argument; the caller checked that there is room. Stored through a reference:
        /// an element store to a PoolJob[] would run the array's covariance check.</summary>
        public void PutOther(PoolJob job)
        {
            int n = OtherCount;
            Unchecked.At(_others, (nint)(uint)n) = job;
            OtherCount = n + 1;
        }

        // Ended ids of one id-table chunk not yet handed to the table (see JobTable.Remove(long, int)).
        private long _endedChunk = -1;
        private int _endedCount;

        public void CountEnded(JobTable table, long id)
        {
            long chunk = JobTable.ChunkOf(id);
            if (chunk != _endedChunk)
            {
                FlushEnded(table);
                _endedChunk = chunk;
            }

            _endedCount++;
        }

        public void FlushEnded(JobTable table)
        {
            if (_endedCount != 0)
            {
                table.Remove(_endedChunk, _endedCount);
                _endedCount = 0;
            }
        }

        public Worker(Pool pool, int index, string name)
        {
            Pool = pool;
            Index = index;
            Context = new WorkerContext(pool, index, name);
            Batch = pool._options.InjectionBatch > 1 ? new PoolJob[pool._options.InjectionBatch - 1] : null;
            Thread = new Thread(() => pool.WorkerLoop(this));
        }
    }
}

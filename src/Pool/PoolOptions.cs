using System;
using FastThreadPool.Primitives;

namespace FastThreadPool;

/// <summary>The settings of a <see cref="Pool"/>. Every property has a default; set only what you need.</summary>
public sealed class PoolOptions
{
    /// <summary>The most worker threads the pool starts (lazily, as work arrives). Default: one per processor.</summary>
    /// <remarks>A stream of tiny jobs from one submitting thread runs faster on a few workers (2 to 4 measured best on
    /// a 16-core machine) than on one per processor: each job's cache lines then move between fewer cores.</remarks>
    public int MaxWorkers { get; set; } = Environment.ProcessorCount;

    /// <summary>Worker threads are named <c>"{WorkerNamePrefix} {index}"</c>. Default: "FastThreadPool worker".</summary>
    public string WorkerNamePrefix { get; set; } = "FastThreadPool worker";

    /// <summary>Runs in each worker thread when it starts, before its first job, with the worker's context (keep
    /// per-worker state in <see cref="WorkerContext.State"/>). If it throws, the worker still runs jobs; the
    /// exception is counted in <see cref="Pool.CallbackFailures"/> and kept in <see cref="Pool.LastCallbackException"/>.</summary>
    public Action<WorkerContext>? InitCallback { get; set; }

    /// <summary>Runs in each worker thread when it ends (after shutdown), with the worker's context. Exceptions are
    /// handled as for <see cref="InitCallback"/>.</summary>
    public Action<WorkerContext>? FinishCallback { get; set; }

    /// <summary>Called (in the worker thread) with each job that ends <see cref="PoolJobStatus.Done"/> and has no
    /// done callback of its own, instead of adding it to <see cref="Pool.Done"/>. If it throws, the job is
    /// reported in <see cref="Pool.Failed"/> with that exception.</summary>
    public Action<PoolJob>? DoneCallback { get; set; }

    /// <summary>Called (in the worker thread) with each job that ends <see cref="PoolJobStatus.Failed"/>, instead of
    /// adding it to <see cref="Pool.Failed"/>. If it throws, the job is added to <see cref="Pool.Failed"/>.</summary>
    public Action<PoolJob>? FailedCallback { get; set; }

    /// <summary>Whether jobs that end done (without a callback) are kept in <see cref="Pool.Done"/>. Default: true.
    /// Set false when nobody reads the results, so they do not pile up.</summary>
    public bool KeepDone { get; set; } = true;

    /// <summary>The most jobs <see cref="Pool.Done"/> may hold; 0 (the default) for no limit. When it is full, a
    /// worker that finishes a job waits until a consumer takes one out (so a slow consumer slows the pool down rather
    /// than letting the done queue grow without end). A consumer that stops reading then stops the workers:
    /// <see cref="Pool.Shutdown(TimeSpan, bool)"/> with a timeout reports it by returning false.</summary>
    public int DoneMax { get; set; }

    /// <summary>The queue that jobs submitted from outside the workers wait in. Default: a new
    /// <see cref="UnboundedMpmcQueue{T}"/>. Any implementation of the queue contract works, including a bounded
    /// one (then <see cref="Pool.Submit(Action)"/> waits while it is full, and <see cref="Pool.TrySubmit(Action, out long)"/>
    /// returns false) and a user's own lock-based queue. The pool must be its only user.</summary>
    public IMpmcQueue<PoolJob>? Queue { get; set; }

    /// <summary>How idle workers park (see <see cref="FastSemaphore"/>). Default: the fastest backend available
    /// (<see cref="FastSemaphore.DefaultBackend"/>).</summary>
    public ParkingBackend Parking { get; set; } = ParkingBackend.Default;

    /// <summary>The clock of delayed and periodic jobs (<see cref="Pool.SubmitLater(TimeSpan, Action, Action{PoolJob}?)"/>,
    /// <see cref="Pool.SubmitAt(DateTimeOffset, Action, Action{PoolJob}?)"/>, <see cref="Pool.Schedule(TimeSpan, Action, Action{PoolJob}?, ScheduleMode)"/>).
    /// Default: <see cref="TimeProvider.System"/>; tests can pass a fake clock and move it by hand.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Whether the code after an <c>await</c> of a <see cref="Pool.SubmitAsync{TResult}(Func{TResult}, System.Threading.CancellationToken)"/>
    /// task runs inline on the worker that ended the job (as a <see cref="System.Threading.Tasks.Task.Run(Action)"/>
    /// continuation does on the .NET thread pool), instead of being handed to the .NET thread pool. Default: false.
    /// Inline is several times faster for code that awaits one job after another (no thread hop), but that code then
    /// holds the worker until its next await and counts as running inside the pool: a blocking wait there for other
    /// jobs of a one-worker pool never ends, and <see cref="Pool.WaitIdle()"/> there throws.</summary>
    public bool SynchronousContinuations { get; set; }

    /// <summary>The most ended job objects the pool keeps for threads outside it to reuse (48 to 64 bytes each for
    /// plain jobs), and for the jobs handed back with <see cref="Pool.Return(PoolJob)"/>; 0, the default, keeps none
    /// for them.</summary>
    /// <remarks>
    /// <para>A pool with <see cref="KeepDone"/> false and no <see cref="DoneCallback"/> reuses the objects of jobs
    /// that nothing outside it can see: those of <see cref="Pool.Submit(Action)"/> and
    /// <see cref="Pool.TrySubmit(Action, out long)"/>, and those of <see cref="Pool.Submit{TArg}(Action{TArg}, TArg)"/>
    /// submitted from inside the pool, that end done (not failed, not cancelled, without a callback of their own). Each
    /// worker keeps up to 64 of the jobs it ended, and the jobs it submits from inside the pool reuse them, so nested
    /// submissions allocate nothing.</para>
    /// <para>With <see cref="SpareJobs"/> above 0, a worker with 64 ended <c>Submit(Action)</c> jobs hands them to the
    /// pool, and a thread outside the pool takes them for its next submissions; the pool's default queue then also
    /// keeps its emptied segments, for a queue that deep. A steady stream of submissions then allocates nothing,
    /// and the garbage collector no longer copies the jobs still queued. Each reused job's cache lines make one more
    /// trip, from the worker that ended it to the submitter, which asks for them a few jobs ahead so that the trips
    /// overlap its submissions (papers/pool.md measures both). The objects kept are released when the pool shuts
    /// down.</para>
    /// <para>With <see cref="SpareJobs"/> above 0, the jobs that a caller takes from <see cref="Pool.Done"/> or
    /// <see cref="Pool.Failed"/> and hands back with <see cref="Pool.Return(PoolJob)"/> are kept too, up to
    /// <see cref="SpareJobs"/> of each kind (and up to two arrays of 64 per thread that returns or submits them), and the
    /// next <c>Submit</c> of the same kind (an action or a function, with or without an argument, of the same types)
    /// reuses them: results collected through <see cref="Pool.Done"/> then allocate no job objects either.</para>
    /// </remarks>
    public int SpareJobs { get; set; } = Pool.DefaultSpareJobs;

    /// <summary>Deliberate faults, for the systematic tests only.</summary>
    internal Primitives.Internal.Fault Faults { get; set; }

    /// <summary>How many jobs a worker takes from the submission queue at once, at most (the first it runs, the others
    /// go to its own deque, where idle workers steal them). 1 turns batching off; internal, for measurements.</summary>
    internal int InjectionBatch { get; set; } = Pool.DefaultInjectionBatch;

    /// <summary>With the default queue and more than one worker, a worker takes a batch only when another worker took a
    /// job from the queue since its own last one (true), or whenever a job more waits (false); internal, for
    /// measurements.</summary>
    internal bool BatchOnlyWhenShared { get; set; } = true;

    /// <summary>Returned jobs (<see cref="Pool.Return(PoolJob)"/>) sorted by address, an array of 64 at a time, before
    /// they are reused; internal, for measurements (papers/pool.md section 3).</summary>
    internal bool SortKeptJobs { get; set; }

    /// <summary>Steering of the number of working workers by measured throughput (<c>Pool.Steering.cs</c>); internal,
    /// for measurements, off by default.</summary>
    internal bool AdaptiveWorkers { get; set; }

    /// <summary>With <see cref="AdaptiveWorkers"/>, the limit held at this many working workers instead of steered
    /// (0: steered); internal, for measurements.</summary>
    internal int FixedWorkerLimit { get; set; }

    /// <summary>With <see cref="AdaptiveWorkers"/>, the parker of the rests' semaphore (systematic tests: one whose
    /// timeouts the tester chooses); null: the one <see cref="Parking"/> names.</summary>
    internal Primitives.Internal.Parker? RestParker { get; set; }

    /// <summary>A copy (every setting is a value or an immutable reference), so that later changes to the caller's
    /// options do not reach the pool.</summary>
    internal PoolOptions Clone() => (PoolOptions)MemberwiseClone();

    internal PoolOptions Validated()
    {
        if (MaxWorkers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxWorkers), MaxWorkers, "A pool needs at least one worker.");
        }

        ArgumentNullException.ThrowIfNull(WorkerNamePrefix);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        if (DoneMax < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DoneMax), DoneMax, "DoneMax is 0 (no limit) or a positive bound.");
        }

        if (SpareJobs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SpareJobs), SpareJobs, "SpareJobs is 0 (no reuse) or a positive bound.");
        }

        return this;
    }
}

/// <summary>A worker thread's context, handed to the init and finish callbacks and reachable from a running job
/// through <see cref="Pool.CurrentWorker"/>.</summary>
public sealed class WorkerContext
{
    internal WorkerContext(Pool pool, int index, string name)
    {
        Pool = pool;
        Index = index;
        Name = name;
    }

    /// <summary>The pool this worker belongs to.</summary>
    public Pool Pool { get; }

    /// <summary>The worker's index, from 0 to <see cref="PoolOptions.MaxWorkers"/> - 1.</summary>
    public int Index { get; }

    /// <summary>The worker thread's name.</summary>
    public string Name { get; }

    /// <summary>Per-worker state: set it in the init callback (for example a decompressor), use it in jobs.</summary>
    public object? State { get; set; }
}

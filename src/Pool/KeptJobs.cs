using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Threading;
using FastThreadPool.Primitives;

namespace FastThreadPool;

/// <summary>Gives each job type that <see cref="Pool.Return(PoolJob)"/> can keep a small number: its place in a pool's
/// array of <see cref="KeptJobs"/> and in each thread's arrays of them.</summary>
internal static class JobKind
{
    private static int s_count;

    // Atomic for uniqueness only: each type's static initializer takes one number, once; no ordering is paired with it
    // (the number is read back from that type's static readonly field, which the runtime publishes).
    internal static int Next() => Interlocked.Increment(ref s_count) - 1;
}

/// <inheritdoc cref="JobKind"/>
internal static class JobKind<TJob>
    where TJob : PoolJob
{
    internal static readonly int Index = JobKind.Next();
}

/// <summary>
/// One pool's returned job objects of one type (<see cref="Pool.Return(PoolJob)"/>), for that pool's next submissions
/// of the same type. Each thread fills an array of <see cref="Chain"/> jobs with its returns and hands it to the pool,
/// full, with one enqueue; a submitting thread takes a full array with one dequeue and uses it up in order,
/// prefetching a few jobs ahead, and with none handed over it takes back the last jobs it returned itself. Not generic
/// (the pool keeps one per job type, and casts what it takes), so that the code and the thread-static arrays it runs
/// on are not shared between types behind a runtime lookup.
/// </summary>
/// <remarks>New jobs are allocated one after another, so the threads that walk them (the submitter, the workers, the
/// thread that takes the results) read upwards through memory. Returned jobs come back in the order they were
/// reported, which interleaves the workers' batches, and reused round after round they end up scattered: in rounds
/// 151-200 of 100,000 jobs, the next job taken from <c>Done</c> lay just after the one before in 12.6% of cases,
/// against 99.9% for new jobs. Sorting each array by address before handing it on keeps that above 99%, but cost more
/// time than it saved (papers/pool.md section 3; <c>reuse-locality</c> in the benchmark program), so it is off: it
/// stays for measurements (<see cref="PoolOptions.SortKeptJobs"/>).</remarks>
internal sealed class KeptJobs
{
    /// <summary>Jobs per array.</summary>
    internal const int Chain = 64;

    // The calling thread's arrays, by job kind, each for one pool (the last it returned jobs of that kind to or took
    // them from). A thread that moves to another pool drops them: the jobs in them go to the garbage collector.
    [ThreadStatic]
    private static Local?[]? t_locals;

    private sealed class Local
    {
        public KeptJobs? Owner;

        // Being filled by this thread's returns.
        public PoolJob?[] Filling = new PoolJob?[Chain];
        public int Filled;

        // Being used up by this thread's submissions, from Next on (null: none).
        public PoolJob?[]? Taking;
        public int Next;
    }

    private readonly int _kind;
    private readonly bool _sorted;

    // Full arrays handed over by the threads that returned them, and emptied arrays for those threads to fill again.
    private readonly BoundedMpmcQueue<PoolJob?[]> _full;
    private readonly BoundedMpmcQueue<PoolJob?[]> _empty;

    /// <summary>Keeps up to <paramref name="capacity"/> jobs of kind <paramref name="kind"/> in the shared arrays (rounded
    /// up to whole arrays), and up to two arrays more per thread.</summary>
    /// <param name="kind">The job kind (<see cref="JobKind{TJob}"/>).</param>
    /// <param name="capacity">The most jobs kept in the shared arrays.</param>
    /// <param name="sorted">Sort each full array by address before it is handed on (for measurements: see the class
    /// remarks).</param>
    public KeptJobs(int kind, int capacity, bool sorted = false)
    {
        _kind = kind;
        _sorted = sorted;
        int arrays = (int)Math.Min(1 << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, (capacity + Chain - 1) / Chain)));
        _full = new BoundedMpmcQueue<PoolJob?[]>(arrays);
        _empty = new BoundedMpmcQueue<PoolJob?[]>(arrays);
    }

    private Local Mine()
    {
        Local?[]? locals = t_locals;
        int kind = _kind;
        if (locals is not null && (uint)kind < (uint)locals.Length && locals[kind] is { } local && local.Owner == this)
        {
            return local;
        }

        return Adopt();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Local Adopt()
    {
        Local?[] locals = t_locals ?? new Local?[Math.Max(8, _kind + 1)];
        if (_kind >= locals.Length)
        {
            Array.Resize(ref locals, Math.Max(_kind + 1, locals.Length * 2));
        }

        t_locals = locals;
        Local local = locals[_kind] ??= new Local();
        local.Owner = this;
        Array.Clear(local.Filling);
        local.Filled = 0;
        local.Taking = null;
        return local;
    }

    /// <summary>A kept job, cleared, or null if there is none at hand.</summary>
    public PoolJob? Take()
    {
        Local local = Mine();
        PoolJob?[]? jobs = local.Taking;
        int next = local.Next;
        if (jobs is null || next == Chain)
        {
            jobs = TakeArray(local);
            if (jobs is null)
            {
                return TakeOwn(local);
            }

            next = 0;
        }

        local.Next = next + 1;
        PoolJob? job = jobs[next];
        jobs[next] = null; // nothing reached only through this array stays alive
        if (Sse.IsSupported && next + PrefetchDistance < Chain)
        {
            // The submitter only stores to the job it takes, but those stores wait behind the submission's locked
            // instructions for lines that, in a stream deeper than the caches, come from memory or another core: ask
            // for the lines of a job a few submissions ahead (as Pool.TakeSpare does).
            PoolJob.PrefetchLines(jobs[next + PrefetchDistance]!, LastByte);
        }

        return job;
    }

    /// <summary>With no array handed over: the last job this thread returned itself, if any. A thread that submits a
    /// few jobs at a time and takes their results back reuses them at once, still in its cache.</summary>
    private static PoolJob? TakeOwn(Local local)
    {
        int n = local.Filled;
        if (n == 0)
        {
            return null;
        }

        local.Filled = --n;
        PoolJob? own = local.Filling[n];
        local.Filling[n] = null;
        return own;
    }

    private PoolJob?[]? TakeArray(Local local)
    {
        if (local.Taking is { } used)
        {
            _empty.TryEnqueue(used); // its slots were cleared as they were taken
            local.Taking = null;
        }

        // Acquire: pairs with the release of the enqueue in HandOver, so that the jobs' cleared fields are seen.
        if (!_full.TryDequeue(out PoolJob?[]? jobs))
        {
            return null;
        }

        local.Taking = jobs;
        if (Sse.IsSupported)
        {
            for (int i = 0; i < PrefetchDistance; i++)
            {
                PoolJob.PrefetchLines(jobs[i]!, LastByte);
            }
        }

        return jobs;
    }

    /// <summary>How many jobs ahead of the one taken <see cref="Take"/> prefetches.</summary>
    private const int PrefetchDistance = 6;

    /// <summary>The last byte prefetched, from a job's first field: a 64-byte job (a function with an argument and a
    /// result of a word each) spans its header at -8 to +55.</summary>
    private const int LastByte = 55;

    /// <summary>Keeps a cleared job; false (the job is left to the garbage collector) when every shared array is
    /// full.</summary>
    public bool Keep(PoolJob job)
    {
        Local local = Mine();
        int n = local.Filled;

        // Stored without the covariant store's type check: the array is exactly a PoolJob?[] (made here), and n is
        // below its length (Filled stays below Chain).
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(local.Filling), n) = job;
        if (++n < Chain)
        {
            local.Filled = n;
            return true;
        }

        return HandOver(local);
    }

    // A full array: hand it over (release: the thread that dequeues it sees its jobs and their cleared fields) and
    // start another. If the pool has no room for it, its jobs are dropped.
    private bool HandOver(Local local)
    {
        local.Filled = 0;
        if (_sorted)
        {
            SortByAddress(local.Filling);
        }

        if (!_full.TryEnqueue(local.Filling))
        {
            Array.Clear(local.Filling);
            return false;
        }

        local.Filling = _empty.TryDequeue(out PoolJob?[]? empty) ? empty : new PoolJob?[Chain];
        return true;
    }

    /// <summary>
    /// Sorts a full array of jobs by where they lie in memory, lowest address first (for measurements: see the class
    /// remarks). An insertion sort, which ends whatever the addresses it reads: the collector may move objects between
    /// two reads, which gives a worse order, never a wrong result.
    /// </summary>
    private static void SortByAddress(PoolJob?[] jobs)
    {
        ref PoolJob? first = ref MemoryMarshal.GetArrayDataReference(jobs);
        for (int i = 1; i < Chain; i++)
        {
            PoolJob? job = Unsafe.Add(ref first, i);
            nint at = Address(job);
            int j = i - 1;
            while (j >= 0 && Address(Unsafe.Add(ref first, j)) > at)
            {
                Unsafe.Add(ref first, j + 1) = Unsafe.Add(ref first, j);
                j--;
            }

            Unsafe.Add(ref first, j + 1) = job;
        }
    }

    private static nint Address(PoolJob? job) => Unsafe.As<PoolJob?, nint>(ref job);

    /// <summary>Lets go of the shared arrays (threads keep theirs until they use another pool's store).</summary>
    public void Drop()
    {
        while (_full.TryDequeue(out _))
        {
        }

        while (_empty.TryDequeue(out _))
        {
        }
    }
}

using System.Threading;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool;

/// <summary>
/// Finds a queued job by id for <see cref="Pool.Cancel(long)"/> in O(1) without a lock. Ids are consecutive, so
/// jobs are kept in chunks of <see cref="ChunkSize"/> ids, and the chunks in a ring of <see cref="RingSize"/>
/// slots. A chunk is installed by the first submitter that needs it (one CAS per chunk) and released when every id
/// in it has ended. A chunk can only be installed when its slot is free, which fails only if more than
/// <c>ChunkSize * RingSize</c> (4,194,304) newer ids were handed out while a job of the old chunk is still pending;
/// such a job is then not registered, and <see cref="Pool.Cancel(long)"/> returns false for it.
/// </summary>
internal sealed class JobTable
{
    private const int ChunkBits = 10;
    private const int ChunkSize = 1 << ChunkBits;
    private const int RingBits = 12;
    private const int RingSize = 1 << RingBits;

    private sealed class Chunk(long number)
    {
        public readonly long Number = number;
        public readonly PoolJob?[] Jobs = new PoolJob?[ChunkSize];

        // Head: ids of this chunk not yet ended (id 0 is never handed out: ids start at 1). Padded: workers decrement
        // it as jobs end, while submitters read Number and Jobs from this object's first cache line.
        public PaddedHeadAndTail Remaining = new() { Head = number == 0 ? ChunkSize - 1 : ChunkSize };
    }

    private readonly Chunk?[] _ring = new Chunk?[RingSize];

    /// <summary>Registers a job; false if its chunk could not be installed (see the class remarks).</summary>
    public bool Add(PoolJob job)
    {
        long number = job.Id >> ChunkBits;
        ref Chunk? slot = ref _ring[number & (RingSize - 1)];
        Chunk? chunk = Volatile.Read(ref slot);
        while (chunk is null || chunk.Number != number)
        {
            if (chunk is not null)
            {
                // The slot holds another chunk whose jobs have not all ended (an older one, or, for an id more than
                // the ring behind, a newer one): leave it.
                return false;
            }

            // One installer per chunk: the CAS publishes the chunk (a full fence), losers use the winner's.
            var fresh = new Chunk(number);
            chunk = Interlocked.CompareExchange(ref slot, fresh, null) ?? fresh;
        }

        // Release: a canceller whose acquire read in Find sees the job sees it fully constructed. Submit returns the
        // id only after this store, so a Cancel of that id (by any thread that learned it) finds the job.
        Volatile.Write(ref chunk.Jobs[job.Id & (ChunkSize - 1)], job);
        return true;
    }

    /// <summary>The registered job with this id, if its chunk is still held (the job may have ended).</summary>
    public PoolJob? Find(long id)
    {
        if (id < 0)
        {
            return null;
        }

        long number = id >> ChunkBits;
        Chunk? chunk = Volatile.Read(ref _ring[number & (RingSize - 1)]);
        return chunk is not null && chunk.Number == number ? Volatile.Read(ref chunk.Jobs[id & (ChunkSize - 1)]) : null;
    }

    /// <summary>Forgets an id that has ended (its job, or a submission that was refused after the id was taken).</summary>
    public void Remove(long id)
    {
        long number = id >> ChunkBits;
        ref Chunk? slot = ref _ring[number & (RingSize - 1)];
        Chunk? chunk = Volatile.Read(ref slot);
        if (chunk is null || chunk.Number != number)
        {
            return;
        }

        // The slot keeps the job (Cancel then fails on its state): clearing it would write to a cache line that the
        // submitters are filling. The whole chunk goes once every id in it has ended.
        // The last id of the chunk to end frees its slot (only if it still holds this chunk).
        if (Interlocked.Decrement(ref chunk.Remaining.Head) == 0)
        {
            Interlocked.CompareExchange(ref slot, null, chunk);
        }
    }
}

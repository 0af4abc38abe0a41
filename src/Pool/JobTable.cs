using System;
using System.Numerics;
using System.Threading;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool;

/// <summary>
/// Finds a queued job by id for <see cref="Pool.Cancel(long)"/> in O(1) without a lock. Ids are consecutive, so
/// jobs are kept in chunks of <see cref="ChunkSize"/> ids, and the chunks in a ring of <see cref="RingSize"/>
/// slots. A chunk is installed by the first submitter that needs it (one CAS per chunk) and released when every id
/// in it has ended. A chunk can only be installed when its slot is free, which fails only if more than
/// <c>ChunkSize * RingSize</c> (4,194,304) newer ids were handed out while a job of the old chunk is still pending;
/// such a job is then not registered, and <see cref="Pool.Cancel(long)"/> returns false for it. Released chunks are
/// cleared and kept (at least <see cref="MinSpareChunks"/>, more for a pool that keeps spare jobs) for the next chunks
/// to be installed, so a steady stream of jobs allocates none. A reader that raced a chunk's release and reuse may find another id's job, or none, in it: a job is
/// only ever cancelled by its own id (see <see cref="PoolJob.TryRequestCancel(long)"/>).
/// </summary>
internal sealed class JobTable
{
    private const int ChunkBits = 10;
    private const int ChunkSize = 1 << ChunkBits;
    private const int RingBits = 12;
    private const int RingSize = 1 << RingBits;

    /// <summary>The fewest released chunks kept for reuse (8 KiB each).</summary>
    internal const int MinSpareChunks = 8;

    private sealed class Chunk
    {
        // Written only while the chunk is in no ring slot (before the CAS that installs it).
        public long Number;
        public readonly PoolJob?[] Jobs = new PoolJob?[ChunkSize];

        // Head: ids of this chunk not yet ended (id 0 is never handed out: ids start at 1). Padded: workers decrement
        // it as jobs end, while submitters read Number and Jobs from this object's first cache line.
        public PaddedHeadAndTail Remaining;

        public Chunk(long number) => Reset(number);

        public void Reset(long number)
        {
            Number = number;
            Remaining.Head = number == 0 ? ChunkSize - 1 : ChunkSize;
        }
    }

    private readonly Chunk?[] _ring = new Chunk?[RingSize];
    private readonly BoundedMpmcQueue<Chunk> _spares;

    /// <summary>A table that keeps released chunks for as many ids as <paramref name="spareIds"/> (at least
    /// <see cref="MinSpareChunks"/> chunks).</summary>
    public JobTable(int spareIds = 0) =>
        _spares = new BoundedMpmcQueue<Chunk>((int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(MinSpareChunks, Math.Min(RingSize, spareIds / ChunkSize))));

    /// <summary>The chunk number of an id: ids that share it are counted down together (see <see cref="Remove(long, int)"/>).</summary>
    public static long ChunkOf(long id) => id >> ChunkBits;

    /// <summary>Registers a job under its id; false if its chunk could not be installed (see the class remarks).</summary>
    public bool Add(PoolJob job, long id)
    {
        Chunk? chunk = Install(id >> ChunkBits);
        if (chunk is null)
        {
            return false;
        }

        // Release: a canceller whose acquire read in Find sees the job sees it fully constructed. Submit returns the
        // id only after this store, so a Cancel of that id (by any thread that learned it) finds the job.
        // Addressed without the array's checks: the index is masked to the chunk's fixed length.
        Volatile.Write(ref Unchecked.At(chunk.Jobs, (nint)(id & (ChunkSize - 1))), job);
        return true;
    }

    /// <summary>The chunk with this number, installed if its slot is free; null if the slot holds another chunk.</summary>
    private Chunk? Install(long number)
    {
        ref Chunk? slot = ref _ring[number & (RingSize - 1)];
        Chunk? chunk = Volatile.Read(ref slot);
        while (chunk is null || chunk.Number != number)
        {
            if (chunk is not null)
            {
                // The slot holds another chunk whose ids have not all ended (an older one, or, for an id more than
                // the ring behind, a newer one): leave it.
                return null;
            }

            // One installer per chunk: the CAS publishes the chunk (a full fence), losers use the winner's and give
            // theirs back.
            Chunk fresh;
            // Acquire: pairs with the release of the enqueue in Remove, so the cleared slots are seen cleared.
            if (_spares.TryDequeue(out Chunk? spare))
            {
                spare.Reset(number);
                fresh = spare;
            }
            else
            {
                fresh = new Chunk(number);
            }

            chunk = Interlocked.CompareExchange(ref slot, fresh, null);
            if (chunk is null)
            {
                return fresh;
            }

            _spares.TryEnqueue(fresh);
        }

        return chunk;
    }

    /// <summary>Chunks installed now (for tests: once every id handed out has ended, none is left).</summary>
    public int LiveChunks
    {
        get
        {
            int n = 0;
            for (int i = 0; i < RingSize; i++)
            {
                n += Volatile.Read(ref _ring[i]) is null ? 0 : 1;
            }

            return n;
        }
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
    public void Remove(long id) => Remove(id >> ChunkBits, 1);

    /// <summary>Forgets <paramref name="count"/> ended ids of chunk <paramref name="number"/> at once: a worker counts
    /// the ids it ends per chunk and hands them over when it moves to another chunk or goes idle, so that workers do
    /// not all decrement one shared counter per job.</summary>
    public void Remove(long number, int count)
    {
        ref Chunk? slot = ref _ring[number & (RingSize - 1)];
        Chunk? chunk = Volatile.Read(ref slot);
        if (chunk is null || chunk.Number != number)
        {
            return;
        }

        // The slot keeps the job (Cancel then fails on its state): clearing it would write to a cache line that the
        // submitters are filling. The whole chunk goes once every id in it has ended: the last count to arrive frees
        // its slot (only if it still holds this chunk).
        if (Interlocked.Add(ref chunk.Remaining.Head, -count) == 0 && Interlocked.CompareExchange(ref slot, null, chunk) == chunk)
        {
            // Cleared before reuse, so that a kept chunk holds no job (nor the user's objects that a job holds).
            Array.Clear(chunk.Jobs);
            _spares.TryEnqueue(chunk);
        }
    }

    /// <summary>Forgets ids that were reserved and will never be handed out (the rest of a worker's id block when it
    /// goes idle or ends). Their chunk is installed if need be, so that it still counts them down.</summary>
    public void RemoveUnused(long first, long last)
    {
        while (first <= last)
        {
            long number = first >> ChunkBits;
            long chunkLast = Math.Min(last, ((number + 1) << ChunkBits) - 1);
            if (Install(number) is not null)
            {
                Remove(number, (int)(chunkLast - first + 1));
            }

            first = chunkLast + 1;
        }
    }
}

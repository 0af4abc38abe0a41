using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool.Primitives;

/// <summary>
/// An unbounded multi-producer, multi-consumer FIFO queue of linked array segments. Producers claim slots with a
/// fetch-and-add, so they never retry against each other; segments are recycled, so a queue whose consumers keep
/// up allocates nothing.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// <para>Algorithm and sources:</para>
/// <list type="number">
/// <item><description>P. Ramalhete, A. Correia, "FAAArrayQueue" (2016): a Michael-Scott list of array nodes whose
/// enqueuers claim an index with fetch-and-add. Here enqueuers use FAA as there; dequeuers claim with a CAS on the
/// segment's dequeue index only after seeing the slot published, as in D. Vyukov's bounded queue, so a dequeuer
/// never poisons a slot and an enqueue costs one atomic read-modify-write.</description></item>
/// <item><description>M. Michael, M. Scott, PODC 1996: the head and tail of the segment list.</description></item>
/// <item><description>A. Morrison, Y. Afek, LCRQ (PPoPP 2013) and R. Nikolaev, SCQ (DISC 2019): FAA instead of a
/// CAS loop is what keeps a queue from collapsing under contention. Both need either a double-width CAS (absent in
/// .NET) or an indirection through a second ring of indices; this design keeps one FAA per enqueue instead.</description></item>
/// </list>
/// <para>Recycling. Each segment has a <em>life</em> number, kept with each of its two indices in one 64-bit word
/// (<c>life &lt;&lt; 32 | count</c>). A thread that read a segment pointer in one life and acts on it in a later one
/// sees the life change in the word its atomic operation returns (or fails on), and starts over; a producer whose
/// fetch-and-add landed in a later life writes a <c>Skip</c> mark into the slot it was handed, which consumers step
/// over. A segment is recycled only after every slot of its life has been published and consumed; a consumer reads
/// the item before its claiming CAS, so nobody reads a slot after it is recycled. A slot's state is marked with the
/// life it was written in, so recycling clears only items that hold references and nothing else. One spare segment is
/// kept (more with the two-argument constructor).</para>
/// <para>Linearization points: a successful enqueue at the release store of <c>Full</c> into its slot (or, for the
/// producer that opens a new segment, at the exchange that links it); a successful dequeue at its claiming CAS; a
/// failed dequeue at its read of the enqueue index (or of <c>Next</c>) that shows every claimed ticket consumed.</para>
/// <para>Progress: producers are lock-free among themselves within a segment; as in <c>ConcurrentQueue</c>, a
/// consumer may wait for a producer that holds the next ticket and has not yet written it, and producers that
/// overflow a segment wait for the one producer that links the next segment.</para>
/// <para>Standing back: a consumer that has caught up with a producer (its slot, the first of a group of four, is
/// published, the group's last is not) polls the group's last slot up to four times, a pause between reads, so that the
/// producer fills the group before the consumer reads it, rather than the two passing one cache line back and forth
/// for every item. A wait that nobody answers switches the waits off for the next 4,096 dequeues of the segment's
/// current life, so a lone item or one thread's enqueue-dequeue pairs rarely pay for one. In segments of 1,024 slots
/// or more (the default), a consumer whose group was filled (a producer is at work) then waits, up to about 13
/// microseconds, for its segment's last slot, so that it reads lines the producer finished long before. If that wait
/// ends unanswered because the producer stopped, no consumer makes it again for the next four segments, then eight,
/// and so on up to 1,024, until one is answered. The price is latency: where each item's latency matters more than
/// throughput, use segments of fewer than 1,024 slots.</para>
/// <para>Cooling: while a producer streams to a consumer (the last such wait was answered) and the consumers are
/// within a segment of it, an emptied segment is reused only after 1 MiB of other emptied segments (64 of the default
/// size, at most 64), so that the producer writes lines that have left the consumers' caches rather than lines a
/// consumer has just read; with a backlog, spares are reused at once, as when not streaming. So a queue of segments of
/// 1,024 slots or more keeps up to 128 emptied segments (2 MiB of 16-byte slots) besides its spare.</para>
/// </remarks>
public sealed class UnboundedMpmcQueue<T> : IMpmcQueue<T>
{
    /// <summary>The default number of slots per segment.</summary>
    public const int DefaultSegmentSize = 1024;

    private SegmentedQueue<T, NoHooks> _queue;

    /// <summary>Creates an empty queue with segments of <see cref="DefaultSegmentSize"/> slots.</summary>
    public UnboundedMpmcQueue()
        : this(DefaultSegmentSize)
    {
    }

    /// <summary>Creates an empty queue with segments of <paramref name="segmentSize"/> slots.</summary>
    /// <param name="segmentSize">Slots per segment, from 2 to 2^20. Larger segments link less often and hold more
    /// memory (two segments' worth when consumers keep up).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="segmentSize"/> is less than 2 or greater than
    /// 2^20.</exception>
    public UnboundedMpmcQueue(int segmentSize)
        : this(segmentSize, 1)
    {
    }

    /// <summary>Creates an empty queue with segments of <paramref name="segmentSize"/> slots that keeps up to
    /// <paramref name="spareSegments"/> emptied segments for reuse. A queue that fills deep and drains again (bursts)
    /// then allocates nothing once it has reached its deepest burst within that bound; the price is the memory of the
    /// segments kept.</summary>
    /// <param name="segmentSize">Slots per segment, from 2 to 2^20.</param>
    /// <param name="spareSegments">Emptied segments kept for reuse, from 1 (the default of the other constructors)
    /// to 2^20 (above 1, rounded up to one plus a power of two). Segments of 1,024 slots or more keep at least one
    /// plus twice the cooling count (see the remarks on cooling).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="segmentSize"/> is less than 2 or greater than
    /// 2^20, or <paramref name="spareSegments"/> is less than 1 or greater than 2^20.</exception>
    public UnboundedMpmcQueue(int segmentSize, int spareSegments)
        : this(segmentSize, spareSegments, farWait: null)
    {
    }

    /// <summary>As <see cref="UnboundedMpmcQueue{T}(int, int)"/>, with the consumers' second wait (for their segment's
    /// last slot) given or withheld whatever the segment size, and, with it, the number of segments a streaming queue's
    /// emptied segments wait behind before reuse (-1: the default for the segment's bytes): for tests of small
    /// segments.</summary>
    internal UnboundedMpmcQueue(int segmentSize, int spareSegments, bool? farWait, int cooling = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentSize, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(segmentSize, 1 << 20);
        ArgumentOutOfRangeException.ThrowIfLessThan(spareSegments, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(spareSegments, 1 << 20);
        _queue = new SegmentedQueue<T, NoHooks>(segmentSize, spareSegments, farWait, cooling);
    }

    /// <inheritdoc/>
    public int Count => _queue.Count;

    /// <inheritdoc/>
    public bool IsEmpty => _queue.IsEmpty;

    /// <inheritdoc/>
    public int Capacity => IMpmcQueue<T>.Unbounded;

    /// <inheritdoc/>
    public bool IsBounded => false;

    /// <summary>Adds an item at the tail. Always succeeds.</summary>
    /// <param name="item">The item to add.</param>
    /// <returns>Always <see langword="true"/>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(T item)
    {
        _queue.Enqueue(item);
        return true;
    }

    /// <summary>Adds an item at the tail.</summary>
    /// <param name="item">The item to add.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enqueue(T item) => _queue.Enqueue(item);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue([MaybeNullWhen(false)] out T item) => _queue.TryDequeue(out item);

    /// <summary>As <see cref="TryDequeue(out T)"/>, and tells whether the item taken came right after the one this
    /// caller took last (no other consumer took one in between): see <see cref="DequeueMark"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryDequeue([MaybeNullWhen(false)] out T item, ref DequeueMark mark) => _queue.TryDequeue(out item, ref mark);

    /// <summary>Takes up to <paramref name="into"/>.Length items with one claim (see the segmented queue's
    /// <c>TryDequeueMany</c>); returns how many, in queue order. 0 does not mean empty: the caller falls back to
    /// <see cref="TryDequeue(out T)"/>.</summary>
    internal int TryDequeueMany(Span<T> into, ref DequeueMark mark) => _queue.TryDequeueMany(into, ref mark);

    /// <summary>Segments allocated since construction (the first one included); for tests and diagnostics.</summary>
    internal long SegmentsAllocated => _queue.SegmentsAllocated;

    /// <summary>The head segment's quiet note: the dequeue word before which its consumers do not stand back (a
    /// diagnostic for tests).</summary>
    internal long HeadQuietUntil => _queue.HeadQuietUntil;

    /// <summary>Whether consumers make the second wait, for their segment's last slot (segments of
    /// <see cref="StandingBack.FarWaitSegment"/> slots or more).</summary>
    internal bool WaitsForSegmentsEnd => _queue.WaitsForSegmentsEnd;

    /// <summary>How many times the head has moved to a next segment (a diagnostic).</summary>
    internal long HeadMoves => _queue.HeadMoves;

    /// <summary>How many emptied segments a streaming queue's reuse of a segment waits behind (0: no cooling).</summary>
    internal int Cooling => _queue.Cooling;

    /// <summary>Whether the queue streams: the last second wait that ended was answered (a diagnostic).</summary>
    internal bool Streaming => _queue.Streaming;

    /// <summary>The head move before which no consumer makes the second wait (a diagnostic).</summary>
    internal long FarNote => _queue.FarNote;

    /// <summary>How many head moves the next unanswered second wait keeps consumers from another (a diagnostic).</summary>
    internal int FarSpan => _queue.FarSpan;

    /// <summary>
    /// A cheap look for pollers: false when the next slot at the head holds nothing published. Unlike
    /// <see cref="IsEmpty"/> and <see cref="TryDequeue(out T)"/> it never reads the enqueue index, whose cache line the
    /// producers write on every enqueue. Not linearizable (false while an enqueue is in flight); callers must
    /// confirm "empty" with <see cref="TryDequeue(out T)"/> before acting on it.
    /// </summary>
    internal bool MayHaveItems => _queue.MayHaveItems;
}

/// <summary>
/// A consumer's note of where its last dequeue was (see <see cref="UnboundedMpmcQueue{T}"/>'s internal
/// <c>TryDequeue(out T, ref DequeueMark)</c>): the pool's workers take a batch of jobs only when other workers take
/// from the queue too, and single jobs while they are its only consumer.
/// </summary>
internal struct DequeueMark
{
    /// <summary>The segment of the last dequeue (compared by identity only).</summary>
    public object? Segment;

    /// <summary>The dequeue word after the last dequeue.</summary>
    public long Word;

    /// <summary>Whether the last dequeue came right after the one before it.</summary>
    public bool Consecutive;

    /// <summary>Notes a dequeue that claimed <paramref name="count"/> items of <paramref name="segment"/> from dequeue
    /// word <paramref name="word"/> on.</summary>
    public void Took(object segment, long word, int count)
    {
        Consecutive = ReferenceEquals(Segment, segment) && Word == word;
        Segment = segment;
        Word = word + count;
    }

    /// <summary>Notes a dequeue that cannot tell (the slow path, or nothing claimed).</summary>
    public void Lost()
    {
        Consecutive = false;
        Segment = null;
    }
}

/// <summary>
/// The algorithm of <see cref="UnboundedMpmcQueue{T}"/>, generic over <typeparamref name="THooks"/> so that the
/// systematic tests run this exact code (see <c>Internal/Hooks.cs</c>). A mutable struct: keep it in a field.
/// </summary>
internal struct SegmentedQueue<T, THooks> where THooks : struct, IHooks
{
    // A slot's state is its kind (Empty, Full or Skip) in the low two bits and the life of its segment it was written
    // in above them (the life's low 30 bits): see Mark. A slot is Full or Skip only for the life it was written in, so
    // a recycled segment needs no clearing of its states: every slot of a life is written in that life (every ticket
    // below the segment's size is handed out and ends as Full or Skip before the life can end), so what a slot holds
    // when the next life starts is a mark of the life just before, which differs from every mark of the new one.
    internal const int Empty = 0;
    internal const int Full = 1;
    internal const int Skip = 2;

    internal struct Slot
    {
        public T Item;
        public int State;
    }

    internal sealed class Segment
    {
        public readonly Slot[] Slots;

        // Head = the dequeue word, Tail = the enqueue word; each is life << 32 | count, on its own cache lines.
        public PaddedHeadAndTail Words;
        public Segment? Next;

        public Segment(int size) => Slots = new Slot[size];
    }

    // Head and tail segment pointers are read by every operation but written once per segment, so they are not
    // padded: the line they share stays in the shared state almost always. The contended words are the per-segment
    // indices, which are padded.
    private Segment _head;
    private Segment _tail;
    private Segment? _spare;

    // More spares, beyond the one in _spare (null when only one is kept). A segment is safe to keep for any time: its
    // life count, not where it waits, is what turns late threads of its last life away.
    private readonly BoundedMpmcQueue<Segment>? _moreSpares;
    private readonly int _size;
    private long _segmentsAllocated;

    // The second wait's note (see ClaimAfterStandBack), counted in segments the head has left: no consumer waits for a
    // segment's last slot while _headMoves < _farNote. _farSpan is how many segments the next unanswered wait keeps
    // them from it: Quiet's worth at first, doubled by each wait that ends unanswered (up to FarSpanMax), reset by each
    // that is answered. _tailMoves counts the segments the tail has left; _tailMoves - _headMoves is how many segments
    // the consumers are behind (for cooling). Plain fields beside _head, written once per segment (the move counts, by
    // the consumer that moves the head and the producer that links, each before its release store of _head or _tail)
    // or when a second wait ends: hints, as the segments' own notes.
    private long _headMoves;
    private long _tailMoves;
    private long _farNote;
    private int _farSpan;
    private readonly bool _farWait;

    // StandingBack.FarProgress, or an eighth of a smaller segment (given the wait in tests), at least 1.
    private readonly int _farProgress;

    // Cooling (see Recycle): while the queue streams (the last second wait that ended was answered, or ended with the
    // producer still going), emptied segments go to the back of _moreSpares, and a producer takes the front one only
    // once _cooling segments are waiting, so that it writes lines that have left the consumers' caches. A plain flag,
    // written when a second wait ends: a hint.
    private readonly int _cooling;
    private bool _streaming;

    public SegmentedQueue(int segmentSize, int spareSegments = 1, bool? farWait = null, int cooling = -1)
    {
        _size = segmentSize;
        _farWait = farWait ?? segmentSize >= StandingBack.FarWaitSegment;
        _farSpan = FarSpanFirst;
        _farProgress = Math.Clamp(segmentSize / 8, 1, StandingBack.FarProgress);
        _cooling = !_farWait ? 0 : cooling >= 0 ? cooling : CoolingFor(segmentSize);
        int moreSpares = Math.Max(spareSegments - 1, 2 * _cooling);
        _moreSpares = moreSpares > 0 ? new BoundedMpmcQueue<Segment>(moreSpares) : null;
        var first = new Segment(segmentSize);
        _head = first;
        _tail = first;
        _segmentsAllocated = 1;
    }

    public readonly long SegmentsAllocated => Volatile.Read(ref Unsafe.AsRef(in _segmentsAllocated));

    // Diagnostics for tests: the reads order nothing.
    public readonly long HeadMoves => Volatile.Read(ref Unsafe.AsRef(in _headMoves));

    public readonly long FarNote => Volatile.Read(ref Unsafe.AsRef(in _farNote));

    public readonly int FarSpan => Volatile.Read(ref Unsafe.AsRef(in _farSpan));

    public readonly bool WaitsForSegmentsEnd => _farWait;

    public readonly int Cooling => _cooling;

    public readonly bool Streaming => Volatile.Read(ref Unsafe.AsRef(in _streaming));

    /// <summary>How many emptied segments a streaming queue's next reuse waits behind: those of
    /// <see cref="StandingBack.CoolingBytes"/> (a core's second-level cache, rounded up), from 1 to
    /// <see cref="StandingBack.CoolingMax"/>.</summary>
    private static int CoolingFor(int segmentSize)
    {
        long bytes = (long)segmentSize * Unsafe.SizeOf<Slot>();
        return (int)Math.Clamp((StandingBack.CoolingBytes + bytes - 1) / bytes, 1, StandingBack.CoolingMax);
    }

    /// <summary>The segments an unanswered second wait first keeps consumers from another: those of
    /// <see cref="StandingBack.Quiet"/> positions, at least one.</summary>
    private readonly int FarSpanFirst => Math.Max(1, StandingBack.Quiet / _size);

    /// <summary>The most segments an unanswered second wait keeps consumers from another: those of
    /// <see cref="StandingBack.FarQuietMax"/> positions, at least one.</summary>
    private readonly int FarSpanMax => Math.Max(1, StandingBack.FarQuietMax / _size);

    // A diagnostic for tests: the reads order nothing.
    public readonly long HeadQuietUntil => Volatile.Read(ref Volatile.Read(ref Unsafe.AsRef(in _head)).Words.HeadNote);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Life(long word) => (uint)((ulong)word >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Ticket(long word) => word & 0xFFFF_FFFFL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Pack(uint life, long count) => (long)((ulong)life << 32) | count;

    /// <summary>The state a slot holds once it is <paramref name="kind"/> (Full or Skip) in life <paramref name="life"/>.
    /// Marks of consecutive lives never coincide (they differ by 4 modulo 2^32 before the kinds, which are below 4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Mark(uint life, int kind) => THooks.Faults.Has(Fault.MarkWithoutLife) ? kind : (int)((life << 2) | (uint)kind);

    /// <summary>The fast path, inlined into the caller: one fetch-and-add on the tail segment, the slot written. Every
    /// other case (a tail segment that is full or changed under us, a ticket of a later life) goes out of line, so
    /// that the loop and its <see cref="SpinWait"/> do not burden the caller's registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enqueue(T item)
    {
        Segment seg = Volatile.Read(ref _tail);
        long observed = Volatile.Read(ref seg.Words.Tail);

        // Re-reading the tail after the word proves that the life we read is one in which seg is linked: seg cannot be
        // recycled while it is the tail, and if it was recycled and re-linked in between, the life we read is older
        // than the current one and the FAA tells us so.
        if (Volatile.Read(ref _tail) == seg && Ticket(observed) < _size)
        {
            // The FAA is the only read-modify-write of an enqueue. It returns the new word; our ticket is one less.
            // Without a producer between our read and our FAA, the word is the one read plus one: the ticket and the
            // life are the ones read, so the slot's address is known before the FAA returns and the writes need not
            // wait for it (ticket < size, checked above, so the count cannot carry into the life). Any other word,
            // a contended ticket of this life included, is decided by Claimed.
            ref Slot slot = ref Unchecked.At(seg.Slots, (nint)Ticket(observed));
            long word = Interlocked.Increment(ref seg.Words.Tail);
            if (word == observed + 1 || THooks.Faults.Has(Fault.EnqueueTrustsWordRead))
            {
                Publish(ref slot, item, Life(observed));
                return;
            }

            if (Claimed(seg, observed, word, item))
            {
                return;
            }
        }

        EnqueueSlow(item);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Publish(ref Slot slot, T item, uint life)
    {
        THooks.Interleave();
        slot.Item = item;

        // Release: publishes the item to the consumer whose acquire load of State reads Full (of this life).
        // Linearization point of the enqueue.
        Volatile.Write(ref slot.State, Mark(life, Full));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnqueueSlow(T item)
    {
        int size = _size;
        SpinWait spinner = default;
        while (true)
        {
            Segment seg = Volatile.Read(ref _tail);
            long observed = Volatile.Read(ref seg.Words.Tail);
            if (Volatile.Read(ref _tail) != seg)
            {
                continue; // as in Enqueue
            }

            if (Ticket(observed) > size)
            {
                // Full, and ticket `size` is taken: its holder is linking the next segment. Wait for the tail to move
                // rather than inflate the count. (At exactly `size` the next FAA hands out that ticket, so go on.)
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            long word = Interlocked.Increment(ref seg.Words.Tail);
            if (Claimed(seg, observed, word, item))
            {
                return;
            }

            // Another producer got ticket `size` first and is linking, or our ticket was of a later life.
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Acts on the ticket that an FAA on <paramref name="seg"/>'s enqueue word handed out (the word it
    /// returned is <paramref name="word"/>, the one read before it <paramref name="observed"/>). True if the item was
    /// enqueued; false if the caller must start over.</summary>
    private bool Claimed(Segment seg, long observed, long word, T item)
    {
        int size = _size;
        long t = Ticket(word) - 1;
        if (t == size)
        {
            // Exactly one producer per life gets ticket `size`: it alone links the next segment, so no CAS is needed
            // on Next or on the tail, and seg cannot be recycled before Next is set. If the FAA landed in a later life
            // than the one we read (seg was renewed meanwhile), seg may not be linked yet in that life: wait until it
            // is the tail, which it then stays until we link.
            SpinWait spinner = default;
            while (Volatile.Read(ref _tail) != seg)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            Segment next = RenewOrAllocate(item);

            // Linearization point of this enqueue. An exchange, not a release store: a consumer that finds seg
            // consumed and Next null answers "empty", so Next must be visible before this enqueue returns. A plain
            // store can sit in this core's store buffer after the call returns, and a consumer that starts later by
            // any clock would still read null. (Other enqueues are safe with a release store because their FAA, a
            // full fence, already shows the ticket taken and consumers wait for the slot.) Once per segment. It also
            // releases the renewal writes (item, state, words) to whoever reaches `next`.
            Interlocked.Exchange(ref seg.Next, next);
            _tailMoves++; // a hint, as _headMoves: the next linker reads _tail == next (acquire) before its own
            Volatile.Write(ref _tail, next);
            return true;
        }

        if (Life(word) != Life(observed))
        {
            // seg was recycled and renewed after we read it: the ticket belongs to the new life. Consumers of that life
            // wait for every ticket below the count, so mark this one as skipped, then start over.
            if (t < size)
            {
                THooks.Interleave();
                Volatile.Write(ref seg.Slots[t].State, Mark(Life(word), Skip));
            }

            return false;
        }

        if (t < size)
        {
            Publish(ref seg.Slots[t], item, Life(word));
            return true;
        }

        // t > size: another producer got ticket `size` first and is linking.
        return false;
    }

    /// <summary>Prepares a segment holding <paramref name="item"/> in slot 0, ready to be linked.</summary>
    private Segment RenewOrAllocate(T item)
    {
        Segment? seg = null;
        if (_streaming && _cooling > 0 && _tailMoves - _headMoves <= 1)
        {
            // The oldest emptied segment, once enough have been emptied after it (see Recycle); a new one until then.
            // Only while the consumers are within a segment of the producers: with a backlog, the spares are used up
            // first, as when not streaming, so that a burst as deep as the spares allocates nothing (the consumers read
            // the lines written now only after the backlog, and the cooling line is refilled as they drain it).
            // Acquire: pairs with the release of the recycler's enqueue.
            if (_moreSpares!.Count >= _cooling)
            {
                _moreSpares.TryDequeue(out seg);
            }
        }
        else
        {
            // Take the spare with an exchange: one taker at most, and it pairs with the recycler's CAS (both full
            // fences), so the items it cleared are seen cleared. The plain read first skips the exchange when empty.
            seg = Volatile.Read(ref _spare) is null ? null : Interlocked.Exchange(ref _spare, null);
            if (seg is null && _moreSpares is not null)
            {
                _moreSpares.TryDequeue(out seg); // acquire: pairs with the release of the recycler's enqueue
            }
        }

        if (seg is null)
        {
            seg = new Segment(_size);
            Interlocked.Increment(ref _segmentsAllocated); // a diagnostic count; orders nothing
        }

        // The slots hold the marks of the last life (or 0, Empty of life 0, in a new segment, whose first life is 1):
        // none is Full or Skip of the new one. Late producers of the last life may still FAA its enqueue word, but
        // they get a count >= size and write nothing.
        uint life = Life(Volatile.Read(ref seg.Words.Tail)) + 1;
        seg.Slots[0].Item = item;
        seg.Slots[0].State = Mark(life, Full);
        Volatile.Write(ref seg.Words.Head, Pack(life, 0));

        // Full fence: a late producer whose FAA comes after this exchange sees the new life (and every write above);
        // one whose FAA came before had its increment overwritten here, and it saw the old life's count >= size.
        // The writes above reach consumers through the release stores of Next and the tail that follow.
        Interlocked.Exchange(ref seg.Words.Tail, Pack(life, 1));
        return seg;
    }

    /// <summary>The fast path, as for <see cref="Enqueue"/>: the head slot published, read, and claimed with one CAS;
    /// everything else out of line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue([MaybeNullWhen(false)] out T item) =>
        TryDequeueFast(out item, out _, out _) || TryDequeueSlow(out item);

    /// <summary>As <see cref="TryDequeue(out T)"/>, keeping the caller's <paramref name="mark"/>: whether the item taken
    /// came right after the caller's previous one. Only the fast path can tell; the slow path says no.</summary>
    public bool TryDequeue([MaybeNullWhen(false)] out T item, ref DequeueMark mark)
    {
        if (TryDequeueFast(out item, out Segment seg, out long word))
        {
            mark.Took(seg, word, 1);
            return true;
        }

        mark.Lost();
        return TryDequeueSlow(out item);
    }

    /// <summary>
    /// Takes up to <paramref name="into"/>.Length items from the head with one claim: the run of published slots at the
    /// head of the head segment (stopping at the first slot not published and at the segment's end), read, then claimed
    /// together by one CAS on the dequeue word. Returns how many were taken, in queue order; 0 when the head slot holds
    /// nothing published, when the head segment is used up (the single dequeue moves on), or when the claim lost to
    /// other consumers <paramref name="attempts"/> times. Keeps <paramref name="mark"/> as the single dequeue does.
    /// </summary>
    /// <remarks>Why it is linearizable: every slot of the run was seen Full by an acquire read and its item read after
    /// it, before the claim; a slot of the current life changes only when its segment is recycled, which needs the
    /// dequeue word past it, and a renewed segment has another life in its word, so the CAS succeeds only if no slot of
    /// the run was taken or recycled in between. The CAS takes tickets h to h + n - 1 at one instant: n dequeues in a
    /// row, each its own linearization point at that instant, in queue order.</remarks>
    public int TryDequeueMany(Span<T> into, ref DequeueMark mark, int attempts = 2)
    {
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            Segment seg = Volatile.Read(ref _head);
            long word = Volatile.Read(ref seg.Words.Head);
            long h = Ticket(word);

            // As in TryDequeueFast: with the head re-read, `word` belongs to a life in which seg is the head, or to an
            // older one, and then the CAS fails.
            if (Volatile.Read(ref _head) != seg || h >= _size)
            {
                break;
            }

            int limit = (int)Math.Min(into.Length, _size - h);
            bool broken = THooks.Faults.Has(Fault.BatchWithoutLookingAtEachSlot);
            if (broken)
            {
                // The fault: as many slots as tickets handed out, taken as published once the first one is.
                limit = (int)Math.Min(limit, Math.Max(0, Ticket(Volatile.Read(ref seg.Words.Tail)) - h));
            }

            int full = Mark(Life(word), Full);
            int n = 0;
            while (n < limit)
            {
                ref Slot slot = ref seg.Slots[h + n];

                // Acquire: pairs with the producer's release store of Full, so its item write is visible. A skipped slot
                // ends the run (the single dequeue steps over it).
                if ((n == 0 || !broken) && Volatile.Read(ref slot.State) != full)
                {
                    break;
                }

                THooks.Interleave();
                into[n++] = slot.Item;
            }

            if (n == 0)
            {
                break;
            }

            // The claim of all n, and the linearization point of the n dequeues.
            if (Interlocked.CompareExchange(ref seg.Words.Head, word + n, word) == word)
            {
                mark.Took(seg, word, n);
                return n;
            }

            // Lost: another consumer took some of them. Drop what we read (it may hold references the caller would keep).
            into[..n].Clear();
        }

        mark.Lost();
        return 0;
    }

    /// <summary>The fast path of a dequeue: the head segment's next slot is published, and our claim of it wins. False
    /// for everything else (the slow path decides). <paramref name="seg"/> and <paramref name="word"/> are the segment
    /// and the dequeue word claimed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryDequeueFast([MaybeNullWhen(false)] out T item, out Segment seg, out long word)
    {
        seg = Volatile.Read(ref _head);
        word = Volatile.Read(ref seg.Words.Head);
        long h = Ticket(word);

        // As in TryDequeueSlow: with the head re-read, `word` belongs to a life in which seg is linked and is the
        // head, or to an older one, and then the CAS fails. The acquire read of State pairs with the producer's
        // release store of Full; the item is read before the claim (see TryDequeueSlow), and the CAS is the
        // linearization point.
        if (!THooks.Faults.Has(Fault.ReadItemAfterClaim) && Volatile.Read(ref _head) == seg && h < _size)
        {
            ref Slot slot = ref Unchecked.At(seg.Slots, (nint)h); // h < size = the array's length, checked above
            int full = Mark(Life(word), Full);
            if (Volatile.Read(ref slot.State) == full)
            {
                // Caught up with a producer: at a group's first slot, with no quiet note in force and the group's last
                // slot not yet published, stand back until the producer has filled the group (see
                // ClaimAfterStandBack). A consumer in step with a producer comes to a group's first slot, and the later
                // slots of a group it waited for are published. The wait only delays the reads of the claim; it
                // decides nothing.
                if ((h & (StandingBack.Group - 1)) == 0 && word >= seg.Words.HeadNote && h + (StandingBack.Group - 1) < _size)
                {
                    // Volatile only so that the read is made here and now: it orders nothing (the claim relies on the
                    // acquire read of this slot's own state above).
                    if (Volatile.Read(ref Unchecked.At(seg.Slots, (nint)h + (StandingBack.Group - 1)).State) != full)
                    {
                        return ClaimAfterStandBack(seg, word, out item);
                    }
                }

                THooks.Interleave();
                T value = slot.Item;
                if (Interlocked.CompareExchange(ref seg.Words.Head, word + 1, word) == word)
                {
                    item = value;
                    return true;
                }
            }
        }

        item = default;
        return false;
    }

    /// <summary>
    /// The consumer's waits when it has caught up with a producer, and its claim after them: its slot, the first of a
    /// group of <see cref="StandingBack.Group"/> at dequeue word <paramref name="word"/>, is published, but the group's
    /// last slot is not (see <see cref="StandingBack"/>). A wait that ends unanswered (a producer that stopped, or one
    /// thread's own enqueue-dequeue pairs) writes the segment's quiet note: no consumer of this segment stands back
    /// again for the next <see cref="StandingBack.Quiet"/> tickets of its life (a later life's words are greater, so a
    /// recycled segment starts without the note). The note is a plain read and write on the consumers' own line: a hint,
    /// which no consumer needs to see at once. If the group was filled, the consumer may wait a second time, for its
    /// segment's last slot (see <see cref="WaitForSegmentsEnd"/>). The claim is the fast path's: the item read, then
    /// one CAS from <paramref name="word"/>; false if another consumer claimed it first.
    /// </summary>
    /// <remarks>Why: a consumer that takes each item as soon as it is published pulls the line the producer is writing
    /// once per item, and the producer pulls it back for the next one: the pair falls into a regime of one line
    /// transfer per item in each direction. Standing back until the group is full lets the producer run a group ahead,
    /// so a line moves about once per group (a group may straddle two lines: the array's elements need not start at a
    /// line boundary; <c>papers/mpmc-queues.md</c> §3 and §5). Out of line, the claim included, as in the bounded
    /// ring: with the wait's call inside the fast path, the slot's address and the word lived across it on the stack,
    /// and one thread's enqueue-dequeue pairs paid for the reloads.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool ClaimAfterStandBack(Segment seg, long word, [MaybeNullWhen(false)] out T item)
    {
        long h = Ticket(word);
        int full = Mark(Life(word), Full);
        ref Slot slot = ref seg.Slots[h];
        if (!StandingBack.Until(ref seg.Slots[h + (StandingBack.Group - 1)].State, full))
        {
            seg.Words.HeadNote = word + StandingBack.Quiet;
        }
        else if (_farWait && h + _farProgress < _size - 1 && _headMoves >= _farNote && WaitForSegmentsEnd(seg, word, full)
            && THooks.Faults.Has(Fault.ReachTakesPolledSlot))
        {
            // The fault: the claim of this ticket made with the slot polled.
            slot = ref seg.Slots[_size - 1];
        }

        // The fault: the claim made against the dequeue word read again, with the slot of the word read before.
        long claim = THooks.Faults.Has(Fault.StandBackRereadsWord) ? Volatile.Read(ref seg.Words.Head) : word;

        // The fast path's claim, written out again: shared through an inlined helper, the fast path kept the helper's
        // result as a value and tested it, three instructions more on every dequeue.
        THooks.Interleave();
        T value = slot.Item;
        if (Interlocked.CompareExchange(ref seg.Words.Head, claim + 1, claim) == claim)
        {
            item = value;
            return true;
        }

        item = default;
        return false;
    }

    /// <summary>
    /// The second wait, for a consumer whose group wait was answered (a producer is at work): it polls the last slot of
    /// its segment (true if it was published), with the longer pauses of
    /// <see cref="StandingBack.UntilFar(ref int, int)"/>. Answered, it resets the queue's span and makes the queue
    /// stream (see <see cref="Recycle"/>). Unanswered, it writes the segment's quiet note, and if the producer stopped
    /// (not merely too slow for the wait), the queue's note, which keeps every consumer from a second wait until the
    /// head has left <c>_farSpan</c> more segments, doubles that span and ends streaming. The queue's note outlives the
    /// segment: a producer that pauses after each burst of a few dozen items would otherwise cost a second wait in
    /// every segment.
    /// </summary>
    /// <remarks>Why (<c>papers/mpmc-queues.md</c> §2, "Standing back to a reach", and §3): as in the bounded ring, a
    /// consumer a group behind its producer reads the lines the producer is about to write, and the two go at about a
    /// line round trip per line of items. A consumer that waits for the segment's end reads lines finished long
    /// before.</remarks>
    private bool WaitForSegmentsEnd(Segment seg, long word, int full)
    {
        if (StandingBack.UntilFar(ref seg.Slots[_size - 1].State, full))
        {
            if (_farSpan != FarSpanFirst)
            {
                _farSpan = FarSpanFirst;
            }

            if (!_streaming)
            {
                _streaming = true;
            }

            return true;
        }

        seg.Words.HeadNote = word + StandingBack.Quiet;

        // A producer that went on, only slower than the wait allows (its lines coming back from the consumers' caches,
        // say), leaves the next segment its wait: only one that stopped (a burst's end) sets the queue's note. The read
        // is volatile only so that it is made here and now; it orders nothing (what follows are hints).
        long ahead = Ticket(word) + _farProgress; // below the last slot: see ClaimAfterStandBack
        if (Volatile.Read(ref seg.Slots[ahead].State) != full)
        {
            _streaming = false;
            int span = _farSpan;
            _farNote = _headMoves + span;
            _farSpan = Math.Min(2 * span, FarSpanMax);
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryDequeueSlow([MaybeNullWhen(false)] out T item)
    {
        int size = _size;
        SpinWait spinner = default;
        while (true)
        {
            Segment seg = Volatile.Read(ref _head);
            long word = Volatile.Read(ref seg.Words.Head);

            // As in Enqueue: with the head re-read, `word` belongs to a life in which seg is linked and is the head,
            // or to an older one, in which case the CAS below fails.
            if (Volatile.Read(ref _head) != seg)
            {
                continue;
            }

            long h = Ticket(word);
            if (h < size)
            {
                ref Slot slot = ref seg.Slots[h];

                // Acquire: pairs with the producer's release store of Full, so its item write is visible.
                int state = Volatile.Read(ref slot.State);
                if (state == Mark(Life(word), Full))
                {
                    T value = default!;
                    if (!THooks.Faults.Has(Fault.ReadItemAfterClaim))
                    {
                        // Read before the claim: once the CAS succeeds, other consumers may finish the segment and
                        // recycle it. If the segment was recycled in between, the CAS fails and the value is dropped.
                        THooks.Interleave();
                        value = slot.Item;
                    }

                    // The claim, and the linearization point of a successful dequeue.
                    if (Interlocked.CompareExchange(ref seg.Words.Head, word + 1, word) == word)
                    {
                        if (THooks.Faults.Has(Fault.ReadItemAfterClaim))
                        {
                            THooks.Interleave();
                            value = slot.Item;
                        }

                        item = value;
                        return true;
                    }

                    continue;
                }

                if (state == Mark(Life(word), Skip))
                {
                    // A producer of an older life was handed this ticket and gave it up: step over it.
                    Interlocked.CompareExchange(ref seg.Words.Head, word + 1, word);
                    continue;
                }

                // Nothing published at h. Empty iff no producer of this life holds ticket h: at the instant of this
                // read the enqueue count equals the dequeue count (it is never below it) and seg has no successor
                // (a successor exists only once the count has reached size). Linearization point of "empty".
                long enq = Volatile.Read(ref seg.Words.Tail);
                if (Life(enq) == Life(word) && Ticket(enq) <= h)
                {
                    item = default;
                    return false;
                }

                // A producer holds ticket h and has not yet written it (or the word is from an older life).
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (h == size)
            {
                // Acquire: pairs with the linking producer's release store of Next, so the renewed segment's words
                // and slot 0 are visible before we move the head onto it.
                Segment? next = Volatile.Read(ref seg.Next);
                if (next is null)
                {
                    // All of seg is consumed and nothing is linked after it. Re-reading the word proves seg was not
                    // recycled (which clears Next) before we read Next: then the queue was empty at that read.
                    if (Volatile.Read(ref seg.Words.Head) == word)
                    {
                        item = default;
                        return false;
                    }

                    continue;
                }

                // Claim the right to move the head: one consumer per life wins this CAS.
                if (Interlocked.CompareExchange(ref seg.Words.Head, word + 1, word) == word)
                {
                    // Release: pairs with the acquire reads of _head in TryDequeue; no consumer can reach seg
                    // through _head after this store, and the ones holding it see its word's count above size. The
                    // move count (a hint) goes before it, so the next mover, which reads _head == next, counts on.
                    _headMoves++;
                    Volatile.Write(ref _head, next);
                    Recycle(seg);
                }

                continue;
            }

            // h > size: another consumer is moving the head.
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// Offers a segment whose life is over as the spare, its items cleared if they hold references (so that the
    /// garbage collector does not keep them alive); the slots' states stay, marks of the life that ended (see
    /// <see cref="Mark"/>). Every ticket of that life was published and consumed, and consumers read items before
    /// claiming, so no thread will read or write these slots again in that life; late threads only see words of the
    /// old life and start over.
    /// </summary>
    private void Recycle(Segment seg)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Slot[] slots = seg.Slots;
            for (int i = 0; i < slots.Length; i++)
            {
                THooks.Interleave();
                slots[i].Item = default!;
            }
        }

        seg.Next = null;

        // While the queue streams, the segment queues up to cool (see RenewOrAllocate), or goes if the line is full.
        // The enqueue's release pairs with the taker's acquire, so the items cleared above are seen cleared.
        if (_streaming && _cooling > 0)
        {
            _moreSpares!.TryEnqueue(seg);
            return;
        }

        // Full fence (CAS): the items cleared above (if any) are seen cleared by the producer that takes the spare with
        // its exchange.
        // If a spare is there already, the segment waits among the further spares, or goes if they are full.
        // (In a queue with cooling, the further spares are the cooling line: a segment that went there in either mode
        // stays until a producer takes it, so switching modes does not make producers allocate the line again.)
        if (Interlocked.CompareExchange(ref _spare, seg, null) is not null)
        {
            _moreSpares?.TryEnqueue(seg);
        }
    }

    public int Count
    {
        get
        {
            // A walk from head to tail adding each segment's published-but-unconsumed tickets; approximate while
            // operations run (segments may be recycled under the walk, hence the bound on steps).
            long total = 0;
            Segment? seg = Volatile.Read(ref Unsafe.AsRef(in _head));
            for (int steps = 0; seg is not null && steps < 1 << 20; steps++)
            {
                long deq = Volatile.Read(ref seg.Words.Head);
                long enq = Volatile.Read(ref seg.Words.Tail);
                if (Life(deq) == Life(enq))
                {
                    total += Math.Max(0, Math.Min(Ticket(enq), _size) - Math.Min(Ticket(deq), _size));
                }

                seg = Volatile.Read(ref seg.Next);
            }

            return (int)Math.Min(total, int.MaxValue);
        }
    }

    public readonly bool MayHaveItems
    {
        get
        {
            Segment seg = Volatile.Read(ref Unsafe.AsRef(in _head));
            long word = Volatile.Read(ref seg.Words.Head);
            long h = Ticket(word);
            if (h >= _size)
            {
                return true;
            }

            // Full or Skip of the head's life: a producer has written the slot (a mark of another life is stale).
            int state = Volatile.Read(ref seg.Slots[h].State);
            return state == Mark(Life(word), Full) || state == Mark(Life(word), Skip);
        }
    }

    public bool IsEmpty
    {
        get
        {
            // Walk from the head: the queue is empty if no segment has a ticket that is claimed by a producer and
            // not yet consumed. A snapshot, like Count; exact when no operation is in flight. (An exhausted head
            // segment with a successor is common: consumers move the head only when they dequeue.)
            Segment? seg = Volatile.Read(ref Unsafe.AsRef(in _head));
            for (int steps = 0; seg is not null && steps < 1 << 20; steps++)
            {
                long deq = Volatile.Read(ref seg.Words.Head);
                long enq = Volatile.Read(ref seg.Words.Tail);
                if (Life(deq) == Life(enq) && Math.Min(Ticket(enq), _size) > Math.Min(Ticket(deq), _size))
                {
                    return false;
                }

                seg = Volatile.Read(ref seg.Next);
            }

            return true;
        }
    }
}

using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool.Primitives;

/// <summary>
/// A bounded multi-producer, multi-consumer FIFO queue on a power-of-two ring with a sequence number per slot.
/// One compare-and-swap per operation on the fast path, no allocation after construction.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// <para>Algorithm and sources:</para>
/// <list type="number">
/// <item><description>D. Vyukov, "Bounded MPMC queue", 1024cores.net (2010): each slot carries a sequence number
/// <c>seq</c>; a producer at position <c>pos</c> may write the slot when <c>seq == pos</c>, a consumer may read it
/// when <c>seq == pos + 1</c>; the consumer then sets <c>seq = pos + capacity</c>, which hands the slot to the
/// producer one lap later. The same scheme is used by dotnet/runtime's <c>ConcurrentQueueSegment</c>.</description></item>
/// <item><description>M. Herlihy, J. Wing, "Linearizability", TOPLAS 1990. Vyukov's original returns "empty" when
/// the next slot's producer has claimed it but not yet published, even if a later producer has finished; that is
/// not linearizable. Here, as in <c>ConcurrentQueueSegment</c>, a consumer that finds an unpublished slot compares
/// head and tail: it reports empty only if they were equal, and otherwise waits for the producer in flight. The
/// producer side is symmetric for "full".</description></item>
/// </list>
/// <para>Names map to the paper as: <c>_indices.Tail</c> = enqueue_pos, <c>_indices.Head</c> = dequeue_pos,
/// <c>Slot.Sequence</c> = cell.sequence, <c>pos</c> and <c>seq</c> as in the paper.</para>
/// <para>Two protocols, chosen by the element type when the code is compiled (so a queue pays for one only). For a
/// <typeparamref name="T"/> that holds references, Vyukov's, as above: the consumer clears the slot (so the queue keeps
/// no dequeued object alive) and hands it back with its sequence number. For a <typeparamref name="T"/> without
/// references, <em>read before claim</em>: a consumer reads the item before the compare-and-swap that claims it and
/// never writes the slot; once the head is past a position, nobody reads that slot again, so a producer may write slot
/// <c>pos</c> as soon as the head is past <c>pos - capacity</c>. Producers learn that from a value of the head kept on
/// their own cache line, and read the consumers' line only when that value says the ring is full. A producer that
/// keeps up with a slower consumer then fills the slots the consumer has left without waiting on each one; the
/// measured effect is in papers/mpmc-queues.md, section 2.</para>
/// <para>Progress: lock-free between producers and between consumers (a failed CAS means another thread
/// succeeded), but blocking between them at one slot: a consumer may wait for a producer that has claimed the slot
/// before it and not yet written it, as in <c>ConcurrentQueue</c>.</para>
/// <para>Standing back: a consumer that has caught up with a producer (its position, the first of a group of four, is
/// published, the group's last is not) polls the group's last position up to four times, a pause between reads, so
/// that the producer fills the group before the consumer reads it, rather than the two passing one cache line back
/// and forth for every item. A wait that nobody answers switches the waits off for the next 4,096 positions, so a
/// lone item or one thread's enqueue-dequeue pairs rarely pay for one. Rings of two slots never wait. In rings of
/// 4,096 slots or more, a consumer whose group was filled (so a producer is at work) then waits, up to about 13
/// microseconds, until the producer is 1,024 positions ahead of it, so that it reads lines the producer finished long
/// before instead of the lines the producer is writing: a throughput choice, which can hold an item back by that long,
/// and, when the producer pauses before it is that far ahead, once per 4,096 positions at most (a wait that ends
/// unanswered switches the waits off as above; papers/mpmc-queues.md, section 2).</para>
/// <para>The capacity is rounded up to a power of two (the ring is indexed by <c>pos &amp; mask</c>);
/// <see cref="Capacity"/> reports the rounded value.</para>
/// </remarks>
public sealed class BoundedMpmcQueue<T> : IMpmcQueue<T>
{
    private BoundedRing<T, NoHooks> _ring;

    /// <summary>Creates a queue that holds at least <paramref name="capacity"/> items.</summary>
    /// <param name="capacity">The minimum capacity; rounded up to a power of two, at least 2.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1 or greater than
    /// 2^30.</exception>
    public BoundedMpmcQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        _ring = new BoundedRing<T, NoHooks>(capacity, startIndex: 0);
    }

    /// <summary>The largest capacity a queue may be created with (2^30).</summary>
    public const int MaxCapacity = 1 << 30;

    /// <inheritdoc/>
    public int Capacity => _ring.Capacity;

    /// <inheritdoc/>
    public bool IsBounded => true;

    /// <inheritdoc/>
    public int Count => _ring.Count;

    /// <inheritdoc/>
    public bool IsEmpty => _ring.IsEmpty;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(T item) => _ring.TryEnqueue(item);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue([MaybeNullWhen(false)] out T item) => _ring.TryDequeue(out item);

    /// <summary>The quiet note: the position before which consumers do not stand back (a diagnostic for tests).</summary>
    internal long HeadQuietUntil => _ring.HeadQuietUntil;

    /// <summary>How far ahead a consumer that stood back waits for (a diagnostic for tests).</summary>
    internal int Reach => _ring.Reach;
}

/// <summary>
/// The algorithm of <see cref="BoundedMpmcQueue{T}"/>, generic over <typeparamref name="THooks"/> so that the
/// systematic tests run this exact code with scheduling points and deliberate faults (see <c>Internal/Hooks.cs</c>).
/// A mutable struct: it must live in a field and be called through that field, never copied.
/// </summary>
internal struct BoundedRing<T, THooks> where THooks : struct, IHooks
{
    internal struct Slot
    {
        public T Item;
        public long Sequence;
    }

    private PaddedRingIndices _indices;
    private readonly Slot[] _slots;

    /// <summary>True for an element type without references: the read-before-claim protocol (see
    /// <see cref="BoundedMpmcQueue{T}"/>); false: Vyukov's. A constant for the JIT.</summary>
    private static bool ReadBeforeClaim
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => !RuntimeHelpers.IsReferenceOrContainsReferences<T>();
    }

    /// <param name="capacity">Rounded up to a power of two, at least 2.</param>
    /// <param name="startIndex">The first position; tests start near <see cref="long.MaxValue"/> to cover
    /// wrap-around of the 64-bit indices.</param>
    /// <param name="reach">How far ahead a consumer that stood back waits for (<see cref="ClaimAfterStandBack"/>): by
    /// default <see cref="StandingBack.Reach"/> in rings of four times that or more, and no second wait in smaller
    /// ones, where the producer's writes wait for the lines of the lap before whatever the consumer does (a ring of 256
    /// slots, handed bursts of 64, took longer with a second wait of 64). The systematic tests give small rings a small
    /// reach, at most a quarter of the ring.</param>
    public BoundedRing(int capacity, long startIndex, int reach = 0)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 2));
        Debug.Assert(reach == 0 || (reach >= StandingBack.Group && reach <= size / 4), "a reach is a group to a quarter of the ring");
        _slots = new Slot[size];
        // How far ahead a consumer that stood back waits for the producers to be (ClaimAfterStandBack); a group: no
        // second wait.
        _indices.Reach = reach != 0 ? reach : size >= 4 * StandingBack.Reach ? StandingBack.Reach : StandingBack.Group;

        for (long i = 0; i < size; i++)
        {
            // Position startIndex + i is free for its first lap (Vyukov's protocol), and not published (either:
            // a consumer of it waits for pos + 1).
            long pos = unchecked(startIndex + i);
            _slots[Index(pos)].Sequence = pos;
        }

        _indices.Head = startIndex;
        _indices.Tail = startIndex;
        _indices.HeadSeen = startIndex;
        _indices.HeadNote = startIndex;
    }

    public readonly int Capacity => _slots.Length;

    public readonly int Reach => _indices.Reach;

    // A diagnostic for tests: the read orders nothing.
    public readonly long HeadQuietUntil => Volatile.Read(ref Unsafe.AsRef(in _indices.HeadNote));

    /// <summary>The slot of position <paramref name="pos"/>: consecutive positions share a cache line (four slots to a
    /// line for an 8-byte item), so a consumer reading what a producer wrote moves one line per four items. (A remap
    /// that put consecutive positions a line apart, so that a producer and a consumer one position apart never share
    /// a line, measured slower in every two-thread case, rounds interleaved; see papers/mpmc-queues.md, section 2.)</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal readonly long Index(long pos) => pos & (_slots.Length - 1);

    public int Count
    {
        get
        {
            // Read head, tail, head again until head is stable, so that tail - head is a value the queue held
            // (tail is read between two equal reads of head). Clamped for the in-flight claims.
            while (true)
            {
                long head = Volatile.Read(ref _indices.Head);
                long tail = Volatile.Read(ref _indices.Tail);
                if (Volatile.Read(ref _indices.Head) == head)
                {
                    return (int)Math.Clamp(unchecked(tail - head), 0, _slots.Length);
                }
            }
        }
    }

    public bool IsEmpty
    {
        get
        {
            // Empty iff head == tail at the instant tail is read (head <= tail always, head read first).
            long head = Volatile.Read(ref _indices.Head);
            return Volatile.Read(ref _indices.Tail) == head;
        }
    }

    /// <summary>The fast path: one attempt at the tail, inlined into the caller; anything else (a lost race, a full
    /// ring, a consumer still in the slot) goes to <see cref="TryEnqueueSlow"/>, which retries. Keeping the loop and its
    /// <see cref="SpinWait"/> out of line leaves the caller's registers free around the compare-and-swap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(T item)
    {
        long pos = Volatile.Read(ref _indices.Tail);
        ref Slot slot = ref _slots[Index(pos)];

        // Vyukov's: the acquire read of Sequence pairs with the consumer's release store of Sequence = pos (its
        // TryDequeue, one lap ago), so the consumer's read of the old item happens before our write of the new
        // one.
        // Read before claim: the acquire read of HeadSeen pairs with the release store of the producer that saw
        // the head there (TryEnqueueSlowReadBeforeClaim), whose acquire read of Head pairs with the consumers'
        // claiming CAS; each of those consumers read its item before its CAS. So the read of position pos -
        // capacity's item happens before our write when the head was past it. The CAS is the linearization
        // point of a successful enqueue's claim; the item becomes visible to consumers at the release store in
        // Publish.
        bool free = ReadBeforeClaim
            ? unchecked(pos - Volatile.Read(ref _indices.HeadSeen)) < _slots.Length
            : Volatile.Read(ref slot.Sequence) == pos;
        if (free && Interlocked.CompareExchange(ref _indices.Tail, unchecked(pos + 1), pos) == pos)
        {
            Publish(ref slot, pos, item);
            return true;
        }

        return ReadBeforeClaim ? TryEnqueueSlowReadBeforeClaim(item) : TryEnqueueSlow(item);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Publish(ref Slot slot, long pos, T item)
    {
        if (THooks.Faults.Has(Fault.PublishBeforeWrite))
        {
            Volatile.Write(ref slot.Sequence, unchecked(pos + 1));
            THooks.Interleave();
            slot.Item = item;
            return;
        }

        THooks.Interleave();
        slot.Item = item;

        // Release: publishes the item write above to the consumer whose acquire load of Sequence reads pos + 1.
        // Without release ordering the consumer could see the sequence and a stale item.
        Volatile.Write(ref slot.Sequence, unchecked(pos + 1));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryEnqueueSlow(T item)
    {
        Slot[] slots = _slots;
        SpinWait spinner = default;
        long pos = Volatile.Read(ref _indices.Tail);
        while (true)
        {
            ref Slot slot = ref slots[Index(pos)];
            long seq = Volatile.Read(ref slot.Sequence); // acquire, as in TryEnqueue
            long dif = unchecked(seq - pos);
            if (dif == 0)
            {
                long seen = Interlocked.CompareExchange(ref _indices.Tail, unchecked(pos + 1), pos);
                if (seen == pos)
                {
                    Publish(ref slot, pos, item);
                    return true;
                }

                pos = seen;
                continue;
            }

            if (dif < 0)
            {
                // The slot still holds the item of position pos - capacity. Full iff, at the instant head is read,
                // tail - head >= capacity: tail >= pos then (tail only grows), so pos - head >= capacity suffices.
                long head = Volatile.Read(ref _indices.Head);
                if (unchecked(pos - head) >= slots.Length)
                {
                    return false;
                }

                // A consumer has claimed the slot and not yet released it: wait for it (the blocking step).
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            // dif > 0: another producer took pos and moved on; catch up.
            pos = Volatile.Read(ref _indices.Tail);
        }
    }

    /// <summary>The producers' slow path of the read-before-claim protocol: room is judged by the head alone.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryEnqueueSlowReadBeforeClaim(T item)
    {
        Slot[] slots = _slots;
        long pos = Volatile.Read(ref _indices.Tail);
        while (true)
        {
            // Acquire, as in TryEnqueue.
            if (unchecked(pos - Volatile.Read(ref _indices.HeadSeen)) >= slots.Length)
            {
                // Acquire: pairs with the consumers' claiming CAS (see TryEnqueue). Full iff, at the instant head is
                // read, tail - head >= capacity: tail >= pos then (tail only grows), so pos - head >= capacity suffices.
                long head = Volatile.Read(ref _indices.Head);
                if (unchecked(pos - head) >= slots.Length)
                {
                    return false;
                }

                // Release: hands what the acquire above saw to the producers that read HeadSeen. Racing producers
                // may store older values over newer ones; any value the head had is safe, an older one only makes
                // the next producer look again.
                Volatile.Write(ref _indices.HeadSeen, head);
            }

            long seen = Interlocked.CompareExchange(ref _indices.Tail, unchecked(pos + 1), pos);
            if (seen == pos)
            {
                Publish(ref slots[Index(pos)], pos, item);
                return true;
            }

            pos = seen;
        }
    }

    /// <summary>The fast path, as for <see cref="TryEnqueue"/>: one attempt at the head, the rest out of line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue([MaybeNullWhen(false)] out T item)
    {
        long pos = Volatile.Read(ref _indices.Head);
        ref Slot slot = ref _slots[Index(pos)];

        // Acquire: pairs with the producer's release store of Sequence = pos + 1, so its item write is visible. The
        // CAS is the linearization point of a successful dequeue.
        if (Volatile.Read(ref slot.Sequence) == unchecked(pos + 1))
        {
            // Caught up with a producer: at a group's first position, with no quiet note in force and the group's last
            // position not yet published, stand back until the producer has filled the group (as in the unbounded
            // queue; see ClaimAfterStandBack). The wait only delays the reads of the claim; it decides nothing.
            if ((pos & (StandingBack.Group - 1)) == 0 && unchecked(pos - _indices.HeadNote) >= 0 && _slots.Length >= StandingBack.Group)
            {
                // Volatile only so that the read is made here and now: it orders nothing (the claim relies on the
                // acquire read of this position's own sequence above).
                if (Volatile.Read(ref _slots[Index(unchecked(pos + (StandingBack.Group - 1)))].Sequence) != unchecked(pos + StandingBack.Group))
                {
                    return ClaimAfterStandBack(pos, out item) || TryDequeueSlow(out item);
                }
            }

            if (TryClaim(ref slot, pos, out item))
            {
                return true;
            }
        }

        return TryDequeueSlow(out item);
    }

    /// <summary>
    /// The consumer's waits when it has caught up with a producer, and its claim after them: its position, the first of
    /// a group of <see cref="StandingBack.Group"/>, is published, the group's last is not (see
    /// <see cref="StandingBack"/>). First, as in the unbounded queue, it polls the group's last position a few times. A
    /// wait that ends unanswered (a producer that stopped, or one thread's own enqueue-dequeue pairs) writes the quiet
    /// note: no consumer stands back again for the next <see cref="StandingBack.Quiet"/> positions. The note is a plain
    /// read and write on the consumers' own line: a hint.
    /// If the group was filled, a producer is at work: the consumer then waits until the position
    /// <see cref="Reach"/> - 1 past its own is published too, polling it with longer pauses, and writes the note if that
    /// wait ends unanswered (a producer too slow for the wait to pay). The claim is the same after either wait.
    /// Out of line, the claim included: with the wait's call inside the fast path, the slot reference lived across it on
    /// the stack, and one thread's enqueue-dequeue pairs took a fifth longer.
    /// </summary>
    /// <remarks>Why the second wait (<c>papers/mpmc-queues.md</c> §2, "Standing back to a reach"): a consumer a group
    /// behind a producer reads, and its core's prefetchers fetch, the lines the producer is about to write, so the
    /// producer's writes wait for those lines to come back, and each of its compare-and-swaps waits for the writes before
    /// it. Both threads then go at about one cache-line round trip per line of items, slower than either alone. A
    /// consumer <see cref="Reach"/> positions behind reads lines the producer finished long before, and the two run at
    /// the slower one's own pace.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool ClaimAfterStandBack(long pos, [MaybeNullWhen(false)] out T item)
    {
        ref Slot slot = ref _slots[Index(pos)];
        if (!StandingBack.Until(ref _slots[Index(unchecked(pos + (StandingBack.Group - 1)))].Sequence, unchecked(pos + StandingBack.Group)))
        {
            _indices.HeadNote = unchecked(pos + StandingBack.Quiet);
        }
        else if (_indices.Reach > StandingBack.Group)
        {
            int reach = _indices.Reach;
            ref Slot far = ref _slots[Index(unchecked(pos + (reach - 1)))];
            if (!StandingBack.UntilFar(ref far.Sequence, unchecked(pos + reach)))
            {
                _indices.HeadNote = unchecked(pos + StandingBack.Quiet);
            }
            else if (THooks.Faults.Has(Fault.ReachTakesPolledSlot))
            {
                // The fault: the claim of pos made with the slot of the position polled.
                slot = ref far;
            }
        }

        if (THooks.Faults.Has(Fault.StandBackRereadsWord))
        {
            // The fault: the claim of the head read again, with the slot of position pos.
            pos = Volatile.Read(ref _indices.Head);
        }

        return TryClaim(ref slot, pos, out item);
    }

    /// <summary>Claims position <paramref name="pos"/>, whose slot was seen published, and takes its item: false if
    /// another consumer claimed it first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryClaim(ref Slot slot, long pos, [MaybeNullWhen(false)] out T item)
    {
        if (!ReadBeforeClaim)
        {
            if (Interlocked.CompareExchange(ref _indices.Head, unchecked(pos + 1), pos) == pos)
            {
                item = Take(ref slot, pos);
                return true;
            }

            item = default;
            return false;
        }

        if (THooks.Faults.Has(Fault.ReadItemAfterClaim))
        {
            // The fault: the item read after the claim, when a producer of the next lap may already be writing it.
            if (Interlocked.CompareExchange(ref _indices.Head, unchecked(pos + 1), pos) == pos)
            {
                THooks.Interleave();
                item = slot.Item;
                return true;
            }

            item = default;
            return false;
        }

        // Read before the claim: once the CAS succeeds, a producer may write the slot for the next lap. If another
        // consumer claimed pos meanwhile, a producer may be writing the slot now and the value may be torn; the CAS
        // then fails and the value is dropped. The CAS is a full fence, so the read happens before it.
        THooks.Interleave();
        T value = slot.Item;
        if (Interlocked.CompareExchange(ref _indices.Head, unchecked(pos + 1), pos) == pos)
        {
            item = value;
            return true;
        }

        item = default;
        return false;
    }

    /// <summary>Vyukov's protocol (element types with references): takes the claimed item, clears the slot, and hands
    /// it to the producer of the next lap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private T Take(ref Slot slot, long pos)
    {
        THooks.Interleave();
        T item = slot.Item;
        slot.Item = default!;

        // Release: the reads and the clear of the item above happen before the producer of the next lap (whose
        // acquire load reads pos + capacity) writes the slot.
        Volatile.Write(ref slot.Sequence, unchecked(pos + _slots.Length));
        return item;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryDequeueSlow([MaybeNullWhen(false)] out T item)
    {
        Slot[] slots = _slots;
        SpinWait spinner = default;
        long pos = Volatile.Read(ref _indices.Head);
        while (true)
        {
            ref Slot slot = ref slots[Index(pos)];
            long seq = Volatile.Read(ref slot.Sequence); // acquire, as in TryDequeue
            long dif = unchecked(seq - (pos + 1));
            if (dif == 0)
            {
                if (TryClaim(ref slot, pos, out item))
                {
                    return true;
                }

                pos = Volatile.Read(ref _indices.Head);
                continue;
            }

            if (dif < 0)
            {
                // Not yet published. Empty iff, at the instant tail is read, tail == head: head >= pos then, and
                // head <= tail always, so tail <= pos means both equal. Linearization point of a failed dequeue.
                long tail = Volatile.Read(ref _indices.Tail);
                if (unchecked(tail - pos) <= 0)
                {
                    item = default;
                    return false;
                }

                // A producer has claimed pos and not yet published it: wait for it (the blocking step).
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            pos = Volatile.Read(ref _indices.Head);
        }
    }
}

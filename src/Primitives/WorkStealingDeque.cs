using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool.Primitives;

/// <summary>What a steal from a <see cref="WorkStealingDeque{T}"/> found.</summary>
public enum StealStatus
{
    /// <summary>An item was taken.</summary>
    Success,

    /// <summary>The deque was empty when the thief looked.</summary>
    Empty,

    /// <summary>The deque had items, but another thief or the owner took the one this thief wanted first. Retrying
    /// may succeed; a scheduler may prefer to try another victim.</summary>
    Retry,
}

/// <summary>
/// A lock-free work-stealing deque (Chase and Lev). One thread, the <em>owner</em>, pushes and pops at the bottom
/// (last in, first out); any thread may steal from the top (first in, first out). The owner's operations use no
/// atomic read-modify-write except to race a thief for the last item; a steal is one compare-and-swap. The
/// circular array grows without a lock.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// <para>Algorithm and sources:</para>
/// <list type="number">
/// <item><description>D. Chase, Y. Lev, "Dynamic Circular Work-Stealing Deque", SPAA 2005: indices
/// <c>top</c> and <c>bottom</c> that only grow, a circular array indexed modulo its size, growth by copying the
/// live range into an array twice as large (the old one is left to the garbage collector, so a thief still
/// reading it reads valid items).</description></item>
/// <item><description>N. M. Lê, A. Pop, A. Cohen, F. Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak
/// Memory Models", PPoPP 2013: the fences. In .NET terms: <see cref="Push"/> publishes the item with a release
/// store of <c>bottom</c>; <see cref="TryPop"/> stores <c>bottom</c> with <see cref="Interlocked.Exchange(ref long, long)"/>,
/// a full fence, because its following read of <c>top</c> must not be ordered before that store (a release store
/// allows exactly that reordering, and x86 does it through its store buffer); <see cref="Steal"/> puts a full
/// fence between its reads of <c>top</c> and <c>bottom</c>.</description></item>
/// </list>
/// <para>Owner-only members: <see cref="Push"/> and <see cref="TryPop"/> must be called by one thread at a time,
/// the owner (a deque may change owners if the handover itself synchronizes, for example through a lock or a
/// thread start). Calling them concurrently from two threads corrupts the deque: items may be lost or taken
/// twice. Debug builds of this library check it and throw <see cref="InvalidOperationException"/>.</para>
/// <para>Memory: items are cleared from the array when the owner pops them. The slots of stolen items are cleared
/// by the owner's next <see cref="TryPop"/> (or a <see cref="Push"/> that finds the array full by its last view of
/// the top); until then, or until a later push reuses the slot, the array may still reference up to
/// <see cref="Capacity"/> items that thieves took.</para>
/// <para>Progress: the owner's operations are wait-free except the last-item CAS, which fails only if a thief
/// succeeded; steals are lock-free (a failed CAS means another thread took an item).</para>
/// </remarks>
public sealed class WorkStealingDeque<T>
{
    /// <summary>The initial capacity used by the parameterless constructor.</summary>
    public const int DefaultCapacity = 32;

    /// <summary>The largest capacity the array may grow to (2^30 items).</summary>
    public const int MaxCapacity = 1 << 30;

    private ChaseLevDeque<T, NoHooks> _deque;

#if DEBUG
    private int _ownerThread;
#endif

    /// <summary>Creates an empty deque with room for <see cref="DefaultCapacity"/> items before it grows.</summary>
    public WorkStealingDeque()
        : this(DefaultCapacity)
    {
    }

    /// <summary>Creates an empty deque with room for at least <paramref name="capacity"/> items before it grows.</summary>
    /// <param name="capacity">The initial capacity, rounded up to a power of two, at least 2.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1 or greater than
    /// <see cref="MaxCapacity"/>.</exception>
    public WorkStealingDeque(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        _deque = new ChaseLevDeque<T, NoHooks>(capacity);
    }

    /// <summary>The number of items, as seen at one instant; exact when no operation is in flight.</summary>
    public int Count => _deque.Count;

    /// <summary>Whether the deque looked empty at one instant; exact when no operation is in flight.</summary>
    public bool IsEmpty => _deque.Count == 0;

    /// <summary>The size of the current array: how many items fit before the next growth.</summary>
    public int Capacity => _deque.Capacity;

    /// <summary>Adds an item at the bottom. Owner only.</summary>
    /// <param name="item">The item.</param>
    /// <exception cref="InvalidOperationException">The deque holds <see cref="MaxCapacity"/> items; or (debug
    /// builds only) a thread other than the owner called.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(T item)
    {
        CheckOwner();
        _deque.Push(item);
    }

    /// <summary>Takes the most recently pushed item from the bottom. Owner only.</summary>
    /// <param name="item">The item, when one was taken.</param>
    /// <returns><see langword="true"/> if an item was taken; <see langword="false"/> if the deque was empty (or a
    /// thief took its last item first).</returns>
    /// <exception cref="InvalidOperationException">(Debug builds only) a thread other than the owner called.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPop([MaybeNullWhen(false)] out T item)
    {
        CheckOwner();
        return _deque.TryPop(out item);
    }

    /// <summary>Tries once to take the oldest item from the top. Any thread.</summary>
    /// <param name="item">The item, when <see cref="StealStatus.Success"/> is returned.</param>
    /// <returns><see cref="StealStatus.Success"/>, <see cref="StealStatus.Empty"/>, or
    /// <see cref="StealStatus.Retry"/> when another thread took that item first.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public StealStatus Steal([MaybeNull] out T item) => _deque.Steal(out item);

    /// <summary>Takes the oldest item from the top, retrying while other threads win races; returns
    /// <see langword="false"/> only when the deque was seen empty. Any thread.</summary>
    /// <param name="item">The item, when one was taken.</param>
    /// <returns><see langword="true"/> if an item was taken.</returns>
    public bool TrySteal([MaybeNullWhen(false)] out T item)
    {
        SpinWait spinner = default;
        while (true)
        {
            StealStatus status = _deque.Steal(out item);
            if (status != StealStatus.Retry)
            {
                return status == StealStatus.Success;
            }

            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// Binds the deque to the calling thread as its owner (debug builds check owner-only calls against it; release
    /// builds do nothing). Without a call, the first thread to push or pop becomes the owner.
    /// </summary>
    public void BindOwner()
    {
#if DEBUG
        Volatile.Write(ref _ownerThread, Environment.CurrentManagedThreadId);
#endif
    }

    [Conditional("DEBUG")]
    private void CheckOwner()
    {
#if DEBUG
        int me = Environment.CurrentManagedThreadId;
        int owner = Volatile.Read(ref _ownerThread);
        if (owner == 0)
        {
            owner = Interlocked.CompareExchange(ref _ownerThread, me, 0);
            if (owner == 0)
            {
                return;
            }
        }

        if (owner != me)
        {
            throw new InvalidOperationException(
                $"WorkStealingDeque: Push and TryPop are owner-only; thread {me} called, the owner is thread {owner}. Call BindOwner on the new owner to hand the deque over.");
        }
#endif
    }
}

/// <summary>
/// The algorithm of <see cref="WorkStealingDeque{T}"/>, generic over <typeparamref name="THooks"/> so that the
/// systematic and litmus tests run this exact code (see <c>Internal/Hooks.cs</c>). A mutable struct: keep it in a
/// field.
/// </summary>
internal struct ChaseLevDeque<T, THooks> where THooks : struct, IHooks
{
    internal sealed class Ring
    {
        public readonly T[] Items;
        public readonly long Mask;

        public Ring(int size)
        {
            Items = new T[size];
            Mask = size - 1;
        }

        public int Size => Items.Length;

        /// <summary>The slot of <paramref name="index"/>. The mask keeps it within the array (its length is Mask + 1,
        /// both fixed at construction), so it is addressed without the array's checks.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref T At(long index) => ref Unchecked.At(Items, (nint)(index & Mask));
    }

    // Words.Head = top (thieves' end), Words.Tail = bottom (owner's end), each on its own cache lines.
    private PaddedHeadAndTail _words;
    private Ring _ring;

    // Owner-only: every slot below this index has been cleared (or never held a stolen item).
    private long _cleared;

    // Owner-only: a value of top read earlier (top never decreases, so it is a lower bound).
    private long _topCache;

    public ChaseLevDeque(int capacity)
    {
        int size = (int)Math.Max(2, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity));
        _ring = new Ring(size);
    }

    public readonly int Capacity => Volatile.Read(ref Unsafe.AsRef(in _ring)).Size;

    public readonly int Count
    {
        get
        {
            long t = Volatile.Read(ref Unsafe.AsRef(in _words.Head));
            long b = Volatile.Read(ref Unsafe.AsRef(in _words.Tail));
            return (int)Math.Clamp(b - t, 0, int.MaxValue);
        }
    }

    public void Push(T item)
    {
        long b = _words.Tail; // owner-only writes: a plain read sees our own last store
        Ring ring = _ring;

        // Top only grows, so a top read earlier is a lower bound: if the array has room by it, it has room. Reading
        // the real top on every push would pull its cache line away from the thieves' CAS each time.
        long t = _topCache;
        if (b - t > ring.Size - 1)
        {
            t = Volatile.Read(ref _words.Head); // acquire: slots below t are no longer read by a successful thief
            _topCache = t;
            if (b - t > ring.Size - 1)
            {
                ring = Grow(ring, t, b);
            }
        }

        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>() && _cleared < t)
        {
            // Slots below b - size were overwritten by later pushes (the one at b - size is written next).
            ClearStolen(ring, Math.Max(_cleared, b - ring.Size), t);
        }

        THooks.Interleave();
        ring.At(b) = item;

        // Release: a thief whose acquire read of bottom sees b + 1 also sees the item (Lê et al.: the release fence
        // before the store of bottom in push).
        Volatile.Write(ref _words.Tail, b + 1);
    }

    public bool TryPop([MaybeNullWhen(false)] out T item)
    {
        // Empty by an earlier view of top (a lower bound): nothing to race for, so skip the fence below. A pool worker
        // looks at its deque before every job, and it is usually empty.
        if (_words.Tail <= _topCache && !THooks.Faults.Has(Fault.PopReadsTopFirst))
        {
            item = default;
            return false;
        }

        long b = _words.Tail - 1;
        Ring ring = _ring;
        long t;
        if (THooks.Faults.Has(Fault.PopReadsTopFirst))
        {
            // Broken on purpose: what a missing store->load fence lets the hardware do, written out so that a
            // sequentially consistent tester can see it.
            t = Volatile.Read(ref _words.Head);
            Volatile.Write(ref _words.Tail, b);
        }
        else
        {
            if (THooks.Faults.Has(Fault.PopWithoutFence))
            {
                // Broken on purpose (for the native litmus test): a release store does not keep the read of top
                // below from being satisfied before the store is visible to thieves.
                Volatile.Write(ref _words.Tail, b);
            }
            else
            {
                // Store->load fence (Lê et al.: the seq_cst fence in take). Thieves read top, then bottom; we write
                // bottom, then read top. Without a full fence between our store and our read, both sides can miss
                // each other's write and take the same item.
                Interlocked.Exchange(ref _words.Tail, b);
            }

            t = Volatile.Read(ref _words.Head);
        }

        _topCache = t;
        if (t < b)
        {
            // More than one item: no thief can reach index b (a thief that read top = b after our read would then
            // read bottom = b, which our fenced store made visible, and see the deque empty).
            item = TakeOwn(ring, b);
            return true;
        }

        if (t == b)
        {
            // The last item: race the thieves for it with the same CAS they use.
            THooks.Interleave();
            T value = ring.At(b);
            bool won = THooks.Faults.Has(Fault.PopLastWithoutCas)
                || Interlocked.CompareExchange(ref _words.Head, t + 1, t) == t;

            // Either way top is now t + 1 (we moved it, or a thief did): restore bottom to match (empty deque).
            Volatile.Write(ref _words.Tail, b + 1);
            if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            {
                // Empty: every slot below b + 1 is dead, ours included (a thief reads its item before its CAS).
                ClearStolen(ring, Math.Max(_cleared, b + 1 - ring.Size), b + 1);
            }

            if (won)
            {
                item = value;
                return true;
            }

            item = default;
            return false;
        }

        // Empty (t == b + 1: a thief took the item we were after, or there was none). Restore bottom.
        Volatile.Write(ref _words.Tail, b + 1);
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>() && _cleared < t)
        {
            ClearStolen(ring, Math.Max(_cleared, t - ring.Size), t);
        }

        item = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T TakeOwn(Ring ring, long b)
    {
        THooks.Interleave();
        ref T slot = ref ring.At(b);
        T value = slot;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            slot = default!;
        }

        return value;
    }

    public StealStatus Steal([MaybeNull] out T item)
    {
        long t = Volatile.Read(ref _words.Head);

        // Full fence (Lê et al.: the seq_cst fence in steal), pairing with the owner's exchange in TryPop: of the
        // owner's store of bottom and our read of it, and our read of top and the owner's read of it, at least one
        // side sees the other.
        Interlocked.MemoryBarrier();
        long b = Volatile.Read(ref _words.Tail);
        if (t >= b)
        {
            item = default;
            return StealStatus.Empty;
        }

        // Acquire: the ring read after bottom is at least the one that held index t when bottom was published (a
        // newer one holds the same item at t: growth copies the live range before it is published).
        Ring ring = Volatile.Read(ref _ring);
        THooks.Interleave();
        T value = ring.At(t);

        // The claim. If it fails, top moved: another thief or the owner took index t, and `value` may be stale.
        if (Interlocked.CompareExchange(ref _words.Head, t + 1, t) != t)
        {
            item = default;
            return StealStatus.Retry;
        }

        item = value;
        return StealStatus.Success;
    }

    private Ring Grow(Ring old, long t, long b)
    {
        if (old.Size >= WorkStealingDeque<T>.MaxCapacity)
        {
            throw new InvalidOperationException($"WorkStealingDeque is full: it holds {WorkStealingDeque<T>.MaxCapacity} items.");
        }

        var ring = new Ring(old.Size * 2);
        if (THooks.Faults.Has(Fault.PublishArrayBeforeCopy))
        {
            // Broken on purpose: thieves may read the new array before the items are in it.
            Volatile.Write(ref _ring, ring);
        }

        for (long i = t; i < b; i++)
        {
            THooks.Interleave();
            ring.At(i) = old.At(i);
        }

        // Release: a thief that reads the new array (after reading bottom) sees the copied items. Items stolen from
        // the old array after the copy are still claimed by CAS on top, so nothing is taken twice.
        Volatile.Write(ref _ring, ring);

        // The new array holds nothing below t.
        _cleared = t;
        return ring;
    }

    /// <summary>
    /// Clears the slots of taken items in [<paramref name="from"/>, <paramref name="to"/>), where every index below
    /// <paramref name="to"/> has been claimed (it is at most top). Safe without synchronization: a thief still
    /// reading one of these slots read a top below <paramref name="to"/>, so its CAS fails and it drops what it
    /// read; and the caller passes a <paramref name="from"/> high enough that no live item shares these physical
    /// slots (a live index j shares the slot of i only if j = i + size).
    /// </summary>
    private void ClearStolen(Ring ring, long from, long to)
    {
        for (long i = from; i < to; i++)
        {
            THooks.Interleave();
            ring.At(i) = default!;
        }

        _cleared = to;
    }
}

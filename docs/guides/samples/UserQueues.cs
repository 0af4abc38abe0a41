using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using FastThreadPool.Primitives;

namespace FastThreadPool.Guides;

/// <summary>A queue as a user writes one in a dozen lines: a lock around a <see cref="Queue{T}"/>. The lock gives the
/// contract's happens-before guarantee (what a producer wrote before enqueuing is visible to the consumer).</summary>
public sealed class GuideLockedQueue<T>(int capacity = IMpmcQueue<T>.Unbounded) : IMpmcQueue<T>
{
    private readonly Queue<T> _items = new();

    public int Capacity => capacity;

    public int Count
    {
        get { lock (_items) { return _items.Count; } }
    }

    public bool TryEnqueue(T item)
    {
        lock (_items)
        {
            if (capacity != IMpmcQueue<T>.Unbounded && _items.Count >= capacity)
            {
                return false;
            }

            _items.Enqueue(item);
            return true;
        }
    }

    public bool TryDequeue([MaybeNullWhen(false)] out T item)
    {
        lock (_items)
        {
            return _items.TryDequeue(out item);
        }
    }
}

/// <summary>A broken queue, on purpose: a ring whose producers read the tail, write the slot, then move the tail, with
/// no atomic step between, so two producers can take the same slot. The Coyote guide shows the scenarios catching it.</summary>
public sealed class GuideRacyRing<T>(int capacity) : IMpmcQueue<T>
{
    private readonly T[] _slots = new T[capacity];
    private int _head;
    private int _tail;

    public int Capacity => capacity;

    public int Count => Volatile.Read(ref _tail) - Volatile.Read(ref _head);

    public bool TryEnqueue(T item)
    {
        int tail = Volatile.Read(ref _tail);
        if (tail - Volatile.Read(ref _head) >= capacity)
        {
            return false;
        }

        _slots[tail % capacity] = item;
        Volatile.Write(ref _tail, tail + 1); // a second producer may have read the same tail
        return true;
    }

    public bool TryDequeue([MaybeNullWhen(false)] out T item)
    {
        lock (_slots)
        {
            int head = Volatile.Read(ref _head);
            if (head == Volatile.Read(ref _tail))
            {
                item = default;
                return false;
            }

            item = _slots[head % capacity];
            Volatile.Write(ref _head, head + 1);
            return true;
        }
    }
}

using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using FastThreadPool.Primitives;

namespace FastThreadPool.Tests.Unit.Queues;

/// <summary>The queue a user would write in a dozen lines: a lock around a <see cref="Queue{T}"/>.</summary>
public sealed class LockedQueue<T>(int capacity = IMpmcQueue<T>.Unbounded) : IMpmcQueue<T>
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

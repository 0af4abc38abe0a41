using System;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool.Tests.Concurrency.Queues;

/// <summary>The shipped bounded-queue algorithm, instantiated with test hooks.</summary>
internal sealed class HookedBoundedQueue<THooks> : IMpmcQueue<string> where THooks : struct, IHooks
{
    private BoundedRing<string, THooks> _ring;

    public HookedBoundedQueue(int capacity, long startIndex = 0) => _ring = new BoundedRing<string, THooks>(capacity, startIndex);

    public int Count => _ring.Count;

    public int Capacity => _ring.Capacity;

    public bool TryEnqueue(string item) => _ring.TryEnqueue(item);

    public bool TryDequeue([MaybeNullWhen(false)] out string item) => _ring.TryDequeue(out item);
}

/// <summary>The shipped unbounded-queue algorithm, instantiated with test hooks.</summary>
internal sealed class HookedUnboundedQueue<THooks> : IMpmcQueue<string> where THooks : struct, IHooks
{
    private SegmentedQueue<string, THooks> _queue;

    public HookedUnboundedQueue(int segmentSize, int spareSegments = 1) => _queue = new SegmentedQueue<string, THooks>(segmentSize, spareSegments);

    public int Count => _queue.Count;

    public bool TryEnqueue(string item)
    {
        _queue.Enqueue(item);
        return true;
    }

    public bool TryDequeue([MaybeNullWhen(false)] out string item) => _queue.TryDequeue(out item);

    /// <summary>The batch dequeue (one claim for a run of published slots).</summary>
    public int TryDequeueMany(string[] into)
    {
        DequeueMark mark = default;
        return _queue.TryDequeueMany(into, ref mark);
    }
}

/// <summary>
/// The unbounded queue's algorithm over a value type (<c>long</c>), whose recycled segments keep their items (only
/// references are cleared), behind the scenarios' string contract: item "p:i" travels as (p + 1) * 2^20 + i + 1, so a
/// slot read before any producer wrote it (0) comes out as null, and one read from an earlier life as a duplicate.
/// </summary>
internal sealed class HookedUnboundedValueQueue<THooks> : IMpmcQueue<string> where THooks : struct, IHooks
{
    private SegmentedQueue<long, THooks> _queue;

    public HookedUnboundedValueQueue(int segmentSize, int spareSegments = 1) => _queue = new SegmentedQueue<long, THooks>(segmentSize, spareSegments);

    public int Count => _queue.Count;

    public bool TryEnqueue(string item)
    {
        int colon = item.IndexOf(':', StringComparison.Ordinal);
        long p = long.Parse(item.AsSpan(0, colon), CultureInfo.InvariantCulture);
        long i = long.Parse(item.AsSpan(colon + 1), CultureInfo.InvariantCulture);
        _queue.Enqueue(((p + 1) << 20) + i + 1);
        return true;
    }

    public bool TryDequeue([MaybeNullWhen(false)] out string item)
    {
        if (!_queue.TryDequeue(out long value))
        {
            item = null;
            return false;
        }

        item = value == 0 ? null! : string.Create(CultureInfo.InvariantCulture, $"{(value >> 20) - 1}:{(value & ((1 << 20) - 1)) - 1}");
        return true;
    }
}

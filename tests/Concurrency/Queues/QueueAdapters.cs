using System;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool.Tests.Concurrency.Queues;

/// <summary>The shipped bounded-queue algorithm, instantiated with test hooks, over references (Vyukov's protocol).</summary>
internal sealed class HookedBoundedQueue<THooks> : IMpmcQueue<string> where THooks : struct, IHooks
{
    private BoundedRing<string, THooks> _ring;

    public HookedBoundedQueue(int capacity, long startIndex = 0, int reach = 0) => _ring = new BoundedRing<string, THooks>(capacity, startIndex, reach);

    public int Count => _ring.Count;

    public int Capacity => _ring.Capacity;

    public bool TryEnqueue(string item) => _ring.TryEnqueue(item);

    public bool TryDequeue([MaybeNullWhen(false)] out string item) => _ring.TryDequeue(out item);
}

/// <summary>The shipped unbounded-queue algorithm, instantiated with test hooks.</summary>
internal sealed class HookedUnboundedQueue<THooks> : IMpmcQueue<string> where THooks : struct, IHooks
{
    private SegmentedQueue<string, THooks> _queue;

    public HookedUnboundedQueue(int segmentSize, int spareSegments = 1, bool? farWait = null, int cooling = -1) =>
        _queue = new SegmentedQueue<string, THooks>(segmentSize, spareSegments, farWait, cooling);

    public int Count => _queue.Count;

    /// <summary>Whether the queue streams (its last second wait that ended was answered).</summary>
    public bool Streaming => _queue.Streaming;

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
/// The scenarios' items ("p:i", strings) as <c>long</c> values for the queues over a value type: "p:i" travels as
/// (p + 1) * 2^20 + i + 1, so a slot read before any producer wrote it (0) comes out as null, and one read from an
/// earlier lap or life as a duplicate.
/// </summary>
internal static class ValueItems
{
    public static long Encode(string item)
    {
        int colon = item.IndexOf(':', StringComparison.Ordinal);
        long p = long.Parse(item.AsSpan(0, colon), CultureInfo.InvariantCulture);
        long i = long.Parse(item.AsSpan(colon + 1), CultureInfo.InvariantCulture);
        return ((p + 1) << 20) + i + 1;
    }

    public static string Decode(long value) =>
        value == 0 ? null! : string.Create(CultureInfo.InvariantCulture, $"{(value >> 20) - 1}:{(value & ((1 << 20) - 1)) - 1}");
}

/// <summary>
/// The unbounded queue's algorithm over a value type (<c>long</c>), whose recycled segments keep their items (only
/// references are cleared), behind the scenarios' string contract (see <see cref="ValueItems"/>).
/// </summary>
internal sealed class HookedUnboundedValueQueue<THooks> : IMpmcQueue<string> where THooks : struct, IHooks
{
    private SegmentedQueue<long, THooks> _queue;

    public HookedUnboundedValueQueue(int segmentSize, int spareSegments = 1, bool? farWait = null, int cooling = -1) =>
        _queue = new SegmentedQueue<long, THooks>(segmentSize, spareSegments, farWait, cooling);

    public int Count => _queue.Count;

    /// <summary>Whether the queue streams (its last second wait that ended was answered).</summary>
    public bool Streaming => _queue.Streaming;

    public bool TryEnqueue(string item)
    {
        _queue.Enqueue(ValueItems.Encode(item));
        return true;
    }

    public bool TryDequeue([MaybeNullWhen(false)] out string item)
    {
        bool taken = _queue.TryDequeue(out long value);
        item = taken ? ValueItems.Decode(value) : null;
        return taken;
    }
}

/// <summary>
/// The bounded queue's algorithm over a value type (<c>long</c>): the read-before-claim protocol (consumers read the
/// item before their claim and never write the slot; producers judge room by the head), behind the scenarios' string
/// contract (see <see cref="ValueItems"/>). <see cref="HookedBoundedQueue{THooks}"/> runs Vyukov's protocol.
/// </summary>
internal sealed class HookedBoundedValueQueue<THooks> : IMpmcQueue<string> where THooks : struct, IHooks
{
    private BoundedRing<long, THooks> _ring;

    public HookedBoundedValueQueue(int capacity, long startIndex = 0, int reach = 0) => _ring = new BoundedRing<long, THooks>(capacity, startIndex, reach);

    public int Count => _ring.Count;

    public int Capacity => _ring.Capacity;

    public bool TryEnqueue(string item) => _ring.TryEnqueue(ValueItems.Encode(item));

    public bool TryDequeue([MaybeNullWhen(false)] out string item)
    {
        bool taken = _ring.TryDequeue(out long value);
        item = taken ? ValueItems.Decode(value) : null;
        return taken;
    }
}

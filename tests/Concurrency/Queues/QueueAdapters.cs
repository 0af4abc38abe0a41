using System.Diagnostics.CodeAnalysis;
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

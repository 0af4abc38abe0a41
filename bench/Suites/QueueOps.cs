using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;
using FastThreadPool.Primitives;

namespace FastThreadPool.Benchmarks.Suites;

/// <summary>
/// Queue operations behind a struct, so that one generic loop is specialised per implementation and every
/// implementation runs the same code around its calls.
/// </summary>
public interface IQueueOps
{
    bool TryEnqueue(long item);

    bool TryDequeue(out long item);
}

public readonly struct ConcurrentQueueOps(ConcurrentQueue<long> q) : IQueueOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(long item)
    {
        q.Enqueue(item);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue(out long item) => q.TryDequeue(out item);
}

public readonly struct BoundedOps(BoundedMpmcQueue<long> q) : IQueueOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(long item) => q.TryEnqueue(item);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue(out long item) => q.TryDequeue(out item);
}

public readonly struct UnboundedOps(UnboundedMpmcQueue<long> q) : IQueueOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(long item)
    {
        q.Enqueue(item);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue(out long item) => q.TryDequeue(out item);
}

public readonly struct ChannelOps(Channel<long> c) : IQueueOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(long item) => c.Writer.TryWrite(item);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue(out long item) => c.Reader.TryRead(out item);
}

public readonly struct BlockingCollectionOps(BlockingCollection<long> c) : IQueueOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(long item) => c.TryAdd(item);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue(out long item) => c.TryTake(out item);
}

/// <summary>The pair's floor (see <see cref="QueuePairBenchmarks.Floor"/>): one CAS and the item per operation.</summary>
/// <remarks>The accesses of a queue's fast path, and only those: the volatile read of the index and the CAS that
/// advances it, as a queue makes them. Nothing pairs with them here: one thread runs the pair.</remarks>
public readonly struct PairFloorOps(PairFloor f) : IQueueOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(long item)
    {
        long t = Volatile.Read(ref f.EnqueueIndex);
        Interlocked.CompareExchange(ref f.EnqueueIndex, t + 1, t);
        f.Slots[(int)t & 1023] = item;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue(out long item)
    {
        long h = Volatile.Read(ref f.DequeueIndex);
        Interlocked.CompareExchange(ref f.DequeueIndex, h + 1, h);
        item = f.Slots[(int)h & 1023];
        return true;
    }
}

using System.Diagnostics.CodeAnalysis;

namespace FastThreadPool.Primitives;

/// <summary>
/// A multi-producer, multi-consumer FIFO queue: any number of threads may call <see cref="TryEnqueue"/> and
/// <see cref="TryDequeue"/> at the same time. This is the contract that the pool's job queue is plugged in
/// through; a lock around a <see cref="System.Collections.Generic.Queue{T}"/> is a valid implementation.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// <para>
/// <b>Happens-before.</b> Everything a producer wrote before a successful <see cref="TryEnqueue"/> of an item is
/// visible to the consumer whose <see cref="TryDequeue"/> returns that item. Implementations must give this
/// guarantee (a lock gives it; a lock-free queue gives it with a release store that publishes the item and an
/// acquire load that observes it).
/// </para>
/// <para>
/// <b>Linearizability.</b> Each operation must appear to take effect at one instant between its call and its
/// return: in particular <see cref="TryDequeue"/> returns <see langword="false"/> only if the queue was empty at
/// some instant during the call, and <see cref="TryEnqueue"/> returns <see langword="false"/> only if a bounded
/// queue was full at some instant during the call. So each enqueued item is returned by exactly one
/// <see cref="TryDequeue"/> (or stays queued): the pool runs a job once for each time its queue hands it out.
/// </para>
/// <para>
/// <see cref="Count"/> and <see cref="IsEmpty"/> are snapshots: under concurrent use they may be out of date by
/// the time the caller reads them.
/// </para>
/// </remarks>
public interface IMpmcQueue<T>
{
    /// <summary>Adds an item at the tail.</summary>
    /// <param name="item">The item to add.</param>
    /// <returns><see langword="true"/> if the item was added; <see langword="false"/> only when the queue is bounded
    /// and was full.</returns>
    bool TryEnqueue(T item);

    /// <summary>Removes the item at the head.</summary>
    /// <param name="item">The removed item, or <see langword="default"/> when none was removed.</param>
    /// <returns><see langword="true"/> if an item was removed; <see langword="false"/> if the queue was empty.</returns>
    bool TryDequeue([MaybeNullWhen(false)] out T item);

    /// <summary>An approximate number of items in the queue (exact when no operation is in flight).</summary>
    int Count { get; }

    /// <summary>Whether the queue held no item at the instant of the call.</summary>
    bool IsEmpty => Count == 0;

    /// <summary>The most items the queue can hold, or <see cref="Unbounded"/> (-1) for an unbounded queue.</summary>
    int Capacity => Unbounded;

    /// <summary>Whether <see cref="TryEnqueue"/> can return <see langword="false"/> because the queue is full.</summary>
    bool IsBounded => Capacity != Unbounded;

    /// <summary>The <see cref="Capacity"/> of an unbounded queue.</summary>
    const int Unbounded = -1;
}

using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using FastThreadPool.Primitives;

namespace FastThreadPool;

public sealed partial class Pool
{
    /// <summary>
    /// Yields the jobs that end, done or failed, as they end (taking them out of <see cref="Done"/> and
    /// <see cref="Failed"/>), until <paramref name="count"/> were yielded, no job is outstanding and both queues are
    /// empty, or no job ended within <paramref name="timeout"/>. Waiting blocks on a semaphore that finishing workers
    /// release; it does not poll.
    /// </summary>
    /// <param name="timeout">How long to wait for the next job; <see cref="Timeout.InfiniteTimeSpan"/> (the default when
    /// null) for no limit.</param>
    /// <param name="count">The most jobs to yield; null for no limit.</param>
    /// <returns>The ended jobs, in the order they were taken out of the queues (done ones first at each look).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than infinite) or
    /// <paramref name="count"/> is negative.</exception>
    public IEnumerable<PoolJob> AsCompleted(TimeSpan? timeout = null, int? count = null)
    {
        int waitMs = (int)ToMilliseconds(timeout ?? Timeout.InfiniteTimeSpan);
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must not be negative.");
        }

        return Completed(waitMs, count ?? int.MaxValue);
    }

    private IEnumerable<PoolJob> Completed(int waitMs, int count)
    {
        int yielded = 0;
        while (yielded < count)
        {
            if (TakeCompleted(out PoolJob? job))
            {
                yielded++;
                yield return job;
                continue;
            }

            // Announce the wait, then look again (pairs with FinishOne: it ends a job, then reads the waiter count).
            bool got;
            bool end = false;
            AnnounceWaiter(ref _completionWaiters);
            try
            {
                got = TakeCompleted(out job);
                if (!got && Outstanding() == 0)
                {
                    // Nothing outstanding: every ended job was queued before it stopped counting, so one last look
                    // finds whatever is left; then nothing more will end (until more is submitted).
                    got = TakeCompleted(out job);
                    end = !got;
                }
                else if (!got)
                {
                    end = !_completed.Wait(waitMs);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _completionWaiters);
            }

            if (got)
            {
                yielded++;
                yield return job!;
            }
            else if (end)
            {
                yield break;
            }
        }
    }

    private bool TakeCompleted([NotNullWhen(true)] out PoolJob? job) => _done.TryDequeue(out job) || Failed.TryDequeue(out job);

    /// <summary>The done queue: an unbounded queue, and with <see cref="PoolOptions.DoneMax"/> a semaphore of free
    /// places that workers take before adding and consumers give back after taking.</summary>
    private sealed class DoneQueue(FastSemaphore? room, int spareSegments) : IMpmcQueue<PoolJob>
    {
        private readonly UnboundedMpmcQueue<PoolJob> _items = new(UnboundedMpmcQueue<PoolJob>.DefaultSegmentSize, spareSegments);

        public int Count => _items.Count;

        public int Capacity => room is null ? IMpmcQueue<PoolJob>.Unbounded : room.MaxCount;

        public bool IsEmpty => _items.IsEmpty;

        /// <summary>Adds a job; owned by the pool (a user's <see cref="TryEnqueue"/> goes through the same bound).</summary>
        public void Add(PoolJob job)
        {
            room?.Wait();
            _items.Enqueue(job);
        }

        public bool TryEnqueue(PoolJob item)
        {
            ArgumentNullException.ThrowIfNull(item);
            if (room is not null && !room.TryWait())
            {
                return false;
            }

            _items.Enqueue(item);
            return true;
        }

        public bool TryDequeue([MaybeNullWhen(false)] out PoolJob item)
        {
            if (!_items.TryDequeue(out item))
            {
                return false;
            }

            room?.Release();
            return true;
        }
    }
}

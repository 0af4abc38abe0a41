using System;

namespace FastThreadPool.Tests.Unit;

/// <summary>Measures what a piece of code allocates on the calling thread.</summary>
internal static class Allocations
{
    /// <summary>
    /// The fewest bytes that <paramref name="body"/> allocated on this thread over <paramref name="attempts"/> runs.
    /// The runtime's per-thread count can move by a few hundred bytes when a collection (started by other tests running
    /// in parallel) resets the thread's allocation context; code that allocates per operation shows in every run, so
    /// the least of a few runs separates the two.
    /// </summary>
    public static long Least(Action body, int attempts = 3)
    {
        long least = long.MaxValue;
        for (int i = 0; i < attempts && least != 0; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            body();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}

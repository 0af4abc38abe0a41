using System;
using System.Diagnostics;
using System.Threading;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// The cost of moving one cache line between two threads and back: two threads take turns incrementing one word,
/// each waiting (spinning) for the other's write. On a virtual machine this changes with where the host places the
/// two virtual CPUs (it moved 4-5 fold within minutes on the 2-core machine), and every benchmark in which two threads
/// hand data to each other moves with it; the runs record it so that results can be grouped by it.
/// </summary>
public static class LineRoundTrip
{
    /// <summary>The median of <paramref name="tries"/> measurements of <paramref name="roundTrips"/> round trips each,
    /// in nanoseconds per round trip. Both threads spin, so the figure is meaningful only with two free cores; when the
    /// scheduler puts both on one core, a try takes a time slice per turn and the median drops it.</summary>
    public static double Measure(int roundTrips = 10_000, int tries = 5)
    {
        var results = new double[tries];
        for (int t = 0; t < tries; t++)
        {
            results[t] = Once(roundTrips);
        }

        Array.Sort(results);
        return results[tries / 2];
    }

    private static double Once(int roundTrips)
    {
        // The word sits in the middle of its own 128-byte block: no neighbour shares its line or the adjacent one.
        // box[0] is the stop flag for a try that runs too long (both threads on one core). Each thread's volatile
        // write of the word is what the other's volatile reads wait for: every turn moves the line across and back.
        long[] box = new long[32];
        long end = 2L * roundTrips;
        var other = new Thread(() =>
        {
            for (long i = 1; i < end; i += 2)
            {
                while (Volatile.Read(ref box[16]) != i)
                {
                    if (Volatile.Read(ref box[0]) != 0)
                    {
                        return;
                    }
                }

                Volatile.Write(ref box[16], i + 1);
            }
        });
        other.Start();
        long start = Stopwatch.GetTimestamp();
        long limit = Stopwatch.Frequency / 5; // 200 ms
        for (long i = 0; i <= end; i += 2)
        {
            int spins = 0;
            while (Volatile.Read(ref box[16]) != i)
            {
                if ((++spins & 1023) == 0 && Stopwatch.GetTimestamp() - start > limit)
                {
                    Volatile.Write(ref box[0], 1);
                    other.Join();
                    return double.PositiveInfinity;
                }
            }

            if (i < end)
            {
                Volatile.Write(ref box[16], i + 1);
            }
        }

        double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / roundTrips;
        other.Join();
        return ns;
    }
}

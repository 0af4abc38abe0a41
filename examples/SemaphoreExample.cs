using System.IO;
using System.Threading;
using FastThreadPool.Primitives;

namespace FastThreadPool.Examples;

/// <summary>
/// The original's <c>ex_semaphore</c>: release + acquire pairs on one thread (200,000), then the same pairs run as
/// pool jobs (each job releases and acquires), against <c>SemaphoreSlim</c> and <c>System.Threading.Semaphore</c>.
/// Checked: the count is back where it started, and every job ran.
/// </summary>
internal static class SemaphoreExample
{
    public static bool Run(bool quick, TextWriter output)
    {
        int pairs = quick ? 5_000 : 200_000;
        bool ok = true;
        output.WriteLine($" {pairs:N0} release + acquire pairs on one thread:");
        ok &= Pairs(output, "FastSemaphore", pairs, new FastSemaphore(0, int.MaxValue), static s => s.Release(), static s => s.Wait(), static s => s.CurrentCount);
        ok &= Pairs(output, "SemaphoreSlim", pairs, new SemaphoreSlim(0), static s => s.Release(), static s => s.Wait(), static s => s.CurrentCount);
        using (var os = new Semaphore(0, int.MaxValue))
        {
            ok &= Pairs(output, "System.Threading.Semaphore", pairs, os, static s => s.Release(), static s => s.WaitOne(), static s => s.WaitOne(0) ? 1 : 0);
        }

        int jobs = quick ? 2_000 : 200_000;
        output.WriteLine($" {jobs:N0} pool jobs, each a release + acquire pair on a shared semaphore:");
        ok &= AsJobs(output, "FastSemaphore", jobs, new FastSemaphore(0, int.MaxValue), static s => s.Release(), static s => s.Wait(), static s => s.CurrentCount);
        ok &= AsJobs(output, "SemaphoreSlim", jobs, new SemaphoreSlim(0), static s => s.Release(), static s => s.Wait(), static s => s.CurrentCount);
        using (var os = new Semaphore(0, int.MaxValue))
        {
            ok &= AsJobs(output, "System.Threading.Semaphore", jobs, os, static s => s.Release(), static s => s.WaitOne(), static s => s.WaitOne(0) ? 1 : 0);
        }

        return ok;
    }

    private static bool Pairs<T>(TextWriter output, string name, int pairs, T semaphore, System.Action<T> release, System.Action<T> acquire, System.Func<T, int> count) =>
        Timing.Row(output, name, pairs, () =>
        {
            for (int i = 0; i < pairs; i++)
            {
                release(semaphore);
                acquire(semaphore);
            }

            return pairs + count(semaphore); // the count is back at 0
        }, pairs);

    private static bool AsJobs<T>(TextWriter output, string name, int jobs, T semaphore, System.Action<T> release, System.Action<T> acquire, System.Func<T, int> count) =>
        Timing.Row(output, name, jobs, () =>
        {
            var pool = new Pool(new PoolOptions { KeepDone = false });
            for (int i = 0; i < jobs; i++)
            {
                pool.Submit(() =>
                {
                    release(semaphore);
                    acquire(semaphore);
                });
            }

            pool.Shutdown();
            return pool.DoneCount + count(semaphore);
        }, jobs);
}

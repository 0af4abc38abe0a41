using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace FastThreadPool.Examples;

/// <summary>
/// The original's <c>ex_simple_sum</c>: identity jobs over 50,000 (and 1,000,000) numbers, summed. Every way of doing
/// it computes the same sum, which is checked.
/// </summary>
internal static class SimpleSum
{
    private static long s_field;

    public static bool Run(bool quick, TextWriter output)
    {
        bool ok = true;
        foreach (int n in quick ? new[] { 5_000 } : new[] { 50_000, 1_000_000 })
        {
            int[] data = Enumerable.Range(0, n).ToArray();
            long expected = (long)n * (n - 1) / 2;
            output.WriteLine($" {n:N0} identity jobs, results summed:");
            ok &= Timing.Row(output, "plain loop", n, () =>
            {
                long sum = 0;
                foreach (int v in data)
                {
                    sum += v;
                }

                return sum;
            }, expected);
            ok &= Timing.Row(output, "loop storing into a field", n, () =>
            {
                s_field = 0;
                foreach (int v in data)
                {
                    s_field += v;
                }

                return s_field;
            }, expected);
            ok &= Timing.Row(output, "Pool.Map (results in input order)", n, () =>
            {
                using var pool = new Pool();
                return pool.Map(static (int v) => (long)v, data).Sum();
            }, expected);
            ok &= Timing.Row(output, "Pool.Submit, then Shutdown, then sum Done", n, () =>
            {
                var pool = new Pool();
                foreach (int v in data)
                {
                    pool.Submit(static (int x) => (long)x, v);
                }

                pool.Shutdown();
                long sum = 0;
                while (pool.Done.TryDequeue(out PoolJob? job))
                {
                    sum += job.GetResult<long>();
                }

                return sum;
            }, expected);
            ok &= Timing.Row(output, "Pool.Submit in waves, Done read + Return", n, () =>
            {
                // Each job handed back once its result is read: with SpareJobs, the next wave reuses the objects.
                using var pool = new Pool(new PoolOptions { SpareJobs = 4_096 });
                long sum = 0;
                for (int start = 0; start < n; start += 1_000)
                {
                    int end = Math.Min(n, start + 1_000);
                    for (int i = start; i < end; i++)
                    {
                        pool.Submit(static (int x) => (long)x, data[i]);
                    }

                    foreach (PoolJob job in pool.AsCompleted(count: end - start))
                    {
                        sum += job.GetResult<long>();
                        pool.Return(job);
                    }
                }

                return sum;
            }, expected);
            ok &= Timing.Row(output, "Parallel.ForEach", n, () =>
            {
                long sum = 0;
                Parallel.ForEach(data, () => 0L, (v, _, local) => local + v, local => Interlocked.Add(ref sum, local));
                return sum;
            }, expected);
            ok &= Timing.Row(output, "ThreadPool.UnsafeQueueUserWorkItem", n, () =>
            {
                long sum = 0;
                using var done = new CountdownEvent(n);
                foreach (int v in data)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(x => { Interlocked.Add(ref sum, x); done.Signal(); }, v, preferLocal: false);
                }

                done.Wait();
                return sum;
            }, expected);
            ok &= Timing.Row(output, "Task.Run + Task.WhenAll", n, () =>
            {
                var tasks = new Task<long>[n];
                for (int i = 0; i < n; i++)
                {
                    int v = data[i];
                    tasks[i] = Task.Run(() => (long)v);
                }

                return Task.WhenAll(tasks).GetAwaiter().GetResult().Sum();
            }, expected);
        }

        return ok;
    }
}

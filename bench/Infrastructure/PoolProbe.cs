using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using FastThreadPool.Primitives;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// Where the time of the <c>submit</c> case goes: the case taken apart, in interleaved rounds (every configuration once
/// per round, in an order that rotates). It separates what the pool costs from what the benchmark's own completion
/// count costs, and the submitting thread from the workers:
/// <list type="bullet">
/// <item><description>completion by one shared countdown (what the headline case does: every job decrements one
/// counter) against per-thread counts (every job increments a counter that only its own thread writes; the submitter
/// sums them);</description></item>
/// <item><description>the pool with 1, 2, 4, 8 and cores workers, and <c>ThreadPool</c>; with cores workers also batches
/// of 1 and 32 jobs, and batches whenever a job more waits (the default takes a batch only while other workers take
/// from the queue too); the pool's scheduling counts per 1,000 jobs (parks, wake-ups by workers and by other threads,
/// looks at other workers' deques, steals, jobs taken from the submission queue); one worker taking single jobs,
/// with either completion count;</description></item>
/// <item><description>with cores workers and the shared countdown, ended jobs reused by the submitter
/// (<see cref="PoolOptions.SpareJobs"/>: no allocation, so no collections);</description></item>
/// <item><description>the submitter's own loop (ns per job until its last <c>Submit</c> returned), and the same loop
/// into a pool whose one worker is held busy (nobody dequeues while it runs: the submitter alone); and the other side,
/// 1 and cores workers draining the jobs queued while they were held (timed from their release: the workers
/// alone);</description></item>
/// <item><description>submit with results: <c>ThreadPool</c> jobs enqueuing into a <c>ConcurrentQueue</c> against
/// <c>Submit(Func)</c> with the <c>Done</c> queue, the same with every job handed back once its result is read
/// (<see cref="Pool.Return(PoolJob)"/> with <see cref="PoolOptions.SpareJobs"/>: no job objects allocated), and pool
/// jobs enqueuing into a <c>ConcurrentQueue</c> as the <c>ThreadPool</c> ones do (no <c>Done</c> entry), every result
/// summed by the caller;</description></item>
/// <item><description>the floor of a shared countdown: 2 and cores - 1 threads decrementing one counter;</description></item>
/// <item><description>for every configuration the median and the mean time per job (a round with a collection in it
/// takes far longer than one without, so the two part where the rows allocate), and the garbage collector's pauses
/// during its calls, in ns per job (a job
/// whose object lives until the caller reads it, in <c>Done</c> or a queue, is copied by every collection that finds
/// it alive);</description></item>
/// <item><description>what <see cref="Pool.Cancel(long)"/> of a queued job costs (its process-wide barrier), with the
/// other processors idle and with a thread spinning on each.</description></item>
/// </list>
/// Run: <c>dotnet run -c Release --project bench -- pool-probe [--seconds N] [--only TEXT] [--out DIR]</c> (<c>--only</c>
/// keeps the configurations whose name contains TEXT, or any of several separated by <c>|</c>); writes
/// <c>pool-probe.md</c> and <c>pool-probe.json</c>.
/// </summary>
public static class PoolProbe
{
    private const int Jobs = 100_000;

    /// <summary>One configuration's figures over the kept rounds.</summary>
    public sealed record Result(string Name, int Rounds, double MedianNs, double MeanNs, double P25Ns, double P75Ns, double MedianSubmitLoopNs, double GcPauseNs, string Counts);

    private sealed class Config(string name, Func<(double Total, double Loop)> run, Pool? pool = null)
    {
        public string Name { get; } = name;
        public Func<(double Total, double Loop)> Run { get; } = run;
        public Pool? Pool { get; } = pool;
        public List<double> Totals { get; } = [];
        public List<double> Loops { get; } = [];
        public long Jobs;
        public PoolDiagnostics Counts;

        // The garbage collector's pauses during this configuration's measured calls (every thread stopped).
        public TimeSpan GcPause;

        public double GcPauseNsPerJob => Totals.Count == 0 ? double.NaN : GcPause.TotalNanoseconds / ((double)Totals.Count * PoolProbe.Jobs);

        public string CountsPer1000()
        {
            if (Pool is null || Jobs == 0)
            {
                return "";
            }

            double k = 1000.0 / Jobs;
            return string.Create(CultureInfo.InvariantCulture,
                $"parks {Counts.Parks * k:F1}, wakes {Counts.WorkerWakes * k:F1} + {Counts.OutsideWakes * k:F1}, scans {Counts.StealScans * k:F0}, steals {Counts.Steals * k:F0}, queue takes {Counts.QueueTakes * k:F0}, batches {Counts.Batches * k:F0}")
                + (Pool.SteeringState is { Length: > 0 } steering ? string.Create(CultureInfo.InvariantCulture, $", rests {Counts.Rests * k:F2}; {steering}") : "");
        }
    }

    // ---- completion schemes ----

    private sealed class Countdown : IThreadPoolWorkItem
    {
        public int Remaining;
        public readonly ManualResetEventSlim Done = new(false);

        public void Reset()
        {
            Remaining = Jobs;
            Done.Reset();
        }

        public void Execute()
        {
            if (Interlocked.Decrement(ref Remaining) == 0)
            {
                Done.Set();
            }
        }

        public void Wait() => Done.Wait();
    }

    // A counter written by one thread only, on its own cache lines: its release store pairs with the acquire read in
    // Sum, so a waiter that sees the count sees the job's work done.
    private sealed class Stripe
    {
        public PaddedInt64 Count;
    }

    private sealed class PerThread : IThreadPoolWorkItem
    {
        [ThreadStatic]
        private static Stripe? t_stripe;

        private static readonly object s_gate = new();
        private static Stripe[] s_stripes = [];
        private long _target;

        private static Stripe Register()
        {
            var s = new Stripe();
            lock (s_gate)
            {
                s_stripes = [.. s_stripes, s];
            }

            return t_stripe = s;
        }

        private static long Sum()
        {
            long sum = 0;
            foreach (Stripe s in Volatile.Read(ref s_stripes))
            {
                sum += Volatile.Read(ref s.Count.Value);
            }

            return sum;
        }

        public void Reset() => _target = Sum() + Jobs;

        public void Execute()
        {
            Stripe s = t_stripe ?? Register();
            Volatile.Write(ref s.Count.Value, s.Count.Value + 1);
        }

        public void Wait()
        {
            var spinner = new SpinWait();
            while (Sum() < _target)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    /// <summary>Runs the rounds for <paramref name="duration"/> (after 3 warm-up rounds) and writes the files.</summary>
    public static IReadOnlyList<Result> Run(TimeSpan duration, string directory, string? only = null)
    {
        int cores = Environment.ProcessorCount;
        var pools = new List<Pool>();
        Pool MakePool(PoolOptions options)
        {
            options.KeepDone = false;
            var p = new Pool(options);
            pools.Add(p);
            return p;
        }

        var countdown = new Countdown();
        var perThread = new PerThread();
        var configs = new List<Config>
        {
            new("ThreadPool, shared countdown", () => Time(countdown.Reset, i => ThreadPool.UnsafeQueueUserWorkItem(countdown, false), countdown.Wait)),
            new("ThreadPool, per-thread counts", () => Time(perThread.Reset, i => ThreadPool.UnsafeQueueUserWorkItem(perThread, false), perThread.Wait)),
        };

        configs.Add(Counted($"Pool {cores} workers, shared countdown", MakePool(new PoolOptions { MaxWorkers = cores }), countdown.Reset, countdown.Execute, countdown.Wait));
        configs.Add(Counted($"Pool {cores} workers, shared countdown, batch always", MakePool(new PoolOptions { MaxWorkers = cores, BatchOnlyWhenShared = false }), countdown.Reset, countdown.Execute, countdown.Wait));

        // Ended jobs reused by the submitter (SpareJobs): no allocation, so no collections, against fresh job objects.
        configs.Add(Counted($"Pool {cores} workers, shared countdown, SpareJobs", MakePool(new PoolOptions { MaxWorkers = cores, SpareJobs = 1 << 17 }), countdown.Reset, countdown.Execute, countdown.Wait));
        foreach (int w in new[] { 1, 2, 4, 8, cores }.Where(w => w >= 1 && w <= cores).Distinct())
        {
            configs.Add(Counted($"Pool {w} workers", MakePool(new PoolOptions { MaxWorkers = w }), perThread.Reset, perThread.Execute, perThread.Wait));
            if (w > 1 && w < cores)
            {
                configs.Add(Counted($"Pool {w} workers, batch always", MakePool(new PoolOptions { MaxWorkers = w, BatchOnlyWhenShared = false }), perThread.Reset, perThread.Execute, perThread.Wait));
            }
        }

        // Steering (internal PoolOptions.AdaptiveWorkers, Pool.Steering.cs): the number of working workers chosen by
        // measured throughput, and limits held at 1, 2 and 4 working workers.
        configs.Add(Counted($"Pool {cores} workers steered", MakePool(new PoolOptions { MaxWorkers = cores, AdaptiveWorkers = true }), perThread.Reset, perThread.Execute, perThread.Wait));
        configs.Add(Counted($"Pool {cores} workers steered, shared countdown", MakePool(new PoolOptions { MaxWorkers = cores, AdaptiveWorkers = true }), countdown.Reset, countdown.Execute, countdown.Wait));
        foreach (int limit in new[] { 1, 2, 4 }.Where(h => h < cores))
        {
            configs.Add(Counted($"Pool {cores} workers held at {limit}", MakePool(new PoolOptions { MaxWorkers = cores, AdaptiveWorkers = true, FixedWorkerLimit = limit }), perThread.Reset, perThread.Execute, perThread.Wait));
            configs.Add(Counted($"Pool {cores} workers held at {limit}, shared countdown", MakePool(new PoolOptions { MaxWorkers = cores, AdaptiveWorkers = true, FixedWorkerLimit = limit }), countdown.Reset, countdown.Execute, countdown.Wait));
        }

        (string Name, Action<PoolOptions> Set)[] variants =
        [
            ("batch 1", o => o.InjectionBatch = 1),
            ("batch 32", o => o.InjectionBatch = 32),
            ("batch always", o => o.BatchOnlyWhenShared = false),
        ];
        foreach ((string name, Action<PoolOptions> set) in variants)
        {
            var o = new PoolOptions { MaxWorkers = cores };
            set(o);
            configs.Add(Counted($"Pool {cores} workers, {name}", MakePool(o), perThread.Reset, perThread.Execute, perThread.Wait));
        }

        // One worker taking single jobs (a pool of one batches by default; see Pool.FindWork), with either completion
        // count, and the default one-worker pool with the shared countdown: what one busy worker costs against two.
        configs.Add(Counted("Pool 1 workers, batch 1", MakePool(new PoolOptions { MaxWorkers = 1, InjectionBatch = 1 }), perThread.Reset, perThread.Execute, perThread.Wait));
        configs.Add(Counted("Pool 1 workers, batch 1, shared countdown", MakePool(new PoolOptions { MaxWorkers = 1, InjectionBatch = 1 }), countdown.Reset, countdown.Execute, countdown.Wait));
        configs.Add(Counted("Pool 1 workers, shared countdown", MakePool(new PoolOptions { MaxWorkers = 1 }), countdown.Reset, countdown.Execute, countdown.Wait));

        // The submitter alone: the pool's one worker is held by a gate job while the jobs are submitted. And the other
        // side: the workers held while the jobs are submitted, then timed from their release until the last job ended
        // (the workers alone, taking jobs that were written by another core).
        configs.Add(Held("Pool, submitter alone (worker held)", MakePool(new PoolOptions { MaxWorkers = 1 }), 1, perThread, drain: false));
        foreach (int w in new[] { 1, cores }.Distinct())
        {
            configs.Add(Held($"Pool, queued jobs drained by {w} workers", MakePool(new PoolOptions { MaxWorkers = w }), w, perThread, drain: true));
        }

        // Submit with results: the caller takes and sums every result.
        var results = new ConcurrentQueue<long>();
        var keeping = new Pool(new PoolOptions { MaxWorkers = cores });
        pools.Add(keeping);
        Func<int, long> square = static i => (long)i * i;
        configs.Add(new("ThreadPool + ConcurrentQueue, results summed", () =>
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < Jobs; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Q.Enqueue((long)s.I * s.I), (Q: results, I: i), false);
            }

            long t1 = Stopwatch.GetTimestamp();
            Check(SumAll(results));
            return (Ns(t0, Stopwatch.GetTimestamp()), Ns(t0, t1));
        }));
        (double, double) SubmitAndSumDone(Pool pool, bool returnJobs)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < Jobs; i++)
            {
                pool.Submit(square, i);
            }

            long t1 = Stopwatch.GetTimestamp();
            long sum = 0;
            for (int taken = 0; taken < Jobs;)
            {
                if (pool.Done.TryDequeue(out PoolJob? job))
                {
                    sum += job.GetResult<long>();
                    if (returnJobs)
                    {
                        pool.Return(job);
                    }

                    taken++;
                }
                else
                {
                    Thread.SpinWait(20);
                }
            }

            Check(sum);
            return (Ns(t0, Stopwatch.GetTimestamp()), Ns(t0, t1));
        }

        configs.Add(new("Pool.Submit + Done, results summed", () => SubmitAndSumDone(keeping, returnJobs: false), keeping));

        // The same with each job handed back once its result is read (Pool.Return), with room for all of them.
        var returning = new Pool(new PoolOptions { MaxWorkers = cores, SpareJobs = 1 << 17 });
        pools.Add(returning);
        configs.Add(new("Pool.Submit + Done + Return (SpareJobs), results summed", () => SubmitAndSumDone(returning, returnJobs: true), returning));

        // The same results kept as the ThreadPool peer keeps them: each job enqueues its value into a ConcurrentQueue, and
        // the pool keeps no Done entry (its jobs die as they end, where a Done entry keeps each job's object until the
        // caller reads it).
        var valueResults = new ConcurrentQueue<long>();
        Pool valuePool = MakePool(new PoolOptions { MaxWorkers = cores });
        configs.Add(new("Pool.Submit + ConcurrentQueue (KeepDone = false), results summed", () =>
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < Jobs; i++)
            {
                valuePool.Submit(static s => s.Q.Enqueue((long)s.I * s.I), (Q: valueResults, I: i));
            }

            long t1 = Stopwatch.GetTimestamp();
            Check(SumAll(valueResults));
            return (Ns(t0, Stopwatch.GetTimestamp()), Ns(t0, t1));
        }, valuePool));

        // What a cancel costs: every worker of a pool is held by a gate job, 2,000 jobs are queued, then cancelled one
        // by one by id; ns per cancel (the "loop" column: the same with a thread spinning on every other processor,
        // since the cancel's process-wide barrier interrupts the processors that run the process's threads).
        Pool held = MakePool(new PoolOptions { MaxWorkers = cores });
        configs.Add(new("Pool.Cancel of a queued job (workers held; loop column: other processors busy)", () =>
            (CancelCost(held, cores, busy: false), CancelCost(held, cores, busy: true))));

        // The floor of a shared countdown: P threads decrementing one counter, ns per decrement (all threads together).
        foreach (int p in new[] { 2, cores - 1 }.Where(p => p >= 2 && p <= cores).Distinct())
        {
            configs.Add(new($"floor: {p} threads decrementing one counter", () => SharedDecrements(p)));
        }

        if (only is not null)
        {
            string[] wanted = only.Split('|');
            configs.RemoveAll(c => !wanted.Any(w => c.Name.Contains(w, StringComparison.Ordinal)));
        }

        var rng = new Random(7);
        using var watchdog = new Watchdog();
        var watch = Stopwatch.StartNew();
        int round = 0;
        int rttEvery = 20;
        var roundTrips = new List<double>();
        while (round < 3 || watch.Elapsed < duration + TimeSpan.FromSeconds(0))
        {
            if (round % rttEvery == 0)
            {
                roundTrips.Add(LineRoundTrip.Measure());
            }

            int offset = rng.Next(configs.Count);
            for (int k = 0; k < configs.Count; k++)
            {
                Config c = configs[(offset + k) % configs.Count];
                var before = c.Pool?.Diagnostics ?? default;
                TimeSpan pauseBefore = GC.GetTotalPauseDuration();
                watchdog.Enter(c.Name);
                (double total, double loop) = c.Run();
                watchdog.Leave();
                TimeSpan pause = GC.GetTotalPauseDuration() - pauseBefore;
                if (round >= 3)
                {
                    c.Totals.Add(total / Jobs);
                    c.Loops.Add(loop / Jobs);
                    c.GcPause += pause;
                    if (c.Pool is not null)
                    {
                        var after = c.Pool.Diagnostics;
                        c.Jobs += Jobs;
                        c.Counts += after - before;
                    }
                }
            }

            round++;
            if (round == 3)
            {
                watch.Restart();
            }
        }

        foreach (Pool p in pools)
        {
            p.Dispose();
        }

        var list = configs.Select(c => new Result(c.Name, c.Totals.Count, Interleaved.Quantile(c.Totals, 0.5), c.Totals.Count == 0 ? double.NaN : c.Totals.Average(), Interleaved.Quantile(c.Totals, 0.25),
            Interleaved.Quantile(c.Totals, 0.75), Interleaved.Quantile(c.Loops, 0.5), c.GcPauseNsPerJob, c.CountsPer1000())).ToList();
        Write(list, roundTrips, directory);
        return list;
    }

    /// <summary>A pool whose <paramref name="workers"/> are held by gate jobs while the jobs are submitted: the submitting
    /// loop alone, or (<paramref name="drain"/>) the time from the workers' release until the last job ended.</summary>
    private static Config Held(string name, Pool pool, int workers, PerThread counts, bool drain)
    {
        Action up = counts.Execute;
        var gate = new ManualResetEventSlim(false);
        return new(name, () =>
        {
            counts.Reset();
            gate.Reset();
            var started = new CountdownEvent(workers);
            for (int w = 0; w < workers; w++)
            {
                pool.Submit(() =>
                {
                    started.Signal();
                    gate.Wait();
                });
            }

            started.Wait();
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < Jobs; i++)
            {
                pool.Submit(up);
            }

            long t1 = Stopwatch.GetTimestamp();
            gate.Set();
            counts.Wait();
            long t2 = Stopwatch.GetTimestamp();
            pool.WaitIdle();
            return drain ? (Ns(t1, t2), double.NaN) : (Ns(t0, t1), Ns(t0, t1));
        }, drain ? pool : null);
    }

    private static Config Counted(string name, Pool pool, Action reset, Action job, Action wait) =>
        new(name, () => Time(reset, i => pool.Submit(job), wait), pool);

    private static void Check(long sum)
    {
        long expected = 0;
        for (long i = 0; i < Jobs; i++)
        {
            expected += i * i;
        }

        if (sum != expected)
        {
            throw new InvalidOperationException($"results summed to {sum}, expected {expected}");
        }
    }

    private static (double Total, double Loop) Time(Action reset, Action<int> submit, Action wait)
    {
        reset();
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < Jobs; i++)
        {
            submit(i);
        }

        long t1 = Stopwatch.GetTimestamp();
        wait();
        long t2 = Stopwatch.GetTimestamp();
        return (Ns(t0, t2), Ns(t0, t1));
    }

    // Takes Jobs results from a value queue, polling with a short pause while it is empty, and sums them.
    private static long SumAll(ConcurrentQueue<long> results)
    {
        long sum = 0;
        for (int taken = 0; taken < Jobs;)
        {
            if (results.TryDequeue(out long r))
            {
                sum += r;
                taken++;
            }
            else
            {
                Thread.SpinWait(20);
            }
        }

        return sum;
    }

    private static double Ns(long from, long to) => (to - from) * 1e9 / Stopwatch.Frequency;

    private const int Cancels = 2_000;
    private static readonly long[] s_cancelIds = new long[Cancels];

    /// <summary>ns per <see cref="Pool.Cancel(long)"/> of a queued job, with the pool's <paramref name="workers"/> held
    /// by gate jobs and, with <paramref name="busy"/>, a thread spinning on each other processor.</summary>
    private static double CancelCost(Pool pool, int workers, bool busy)
    {
        using var gate = new ManualResetEventSlim(false);
        int holding = 0;
        for (int w = 0; w < workers; w++)
        {
            pool.Submit(() =>
            {
                Interlocked.Increment(ref holding);
                gate.Wait();
            });
        }

        // Every worker is inside a gate job (its increment), so none can take the jobs queued below.
        SpinWait wait = default;
        while (Volatile.Read(ref holding) < workers)
        {
            wait.SpinOnce();
        }

        Action nothing = static () => { };
        for (int i = 0; i < Cancels; i++)
        {
            s_cancelIds[i] = pool.Submit(nothing);
        }

        int stop = 0; // set after the cancels; each spinner polls it (a plain flag, no ordering needed beyond seeing it)
        var spinners = new List<Thread>();
        if (busy)
        {
            for (int t = 1; t < Environment.ProcessorCount; t++)
            {
                var spinner = new Thread(() =>
                {
                    while (Volatile.Read(ref stop) == 0)
                    {
                        Thread.SpinWait(50);
                    }
                }) { IsBackground = true };
                spinner.Start();
                spinners.Add(spinner);
            }

            Thread.Sleep(1);
        }

        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < Cancels; i++)
        {
            if (!pool.Cancel(s_cancelIds[i]))
            {
                throw new InvalidOperationException("a queued job was not cancelled");
            }
        }

        long t1 = Stopwatch.GetTimestamp();
        Volatile.Write(ref stop, 1);
        foreach (Thread spinner in spinners)
        {
            spinner.Join();
        }

        gate.Set();
        pool.WaitIdle();
        return Ns(t0, t1) * Jobs / Cancels; // the rounds divide every configuration's time by Jobs
    }

    private static int s_shared;

    private static (double Total, double Loop) SharedDecrements(int threads)
    {
        int each = Jobs / threads;
        s_shared = each * threads;
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < each; i++)
                {
                    Interlocked.Decrement(ref s_shared);
                }
            });
            workers[t].Start();
        }

        start.SignalAndWait();
        long t0 = Stopwatch.GetTimestamp();
        foreach (Thread w in workers)
        {
            w.Join();
        }

        double ns = Ns(t0, Stopwatch.GetTimestamp()) * Jobs / (each * threads);
        return (ns, double.NaN);
    }

    private static void Write(List<Result> results, List<double> roundTrips, string directory)
    {
        Directory.CreateDirectory(directory);
        var md = new StringBuilder();
        md.AppendLine("# Pool submit, taken apart (interleaved rounds)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Summary.ThisMachine()}. {Jobs:N0} jobs per call from one submitting thread unless named; ns per job (floor rows: per decrement). Cache-line round trip: {string.Join(", ", roundTrips.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))} ns.");
        md.AppendLine();
        md.AppendLine("| configuration | rounds | median ns | mean ns | 25th-75th | submit loop ns | GC pause ns | per 1,000 jobs |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (Result r in results)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Rounds} | {r.MedianNs:F2} | {r.MeanNs:F2} | {r.P25Ns:F2}-{r.P75Ns:F2} | {(double.IsNaN(r.MedianSubmitLoopNs) ? "" : r.MedianSubmitLoopNs.ToString("F2", CultureInfo.InvariantCulture))} | {r.GcPauseNs:F2} | {r.Counts} |");
        }

        File.WriteAllText(Path.Combine(directory, "pool-probe.md"), md.ToString());
        File.WriteAllText(Path.Combine(directory, "pool-probe.json"), JsonSerializer.Serialize(new
        {
            machine = Summary.ThisMachine(),
            cores = Environment.ProcessorCount,
            line_round_trip_ns = roundTrips,
            results = results.Select(r => new
            {
                name = r.Name,
                rounds = r.Rounds,
                median_ns = r.MedianNs,
                mean_ns = r.MeanNs,
                p25_ns = r.P25Ns,
                p75_ns = r.P75Ns,
                submit_loop_ns = double.IsNaN(r.MedianSubmitLoopNs) ? (double?)null : r.MedianSubmitLoopNs,
                gc_pause_ns = double.IsNaN(r.GcPauseNs) ? (double?)null : r.GcPauseNs,
                counts_per_1000_jobs = r.Counts,
            }),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.Write(md.ToString());
    }
}

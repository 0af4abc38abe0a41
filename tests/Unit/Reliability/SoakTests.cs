using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Xunit;

namespace FastThreadPool.Tests.Unit.Reliability;

/// <summary>The soak figures (<c>artifacts/reliability/soak.md</c>).</summary>
public sealed class SoakReport : Report
{
    protected override string Name => "soak";

    protected override string[] Columns => ["run", "duration", "operations", "jobs accepted", "done / failed / cancelled", "managed memory before -> after", "checks"];
}

/// <summary>Tests that read the whole process's heap (<see cref="GC.GetTotalMemory"/>): xunit runs this collection
/// alone, after the parallel ones, so no other test's objects are live while they measure.</summary>
[CollectionDefinition(nameof(MeasuresTheWholeHeap), DisableParallelization = true)]
public sealed class MeasuresTheWholeHeap;

/// <summary>
/// Load: random mixes of submit, submit-first, map, cancel, timers, async jobs and cancel-all from several threads,
/// against a consumer that drains the done and failed queues, then shutdown. Checks the conservation invariant,
/// per-producer order where it is promised (one worker, plain submissions), that memory is flat (measured after a
/// warm-up round and after the run, with the queues drained) and that no worker or timer thread is left. Seconds in CI;
/// <c>FTP_SOAK_SECONDS</c> sets the length (e.g. 300 for a nightly run). The memory check reads the whole process's
/// heap, so these tests run in a collection that xunit runs alone: another test's live objects would count as ours.
/// </summary>
[Collection(nameof(MeasuresTheWholeHeap))]
public class SoakTests(SoakReport report) : IClassFixture<SoakReport>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static TimeSpan Duration =>
        TimeSpan.FromSeconds(double.TryParse(Environment.GetEnvironmentVariable("FTP_SOAK_SECONDS"), CultureInfo.InvariantCulture, out double s) && s > 0 ? s : 3);

    /// <param name="Operations">Calls made by the load threads.</param>
    /// <param name="Mismatches">Jobs with an argument whose result was not that argument (with returned jobs).</param>
    private sealed record Round(long Operations, long Mismatches);

    /// <summary>One round of random load on <paramref name="pool"/> from <paramref name="threads"/> threads; with
    /// <paramref name="returnJobs"/>, the consumer checks each done job with an argument against its result and hands
    /// every job it takes back (<see cref="FastThreadPool.Pool.Return(PoolJob)"/>).</summary>
    private static Round Load(FastThreadPool.Pool pool, int threads, TimeSpan duration, int seed, bool returnJobs = false)
    {
        long operations = 0;
        long mismatches = 0;
        using var stop = new CancellationTokenSource(duration);
        var consumer = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                bool any = false;
                if (pool.Done.TryDequeue(out PoolJob? done))
                {
                    any = true;
                    if (returnJobs)
                    {
                        // The load's jobs with an argument return it (or throw): a reused object must not mix them up.
                        if (done.Argument is int argument && done.Result is int result && argument != result)
                        {
                            mismatches++;
                        }

                        pool.Return(done);
                    }
                }

                if (pool.Failed.TryDequeue(out PoolJob? failed))
                {
                    any = true;
                    if (returnJobs)
                    {
                        pool.Return(failed);
                    }
                }

                if (!any)
                {
                    Thread.Sleep(1);
                }
            }
        });
        consumer.Start();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var rng = new Random(seed * 31 + t);
            var recent = new long[16];
            int n = 0;
            long ops = 0;
            while (!stop.IsCancellationRequested)
            {
                ops++;
                int dice = rng.Next(100);
                long id = -1;
                if (dice < 40)
                {
                    int v = rng.Next();
                    id = pool.Submit(x => x % 97 == 0 ? throw new InvalidOperationException() : x, v);
                }
                else if (dice < 50)
                {
                    id = pool.SubmitFirst(() => 1);
                }
                else if (dice < 55)
                {
                    int[] items = new int[rng.Next(1, 64)];
                    int[] results = pool.Map(static x => x + 1, items, chunkSize: 8);
                    if (results.Length != items.Length || results.Any(r => r != 1))
                    {
                        throw new InvalidOperationException("map result wrong");
                    }

                }
                else if (dice < 70)
                {
                    pool.Cancel(recent[rng.Next(recent.Length)]);
                }
                else if (dice < 80)
                {
                    id = pool.SubmitLater(TimeSpan.FromMilliseconds(rng.Next(0, 5)), () => 2);
                }
                else if (dice < 83)
                {
                    long schedule = pool.Schedule(TimeSpan.FromMilliseconds(1 + rng.Next(3)), () => 3);
                    Thread.Sleep(rng.Next(3));
                    pool.Cancel(schedule);
                }
                else if (dice < 93)
                {
                    var task = pool.SubmitAsync(() => 4, stop.Token).AsTask();
                    try
                    {
                        task.Wait(Patience);
                    }
                    catch (AggregateException)
                    {
                    }
                }
                else if (dice < 94)
                {
                    pool.CancelAll(timers: rng.Next(2) == 0);
                }
                else
                {
                    pool.Submit(_ => Thread.SpinWait(200), CancellationToken.None);
                }

                if (id >= 0)
                {
                    recent[n++ % recent.Length] = id;
                }
            }

            Interlocked.Add(ref operations, ops);
        })).ToArray();
        foreach (Thread w in workers)
        {
            w.Start();
        }

        foreach (Thread w in workers)
        {
            w.Join();
        }

        consumer.Join();
        return new Round(operations, mismatches);
    }

    private static long Drain(FastThreadPool.Pool pool)
    {
        long n = 0;
        while (pool.Done.TryDequeue(out _) || pool.Failed.TryDequeue(out _))
        {
            n++;
        }

        return n;
    }

    [Fact]
    public void RandomLoadConservesEveryJobAndLeavesNothingBehind() =>
        SoakRun(new FastThreadPool.Pool(3), "1", "4 threads, 3 workers", seed: 1, returnJobs: false);

    /// <summary>The same load with every job the consumer takes handed back for reuse (<c>SpareJobs</c>): every job
    /// still ends once, each result is its own job's, memory stays flat.</summary>
    [Fact]
    public void RandomLoadWithReturnedJobsConservesEveryJobAndMixesNoResults() =>
        SoakRun(new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 3, SpareJobs = 4_096 }), "1b",
            "4 threads, 3 workers, jobs returned (SpareJobs 4,096)", seed: 3, returnJobs: true);

    /// <summary>A warm-up round, the load for <see cref="Duration"/>, then the checks and the report's row.</summary>
    private void SoakRun(FastThreadPool.Pool pool, string key, string label, int seed, bool returnJobs)
    {
        TimeSpan duration = Duration;

        // Warm-up round, then the baseline of memory with everything drained.
        Load(pool, 2, TimeSpan.FromMilliseconds(200), seed, returnJobs);
        pool.CancelAll(timers: true);
        Assert.True(pool.WaitIdle(Patience));
        Drain(pool);
        long before = GC.GetTotalMemory(forceFullCollection: true);

        var clock = Stopwatch.StartNew();
        Round round = Load(pool, 4, duration, seed + 1, returnJobs);
        clock.Stop();

        pool.CancelAll(timers: true);
        Assert.True(pool.WaitIdle(Patience), $"not idle after the load ({pool.DebugState})");
        Assert.Equal(0, pool.TimerCount);
        Drain(pool);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        long submitted = pool.SubmittedCount;
        bool conserved = submitted == pool.DoneCount + pool.FailedCount + pool.CancelledCount;
        bool stopped = pool.Shutdown(Patience) && pool.Alive == 0 && pool.TimerCount == 0;

        // Flat: the id table, queue segments and deques keep what the largest backlog needed, whatever the job count.
        // Run alone, 8 s of load (81,000 jobs) left 0.3 MB more than the warm-up; 8 MB would be 100 bytes a job.
        bool flat = after - before < 8L << 20;
        string mixed = returnJobs ? $"results mixed: {round.Mismatches}; " : "";
        report.Add(key, label, $"{clock.Elapsed.TotalSeconds:0.0} s", $"{round.Operations:N0}", $"{submitted:N0}",
            $"{pool.DoneCount:N0} / {pool.FailedCount:N0} / {pool.CancelledCount:N0}", $"{before / 1024:N0} KiB -> {after / 1024:N0} KiB",
            $"conserved: {conserved}; {mixed}memory flat: {flat}; workers and timer thread ended: {stopped}");
        Assert.True(conserved, $"submitted {submitted}, done {pool.DoneCount}, failed {pool.FailedCount}, cancelled {pool.CancelledCount}");
        Assert.Equal(0, round.Mismatches);
        Assert.True(flat, $"managed memory grew from {before} to {after}");
        Assert.True(stopped, "a worker or the timer thread did not end");
    }

    [Fact]
    public void OneWorkerRunsEachProducersPlainSubmissionsInOrder()
    {
        TimeSpan duration = TimeSpan.FromTicks(Math.Min(Duration.Ticks, TimeSpan.FromSeconds(2).Ticks));
        var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 1, KeepDone = false });
        const int producers = 3;
        var last = new long[producers];
        int outOfOrder = 0;
        long jobs = 0;
        using var stop = new CancellationTokenSource(duration);
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            long seq = 0;
            while (!stop.IsCancellationRequested)
            {
                long s = ++seq;
                pool.Submit(() =>
                {
                    if (s != last[p] + 1)
                    {
                        Interlocked.Increment(ref outOfOrder);
                    }

                    last[p] = s;
                });
                Interlocked.Increment(ref jobs);
            }
        })).ToArray();
        var clock = Stopwatch.StartNew();
        foreach (Thread t in threads)
        {
            t.Start();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }

        Assert.True(pool.Shutdown(Patience));
        clock.Stop();
        bool conserved = pool.SubmittedCount == pool.DoneCount && pool.DoneCount == jobs;
        report.Add("2", "3 producers, 1 worker, plain Submit", $"{clock.Elapsed.TotalSeconds:0.0} s", $"{jobs:N0}", $"{pool.SubmittedCount:N0}",
            $"{pool.DoneCount:N0} / 0 / 0", "-", $"per-producer order kept: {outOfOrder == 0}; conserved: {conserved}");
        Assert.Equal(0, outOfOrder);
        Assert.True(conserved);
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using FastThreadPool.Benchmarks.Infrastructure;

namespace FastThreadPool.Benchmarks.Suites;

/// <summary>
/// Suite "timers", case "100k pending": 100,000 timers an hour away are created, then all cancelled. Time and
/// allocated bytes per timer (what a pending timer costs in memory, as the allocations that made it). Baseline:
/// <c>System.Threading.Timer</c> (created, then disposed).
/// </summary>
[BenchmarkCategory("headline", "timers")]
public class TimerPendingBenchmarks
{
    private const int Timers = 100_000;
    private static readonly TimeSpan Later = TimeSpan.FromHours(1);
    private readonly FastThreadPool.Pool _pool = new(new PoolOptions { KeepDone = false });
    private readonly Timer[] _timers = new Timer[Timers];
    private readonly long[] _ids = new long[Timers];
    private static readonly TimerCallback Nothing = static _ => { };
    private static readonly Action NoJob = static () => { };

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Timers)]
    [Row("timers", "100k pending: create + cancel", "System.Threading.Timer")]
    public void ThreadingTimer()
    {
        for (int i = 0; i < Timers; i++)
        {
            _timers[i] = new Timer(Nothing, null, Later, Timeout.InfiniteTimeSpan);
        }

        for (int i = 0; i < Timers; i++)
        {
            _timers[i].Dispose();
        }
    }

    [Benchmark(OperationsPerInvoke = Timers)]
    [Row("timers", "100k pending: create + cancel", "Pool.SubmitLater + Cancel", Ours = true)]
    public void PoolSubmitLater()
    {
        for (int i = 0; i < Timers; i++)
        {
            _ids[i] = _pool.SubmitLater(Later, NoJob);
        }

        for (int i = 0; i < Timers; i++)
        {
            _pool.Cancel(_ids[i]);
        }
    }
}

/// <summary>
/// Suite "async", case "await one at a time": 1,000 jobs, each awaited before the next is submitted (after the first,
/// the submitter is the continuation, on a worker). Baseline: <c>Task.Run</c> + await.
/// </summary>
[BenchmarkCategory("headline", "async")]
public class AsyncBenchmarks
{
    private const int Jobs = 1000;
    private readonly FastThreadPool.Pool _pool = new(new PoolOptions { KeepDone = false });
    private static readonly Func<int> Job = static () => 1;

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        _inline.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Jobs)]
    [Row("async", "await one at a time", "Task.Run + await")]
    public async Task<int> TaskRunSequential()
    {
        int sum = 0;
        for (int i = 0; i < Jobs; i++)
        {
            sum += await Task.Run(Job);
        }

        return sum;
    }

    private readonly FastThreadPool.Pool _inline = new(new PoolOptions { KeepDone = false, SynchronousContinuations = true });

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("async", "await one at a time", "Pool.SubmitAsync + await", Ours = true)]
    public async Task<int> PoolSequential()
    {
        int sum = 0;
        for (int i = 0; i < Jobs; i++)
        {
            sum += await _pool.SubmitAsync(Job);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("async", "await one at a time", "Pool.SubmitAsync + await (SynchronousContinuations)", Ours = true)]
    public async Task<int> PoolSequentialInline()
    {
        int sum = 0;
        for (int i = 0; i < Jobs; i++)
        {
            sum += await _inline.SubmitAsync(Job);
        }

        return sum;
    }

}

/// <summary>Suite "async", case "await 1,000 at once": 1,000 jobs submitted, then awaited in order. Baseline:
/// <c>Task.Run</c> + await.</summary>
[BenchmarkCategory("headline", "async")]
public class AsyncFanOutBenchmarks
{
    private const int Jobs = 1000;
    private readonly FastThreadPool.Pool _pool = new(new PoolOptions { KeepDone = false });
    private readonly Task<int>[] _tasks = new Task<int>[Jobs];
    private readonly ValueTask<int>[] _valueTasks = new ValueTask<int>[Jobs];
    private static readonly Func<int> Job = static () => 1;

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Jobs)]
    [Row("async", "await 1,000 at once", "Task.Run + await")]
    public async Task<int> TaskRunFanOut()
    {
        for (int i = 0; i < Jobs; i++)
        {
            _tasks[i] = Task.Run(Job);
        }

        int sum = 0;
        for (int i = 0; i < Jobs; i++)
        {
            sum += await _tasks[i];
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("async", "await 1,000 at once", "Pool.SubmitAsync + await", Ours = true)]
    public async Task<int> PoolFanOut()
    {
        for (int i = 0; i < Jobs; i++)
        {
            _valueTasks[i] = _pool.SubmitAsync(Job);
        }

        int sum = 0;
        for (int i = 0; i < Jobs; i++)
        {
            sum += await _valueTasks[i];
        }

        return sum;
    }
}

/// <summary>
/// Timer precision, measured outside BenchmarkDotNet (it is a latency distribution, not a throughput): how late the
/// user's code starts after its deadline, for delayed jobs of the pool, <c>Task.Delay</c> continuations and
/// <c>System.Threading.Timer</c> callbacks. Two cases: one timer at a time (1-10 ms, 200 samples), and a burst of 1,000
/// timers due over 50 ms. Reported as rows of suite "timers" whose ns/op is the lateness (median and p99; negative:
/// the code ran before its deadline, which the runtime's timers do since they count time in coarse ticks). Baseline:
/// <c>System.Threading.Timer</c>.
/// </summary>
public static class TimerPrecision
{
    private const int Sequential = 200;
    private const int Burst = 1000;

    public static List<SummaryRow> Measure()
    {
        var rows = new List<SummaryRow>();
        using var pool = new FastThreadPool.Pool(new PoolOptions { KeepDone = false });
        var impls = new (string Name, bool Ours, bool Baseline, Action<TimeSpan, Action> Start)[]
        {
            ("Pool.SubmitLater", true, false, (delay, done) => pool.SubmitLater(delay, done)),
            ("System.Threading.Timer", false, true, StartTimer),
            ("Task.Delay + continuation", false, false, (delay, done) => Task.Delay(delay).ContinueWith(_ => done(), TaskContinuationOptions.ExecuteSynchronously)),
        };

        // Warm-up: one unmeasured burst each, so that the measured runs do not include the runtime recompiling the
        // code involved (its tier-up pauses threads for milliseconds on a small machine).
        foreach (var impl in impls)
        {
            InABurst(impl.Start);
            OneAtATime(impl.Start);
        }

        Thread.Sleep(1000); // the runtime recompiles hot methods about 100 ms after they got hot

        foreach (string c in new[] { "one at a time", "burst of 1,000" })
        {
            foreach (var impl in impls)
            {
                // Start each from a collected heap, so that a collection left over from earlier work does not pause
                // one implementation's run and not the others'.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                double[] late = c == "one at a time" ? OneAtATime(impl.Start) : [.. InABurst(impl.Start), .. InABurst(impl.Start), .. InABurst(impl.Start)];
                Array.Sort(late);
                rows.Add(new SummaryRow("timers", $"lateness p50, {c}", impl.Name, impl.Ours, impl.Baseline, 1, Percentile(late, 0.50), 0));
                rows.Add(new SummaryRow("timers", $"lateness p99, {c}", impl.Name, impl.Ours, impl.Baseline, 1, Percentile(late, 0.99), 0));
                Console.WriteLine($"timers {c,-16} {impl.Name,-28} p50 {Percentile(late, 0.5) / 1e3,8:0.0} us  p99 {Percentile(late, 0.99) / 1e3,8:0.0} us  max {late[^1] / 1e3,8:0.0} us  early {late.Count(l => l < 0)} of {late.Length}");
            }
        }

        return rows;
    }

    private static readonly List<Timer> Held = [];

    private static void StartTimer(TimeSpan delay, Action done)
    {
        Timer? timer = null;
        timer = new Timer(_ => { done(); timer?.Dispose(); }, null, delay, Timeout.InfiniteTimeSpan);
        lock (Held)
        {
            Held.Add(timer); // keep it reachable until it fired
        }
    }

    private static double[] OneAtATime(Action<TimeSpan, Action> start)
    {
        var late = new double[Sequential];
        var rng = new Random(42);
        using var fired = new ManualResetEventSlim();
        for (int i = 0; i < Sequential; i++)
        {
            var delay = TimeSpan.FromMicroseconds(rng.Next(1000, 10_000));
            fired.Reset();
            long ranAt = 0;
            long due = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
            start(delay, () => { ranAt = Stopwatch.GetTimestamp(); fired.Set(); });
            fired.Wait();
            late[i] = (ranAt - due) * 1e9 / Stopwatch.Frequency;
        }

        lock (Held)
        {
            Held.Clear();
        }

        return late;
    }

    private static double[] InABurst(Action<TimeSpan, Action> start)
    {
        var late = new double[Burst];
        var rng = new Random(7);
        int remaining = Burst;
        using var all = new ManualResetEventSlim();
        for (int i = 0; i < Burst; i++)
        {
            int n = i;
            var delay = TimeSpan.FromMicroseconds(rng.Next(1000, 50_000));
            long due = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
            start(delay, () =>
            {
                late[n] = (Stopwatch.GetTimestamp() - due) * 1e9 / Stopwatch.Frequency;
                if (Interlocked.Decrement(ref remaining) == 0)
                {
                    all.Set();
                }
            });
        }

        all.Wait();
        lock (Held)
        {
            Held.Clear();
        }

        return late;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

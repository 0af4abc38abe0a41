using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using BenchmarkDotNet.Attributes;
using FastThreadPool.Benchmarks.Suites;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// The headline cases in which two or more threads hand work to each other, run round-robin instead of one after the
/// other: every round runs each implementation of each case once (in an order drawn anew each round, so that no call
/// always follows the same one: a call's threads can still be spinning when the next call starts) and
/// first measures the <see cref="LineRoundTrip"/>. On a shared virtual machine the cost of moving a cache line
/// between the two cores changes several-fold within minutes; BenchmarkDotNet measures one row after another, so two
/// rows of one case can fall in different phases and their ratio then says more about the phase than about the code.
/// Here each ratio is taken within one round, and the rounds are grouped by the round trip measured before them.
/// The same benchmark classes and methods as the headline set run here, called directly.
/// </summary>
public static class Interleaved
{
    private sealed record Spec(Type Type, string[] Methods, (string Name, object Value)? Param = null);

    private static readonly Spec[] Specs =
    [
        new(typeof(QueueProducerConsumerBenchmarks), ["ConcurrentQueue", "BoundedMpmcQueue", "BoundedMpmcQueueLarge", "UnboundedMpmcQueue"], ("Pairs", 1)),
        new(typeof(QueueBurstyBenchmarks), ["ConcurrentQueue", "BoundedMpmcQueue", "UnboundedMpmcQueue"]),
        new(typeof(SemaphorePingPongBenchmarks), ["SemaphoreSlim", "FastSemaphoreFutex", "FastSemaphoreMonitor"]),
        new(typeof(PoolSubmitPeerBenchmarks), ["ThreadPoolQueue", "PoolSubmit", "PoolSubmitReusing"]),
        new(typeof(PoolSubmitResultsBenchmarks), ["ThreadPoolQueue", "PoolSubmit", "PoolSubmitReturning", "TaskRun"]),
        new(typeof(PoolSubmit2Benchmarks), ["ThreadPoolQueue", "PoolSubmit"]),
        new(typeof(PoolNestedBenchmarks), ["ThreadPoolNested", "PoolNested"]),

        // Not a hand-off case, but its rows allocate a new 4 MB array per call, whose page faults cost several times
        // more in some minutes than in others (pool.md section 3): one row after another, they measure the minute.
        new(typeof(PoolMapBenchmarks), ["ParallelForEach", "PoolMap"]),
    ];

    private sealed class Subject
    {
        public required object Instance;
        public required MethodInfo Method;
        public required MethodInfo[] IterationSetups;
        public required RowAttribute Row;
        public required string Case;
        public required bool Baseline;
        public required int OpsPerInvoke;
    }

    /// <summary>One measured call.</summary>
    public sealed record Sample(int Round, double RoundTripNs, string Suite, string Case, string Impl, bool Ours, bool Baseline, double NsPerOp);

    /// <summary>Runs rounds until <paramref name="duration"/> has passed, at least one (after two warm-up rounds that are
    /// not kept), and writes <c>interleaved.md</c>, <c>interleaved.json</c> (the grouped figures) and <c>interleaved.csv</c> (every
    /// call) into <paramref name="directory"/>. <paramref name="only"/>: keep the cases whose name contains it, or any of
    /// several separated by <c>|</c> (each case keeps all its rows, its baseline included).</summary>
    public static void Run(TimeSpan duration, string directory, bool rotate = false, string? only = null)
    {
        string[]? wanted = only?.Split('|', StringSplitOptions.RemoveEmptyEntries);
        var instances = new List<object>();
        var subjects = new List<Subject>();
        foreach (Spec spec in Specs)
        {
            object instance = Activator.CreateInstance(spec.Type)!;
            instances.Add(instance);
            if (spec.Param is { } p)
            {
                spec.Type.GetProperty(p.Name)!.SetValue(instance, p.Value);
            }

            Invoke(instance, typeof(GlobalSetupAttribute));
            MethodInfo[] iterationSetups = Attributed(spec.Type, typeof(IterationSetupAttribute));
            foreach (string name in spec.Methods)
            {
                MethodInfo m = spec.Type.GetMethod(name) ?? throw new InvalidOperationException($"{spec.Type.Name}.{name} not found");
                BenchmarkAttribute bench = m.GetCustomAttribute<BenchmarkAttribute>()!;
                RowAttribute row = m.GetCustomAttribute<RowAttribute>()!;
                string @case = spec.Param is { } q ? row.Case.Replace("{" + q.Name + "}", q.Value.ToString(), StringComparison.Ordinal) : row.Case;
                if (wanted is not null && !wanted.Any(w => @case.Contains(w, StringComparison.Ordinal)))
                {
                    continue;
                }

                subjects.Add(new Subject
                {
                    Instance = instance,
                    Method = m,
                    IterationSetups = iterationSetups,
                    Row = row,
                    Case = @case,
                    Baseline = bench.Baseline,
                    OpsPerInvoke = bench.OperationsPerInvoke,
                });
            }
        }

        var samples = new List<Sample>();
        var order = Enumerable.Range(0, subjects.Count).ToArray();
        var random = new Random(20261126); // fixed: a rerun draws the same orders
        var clock = Stopwatch.StartNew();
        int round = 0;
        using var watchdog = new Watchdog();
        Console.WriteLine($"Interleaved rounds for {duration.TotalSeconds:0} s ({subjects.Count} calls a round)...");
        while (round < 3 || clock.Elapsed < duration)
        {
            // Let the previous call's threads (a pool's searching worker, the thread pool's spinning ones) go idle
            // first: a thread still spinning would take a core from the measurement.
            Thread.Sleep(10);
            double rtt = LineRoundTrip.Measure(roundTrips: 5_000);
            if (!rotate)
            {
                random.Shuffle(order);
            }

            for (int k = 0; k < subjects.Count; k++)
            {
                Subject s = subjects[rotate ? (k + round) % subjects.Count : order[k]];
                foreach (MethodInfo setup in s.IterationSetups)
                {
                    setup.Invoke(s.Instance, null);
                }

                watchdog.Enter(s.Row.Suite + "/" + s.Case + "/" + s.Row.Impl);
                long start = Stopwatch.GetTimestamp();
                s.Method.Invoke(s.Instance, null);
                double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / s.OpsPerInvoke;
                watchdog.Leave();
                if (round >= 2)
                {
                    samples.Add(new Sample(round, rtt, s.Row.Suite, s.Case, s.Row.Impl, s.Row.Ours, s.Baseline, ns));
                }
            }

            round++;
        }

        foreach (object instance in instances)
        {
            Invoke(instance, typeof(GlobalCleanupAttribute));
        }

        Write(samples, subjects.Select(s => s.Row.Suite + "/" + s.Case + "/" + s.Row.Impl).ToList(), directory, rotate);
    }

    private static MethodInfo[] Attributed(Type type, Type attribute) =>
        type.GetMethods().Where(m => m.GetCustomAttributes(attribute, inherit: true).Length > 0).ToArray();

    private static void Invoke(object instance, Type attribute)
    {
        foreach (MethodInfo m in Attributed(instance.GetType(), attribute))
        {
            m.Invoke(instance, null);
        }
    }

    /// <summary>The <paramref name="q"/> quantile of <paramref name="values"/> (NaN left out), linear between ranks; NaN
    /// when none.</summary>
    internal static double Quantile(IEnumerable<double> values, double q)
    {
        double[] v = values.Where(x => !double.IsNaN(x)).OrderBy(x => x).ToArray();
        if (v.Length == 0)
        {
            return double.NaN;
        }

        double pos = q * (v.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, v.Length - 1);
        return v[lo] + (v[hi] - v[lo]) * (pos - lo);
    }

    /// <summary>Groups the rounds by line round trip: "fast lines" within twice the fastest round trip of the run,
    /// "slow lines" above that, and all rounds together.</summary>
    private static void Write(List<Sample> samples, List<string> order, string directory, bool rotate)
    {
        Directory.CreateDirectory(directory);
        double fastest = samples.Count == 0 ? 0 : samples.Min(s => s.RoundTripNs);
        var groups = new (string Name, Func<Sample, bool> Take)[]
        {
            ("all rounds", _ => true),
            ($"fast lines (round trip up to {2 * fastest:0} ns)", s => s.RoundTripNs <= 2 * fastest),
            ($"slow lines (round trip above {2 * fastest:0} ns)", s => s.RoundTripNs > 2 * fastest),
        };

        var md = new StringBuilder();
        md.AppendLine("# FastThreadPool interleaved rounds");
        md.AppendLine();
        md.AppendLine(
            $"Machine: {Summary.ThisMachine()}. {samples.Select(s => s.Round).Distinct().Count()} rounds; each round measured the " +
            "cache-line round trip between two threads, then ran every implementation below once, in an order " +
            (rotate ? "rotated every round" : "drawn at random every round") +
            ". Ratio = baseline time / this row's time within a round (above 1: faster than the baseline); the " +
            "median over the rounds, with the 25th-75th percentile range. ns/op is the median over the rounds.");
        md.AppendLine();
        var json = new JsonArray();
        foreach ((string name, Func<Sample, bool> take) in groups)
        {
            List<Sample> chosen = samples.Where(take).ToList();
            int rounds = chosen.Select(s => s.Round).Distinct().Count();
            if (rounds == 0)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"## {name}: no rounds");
                md.AppendLine();
                continue;
            }

            md.AppendLine(CultureInfo.InvariantCulture,
                $"## {name}: {rounds} rounds, median round trip {Quantile(chosen.GroupBy(s => s.Round).Select(g => g.First().RoundTripNs), 0.5):0} ns");
            md.AppendLine();

            md.AppendLine("| suite | case | implementation | ours | ns/op | ratio vs baseline | ratio 25th-75th |");
            md.AppendLine("|---|---|---|---|---:|---:|---:|");
            foreach (IGrouping<(string Suite, string Case), Sample> byCase in chosen.GroupBy(s => (s.Suite, s.Case))
                .OrderBy(g => order.FindIndex(o => o.StartsWith(g.Key.Suite + "/" + g.Key.Case + "/", StringComparison.Ordinal))))
            {
                Dictionary<int, double> baseline = byCase.Where(s => s.Baseline).ToDictionary(s => s.Round, s => s.NsPerOp);
                foreach (IGrouping<string, Sample> impl in byCase.GroupBy(s => s.Impl)
                    .OrderBy(g => g.First().Baseline ? 0 : 1).ThenBy(g => order.IndexOf(g.First().Suite + "/" + g.First().Case + "/" + g.Key)))
                {
                    double[] ratios = impl.Where(s => baseline.ContainsKey(s.Round)).Select(s => baseline[s.Round] / s.NsPerOp).ToArray();
                    double ns = Quantile(impl.Select(s => s.NsPerOp), 0.5);
                    bool isBaseline = impl.First().Baseline;
                    string ratio = isBaseline ? "1.00 (baseline)" : Quantile(ratios, 0.5).ToString("0.00", CultureInfo.InvariantCulture);
                    string range = isBaseline ? "" : $"{Quantile(ratios, 0.25):0.00}-{Quantile(ratios, 0.75):0.00}";
                    md.AppendLine(CultureInfo.InvariantCulture,
                        $"| {byCase.Key.Suite} | {byCase.Key.Case} | {impl.Key} | {(impl.First().Ours ? "yes" : "")} | {ns:0.00} | {ratio} | {range} |");
                    json.Add(new JsonObject
                    {
                        ["group"] = name,
                        ["rounds"] = rounds,
                        ["suite"] = byCase.Key.Suite,
                        ["case"] = byCase.Key.Case,
                        ["impl"] = impl.Key,
                        ["ours"] = impl.First().Ours,
                        ["baseline"] = isBaseline,
                        ["ns_per_op"] = Math.Round(ns, 3),
                        ["ratio_median"] = isBaseline ? 1.0 : Math.Round(Quantile(ratios, 0.5), 3),
                        ["ratio_p25"] = isBaseline ? 1.0 : Math.Round(Quantile(ratios, 0.25), 3),
                        ["ratio_p75"] = isBaseline ? 1.0 : Math.Round(Quantile(ratios, 0.75), 3),
                    });
                }
            }

            md.AppendLine();
        }

        var csv = new StringBuilder("round,round_trip_ns,suite,case,impl,ns_per_op\n");
        foreach (Sample s in samples)
        {
            csv.AppendLine(CultureInfo.InvariantCulture, $"{s.Round},{s.RoundTripNs:0.0},{s.Suite},{s.Case},{s.Impl},{s.NsPerOp:0.000}");
        }

        File.WriteAllText(Path.Combine(directory, "interleaved.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(directory, "interleaved.md"), md.ToString());
        var doc = new JsonObject { ["machine"] = Summary.ThisMachine(), ["groups"] = json };
        File.WriteAllText(Path.Combine(directory, "interleaved.json"), doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine();
        Console.WriteLine(md.ToString());
    }
}

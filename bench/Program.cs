using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using FastThreadPool.Benchmarks.Infrastructure;

namespace FastThreadPool.Benchmarks;

/// <summary>
/// Entry point. Modes (first argument):
/// <list type="bullet">
/// <item><description><c>headline</c> (default): the headline set (category "headline") in a short in-process
/// job; writes <c>artifacts/bench/summary.json</c> and <c>summary.md</c> and prints the table.</description></item>
/// <item><description><c>full</c>: the same set with BenchmarkDotNet's default job (separate processes).</description></item>
/// <item><description><c>dry</c>: every benchmark once (BenchmarkDotNet's Dry job, in-process), so they cannot rot.</description></item>
/// <item><description><c>scaling</c>: the thread-scaling set (category "scaling"), short in-process job.</description></item>
/// <item><description><c>interleaved [--seconds N] [--rotate] [--only TEXT]</c>: only the interleaved rounds (see <see cref="Interleaved"/>):
/// the headline cases in which threads hand work to each other, run round-robin for N seconds (default 120), grouped
/// by the cache-line round trip measured before each round, in an order drawn at random each round (<c>--rotate</c>:
/// rotated by one instead; <c>--only</c>: the cases whose name contains TEXT, or any of several separated by <c>|</c>);
/// writes <c>interleaved.md</c>, <c>.json</c> and <c>.csv</c>.
/// The headline mode runs them for 60 seconds.</description></item>
/// <item><description><c>pool-probe [--seconds N] [--only TEXT]</c>: the <c>submit</c> case taken apart (see <see cref="PoolProbe"/>):
/// completion counts, worker counts, the submitter alone, the floor of a shared countdown; writes <c>pool-probe.md</c>
/// and <c>.json</c>.</description></item>
/// <item><description><c>queue-alone [--rounds N]</c>: the queues' 1p1c case, and each queue filled and drained by one
/// thread, in a process that runs nothing else (see <see cref="QueueAlone"/>); writes <c>queue-alone.md</c>.</description></item>
/// <item><description><c>queue-work [--rounds N]</c>: the queues' 1p1c case with work per item on the producer's or the
/// consumer's side, from none to about 16 ns (see <see cref="QueueWork"/>); writes <c>queue-work.md</c>.</description></item>
/// <item><description><c>reuse-locality [--rounds N] [--jobs N]</c>: where returned jobs lie in memory round after round, in the
/// order they came back and sorted by address, against new jobs (see <see cref="ReuseLocality"/>); writes
/// <c>reuse-locality.md</c>.</description></item>
/// <item><description><c>precision</c>: only the timer-precision measurement (lateness of delayed jobs against
/// <c>Task.Delay</c> and <c>System.Threading.Timer</c>); the headline mode runs it too.</description></item>
/// <item><description><c>charts SUMMARY.json [DIR]</c>: the PNG charts (one per suite) of a stored summary.</description></item>
/// <item><description><c>summarize DIR</c>: convert the BenchmarkDotNet JSON reports in DIR into the summary files.</description></item>
/// <item><description><c>papers-tables SMALL.json LARGE.json [LARGE-SCALING.json]</c>: the per-suite comparison tables of
/// <c>papers/README.md</c>, from stored summaries of two machines.</description></item>
/// </list>
/// Other arguments (e.g. <c>--filter *Queue*</c>, <c>--out DIR</c>) follow the mode; <c>--filter</c> is passed to
/// BenchmarkDotNet.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string mode = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "headline";
        string[] rest = args.Length > 0 && !args[0].StartsWith('-') ? args[1..] : args;
        string outDir = TakeOption(ref rest, "--out") ?? Path.Combine(RepoRoot(), "artifacts", "bench");

        string? seconds = TakeOption(ref rest, "--seconds");
        if (mode == "interleaved")
        {
            bool rotate = rest.Contains("--rotate");
            Interleaved.Run(TimeSpan.FromSeconds(seconds is null ? 120 : double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture)), outDir, rotate, TakeOption(ref rest, "--only"));
            return 0;
        }

        if (mode == "pool-probe")
        {
            PoolProbe.Run(TimeSpan.FromSeconds(seconds is null ? 60 : double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture)), outDir, TakeOption(ref rest, "--only"));
            return 0;
        }

        if (mode == "queue-alone")
        {
            string? rounds = TakeOption(ref rest, "--rounds");
            QueueAlone.Run(rounds is null ? 400 : int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture), outDir);
            return 0;
        }

        if (mode == "reuse-locality")
        {
            string? rounds = TakeOption(ref rest, "--rounds");
            string? jobs = TakeOption(ref rest, "--jobs");
            ReuseLocality.Run(
                rounds is null ? 60 : int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture),
                outDir,
                jobs is null ? 100_000 : int.Parse(jobs, System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        }

        if (mode == "queue-work")
        {
            string? rounds = TakeOption(ref rest, "--rounds");
            QueueWork.Run(rounds is null ? 100 : int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture), outDir);
            return 0;
        }

        if (mode == "precision")
        {
            List<SummaryRow> precision = Suites.TimerPrecision.Measure();
            Summary.Write(precision, outDir, "FastThreadPool timer precision");
            return 0;
        }

        if (mode == "charts")
        {
            // charts SUMMARY.json [DIR]: the charts of a stored summary (papers/data/...), into DIR (default: next to it).
            string file = rest.Length > 0 ? rest[0] : Path.Combine(outDir, "summary.json");
            string dir = rest.Length > 1 ? rest[1] : Path.GetDirectoryName(Path.GetFullPath(file))!;
            List<SummaryRow> stored = Summary.ReadSummary(file, out string machine, out int cores);
            foreach (string chart in Charts.Write(stored, dir, machine, cores))
            {
                Console.WriteLine($"Chart: {chart}");
            }

            return 0;
        }

        if (mode == "papers-tables")
        {
            // papers-tables SMALL.json LARGE.json [LARGE-SCALING.json]: the per-suite tables of papers/README.md.
            List<SummaryRow> small = Summary.ReadSummary(rest[0], out _, out int smallCores);
            List<SummaryRow> large = Summary.ReadSummary(rest[1], out _, out int largeCores);
            List<SummaryRow>? scaling = rest.Length > 2 ? Summary.ReadSummary(rest[2], out _, out _) : null;
            Console.Write(PaperTables.Write(small, large, scaling, $"{smallCores}-core", $"{largeCores}-core"));
            return 0;
        }

        if (mode == "summarize")
        {
            string dir = rest.Length > 0 ? rest[0] : Path.Combine(outDir, "bdn", "results");
            Summary.Write(Summary.ReadBdnReports(dir), outDir, "FastThreadPool benchmark summary");
            return 0;
        }

        string category = mode == "scaling" ? "scaling" : "headline";
        Job job = mode switch
        {
            "full" => Job.Default,
            "dry" => Job.Dry.WithToolchain(InProcessEmitToolchain.Instance),
            // Short: 2 warm-up and 7 measured iterations of about 150 ms each, in this process.
            _ => Job.Default.WithToolchain(InProcessEmitToolchain.Instance)
                .WithWarmupCount(2).WithIterationCount(7).WithLaunchCount(1)
                .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(150)),
        };

        string bdnDir = Path.Combine(outDir, "bdn");
        if (Directory.Exists(Path.Combine(bdnDir, "results")))
        {
            Directory.Delete(Path.Combine(bdnDir, "results"), recursive: true);
        }

        IConfig config = ManualConfig.CreateEmpty()
            .AddJob(job.AsDefault())
            .AddColumnProvider(DefaultConfig.Instance.GetColumnProviders().ToArray())
            .AddLogger(DefaultConfig.Instance.GetLoggers().ToArray())
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddExporter(JsonExporter.Full, MarkdownExporter.GitHub)
            .WithArtifactsPath(bdnDir)
            .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);

        bool hasFilter = rest.Contains("--filter");
        if (mode != "dry" && mode != "full")
        {
            config = config.AddFilter(new BenchmarkDotNet.Filters.AnyCategoriesFilter(new[] { category }));
        }

        string[] bdnArgs = hasFilter ? rest : rest.Concat(new[] { "--filter", "*" }).ToArray();
        double roundTripBefore = LineRoundTrip.Measure();
        IEnumerable<BenchmarkDotNet.Reports.Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(bdnArgs, config);
        bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));

        if (mode != "dry")
        {
            List<SummaryRow> rows = Summary.ReadBdnReports(Path.Combine(bdnDir, "results"));
            if (mode != "scaling" && (!hasFilter || FilterValue(rest).Contains("imer", StringComparison.OrdinalIgnoreCase)))
            {
                Console.WriteLine("Timer precision (outside BenchmarkDotNet: a latency distribution):");
                rows.AddRange(Suites.TimerPrecision.Measure());
            }

            double roundTripAfter = LineRoundTrip.Measure();
            Summary.Write(rows, outDir, mode == "scaling" ? "FastThreadPool scaling benchmarks" : "FastThreadPool headline benchmarks",
                [roundTripBefore, roundTripAfter]);
            Console.WriteLine($"Summary: {Path.Combine(outDir, "summary.json")} and summary.md ({rows.Count} rows)");
            if (mode == "headline" && !hasFilter)
            {
                Interleaved.Run(TimeSpan.FromSeconds(seconds is null ? 60 : double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture)), outDir);
            }
        }

        if (mode == "dry" && !hasFilter)
        {
            // One interleaved round, so that the mode cannot rot either (its files go to a scratch folder).
            Interleaved.Run(TimeSpan.Zero, Path.Combine(Path.GetTempPath(), "fastthreadpool-dry-interleaved"));
            QueueAlone.Run(1, Path.Combine(Path.GetTempPath(), "fastthreadpool-dry-queue-alone"));
            QueueWork.Run(1, Path.Combine(Path.GetTempPath(), "fastthreadpool-dry-queue-work"));
        }

        return failed ? 1 : 0;
    }

    private static string FilterValue(string[] args)
    {
        int i = Array.IndexOf(args, "--filter");
        return i >= 0 && i + 1 < args.Length ? string.Join(' ', args.Skip(i + 1)) : "";
    }

    private static string? TakeOption(ref string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        if (i < 0 || i + 1 >= args.Length)
        {
            return null;
        }

        string value = args[i + 1];
        args = args.Take(i).Concat(args.Skip(i + 2)).ToArray();
        return value;
    }

    private static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "FastThreadPool.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? Directory.GetCurrentDirectory();
    }
}

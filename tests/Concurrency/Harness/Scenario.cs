using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Coyote;
using Microsoft.Coyote.SystematicTesting;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Harness;

/// <summary>
/// Runs a Coyote systematic test in-process. Iterations, strategy and seed come from the environment so that
/// <c>build.ps1 test</c> (CI-sized) and <c>build.ps1 coyote</c> (deep, nightly) run the same scenarios:
/// <list type="bullet">
/// <item><description><c>FTP_COYOTE_ITERATIONS</c>: iterations per scenario (default 2000).</description></item>
/// <item><description><c>FTP_COYOTE_STRATEGY</c>: <c>fair-prioritization</c> (default), <c>random</c>,
/// <c>prioritization</c>, <c>probabilistic</c>, <c>delay-bounding</c> or <c>qlearning</c>. Fair strategies also
/// catch livelocks: a run that exceeds the fair step bound fails.</description></item>
/// <item><description><c>FTP_COYOTE_SEED</c>: the random seed (default: fixed per scenario name, so CI runs are
/// reproducible; a planted bug is then searched for under a second fixed seed as well, and must be found under
/// both).</description></item>
/// <item><description><c>FTP_COYOTE_REPLAY</c>: a trace file written by a failed run; the scenario then replays
/// that one schedule.</description></item>
/// </list>
/// A failed scenario writes its reproducible trace to <c>artifacts/coyote/NAME.trace</c> and says how to replay it.
/// </summary>
public static class Scenario
{
    public const string IterationsVariable = "FTP_COYOTE_ITERATIONS";
    public const string StrategyVariable = "FTP_COYOTE_STRATEGY";
    public const string SeedVariable = "FTP_COYOTE_SEED";
    public const string ReplayVariable = "FTP_COYOTE_REPLAY";

    public static uint DefaultIterations =>
        uint.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), CultureInfo.InvariantCulture, out uint n) && n > 0
            ? n
            : 2000;

    /// <summary>Explores <paramref name="test"/> and fails the xunit test if Coyote finds a bug.</summary>
    public static void AssertNoBug(string name, Action test, uint? iterations = null)
    {
        TestReport report = Explore(name, test, iterations, out string details);
        Assert.True(report.NumOfFoundBugs == 0, details);
    }

    /// <summary>
    /// Explores a deliberately broken variant and fails the xunit test unless Coyote reports a bug whose text
    /// contains <paramref name="expected"/> (for example "Deadlock" or the assertion message; alternatives are
    /// separated by '|', for a fault that can show in more than one way). Without a seed chosen for the run, it does
    /// so under the scenario's seed and under <see cref="SecondSeed"/>: both must find the bug. Coyote stops at the
    /// first bug, so <paramref name="iterations"/> is a bound, paid only by a search that finds nothing.
    /// <paramref name="strategy"/>, when given, replaces the bug-finding strategy for this scenario (one whose bug
    /// the other strategy reaches only after thousands of schedules).
    /// </summary>
    /// <remarks>A planted bug is searched for under the configured strategy when that is one that found every planted
    /// bug here (<c>fair-prioritization</c>, <c>probabilistic</c>); under any other, under <c>fair-prioritization</c>.
    /// The plain random walk needs tens of thousands of iterations for some of them (65,789 for
    /// <c>FindsCancelIgnoringId</c>), and an unfair strategy cannot show a livelock at all: those are for exploring the
    /// shipped code, not for showing that a scenario can fail.</remarks>
    public static string AssertFindsBug(string name, Action test, string expected, uint? iterations = null, string? strategy = null)
    {
        uint n = iterations ?? Math.Max(DefaultIterations, PlantedBugIterations);
        string bugs = FindsBug(name, test, expected, n, strategy, seed: null);

        // A second seed, unless one was chosen for the run: a planted bug that only the scenario's own seed reaches
        // within its iterations shows that this seed was lucky, not that the scenario can fail.
        if (Environment.GetEnvironmentVariable(SeedVariable) is not { Length: > 0 }
            && Environment.GetEnvironmentVariable(ReplayVariable) is not { Length: > 0 })
        {
            FindsBug(name, test, expected, n, strategy, SecondSeed(name));
        }

        return bugs;
    }

    /// <summary>The bound of a planted bug's search unless the scenario or the run sets a higher one. Generous: Coyote
    /// stops at the first bug, so a search that finds its bug pays only for the schedules up to it (at most 3,115 for
    /// any planted bug here under its two seeds), and the bound is reached only by a search that fails.</summary>
    public const uint PlantedBugIterations = 20_000;

    /// <summary>The seed of a planted bug's second search: another fixed seed per scenario name.</summary>
    public static uint SecondSeed(string name) => StableHash(name) ^ 0x9E3779B9u;

    private static string FindsBug(string name, Action test, string expected, uint iterations, string? strategy, uint? seed)
    {
        TestReport report = Explore(name, test, iterations, out string details, expectBug: true, strategy: strategy, seed: seed);
        Assert.True(report.NumOfFoundBugs > 0, $"Coyote did not find the planted bug in {name}.\n{details}");
        string bugs = string.Join("\n", report.BugReports);
        Assert.True(expected.Split('|').Any(e => bugs.Contains(e, StringComparison.OrdinalIgnoreCase)),
            $"Coyote found a bug in {name}, but not the expected one ({expected}):\n{details}");
        return bugs;
    }

    /// <summary>Explores <paramref name="test"/> and reports what Coyote found, under <paramref name="strategy"/> when
    /// given (the harness's own tests), else under the configured strategy (or, with <paramref name="expectBug"/>, the
    /// one <see cref="AssertFindsBug"/> uses).</summary>
    public static TestReport Explore(string name, Action test, uint? iterations, out string details, bool expectBug = false, string? strategy = null, uint? seed = null)
    {
        strategy ??= expectBug ? BugFindingStrategy : Strategy;
        Configuration config = Configure(name, iterations ?? DefaultIterations, strategy, seed, out string? replay);
        using var engine = TestingEngine.Create(config, test);
        engine.Run();
        TestReport report = engine.TestReport;

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"[{name}] strategy={strategy} seed={config.RandomGeneratorSeed} iterations={config.TestingIterations} bugs={report.NumOfFoundBugs} " +
            $"steps(max fair/unfair)={report.MaxExploredFairSteps}/{report.MaxExploredUnfairSteps} " +
            $"hit-bound={report.MaxFairStepsHitInFairTests + report.MaxUnfairStepsHitInUnfairTests}");
        if (replay is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $" (replaying {replay})");
        }

        if (report.NumOfFoundBugs > 0)
        {
            foreach (string bug in report.BugReports)
            {
                text.Append("\n  bug: ").Append(bug);
            }

            if (!expectBug && !string.IsNullOrEmpty(engine.ReproducibleTrace))
            {
                string path = Path.Combine(ArtifactsDirectory(), "coyote", name + ".trace");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, engine.ReproducibleTrace);
                text.Append("\n  trace: ").Append(path);
                text.Append(CultureInfo.InvariantCulture,
                    $"\n  replay: {ReplayVariable}={path} dotnet test tests/Concurrency --filter \"FullyQualifiedName~{name}\"");
                text.Append("\n  readable trace:\n").Append(engine.ReadableTrace);
            }
        }

        details = text.ToString();
        Console.WriteLine(details);
        return report;
    }

    private static string Strategy => Environment.GetEnvironmentVariable(StrategyVariable) is { Length: > 0 } s ? s : "fair-prioritization";

    /// <summary>Whether Coyote schedules <paramref name="strategy"/> fairly (every enabled thread is eventually scheduled):
    /// the random strategies are; prioritization is only in its fair form, and delay-bounding is run unfair here.</summary>
    private static bool IsFair(string strategy) => strategy is not ("prioritization" or "delay-bounding");

    private static string BugFindingStrategy => Strategy is "fair-prioritization" or "probabilistic" ? Strategy : "fair-prioritization";

    private static Configuration Configure(string name, uint iterations, string strategy, uint? seedOverride, out string? replay)
    {
        Configuration config = Configuration.Create()
            .WithTestingIterations(iterations)
            // Unfair steps first (bug finding), then fair ones; under a fair strategy a run that hits the bound is a
            // livelock and is reported as a bug, since every scenario here terminates under a fair schedule. Under an
            // unfair one (prioritization without the fair switch, delay-bounding) a thread that spins while it waits for
            // another can be given every step while the other is never scheduled: such a run never ends and proves
            // nothing, so it is cut at the bound, not reported.
            .WithMaxSchedulingSteps(5_000, 50_000)
            .WithFailureOnMaxStepsBoundEnabled(IsFair(strategy))
            .WithPartiallyControlledConcurrencyAllowed(false)
            .WithConsoleLoggingEnabled(false);

        uint seed = seedOverride
            ?? (uint.TryParse(Environment.GetEnvironmentVariable(SeedVariable), CultureInfo.InvariantCulture, out uint s)
                ? s
                : StableHash(name));
        config = config.WithRandomGeneratorSeed(seed);

        config = strategy switch
        {
            "random" => config.WithRandomStrategy(),
            "probabilistic" => config.WithProbabilisticStrategy(3),
            "fair-prioritization" => config.WithPrioritizationStrategy(isFair: true, priorityChangeBound: 10),
            "delay-bounding" => config.WithDelayBoundingStrategy(isFair: false, delayBound: 10),
            "qlearning" => config.WithQLearningStrategy(),
            "prioritization" => config.WithPrioritizationStrategy(isFair: false, priorityChangeBound: 10),
            _ => config.WithPrioritizationStrategy(isFair: true, priorityChangeBound: 10),
        };

        replay = Environment.GetEnvironmentVariable(ReplayVariable);
        if (replay is { Length: > 0 } && Path.GetFileNameWithoutExtension(replay) == name && File.Exists(replay))
        {
            config = config.WithReproducibleTrace(File.ReadAllText(replay));
        }
        else
        {
            replay = null;
        }

        return config;
    }

    private static uint StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }

    private static string ArtifactsDirectory()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "FastThreadPool.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return Path.Combine(dir ?? Directory.GetCurrentDirectory(), "artifacts");
    }
}

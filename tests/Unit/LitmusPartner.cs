using System;
using System.Diagnostics;
using System.Threading;
using Xunit;
using Xunit.Abstractions;

namespace FastThreadPool.Tests.Unit;

/// <summary>What a litmus run saw: its rounds, the rounds in which the two sides met, and the violations (the first
/// one described).</summary>
internal readonly record struct LitmusResult(long Rounds, long ContestedRounds, long Violations, string? FirstViolation)
{
    /// <summary>A run in which the two sides never met proves nothing: the correct variant must show no violation and
    /// at least <paramref name="minContested"/> meetings.</summary>
    public void AssertCorrect(ITestOutputHelper output, string label, long minContested)
    {
        output.WriteLine($"{label}: {Rounds:N0} rounds, {ContestedRounds:N0} contested, {Violations} violations");
        Assert.True(Violations == 0, FirstViolation);
        Assert.True(ContestedRounds >= minContested, $"only {ContestedRounds} of {Rounds} rounds had the two sides meet");
    }

    /// <summary>The broken variant must show at least one violation.</summary>
    public void AssertCaught(ITestOutputHelper output, string label)
    {
        output.WriteLine($"{label}: {Rounds:N0} rounds, {ContestedRounds:N0} contested, {Violations} violations; first: {FirstViolation}");
        Assert.True(Violations > 0, $"no violation in {Rounds:N0} rounds ({ContestedRounds:N0} contested)");
    }
}

/// <summary>What one litmus round saw: whether the two sides met in it, and its violation, if any (described).</summary>
internal readonly record struct LitmusRound(bool Met, string? Violation);

/// <summary>The rounds of a native litmus test and their stopping rule.</summary>
internal static class LitmusRounds
{
    /// <summary>Runs <paramref name="round"/> (given the round number and the test's random source) for
    /// <paramref name="duration"/>, and on past it, up to <paramref name="longest"/>, while fewer than
    /// <paramref name="minContested"/> rounds had the two sides meet (on a loaded machine the two threads seldom run
    /// at the same time); never more than <paramref name="maxRounds"/>.</summary>
    public static LitmusResult Run(TimeSpan duration, long maxRounds, long minContested, TimeSpan? longest, Func<long, Random, LitmusRound> round)
    {
        TimeSpan limit = longest ?? duration;
        long contested = 0;
        long violations = 0;
        string? first = null;
        var rnd = new Random(12345);
        var clock = Stopwatch.StartNew();
        long n = 0;
        for (; n < maxRounds && (clock.Elapsed < duration || (contested < minContested && clock.Elapsed < limit)); n++)
        {
            LitmusRound r = round(n, rnd);
            contested += r.Met ? 1 : 0;
            if (r.Violation is not null)
            {
                violations++;
                first ??= r.Violation;
            }
        }

        return new LitmusResult(n, contested, violations, first);
    }
}

/// <summary>
/// The second thread of a native litmus test, and the rounds' handshake: the test's own thread prepares a round, calls
/// <see cref="Go"/>, waits a random moment (<see cref="Delay"/>) and does its side; the partner, released by
/// <see cref="Go"/>, waits its own random moment, does its side (the action given to the constructor, with the round
/// number) and reports; <see cref="WaitFor"/> waits for that report before the test checks the round. The two random
/// delays make the two sides meet at every offset.
/// </summary>
internal sealed class LitmusPartner : IDisposable
{
    private readonly Action<long> _side;
    private readonly Thread _thread;
    private long _go = -1;
    private long _done = -1;
    private int _stop;

    /// <summary>Starts the partner thread; it runs <paramref name="side"/> once per round.</summary>
    public LitmusPartner(Action<long> side)
    {
        _side = side;
        _thread = new Thread(Loop) { IsBackground = true };
        _thread.Start();
    }

    /// <summary>Releases the partner into <paramref name="round"/> (rounds count up from 0).</summary>
    public void Go(long round) => Volatile.Write(ref _go, round);

    /// <summary>Waits until the partner has done its side of <paramref name="round"/>; what it wrote before its report
    /// is visible after this returns.</summary>
    public void WaitFor(long round)
    {
        SpinWait spinner = default;
        while (Volatile.Read(ref _done) != round)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Stops the partner thread and waits for it (after the last round has been waited for).</summary>
    public void Dispose()
    {
        Volatile.Write(ref _stop, 1);
        Volatile.Write(ref _go, long.MaxValue);
        _thread.Join();
    }

    private void Loop()
    {
        var rnd = new Random(54321);
        long seen = -1;
        while (true)
        {
            SpinWait spinner = default;
            long round;
            while ((round = Volatile.Read(ref _go)) == seen)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            if (Volatile.Read(ref _stop) != 0)
            {
                return;
            }

            seen = round;
            Delay(rnd.Next(64));
            _side(round);
            Volatile.Write(ref _done, round);
        }
    }

    private static int s_sink;

    /// <summary>Spins for about <paramref name="spins"/> additions (a few nanoseconds to a few tens).</summary>
    public static void Delay(int spins)
    {
        int x = 0;
        for (int i = 0; i < spins; i++)
        {
            x += i;
        }

        Volatile.Write(ref s_sink, x);
    }
}

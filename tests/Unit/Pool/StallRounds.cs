using System;
using System.Diagnostics;
using System.Threading;
using Xunit;

namespace FastThreadPool.Tests.Unit.Pool;

/// <summary>Rounds of jobs that must never stall, for the pool's liveness tests.</summary>
internal static class StallRounds
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="round"/> on a thread of its own, round after round, until <paramref name="maxRounds"/> or
    /// <paramref name="budget"/>, and fails if one round does not end within 10 s. What is checked is that no round
    /// stalls: a bound on the whole run would fail a loaded machine that runs the rounds slowly but never stalls.
    /// The round's jobs spin while its second argument returns false; it turns true when a round stalled, so that the
    /// spinning jobs, the run and the pool can end. Returns the number of rounds that ended.
    /// </summary>
    public static int Run(FastThreadPool.Pool pool, int maxRounds, TimeSpan budget, Action<int, Func<bool>> round)
    {
        TimeSpan stall = TimeSpan.FromSeconds(10);
        int abort = 0;
        int stop = 0;
        int rounds = 0;
        Func<bool> aborted = () => Volatile.Read(ref abort) != 0;
        var run = new Thread(() =>
        {
            for (int r = 0; r < maxRounds && Volatile.Read(ref stop) == 0; r++)
            {
                round(r, aborted);
                Volatile.Write(ref rounds, r + 1);
            }
        });
        run.Start();

        var clock = Stopwatch.StartNew();
        int seen = 0;
        TimeSpan progressed = TimeSpan.Zero;
        string? stalled = null;
        while (!run.Join(TimeSpan.FromMilliseconds(50)))
        {
            int now = Volatile.Read(ref rounds);
            if (now != seen)
            {
                seen = now;
                progressed = clock.Elapsed;
            }
            else if (clock.Elapsed - progressed > stall)
            {
                stalled = $"round {now} did not end within {stall.TotalSeconds} s ({pool.DebugState})";
                Volatile.Write(ref stop, 1);
                Volatile.Write(ref abort, 1);
                break;
            }

            if (clock.Elapsed > budget)
            {
                Volatile.Write(ref stop, 1); // ends the run after the round in progress
            }
        }

        bool ended = run.Join(Patience);
        Assert.True(stalled is null, stalled);
        Assert.True(ended, "the rounds did not end");
        return Volatile.Read(ref rounds);
    }
}

using System.Threading;
using Microsoft.Coyote.Specifications;
using Monitor = System.Threading.Monitor;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Harness;

/// <summary>
/// The harness must be able to fail: a counter with a check-then-act race must be reported, and the same counter
/// done with Interlocked must pass. And it must tell a livelock from a spin-wait that an unfair schedule stretches: a
/// spin that never ends is reported under a fair strategy, a spin that every fair schedule ends is not reported under
/// an unfair one.
/// </summary>
public class HarnessSelfTests
{
    private sealed class Counter
    {
        public int Value;
    }

    private static void TwoIncrements(bool atomic)
    {
        var counter = new Counter();
        void Increment()
        {
            if (atomic)
            {
                Interlocked.Increment(ref counter.Value);
            }
            else
            {
                // Check-then-act: read, then write back read + 1. Two threads can both read 0.
                int seen = Volatile.Read(ref counter.Value);
                Volatile.Write(ref counter.Value, seen + 1);
            }
        }

        var a = new Thread(Increment);
        var b = new Thread(Increment);
        a.Start();
        b.Start();
        a.Join();
        b.Join();
        Specification.Assert(counter.Value == 2, "lost update: counter is {0}", counter.Value);
    }

    [Fact]
    public void FindsLostUpdateInCheckThenActCounter() =>
        Scenario.AssertFindsBug(nameof(FindsLostUpdateInCheckThenActCounter), () => TwoIncrements(atomic: false), "lost update");

    [Fact]
    public void AtomicCounterPasses() =>
        Scenario.AssertNoBug(nameof(AtomicCounterPasses), () => TwoIncrements(atomic: true));

    private static void MissedWakeup(bool correct)
    {
        object gate = new();
        bool ready = false;
        var waiter = new Thread(() =>
        {
            if (correct)
            {
                lock (gate)
                {
                    while (!Volatile.Read(ref ready))
                    {
                        Monitor.Wait(gate);
                    }
                }
            }
            else
            {
                // Broken: checks the flag outside the lock, so the pulse can come between the check and the wait.
                if (!Volatile.Read(ref ready))
                {
                    lock (gate)
                    {
                        Monitor.Wait(gate);
                    }
                }
            }
        });
        waiter.Start();
        Volatile.Write(ref ready, true);
        lock (gate)
        {
            Monitor.PulseAll(gate);
        }

        waiter.Join();
    }

    [Fact]
    public void FindsMissedWakeupAsDeadlock() =>
        Scenario.AssertFindsBug(nameof(FindsMissedWakeupAsDeadlock), () => MissedWakeup(correct: false), "deadlock");

    [Fact]
    public void CorrectWakeupPasses() =>
        Scenario.AssertNoBug(nameof(CorrectWakeupPasses), () => MissedWakeup(correct: true));

    private sealed class Flag
    {
        public int Value;
    }

    // Spins (yielding) until another thread sets the flag, or, with setter false, until nobody ever does.
    private static void SpinUntilSet(bool setter)
    {
        var flag = new Flag();
        var other = new Thread(() =>
        {
            if (setter)
            {
                Volatile.Write(ref flag.Value, 1);
            }
        });
        other.Start();
        while (Volatile.Read(ref flag.Value) == 0)
        {
            Thread.Yield();
        }

        other.Join();
    }

    [Fact]
    public void AnUnfairStrategyCutsASpinWaitWithoutReportingIt()
    {
        // Under the unfair prioritization strategy the spinner can be run for ever while the setter never is: such
        // runs reach the step bound. They must be cut, not reported (every fair schedule ends this scenario).
        Microsoft.Coyote.SystematicTesting.TestReport report = Scenario.Explore(
            nameof(AnUnfairStrategyCutsASpinWaitWithoutReportingIt), () => SpinUntilSet(setter: true), 2000, out string details,
            strategy: "prioritization");
        Assert.True(report.MaxUnfairStepsHitInUnfairTests > 0, $"no run reached the bound, so this proves nothing:\n{details}");
        Assert.True(report.NumOfFoundBugs == 0, details);
    }

    [Fact]
    public void AFairStrategyReportsASpinThatNeverEnds()
    {
        Microsoft.Coyote.SystematicTesting.TestReport report = Scenario.Explore(
            nameof(AFairStrategyReportsASpinThatNeverEnds), () => SpinUntilSet(setter: false), 1, out string details,
            strategy: "fair-prioritization");
        Assert.True(report.NumOfFoundBugs > 0, details);
    }
}

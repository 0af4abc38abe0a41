using System.Threading;
using Microsoft.Coyote.Specifications;
using Monitor = System.Threading.Monitor;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Harness;

/// <summary>
/// The harness must be able to fail: a counter with a check-then-act race must be reported, and the same counter
/// done with Interlocked must pass.
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
}

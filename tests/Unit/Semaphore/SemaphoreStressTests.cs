using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using FastThreadPool.Primitives;
using Xunit;

namespace FastThreadPool.Tests.Unit.Semaphore;

/// <summary>
/// Releasers and waiters on real threads, with timed, cancelled and untimed waits mixed. Permits are conserved
/// (released = taken + left), and at quiescence nobody is parked or registered while permits remain. Every waiter
/// takes its quota with waits that may fail and then an untimed wait, so a lost wake-up shows as a waiter that
/// never returns (the run is bounded and reports it).
/// </summary>
public class SemaphoreStressTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(ParkingBackend.Monitor, 1, 1, 200_000)]
    [InlineData(ParkingBackend.Monitor, 2, 3, 50_000)]
    [InlineData(ParkingBackend.Monitor, 3, 2, 50_000)]
    [InlineData(ParkingBackend.Futex, 1, 1, 200_000)]
    [InlineData(ParkingBackend.Futex, 2, 3, 50_000)]
    [InlineData(ParkingBackend.Futex, 3, 2, 50_000)]
    public void PermitsAreConservedAndNoWakeUpIsLost(ParkingBackend backend, int releasers, int waiters, int perWaiter)
    {
        if (backend == ParkingBackend.Futex && !(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture is System.Runtime.InteropServices.Architecture.X64 or System.Runtime.InteropServices.Architecture.Arm64))
        {
            return; // no futex on this platform; the Monitor rows cover the algorithm
        }

        var sem = new FastSemaphore(0, int.MaxValue, backend);
        long total = (long)waiters * perWaiter;
        long released = 0;
        long taken = 0;
        long timedOut = 0;
        long cancelled = 0;
        var clock = Stopwatch.StartNew();
        var threads = new List<Thread>();
        using var start = new Barrier(releasers + waiters);

        for (int r = 0; r < releasers; r++)
        {
            int id = r;
            threads.Add(new Thread(() =>
            {
                start.SignalAndWait();
                var rnd = new Random(100 + id);
                while (clock.Elapsed < Limit)
                {
                    int n = rnd.Next(1, 4);
                    long mine = Interlocked.Add(ref released, n);
                    if (mine > total)
                    {
                        n -= (int)Math.Min(n, mine - total);
                        if (n > 0)
                        {
                            sem.Release(n);
                        }

                        return;
                    }

                    sem.Release(n);
                    if (rnd.Next(8) == 0)
                    {
                        Thread.Yield();
                    }
                }
            }));
        }

        for (int w = 0; w < waiters; w++)
        {
            int id = w;
            threads.Add(new Thread(() =>
            {
                start.SignalAndWait();
                var rnd = new Random(200 + id);
                for (int i = 0; i < perWaiter && clock.Elapsed < Limit; i++)
                {
                    bool got;
                    switch (rnd.Next(4))
                    {
                        case 0:
                            got = sem.TryWait();
                            break;
                        case 1:
                            got = sem.Wait(rnd.Next(0, 2));
                            if (!got)
                            {
                                Interlocked.Increment(ref timedOut);
                            }

                            break;
                        case 2:
                            using (var cts = new CancellationTokenSource())
                            {
                                cts.CancelAfter(rnd.Next(0, 2));
                                try
                                {
                                    sem.Wait(cts.Token);
                                    got = true;
                                }
                                catch (OperationCanceledException)
                                {
                                    Interlocked.Increment(ref cancelled);
                                    got = false;
                                }
                            }

                            break;
                        default:
                            sem.Wait();
                            got = true;
                            break;
                    }

                    if (!got)
                    {
                        sem.Wait(); // the quota is taken with an untimed wait in the end
                    }

                    Interlocked.Increment(ref taken);
                }
            }));
        }

        foreach (Thread t in threads)
        {
            t.Start();
        }

        foreach (Thread t in threads)
        {
            if (!t.Join(Limit + TimeSpan.FromSeconds(10)))
            {
                Assert.Fail($"a thread never returned: lost wake-up? released {Interlocked.Read(ref released)}, taken {Interlocked.Read(ref taken)}, count {sem.CurrentCount}, registered {sem.WaitingCount}, parked {sem.Lot.ParkedCount}");
            }
        }

        output.WriteLine($"{backend}: {total} permits in {clock.ElapsedMilliseconds} ms; {timedOut} timed out, {cancelled} cancelled");
        Assert.True(clock.Elapsed < Limit, $"did not finish within {Limit}");
        Assert.Equal(total, Interlocked.Read(ref taken));
        Assert.Equal(0, sem.CurrentCount); // released == taken + left, with exactly `total` released
        Assert.Equal(0, sem.WaitingCount);
        Assert.Equal(0, sem.Lot.ParkedCount);
    }
}

using System;
using System.Diagnostics;
using System.Threading;
using Xunit;

namespace FastThreadPool.Tests.Unit.Pool;

/// <summary>
/// The steering of the number of working workers (internal <c>PoolOptions.AdaptiveWorkers</c>, Pool.Steering.cs):
/// workers above the limit rest, and nothing waits on them for longer than a rest. Pools of more workers than this
/// machine has cores: they take turns, but each must come when needed.
/// </summary>
public class SteeringTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static FastThreadPool.Pool Create(int workers, int heldAt = 0) =>
        new(new PoolOptions { MaxWorkers = workers, AdaptiveWorkers = true, FixedWorkerLimit = heldAt, KeepDone = false });

    /// <summary>Streams of tiny jobs from this thread until a worker above the limit has rested (or 10 s).</summary>
    private static long StreamUntilRested(FastThreadPool.Pool pool)
    {
        long ran = 0;
        var clock = Stopwatch.StartNew();
        while (pool.Diagnostics.Rests == 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            for (int i = 0; i < 20_000; i++)
            {
                pool.Submit(() => Interlocked.Increment(ref ran));
            }

            Assert.True(pool.WaitIdle(Patience));
        }

        return Interlocked.Read(ref ran);
    }

    [Fact]
    public void HeldAtOneRunsEveryJobAndRestsTheOtherWorkers()
    {
        using var pool = Create(workers: 4, heldAt: 1);
        long ran = StreamUntilRested(pool);
        Assert.Equal(1, pool.WorkerLimit);
        Assert.True(pool.Diagnostics.Rests > 0, $"no worker rested in {ran:N0} jobs ({pool.SteeringState})");
        Assert.Equal(pool.SubmittedCount, ran);
        PoolChecks.AssertConserved(pool);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void JobsThatWaitForEachOtherGetWorkersThatRest(int heldAt)
    {
        // Each round: a stream that sets the lease and sends the workers above the limit to rest, then as many jobs
        // as workers, each spinning until all have started. Worker 0 is among those held in the spinning jobs, so it
        // renews no lease: every rest ends within it, and the jobs must all start.
        const int workers = 4;
        using var pool = Create(workers, heldAt);
        int done = StallRounds.Run(pool, 200, TimeSpan.FromSeconds(5), (_, aborted) =>
        {
            for (int i = 0; i < 5_000; i++)
            {
                pool.Submit(static () => { });
            }

            int arrived = 0;
            for (int i = 0; i < workers; i++)
            {
                pool.Submit(() =>
                {
                    Interlocked.Increment(ref arrived);
                    while (Volatile.Read(ref arrived) < workers && !aborted())
                    {
                        Thread.Yield();
                    }
                });
            }

            pool.WaitIdle();
        });
        Assert.True(done >= 5, $"only {done} rounds in 5 s");
        PoolChecks.AssertConserved(pool);
    }

    [Fact]
    public void AWorkerRestingUnderALeaseThatHoldsStillLooksForWorkWithinItsRest()
    {
        // Worker 0 is held in a job that waits for a job submitted later, with the lease held for 20 s as if worker 0
        // kept renewing it (worker 0 does while it runs a stream of its own, e.g. nested jobs from its deque). Worker
        // 1, above the limit of 1, rests after a job: no submission wakes it (it is not idle, and the pool has no room
        // to start another), so only the end of its rest brings it to the later job. A rest that lasted while the
        // lease holds would keep the job waiting for 20 s.
        var index = new ThreadLocal<int>(() => -1);
        using var pool = new FastThreadPool.Pool(new PoolOptions
        {
            MaxWorkers = 2, AdaptiveWorkers = true, FixedWorkerLimit = 1, KeepDone = false, InitCallback = ctx => index.Value = ctx.Index,
        });
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.True(clock.Elapsed < Patience, "worker 0 never took the waiting job");
            int onWorker = -1;
            int laterRan = 0;
            using var started = new ManualResetEventSlim(false);
            pool.Submit(() =>
            {
                onWorker = index.Value;
                started.Set();
                if (onWorker != 0)
                {
                    return; // on worker 1: try again
                }

                var waited = Stopwatch.StartNew();
                while (Volatile.Read(ref laterRan) == 0 && waited.Elapsed < TimeSpan.FromSeconds(25))
                {
                    Thread.Sleep(1);
                }
            });
            Assert.True(started.Wait(Patience));
            if (onWorker != 0)
            {
                Assert.True(pool.WaitIdle(Patience));
                continue;
            }

            // Worker 0 waits. Send worker 1 to rest: one job, then its rest under the held lease.
            pool.HoldLimitForTests(1, TimeSpan.FromSeconds(20));
            long rests = pool.Diagnostics.Rests;
            pool.Submit(static () => { });
            Assert.True(SpinWait.SpinUntil(() => pool.Diagnostics.Rests > rests, Patience), "worker 1 did not rest");

            var wait = Stopwatch.StartNew();
            pool.Submit(() => Volatile.Write(ref laterRan, 1));
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref laterRan) == 1, Patience), "the later job never ran");
            Assert.True(wait.Elapsed < TimeSpan.FromSeconds(5), $"the later job waited {wait.Elapsed.TotalSeconds:F1} s for the resting worker");
            break;
        }

        PoolChecks.AssertConserved(pool);
    }

    [Fact]
    public void SteeredPoolRunsMixedStreamsAndShutsDownWithRestingWorkers()
    {
        using var pool = Create(workers: 4);
        long sum = 0;
        long expected = 0;
        var clock = Stopwatch.StartNew();
        for (int burst = 0; clock.Elapsed < TimeSpan.FromSeconds(2); burst++)
        {
            int spin = burst % 3 == 0 ? 2_000 : 0; // heavier jobs every third burst
            for (int i = 0; i < 10_000; i++)
            {
                int v = i;
                expected += v;
                pool.Submit(() =>
                {
                    if (spin > 0)
                    {
                        Thread.SpinWait(spin);
                    }

                    Interlocked.Add(ref sum, v);
                });
            }

            if (burst % 2 == 0)
            {
                Assert.True(pool.WaitIdle(Patience));
            }
        }

        PoolChecks.AssertConserved(pool);
        Assert.Equal(expected, Interlocked.Read(ref sum));
        int limit = pool.WorkerLimit;
        Assert.True(limit is >= 1 and <= 4 || limit == int.MaxValue, $"limit {limit}");
        Assert.True(pool.Shutdown(Patience), "a worker did not end");
        Assert.Equal(0, pool.Alive);
    }
}

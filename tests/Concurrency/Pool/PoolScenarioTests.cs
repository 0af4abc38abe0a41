using System;
using System.Collections.Generic;
using System.Threading;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;
using FastThreadPool.Tests.Concurrency.Harness;
using FastThreadPool.Tests.Concurrency.Semaphore;
using Microsoft.Coyote.Specifications;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Pool;

/// <summary>
/// Tiny pools (1-3 workers, 2-4 jobs) under Coyote, on the managed parking backend. Every scenario shuts the pool
/// down, joins its workers, and checks the conservation invariant: submitted = done + failed + cancelled.
/// </summary>
public class PoolScenarioTests
{
    private static FastThreadPool.Pool Create(int workers, Fault faults = Fault.None, int spareJobs = 0) =>
        new(new PoolOptions { MaxWorkers = workers, Parking = ParkingBackend.Monitor, KeepDone = false, SpareJobs = spareJobs, Faults = faults | Fault.PlainThreads });

    internal static void ShutdownAndCheck(FastThreadPool.Pool pool)
    {
        Specification.Assert(pool.Shutdown(), "a worker or the timer thread did not end");
        Specification.Assert(pool.Alive == 0, "{0} workers alive after shutdown", pool.Alive);
        Specification.Assert(pool.TimerCount == 0, "{0} timers left after shutdown", pool.TimerCount);
        long ended = pool.DoneCount + pool.FailedCount + pool.CancelledCount;
        Specification.Assert(pool.SubmittedCount == ended,
            "not conserved: submitted {0}, done {1}, failed {2}, cancelled {3}", pool.SubmittedCount, pool.DoneCount, pool.FailedCount, pool.CancelledCount);
    }

    // 1. Cancel racing a worker's dequeue: the job runs xor Cancel returns true.
    private static void CancelRace(Fault faults)
    {
        FastThreadPool.Pool pool = Create(1, faults);
        int ran = 0;
        long id = pool.Submit(() => { Interlocked.Increment(ref ran); });
        bool cancelled = false;
        Threads.Run(() => cancelled = pool.Cancel(id));
        ShutdownAndCheck(pool);
        Specification.Assert(cancelled != (ran == 1), "cancelled {0} but ran {1} times", cancelled, ran);
        Specification.Assert(pool.CancelledCount == (cancelled ? 1 : 0), "CancelledCount {0}", pool.CancelledCount);
    }

    [Fact]
    public void CancelRacingTheWorker() => Scenario.AssertNoBug(nameof(CancelRacingTheWorker), () => CancelRace(Fault.None));

    // Under fair prioritization (schedules 4,458 and 7,230 under the scenario's two seeds): the probabilistic strategy
    // reaches this bug at 7,910 and 20,706, the second beyond the planted-bug bound.
    [Fact]
    public void FindsStartMissingTheRunDecision() =>
        Scenario.AssertFindsBug(nameof(FindsStartMissingTheRunDecision), () => CancelRace(Fault.StartMissesRunDecision), "not conserved|cancelled False but ran 0", strategy: "fair-prioritization");

    [Fact]
    public void FindsCancelWithoutCas() =>
        Scenario.AssertFindsBug(nameof(FindsCancelWithoutCas), () => CancelRace(Fault.CancelWithoutCas), "not conserved|cancelled True but ran 1");

    // 1a. Two cancels by id and a CancelAll racing the worker: the worker starts a job without a locked instruction,
    // a cancel by id claims it (Pending) and decides after a process-wide barrier, CancelAll cancels what it takes out
    // of the queue with a plain CAS. Exactly one of the four wins, and the counts agree.
    private static void CancelsRace()
    {
        FastThreadPool.Pool pool = Create(1);
        int ran = 0;
        long id = pool.Submit(() => { Interlocked.Increment(ref ran); });
        bool first = false;
        bool second = false;
        int all = 0;
        Threads.Run(() => first = pool.Cancel(id), () => second = pool.Cancel(id), () => all = pool.CancelAll());
        ShutdownAndCheck(pool);
        int winners = ran + (first ? 1 : 0) + (second ? 1 : 0) + all;
        Specification.Assert(winners == 1, "ran {0}, cancels {1} and {2}, CancelAll {3}", ran, first, second, all);
        Specification.Assert(pool.CancelledCount == 1 - ran, "CancelledCount {0} with ran {1}", pool.CancelledCount, ran);
    }

    [Fact]
    public void CancelsRacingEachOtherAndTheWorker() => Scenario.AssertNoBug(nameof(CancelsRacingEachOtherAndTheWorker), CancelsRace);

    // 1a'. A cancel of two ids at once (one claim each, one barrier, then the decisions) racing the worker that takes
    // both jobs: each job runs xor is counted by the cancel, and the cancel's count is the pool's.
    private static void ManyIdsCancelRace()
    {
        FastThreadPool.Pool pool = Create(1);
        int ran = 0;
        long a = pool.Submit(() => { Interlocked.Increment(ref ran); });
        long b = pool.Submit(() => { Interlocked.Increment(ref ran); });
        int cancelled = 0;
        Threads.Run(() => cancelled = pool.Cancel([a, b, a]));
        ShutdownAndCheck(pool);
        Specification.Assert(ran + cancelled == 2, "ran {0}, cancelled {1}", ran, cancelled);
        Specification.Assert(pool.CancelledCount == cancelled, "CancelledCount {0}, the cancel said {1}", pool.CancelledCount, cancelled);
    }

    [Fact]
    public void CancelOfManyIdsRacingTheWorker() => Scenario.AssertNoBug(nameof(CancelOfManyIdsRacingTheWorker), ManyIdsCancelRace);

    // 1b. Reuse (a worker's own ended jobs): job A ends, a job submitted from inside the pool reuses A's object, and a
    // thread that learned A's id cancels by it at any point meanwhile. The cancel must fail (A had ended) and the new
    // job must run, whichever the interleaving.
    private static void StaleCancelRace(Fault faults)
    {
        FastThreadPool.Pool pool = Create(1, faults, spareJobs: 64);
        long a = pool.Submit(() => { });
        Specification.Assert(pool.WaitIdle(Timeout.InfiniteTimeSpan), "never idle");
        int ran = 0;
        bool stale = false;
        Threads.Run(
            () => pool.Submit(() => pool.Submit(() => { Interlocked.Increment(ref ran); })),
            () => stale = pool.Cancel(a));
        // The outer job submits the inner one before it ends: once idle, both have ended (a shutdown before that
        // would refuse the inner submission).
        Specification.Assert(pool.WaitIdle(Timeout.InfiniteTimeSpan), "never idle");
        ShutdownAndCheck(pool);
        Specification.Assert(!stale, "the stale id {0} cancelled a job (ran {1})", a, ran);
        Specification.Assert(ran == 1, "the reused job ran {0} times", ran);
    }

    [Fact]
    public void StaleCancelRacingAReusedJob() => Scenario.AssertNoBug(nameof(StaleCancelRacingAReusedJob), () => StaleCancelRace(Fault.None));

    [Fact]
    public void FindsCancelIgnoringId() =>
        Scenario.AssertFindsBug(nameof(FindsCancelIgnoringId), () => StaleCancelRace(Fault.CancelIgnoresId), "stale id");

    // 1b'. Reuse through Pool.Return: job A ends in Done; a thread takes it (as soon as the worker has reported it,
    // while that worker may still be finishing it), returns it and submits B, which reuses A's object, while another
    // thread cancels by A's id at any point. That cancel may cancel A while A is queued, and then A never runs; once A
    // has run, it must fail. B runs once, with its own result.
    private static readonly Func<int, long> s_square = static i => (long)i * i;

    private static void ReturnRace(Fault faults)
    {
        var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 1, Parking = ParkingBackend.Monitor, SpareJobs = 64, Faults = faults | Fault.PlainThreads });
        long a = pool.Submit(s_square, 2);
        bool stale = false;
        bool tookA = false;
        bool reused = false;
        long resultB = -1;
        Threads.Run(
            () =>
            {
                PoolJob? jobA = null;
                foreach (PoolJob job in pool.AsCompleted(count: 1))
                {
                    jobA = job; // none if the cancel took A first
                }

                if (jobA is null)
                {
                    return;
                }

                tookA = true;
                Specification.Assert(jobA.GetResult<long>() == 4, "A's result is {0}", jobA.GetResult<long>());
                pool.Return(jobA);
                long b = pool.Submit(s_square, 3);
                reused = ReferenceEquals(pool.FindJob(b), jobA);
                foreach (PoolJob job in pool.AsCompleted(count: 1))
                {
                    Specification.Assert(job.Id == b, "took job {0}, expected B ({1})", job.Id, b);
                    resultB = job.GetResult<long>();
                }
            },
            () => stale = pool.Cancel(a));
        ShutdownAndCheck(pool);
        Specification.Assert(!(stale && tookA), "the id of A, which had run, cancelled a job (B's result {0})", resultB);
        Specification.Assert(stale != tookA, "A neither ran nor was cancelled");
        Specification.Assert(!tookA || (reused && resultB == 9), "B reused A's object: {0}, B's result {1}", reused, resultB);
    }

    [Fact]
    public void StaleCancelRacingAReturnedAndReusedJob() => Scenario.AssertNoBug(nameof(StaleCancelRacingAReturnedAndReusedJob), () => ReturnRace(Fault.None));

    [Fact]
    public void FindsCancelIgnoringIdAfterReturn() =>
        Scenario.AssertFindsBug(nameof(FindsCancelIgnoringIdAfterReturn), () => ReturnRace(Fault.CancelIgnoresId), "which had run|not conserved");

    // 1c. WaitIdle racing a job that submits the next one and ends: WaitIdle may return only when both have ended.
    // Reading the submitted count before the ended counts could see the first job's submission count and, later,
    // the first job ended, while the second is still queued.
    private static void IdleWhileAJobSubmitsTheNext(Fault faults)
    {
        FastThreadPool.Pool pool = Create(1, faults);
        int ran = 0;
        bool idle = false;
        pool.Submit(() =>
        {
            pool.Submit(() => { Interlocked.Increment(ref ran); });
        });
        Threads.Run(() => idle = pool.WaitIdle(Timeout.InfiniteTimeSpan));
        int ranAtIdle = Volatile.Read(ref ran);
        Specification.Assert(idle && ranAtIdle == 1, "WaitIdle returned {0} with the second job run {1} times", idle, ranAtIdle);
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void WaitIdleRacingNestedSubmission() =>
        Scenario.AssertNoBug(nameof(WaitIdleRacingNestedSubmission), () => IdleWhileAJobSubmitsTheNext(Fault.None));

    [Fact]
    public void FindsReadSubmittedBeforeEnded() =>
        Scenario.AssertFindsBug(nameof(FindsReadSubmittedBeforeEnded), () => IdleWhileAJobSubmitsTheNext(Fault.ReadSubmittedBeforeEnded), "second job run 0 times");

    // 2. SubmitFirst: with the only worker busy, a SubmitFirst job runs before the jobs queued earlier.
    [Fact]
    public void SubmitFirstOvertakesQueuedJobs() =>
        Scenario.AssertNoBug(nameof(SubmitFirstOvertakesQueuedJobs), () =>
        {
            FastThreadPool.Pool pool = Create(1);
            int release = 0;
            int started = 0;
            var order = new List<string>();
            pool.Submit(() =>
            {
                Volatile.Write(ref started, 1);
                while (Volatile.Read(ref release) == 0)
                {
                    Thread.Yield();
                }
            });
            while (Volatile.Read(ref started) == 0)
            {
                Thread.Yield();
            }

            pool.Submit(() => { lock (order) { order.Add("a"); } });
            pool.SubmitFirst(() => { lock (order) { order.Add("first"); } });
            Volatile.Write(ref release, 1);
            ShutdownAndCheck(pool);
            Specification.Assert(order.Count == 2 && order[0] == "first", "order: {0}", string.Join(",", order));
        });

    // 2b. Two workers, mixed Submit and SubmitFirst from two threads: nothing lost or run twice.
    [Fact]
    public void TwoWorkersNoJobLostOrRunTwice() =>
        Scenario.AssertNoBug(nameof(TwoWorkersNoJobLostOrRunTwice), () =>
        {
            FastThreadPool.Pool pool = Create(2);
            var runs = new int[4];
            Threads.Run(
                () =>
                {
                    pool.Submit(() => { Interlocked.Increment(ref runs[0]); });
                    pool.SubmitFirst(() => { Interlocked.Increment(ref runs[1]); });
                },
                () =>
                {
                    pool.SubmitFirst(() => { Interlocked.Increment(ref runs[2]); });
                    pool.Submit(() => { Interlocked.Increment(ref runs[3]); });
                });
            ShutdownAndCheck(pool);
            for (int i = 0; i < runs.Length; i++)
            {
                Specification.Assert(runs[i] == 1, "job {0} ran {1} times", i, runs[i]);
            }
        });

    // 2d. Two workers, SubmitFirst jobs from two threads, some of which throw: a job keeps its stack link and, once it
    // has thrown, its exception in one rarely made part of the job object, and a popper may read the link of a job
    // that another worker has popped and run meanwhile. Each job runs once, and each thrown exception stays with its job.
    [Fact]
    public void SubmitFirstJobsThatThrowRunOnceAndKeepTheirExceptions() =>
        Scenario.AssertNoBug(nameof(SubmitFirstJobsThatThrowRunOnceAndKeepTheirExceptions), () =>
        {
            FastThreadPool.Pool pool = Create(2);
            var runs = new int[3];
            long thrower0 = 0, thrower2 = 0;
            Threads.Run(
                () =>
                {
                    thrower0 = pool.SubmitFirst(() => { Interlocked.Increment(ref runs[0]); throw new InvalidOperationException("0"); });
                    pool.SubmitFirst(() => { Interlocked.Increment(ref runs[1]); });
                },
                () => thrower2 = pool.SubmitFirst(() => { Interlocked.Increment(ref runs[2]); throw new ArgumentException("2"); }));
            ShutdownAndCheck(pool);
            for (int i = 0; i < runs.Length; i++)
            {
                Specification.Assert(runs[i] == 1, "job {0} ran {1} times", i, runs[i]);
            }

            Specification.Assert(pool.FailedCount == 2 && pool.DoneCount == 1, "failed {0}, done {1}", pool.FailedCount, pool.DoneCount);
            int seen = 0;
            while (pool.Failed.TryDequeue(out PoolJob? job))
            {
                seen++;
                bool kept = job.Id == thrower0 ? job.Exception is InvalidOperationException : job.Id == thrower2 && job.Exception is ArgumentException;
                Specification.Assert(kept, "job {0} failed with {1}", job.Id, job.Exception?.GetType().Name ?? "no exception");
            }

            Specification.Assert(seen == 2, "{0} jobs in Failed", seen);
        });

    // 2c. A job that waits for the job queued after it: the second must not wait for the first to end (a worker
    // that takes a job while more is queued wakes or starts another).
    private static void BlockedJobAndTheNext(Fault faults)
    {
        FastThreadPool.Pool pool = Create(2, faults);
        int secondRan = 0;
        pool.Submit(() => { }); // one worker started, then idle: the next submission counts on it
        Specification.Assert(pool.WaitIdle(Timeout.InfiniteTimeSpan), "never idle");
        pool.Submit(() =>
        {
            while (Volatile.Read(ref secondRan) == 0)
            {
                Thread.Yield();
            }
        });
        pool.Submit(() => { Volatile.Write(ref secondRan, 1); });
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void ABlockedJobDoesNotStrandTheNext() => Scenario.AssertNoBug(nameof(ABlockedJobDoesNotStrandTheNext), () => BlockedJobAndTheNext(Fault.None));

    [Fact]
    public void FindsHandOnWithoutStart() =>
        Scenario.AssertFindsBug(nameof(FindsHandOnWithoutStart), () => BlockedJobAndTheNext(Fault.HandOnWithoutStart), "livelock|fair|Deadlock|bound|potential");

    // 2d. The same at shutdown, with the second job taken in a batch by the worker that runs the first: the other
    // worker must not end while that job is in the first worker's deque or on its way there. A batch is claimed in one
    // step and only if the second job is already published, so the schedules that put it in the batch are rare: the
    // fair strategy's first one is its 1,690th and 3,115th under the scenario's two seeds (hence the planted-bug
    // searches' generous bound, Scenario.PlantedBugIterations).
    [Fact]
    public void FindsEndWithoutLookingElsewhere() =>
        Scenario.AssertFindsBug(nameof(FindsEndWithoutLookingElsewhere), () => BlockedJobAndTheNext(Fault.EndWithoutLookingElsewhere), "livelock|fair|Deadlock|bound|potential");

    // 2e. A job pushes a child into its worker's deque and waits for it, and a job from outside waits for the child
    // too, in a pool of three workers: the child must get the third worker. The worker that runs the first job finds
    // the second worker searching and counts on it; that worker takes the second job from the queue instead, and must
    // then pass the wake-up on for the child in the other deque (a hand-on that looked only at its own deque and the
    // shared queues left the child there while both jobs waited for it).
    private static void ChildThatTwoJobsWaitFor(Fault faults)
    {
        FastThreadPool.Pool pool = Create(3, faults);
        int childRan = 0;
        pool.Submit(() =>
        {
            pool.Submit(() => { Volatile.Write(ref childRan, 1); });
            while (Volatile.Read(ref childRan) == 0)
            {
                Thread.Yield();
            }
        });
        pool.Submit(() =>
        {
            while (Volatile.Read(ref childRan) == 0)
            {
                Thread.Yield();
            }
        });
        Specification.Assert(pool.WaitIdle(Timeout.InfiniteTimeSpan), "never idle"); // the child is submitted before shutdown
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void AChildThatTwoJobsWaitForGetsAWorker() =>
        Scenario.AssertNoBug(nameof(AChildThatTwoJobsWaitForGetsAWorker), () => ChildThatTwoJobsWaitFor(Fault.None));

    // Searched for under the probabilistic strategy: the stranding schedule needs the second worker on its way
    // (started or woken, not yet looking) while the first pushes the child, a preemption in a narrow window of a run
    // of several thousand steps. Fair prioritization (10 priority changes per run) first reached it at iteration 558
    // under the scenario's own seed, 3,226-3,228 under seeds 1, 2 and 3, after 4,000 under seed 20261127 and at 15,015
    // under the second seed; the probabilistic strategy at 168-170 under seeds 1, 2 and 3.
    [Fact]
    public void FindsHandOnBlindToOtherDeques() =>
        Scenario.AssertFindsBug(nameof(FindsHandOnBlindToOtherDeques), () => ChildThatTwoJobsWaitFor(Fault.HandOnOwnDequeOnly), "livelock|fair|Deadlock|bound|potential", strategy: "probabilistic");

    // 2f. Three jobs that wait until all three run, in a pool of three workers: each must get a worker, whichever
    // worker takes them in a batch, steals them or searches.
    [Fact]
    public void JobsThatWaitForEachOtherAllGetAWorker() =>
        Scenario.AssertNoBug(nameof(JobsThatWaitForEachOtherAllGetAWorker), () =>
        {
            FastThreadPool.Pool pool = Create(3);
            int arrived = 0;
            for (int i = 0; i < 3; i++)
            {
                pool.Submit(() =>
                {
                    Interlocked.Increment(ref arrived);
                    while (Volatile.Read(ref arrived) < 3)
                    {
                        Thread.Yield();
                    }
                });
            }

            ShutdownAndCheck(pool);
        });

    // 2g. The steering's rests (internal PoolOptions.AdaptiveWorkers, the limit held at 1, the lease held for an hour
    // as if worker 0 kept renewing it; the rests' timeouts are the tester's choice): a job that waits for a later one
    // holds one worker, and the other, above the limit, rests after a job. Its rest must end in a look for work, or
    // the later job waits for the lease; and shutdown must end the rest.
    private static void RestingWorkerAndAWaitingJob(Fault faults)
    {
        FastThreadPool.Pool pool = new(new PoolOptions
        {
            MaxWorkers = 2, AdaptiveWorkers = true, FixedWorkerLimit = 1, RestParker = new CoyoteParker(),
            Parking = ParkingBackend.Monitor, KeepDone = false, Faults = faults | Fault.PlainThreads,
        });
        pool.HoldLimitForTests(1, TimeSpan.FromHours(1));
        var later = new FastSemaphore(0, 1, ParkingBackend.Monitor);
        pool.Submit(() => { });
        pool.Submit(() => later.Wait());
        pool.Submit(() => later.Release());
        Specification.Assert(pool.WaitIdle(Timeout.InfiniteTimeSpan), "never idle");
        ShutdownAndCheck(pool);
    }

    [Fact]
    public void AWorkerAboveTheLimitRestsAndStillComes() =>
        Scenario.AssertNoBug(nameof(AWorkerAboveTheLimitRestsAndStillComes), () => RestingWorkerAndAWaitingJob(Fault.None));

    [Fact]
    public void FindsRestWhileTheLeaseHolds() =>
        Scenario.AssertFindsBug(nameof(FindsRestWhileTheLeaseHolds), () => RestingWorkerAndAWaitingJob(Fault.RestWhileLeaseHolds), "livelock|fair|Deadlock|bound|potential");

    // 3. Shutdown racing Submit and Cancel: every Submit either throws PoolStoppedException or its job ends.
    [Fact]
    public void ShutdownRacingSubmitAndCancel() =>
        Scenario.AssertNoBug(nameof(ShutdownRacingSubmitAndCancel), () =>
        {
            FastThreadPool.Pool pool = Create(2);
            int accepted = 0;
            int ran = 0;
            long firstId = -1;
            Threads.Run(
                () =>
                {
                    for (int i = 0; i < 2; i++)
                    {
                        try
                        {
                            long id = pool.Submit(() => { Interlocked.Increment(ref ran); });
                            Interlocked.CompareExchange(ref firstId, id, -1);
                            Interlocked.Increment(ref accepted);
                        }
                        catch (PoolStoppedException)
                        {
                        }
                    }
                },
                () => pool.Cancel(Interlocked.Read(ref firstId)),
                () => pool.Shutdown());
            ShutdownAndCheck(pool);
            Specification.Assert(pool.SubmittedCount == accepted, "accepted {0}, counted {1}", accepted, pool.SubmittedCount);
            Specification.Assert(ran + pool.CancelledCount == accepted, "ran {0} + cancelled {1} != accepted {2}", ran, pool.CancelledCount, accepted);
        });

    // 3b. Shutdown called from inside a job returns and the pool still ends.
    [Fact]
    public void ShutdownFromAJob() =>
        Scenario.AssertNoBug(nameof(ShutdownFromAJob), () =>
        {
            FastThreadPool.Pool pool = Create(2);
            int ran = 0;
            pool.Submit(() => { Interlocked.Increment(ref ran); });
            pool.Submit(() => { pool.Shutdown(); });
            Specification.Assert(pool.Join(Timeout.InfiniteTimeSpan), "workers did not end");
            ShutdownAndCheck(pool);
            Specification.Assert(ran == 1, "graceful shutdown dropped a job");
        });

    // 6. Map: the caller and two workers share the chunks; every result lands in its place, and a failing item
    // stops the map with its exception while the pool stays consistent.
    [Fact]
    public void MapSharesChunksWithTheCaller() =>
        Scenario.AssertNoBug(nameof(MapSharesChunksWithTheCaller), () =>
        {
            FastThreadPool.Pool pool = Create(2);
            int[] results = pool.Map(static (int x) => x * 10, new[] { 0, 1, 2, 3 }, chunkSize: 1);
            for (int i = 0; i < 4; i++)
            {
                Specification.Assert(results[i] == i * 10, "result {0} is {1}", i, results[i]);
            }

            bool threw = false;
            try
            {
                pool.Map(static (int x) => x == 2 ? throw new InvalidOperationException() : x, new[] { 0, 1, 2, 3 }, chunkSize: 1);
            }
            catch (InvalidOperationException)
            {
                threw = true;
            }

            Specification.Assert(threw, "the failing item's exception was not rethrown");
            ShutdownAndCheck(pool);
        });

    // 4. DoneMax back-pressure with a concurrent consumer: no deadlock, nothing lost.
    [Fact]
    public void DoneMaxWithAConcurrentConsumer() =>
        Scenario.AssertNoBug(nameof(DoneMaxWithAConcurrentConsumer), () =>
        {
            var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 2, Parking = ParkingBackend.Monitor, DoneMax = 1, Faults = Fault.PlainThreads });
            int sum = 0;
            Threads.Run(
                () =>
                {
                    for (int i = 1; i <= 3; i++)
                    {
                        pool.Submit(static x => x, i);
                    }
                },
                () =>
                {
                    int taken = 0;
                    while (taken < 3)
                    {
                        if (pool.Done.TryDequeue(out PoolJob? job))
                        {
                            sum += job.GetResult<int>();
                            taken++;
                        }
                        else
                        {
                            Thread.Yield();
                        }
                    }
                });
            ShutdownAndCheck(pool);
            Specification.Assert(sum == 6, "results lost or duplicated: sum {0}", sum);
        });
}

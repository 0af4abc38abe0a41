using System;
using System.Threading;
using FastThreadPool.Primitives.Internal;
using Xunit;

namespace FastThreadPool.Tests.Unit.Pool;

/// <summary>
/// <see cref="PoolOptions.SpareJobs"/>: ended jobs reused for later submissions. A reused job must never be cancelled
/// through the id of the job its object held before, every job must run exactly once or be cancelled, and a steady
/// stream of submissions must stop allocating.
/// </summary>
public class JobReuseTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static FastThreadPool.Pool Create(int workers, int spareJobs, Fault faults = Fault.None) =>
        new(new PoolOptions { MaxWorkers = workers, KeepDone = false, SpareJobs = spareJobs, Faults = faults });

    [Fact]
    public void SpareJobsMustNotBeNegative() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastThreadPool.Pool(new PoolOptions { SpareJobs = -1 }));

    /// <summary>Job A ends; a job submitted from inside the pool reuses A's object (its worker's own spare); a cancel
    /// by A's id, made while the new job is queued, must fail and leave the new job to run.</summary>
    private static (bool StaleCancel, int Ran, bool Reused) CancelByTheOldId(Fault faults)
    {
        using FastThreadPool.Pool pool = Create(1, 1024, faults);
        long a = pool.Submit(() => { });
        Assert.True(pool.WaitIdle(Patience));
        PoolJob? objectOfA = pool.FindJob(a);
        Assert.NotNull(objectOfA);

        int ran = 0;
        long c = 0;
        bool staleCancel = false;
        pool.Submit(() =>
        {
            c = pool.Submit(() => { Interlocked.Increment(ref ran); });
            staleCancel = pool.Cancel(a); // c is queued behind this job on the only worker
        });
        PoolChecks.AssertConserved(pool);
        return (staleCancel, Volatile.Read(ref ran), ReferenceEquals(pool.FindJob(c), objectOfA));
    }

    [Fact]
    public void AReusedJobIsNeverCancelledByTheIdItsObjectHadBefore()
    {
        (bool staleCancel, int ran, bool reused) = CancelByTheOldId(Fault.None);
        Assert.True(reused, "the job submitted from the worker did not reuse the object its worker had ended");
        Assert.False(staleCancel);
        Assert.Equal(1, ran);
    }

    [Fact]
    public void TheBrokenCancelThatIgnoresIdsCancelsTheReusedJob()
    {
        (bool staleCancel, int ran, bool reused) = CancelByTheOldId(Fault.CancelIgnoresId);
        Assert.True(reused);
        Assert.True(staleCancel, "the broken variant should have cancelled the reused job by the stale id");
        Assert.Equal(0, ran);
    }

    /// <summary>Jobs with an argument that a worker submitted are reused by their own worker, with no
    /// <see cref="PoolOptions.SpareJobs"/> needed; the argument of the old job is not kept.</summary>
    [Fact]
    public void AJobWithAnArgumentIsReusedByItsWorkerAndItsOldIdCancelsNothing()
    {
        using FastThreadPool.Pool pool = Create(1, 0);
        long a = 0;
        pool.Submit(() => a = pool.Submit(static (string s) => { }, "the old argument"));
        pool.Submit(() => { }); // on the only worker, after A has been kept for reuse
        Assert.True(pool.WaitIdle(Patience));
        PoolJob? objectOfA = pool.FindJob(a);
        Assert.NotNull(objectOfA);
        Assert.Null(objectOfA.Argument); // cleared when it was kept

        int ran = 0;
        long c = 0;
        bool staleCancel = true;
        pool.Submit(() =>
        {
            c = pool.Submit(static (string s) => { }, "a new argument");
            staleCancel = pool.Cancel(a);
            _ = pool.Submit((int x) => { Interlocked.Add(ref ran, x); }, 5); // another argument type: a new object
        });
        PoolChecks.AssertConserved(pool);
        Assert.Same(objectOfA, pool.FindJob(c));
        Assert.False(staleCancel);
        Assert.Equal(5, Volatile.Read(ref ran));
    }

    /// <summary>A job with an argument submitted from outside is not kept: only workers' own submissions reuse these,
    /// and keeping every such job would cost each worker two thread-static lookups per job.</summary>
    [Fact]
    public void AJobWithAnArgumentFromOutsideIsNotReused()
    {
        using FastThreadPool.Pool pool = Create(1, 0);
        long a = pool.Submit(static (string s) => { }, "from outside");
        Assert.True(pool.WaitIdle(Patience));
        long c = 0;
        pool.Submit(() => c = pool.Submit(static (string s) => { }, "from a worker"));
        PoolChecks.AssertConserved(pool);
        PoolJob? objectOfA = pool.FindJob(a);
        Assert.NotNull(objectOfA);
        Assert.Equal("from outside", objectOfA.Argument);
        Assert.NotSame(objectOfA, pool.FindJob(c));
    }

    [Fact]
    public void JobsKeptInDoneAreNeverReused()
    {
        using var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 1, SpareJobs = 1024 });
        long a = pool.Submit(() => { });
        Assert.True(pool.WaitIdle(Patience));
        long c = 0;
        pool.Submit(() => c = pool.Submit(() => { }));
        PoolChecks.AssertConserved(pool);
        Assert.True(pool.Done.TryDequeue(out PoolJob? doneA));
        Assert.Equal(a, doneA.Id);
        Assert.Equal(PoolJobStatus.Done, doneA.Status);
        Assert.NotSame(doneA, pool.FindJob(c));
        Assert.Equal(a, doneA.Id); // still A's id after the nested submission: the job in Done was not reused
    }

    [Fact]
    public void JobsThatFailOrHaveCallbacksAreNotReused()
    {
        using FastThreadPool.Pool pool = Create(1, 1024);
        long failed = pool.Submit(() => throw new InvalidOperationException("boom"));
        long withCallback = pool.Submit(() => { }, _ => { });
        Assert.True(pool.WaitIdle(Patience));
        long next = 0;
        pool.Submit(() => next = pool.Submit(() => { }));
        PoolChecks.AssertConserved(pool);
        Assert.True(pool.Failed.TryDequeue(out PoolJob? job));
        Assert.Equal(failed, job.Id);
        Assert.Equal(PoolJobStatus.Failed, job.Status);
        Assert.NotSame(pool.FindJob(failed), pool.FindJob(next));
        Assert.NotSame(pool.FindJob(withCallback), pool.FindJob(next));
    }

    /// <summary>One thread submits rounds of jobs, each marking its own slot, while another cancels random ids
    /// submitted so far (queued ones, and stale ones whose objects may hold newer jobs): every job runs exactly once
    /// unless its own id was cancelled, and then never.</summary>
    [Fact]
    public void UnderStaleCancelsEveryJobRunsOnceOrIsCancelled()
    {
        const int Jobs = 200_000;
        using FastThreadPool.Pool pool = Create(2, 1 << 15); // room for a whole round of 20,000
        var runs = new int[Jobs];
        var ids = new long[Jobs];
        var cancelled = new int[Jobs];
        int published = 0;
        var canceller = new RandomCanceller(pool, ids, cancelled, () => Volatile.Read(ref published), seed: 7);
        long reusedBefore = FastThreadPool.Pool.ReusedByThisThread;
        for (int i = 0; i < Jobs; i++)
        {
            int slot = i;
            Volatile.Write(ref ids[i], pool.Submit(() => { Interlocked.Increment(ref runs[slot]); }));
            Volatile.Write(ref published, i + 1);
            if (i % 20_000 == 19_999)
            {
                Assert.True(pool.WaitIdle(Patience)); // the workers' ended jobs come back as spares
            }
        }

        PoolChecks.AssertConserved(pool);
        canceller.Stop();
        long cancelledTotal = 0;
        for (int i = 0; i < Jobs; i++)
        {
            Assert.True(cancelled[i] <= 1, $"job {i} was cancelled {cancelled[i]} times");
            Assert.True(runs[i] == 1 - cancelled[i], $"job {i}: ran {runs[i]} times, cancelled {cancelled[i]}");
            cancelledTotal += cancelled[i];
        }

        Assert.Equal(cancelledTotal, pool.CancelledCount);
        Assert.True(FastThreadPool.Pool.ReusedByThisThread - reusedBefore > Jobs / 10, $"the submitter reused only {FastThreadPool.Pool.ReusedByThisThread - reusedBefore} jobs");
    }

    /// <summary>Two threads submit jobs, half of which submit a nested job (with and without an argument) that other
    /// workers may steal, while a third cancels random ids: with reuse on both paths, each job (outer and nested)
    /// runs exactly once unless its own id was cancelled. (With the broken cancel <c>CancelIgnoresId</c> this test
    /// failed in 3 of 3 runs.)</summary>
    [Fact]
    public void NestedAndOutsideReuseUnderStealingAndCancelsRunEachJobOnce()
    {
        const int PerThread = 40_000;
        using FastThreadPool.Pool pool = Create(3, 1 << 14);
        var runs = new int[2 * PerThread * 2]; // outer jobs, then their nested jobs
        var cancelled = new int[runs.Length];
        var ids = new long[runs.Length];
        int published = 0;
        var canceller = new RandomCanceller(pool, ids, cancelled, () => Volatile.Read(ref published) > 0 ? runs.Length : 0, seed: 11);

        void Outer(int slot)
        {
            Interlocked.Increment(ref runs[slot]);
            int nested = runs.Length / 2 + slot;
            if (slot % 2 == 0)
            {
                Volatile.Write(ref ids[nested], pool.Submit(() => { Interlocked.Increment(ref runs[nested]); }));
            }
            else
            {
                Volatile.Write(ref ids[nested], pool.Submit(static ((int[] Runs, int Slot) a) => { Interlocked.Increment(ref a.Runs[a.Slot]); }, (runs, nested)));
            }
        }

        var submitters = new Thread[2];
        for (int t = 0; t < submitters.Length; t++)
        {
            int first = t * PerThread;
            submitters[t] = new Thread(() =>
            {
                for (int i = first; i < first + PerThread; i++)
                {
                    int slot = i;
                    Volatile.Write(ref ids[slot], pool.Submit(() => Outer(slot)));
                    Interlocked.Increment(ref published);
                }
            });
            submitters[t].Start();
        }

        foreach (Thread t in submitters)
        {
            t.Join();
        }

        PoolChecks.AssertConserved(pool);
        canceller.Stop();
        long cancelledTotal = 0;
        int half = runs.Length / 2;
        for (int i = 0; i < half; i++)
        {
            Assert.True(cancelled[i] <= 1 && runs[i] == 1 - cancelled[i], $"outer job {i}: ran {runs[i]} times, cancelled {cancelled[i]}");
            cancelledTotal += cancelled[i];
            int nested = half + i;
            int expected = runs[i] == 1 ? 1 - cancelled[nested] : 0; // a cancelled outer job submits nothing
            Assert.True(cancelled[nested] <= 1 && runs[nested] == expected, $"nested job {i}: ran {runs[nested]} times, cancelled {cancelled[nested]}");
            cancelledTotal += cancelled[nested];
        }

        Assert.Equal(cancelledTotal, pool.CancelledCount);
    }

    /// <summary>A thread that cancels random ids from <c>ids[0 .. range())</c> (0: not yet; ids not yet written are 0)
    /// and counts each success in <c>cancelled</c>.</summary>
    internal sealed class RandomCanceller
    {
        private readonly Thread _thread;
        private volatile bool _stop;

        public RandomCanceller(FastThreadPool.Pool pool, long[] ids, int[] cancelled, Func<int> range, int seed)
        {
            _thread = new Thread(() =>
            {
                var random = new Random(seed);
                while (!_stop)
                {
                    int n = range();
                    if (n == 0)
                    {
                        continue;
                    }

                    int i = random.Next(n);
                    long id = Volatile.Read(ref ids[i]);
                    if (id != 0 && pool.Cancel(id))
                    {
                        Interlocked.Increment(ref cancelled[i]);
                    }
                }
            });
            _thread.Start();
        }

        public void Stop()
        {
            _stop = true;
            _thread.Join();
        }
    }

    /// <summary>Bytes allocated by this thread for a round of 10,000 jobs, submitted in waves of 500 (the queue stays
    /// within one segment and its spare: a deeper queue allocates segments while it grows).</summary>
    private static long BytesPerRound(int spareJobs)
    {
        using FastThreadPool.Pool pool = Create(2, spareJobs);
        Action job = () => { };
        void Round()
        {
            for (int wave = 0; wave < 20; wave++)
            {
                for (int i = 0; i < 500; i++)
                {
                    pool.Submit(job);
                }

                Assert.True(pool.WaitIdle(Patience));
            }
        }

        for (int i = 0; i < 20; i++)
        {
            Round(); // warm-up: spares, id chunks and queue segments reach their steady state
        }

        return Allocations.Least(Round, attempts: 5);
    }

    /// <summary>A chain of jobs on one worker, each submitting the next from inside the pool (with an argument or
    /// without, the same delegate every time): once the worker keeps ended jobs, the chain allocates nothing on the
    /// worker thread. Bytes per job over the chain's second half.</summary>
    private sealed class NestedChain(FastThreadPool.Pool pool, int length)
    {
        private int _k;
        public long AtHalf;
        public long AtEnd;
        private Action? _plain;
        private Action<int>? _withArgument;

        public double BytesPerJob(bool withArgument)
        {
            _plain = Step;
            _withArgument = _ => Step();
            if (withArgument)
            {
                pool.Submit(_withArgument, 0);
            }
            else
            {
                pool.Submit(_plain);
            }

            PoolChecks.AssertConserved(pool);
            Assert.Equal(length, _k);
            return (double)(AtEnd - AtHalf) / (length / 2);

            void Step()
            {
                int k = ++_k; // one worker: the jobs of the chain run one after another
                if (k == length / 2)
                {
                    AtHalf = GC.GetAllocatedBytesForCurrentThread();
                }
                else if (k == length)
                {
                    AtEnd = GC.GetAllocatedBytesForCurrentThread();
                    return;
                }

                if (withArgument)
                {
                    pool.Submit(_withArgument!, k);
                }
                else
                {
                    pool.Submit(_plain!);
                }
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NestedSubmissionsReuseTheWorkersEndedJobs(bool withArgument)
    {
        using FastThreadPool.Pool pool = Create(1, 0);
        double bytes = new NestedChain(pool, 20_000).BytesPerJob(withArgument);
        Assert.True(bytes < 1, $"a chain of nested submissions allocated {bytes:F1} bytes per job");
    }

    /// <summary>A worker whose kept jobs are of another argument type lets them go as its new jobs need spares, and
    /// then keeps jobs of the new type.</summary>
    [Fact]
    public void AWorkerWhoseJobsChangeTypeKeepsTheNewType()
    {
        using FastThreadPool.Pool pool = Create(1, 0);
        pool.Submit(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                pool.Submit(static (string s) => { }, "another type");
            }
        });
        Assert.True(pool.WaitIdle(Patience));
        double bytes = new NestedChain(pool, 20_000).BytesPerJob(withArgument: true);
        Assert.True(bytes < 1, $"after jobs of another type, a chain of nested submissions allocated {bytes:F1} bytes per job");
    }

    [Fact]
    public void APlainJobIsAFortyEightByteObjectWithOrWithoutADoneCallback()
    {
        // Submit(Action) allocates this object per job (without spares): the callback, the exception and the
        // SubmitFirst link share one field, and only a job that needs two of them gets a second object.
        Action action = () => { };
        Action<PoolJob> done = _ => { };
        Assert.Equal(48, Allocations.Least(() => GC.KeepAlive(new ActionJob(action, null))));
        Assert.Equal(48, Allocations.Least(() => GC.KeepAlive(new ActionJob(action, done))));
    }

    [Fact]
    public void ASteadyStreamWithSpareJobsAllocatesAlmostNothing()
    {
        long withSpares = BytesPerRound(1 << 14);
        long without = BytesPerRound(0);
        Assert.True(without >= 10_000 * 48, $"without spares a round of 10,000 jobs allocated only {without} bytes");
        Assert.True(withSpares <= 10_000, $"with spares a round of 10,000 jobs allocated {withSpares} bytes");
    }
}

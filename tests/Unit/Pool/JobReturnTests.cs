using System;
using System.Collections.Generic;
using System.Threading;
using FastThreadPool.Primitives.Internal;
using Xunit;

namespace FastThreadPool.Tests.Unit.Pool;

/// <summary>
/// <see cref="FastThreadPool.Pool.Return(PoolJob)"/>: jobs taken from <see cref="FastThreadPool.Pool.Done"/> or
/// <see cref="FastThreadPool.Pool.Failed"/> handed back for reuse. Only an ended job can be returned, once; a returned
/// job's object is reused only by a later submission of its own type; a cancel by the id it had before never cancels
/// the job it holds now; and a stream of jobs whose results are taken and returned stops allocating job objects.
/// </summary>
public class JobReturnTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly Func<int, long> s_square = static i => (long)i * i;

    private static FastThreadPool.Pool Create(int workers, int spareJobs, Fault faults = Fault.None) =>
        new(new PoolOptions { MaxWorkers = workers, SpareJobs = spareJobs, Faults = faults });

    private static PoolJob TakeDone(FastThreadPool.Pool pool)
    {
        foreach (PoolJob job in pool.AsCompleted(Patience, count: 1))
        {
            return job;
        }

        throw new TimeoutException("no job ended");
    }

    /// <summary>Submits a square, takes it from <c>Done</c> and returns it; the returned object.</summary>
    private static PoolJob SquareReturned(FastThreadPool.Pool pool, int x)
    {
        pool.Submit(s_square, x);
        PoolJob job = TakeDone(pool);
        pool.Return(job);
        return job;
    }

    [Fact]
    public void ANullJobIsRefused()
    {
        using FastThreadPool.Pool pool = Create(1, 64);
        Assert.Throws<ArgumentNullException>(() => pool.Return(null!));
    }

    [Fact]
    public void AJobIsReturnedOnceAndThenShowsReturned()
    {
        using FastThreadPool.Pool pool = Create(1, 64);
        long id = pool.Submit(s_square, 3);
        PoolJob job = TakeDone(pool);
        Assert.Equal(id, job.Id);
        Assert.Equal(9, job.GetResult<long>());
        pool.Return(job);
        Assert.Equal(PoolJobStatus.Returned, job.Status);
        Assert.Throws<InvalidOperationException>(() => job.GetResult<long>());
        Assert.Throws<InvalidOperationException>(() => pool.Return(job));
    }

    [Fact]
    public void QueuedRunningAndCancelledJobsCannotBeReturned()
    {
        using FastThreadPool.Pool pool = Create(1, 64);
        using var started = new ManualResetEventSlim(false);
        using var gate = new ManualResetEventSlim(false);
        long running = pool.Submit(() =>
        {
            started.Set();
            gate.Wait(Patience);
            return 1L;
        });
        Assert.True(started.Wait(Patience));
        long queued = pool.Submit(s_square, 2);
        long cancelled = pool.Submit(s_square, 4);
        Assert.True(pool.Cancel(cancelled));
        Assert.Throws<InvalidOperationException>(() => pool.Return(pool.FindJob(running)!));
        Assert.Throws<InvalidOperationException>(() => pool.Return(pool.FindJob(queued)!));
        Assert.Throws<InvalidOperationException>(() => pool.Return(pool.FindJob(cancelled)!));
        gate.Set();
        PoolChecks.AssertConserved(pool);

        // The refused returns changed nothing: both jobs ended done with their results.
        var results = new Dictionary<long, long>();
        while (pool.Done.TryDequeue(out PoolJob? job))
        {
            results[job.Id] = job.GetResult<long>();
        }

        Assert.Equal(1, results[running]);
        Assert.Equal(4, results[queued]);
        Assert.False(results.ContainsKey(cancelled));
    }

    [Fact]
    public void AReturnedJobIsReusedByTheNextSubmissionOfItsTypeAndItsOldIdCancelsNothing()
    {
        using FastThreadPool.Pool pool = Create(1, 64);
        long a = pool.Submit(s_square, 5);
        PoolJob objectOfA = TakeDone(pool);
        Assert.Equal(25, objectOfA.GetResult<long>());
        pool.Return(objectOfA);

        // The worker is held, so the reused job stays queued while the stale cancel runs.
        using var gate = new ManualResetEventSlim(false);
        pool.Submit(() => gate.Wait(Patience));
        long b = pool.Submit(s_square, 6);
        Assert.Same(objectOfA, pool.FindJob(b));
        Assert.Equal(b, objectOfA.Id);
        Assert.Equal(PoolJobStatus.Queued, objectOfA.Status);
        Assert.Equal(6, objectOfA.Argument);
        Assert.False(pool.Cancel(a));
        gate.Set();
        Assert.True(pool.WaitIdle(Patience));
        PoolChecks.AssertConserved(pool);
        Assert.Equal(0, pool.CancelledCount);

        var results = new Dictionary<long, long>();
        while (pool.Done.TryDequeue(out PoolJob? job))
        {
            results[job.Id] = job.Result is long r ? r : -1;
        }

        Assert.Equal(36, results[b]);
    }

    [Fact]
    public void TheBrokenCancelThatIgnoresIdsCancelsTheReturnedAndReusedJob()
    {
        using FastThreadPool.Pool pool = Create(1, 64, Fault.CancelIgnoresId);
        long a = pool.Submit(s_square, 5);
        pool.Return(TakeDone(pool));
        using var gate = new ManualResetEventSlim(false);
        pool.Submit(() => gate.Wait(Patience));
        long b = pool.Submit(s_square, 6);
        Assert.Same(pool.FindJob(a), pool.FindJob(b));
        Assert.True(pool.Cancel(a), "the broken variant should have cancelled the reused job by the stale id");
        gate.Set();
        PoolChecks.AssertConserved(pool);
    }

    [Fact]
    public void ReturnedJobsAreReusedOnlyByJobsOfTheirOwnType()
    {
        using FastThreadPool.Pool pool = Create(1, 64);
        PoolJob square = SquareReturned(pool, 1);
        long other = pool.Submit(static (string s) => s.Length, "abc");
        long action = pool.Submit(() => { });
        long noArgument = pool.Submit(() => 7L);
        Assert.NotSame(square, pool.FindJob(other));
        Assert.NotSame(square, pool.FindJob(action));
        Assert.NotSame(square, pool.FindJob(noArgument));
        Assert.Equal(PoolJobStatus.Returned, square.Status);
        long same = pool.Submit(s_square, 2);
        Assert.Same(square, pool.FindJob(same));
        PoolChecks.AssertConserved(pool);
    }

    [Theory]
    [InlineData("action")]
    [InlineData("action with argument")]
    [InlineData("func")]
    [InlineData("func with argument")]
    public void EveryPlainSubmissionKindIsReused(string kind)
    {
        using FastThreadPool.Pool pool = Create(1, 64);
        int ran = 0;
        long Submit() => kind switch
        {
            "action" => pool.Submit(() => { Interlocked.Increment(ref ran); }),
            "action with argument" => pool.Submit(static (Box<int> box) => { Interlocked.Increment(ref box.Value); }, new Box<int>(0)),
            "func" => pool.Submit(() => Interlocked.Increment(ref ran)),
            _ => pool.Submit(static (int x) => x + 1, 41),
        };

        Submit();
        PoolJob first = TakeDone(pool);
        pool.Return(first);
        long second = Submit();
        Assert.Same(first, pool.FindJob(second));
        PoolJob again = TakeDone(pool);
        Assert.Same(first, again);
        Assert.Equal(second, again.Id);
        Assert.Equal(PoolJobStatus.Done, again.Status);
        if (kind == "func with argument")
        {
            Assert.Equal(42, again.GetResult<int>());
        }

        PoolChecks.AssertConserved(pool);
    }

    private sealed class Box<T>(T value)
    {
        public T Value = value;
    }

    [Fact]
    public void AFailedJobReturnedAndReusedKeepsNothingOfItsFailure()
    {
        using FastThreadPool.Pool pool = Create(1, 64);
        Func<int, long> maybeThrow = static i => i < 0 ? throw new InvalidOperationException("negative") : i;
        pool.Submit(maybeThrow, -1);
        PoolJob failed = TakeDone(pool);
        Assert.Equal(PoolJobStatus.Failed, failed.Status);
        Assert.IsType<InvalidOperationException>(failed.Exception);
        pool.Return(failed);
        Assert.Null(failed.Exception);

        long id = pool.Submit(maybeThrow, 8);
        PoolJob done = TakeDone(pool);
        Assert.Same(failed, done);
        Assert.Equal(id, done.Id);
        Assert.Equal(PoolJobStatus.Done, done.Status);
        Assert.Null(done.Exception);
        Assert.Equal(8, done.GetResult<long>());
    }

    [Fact]
    public void WithoutSpareJobsAReturnedJobIsNotReused()
    {
        using FastThreadPool.Pool pool = Create(1, 0);
        PoolJob job = SquareReturned(pool, 1);
        Assert.Equal(PoolJobStatus.Returned, job.Status);
        long next = pool.Submit(s_square, 2);
        Assert.NotSame(job, pool.FindJob(next));
        PoolChecks.AssertConserved(pool);
    }

    [Fact]
    public void APoolWhoseWorkersReuseTheirJobsDoesNotKeepReturnedActions()
    {
        // KeepDone false: Submit(Action) takes the jobs its workers end; a failed one returned from Failed is dropped.
        using var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 1, KeepDone = false, SpareJobs = 64 });
        pool.Submit(() => throw new InvalidOperationException("boom"));
        Assert.True(pool.WaitIdle(Patience));
        Assert.True(pool.Failed.TryDequeue(out PoolJob? failed));
        pool.Return(failed);
        Assert.Equal(PoolJobStatus.Returned, failed.Status);
        long next = pool.Submit(() => { });
        Assert.NotSame(failed, pool.FindJob(next));
        PoolChecks.AssertConserved(pool);
    }

    [Fact]
    public void AJobOfAnotherPoolIsRefused()
    {
        // Ids are unique per pool: reused by the second pool, the job could get the very id it had in the first, and a
        // cancel by that id in the first pool would cancel the second pool's job.
        using FastThreadPool.Pool first = Create(1, 64);
        using FastThreadPool.Pool second = Create(1, 64);
        first.Submit(s_square, 3);
        PoolJob job = TakeDone(first);
        Assert.Throws<ArgumentException>(() => second.Return(job));
        Assert.Equal(PoolJobStatus.Done, job.Status);
        first.Return(job);
        Assert.Equal(PoolJobStatus.Returned, job.Status);
        PoolChecks.AssertConserved(first);
        PoolChecks.AssertConserved(second);
    }

    [Fact]
    public void AJobHandedToACallbackIsRefused()
    {
        PoolJob? seen = null;
        using var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 1, SpareJobs = 64, DoneCallback = job => seen = job });
        pool.Submit(s_square, 3);
        Assert.True(pool.WaitIdle(Patience));
        Assert.NotNull(seen);
        Assert.Throws<ArgumentException>(() => pool.Return(seen));
        Assert.Equal(PoolJobStatus.Done, seen.Status);
    }

    [Fact]
    public void AFailedJobOfTheFailedQueueCanBeReturned()
    {
        using FastThreadPool.Pool pool = Create(1, 64);
        pool.Submit(static () => throw new InvalidOperationException("boom"));
        Assert.True(pool.WaitIdle(Patience));
        Assert.True(pool.Failed.TryDequeue(out PoolJob? failed));
        pool.Return(failed);
        Assert.Equal(PoolJobStatus.Returned, failed.Status);
    }

    [Fact]
    public void AStoppedPoolAcceptsAReturnedJob()
    {
        using FastThreadPool.Pool pool = Create(1, 64);
        pool.Submit(s_square, 3);
        Assert.True(pool.WaitIdle(Patience));
        Assert.True(pool.Shutdown(Patience));
        Assert.True(pool.Done.TryDequeue(out PoolJob? job));
        pool.Return(job); // accepted, and left to the garbage collector
        Assert.Equal(PoolJobStatus.Returned, job.Status);
        Assert.Throws<PoolStoppedException>(() => pool.Submit(s_square, 4));
    }

    /// <summary>Two threads each submit rounds of jobs with an argument and a result, take whatever ends from
    /// <c>Done</c> (their own jobs or the other's), check each result against its argument, and return every job, while
    /// a third thread cancels random ids submitted so far (queued ones, and stale ones whose objects may hold newer jobs):
    /// every job ends exactly once, done with the right result or cancelled by its own id, and the objects are
    /// reused.</summary>
    [Fact]
    public void UnderStaleCancelsEveryReturnedAndReusedJobEndsOnceWithItsOwnResult()
    {
        const int PerThread = 60_000;
        const int Round = 1_000;
        using FastThreadPool.Pool pool = Create(2, 1 << 12);
        var ids = new long[2 * PerThread];
        var cancelled = new int[2 * PerThread];
        var seen = new int[2 * PerThread];
        int published = 0;
        long reused = 0;
        var canceller = new JobReuseTests.RandomCanceller(pool, ids, cancelled, () => Volatile.Read(ref published), seed: 11);
        Func<int, long> tagged = static slot => ((long)slot << 20) | 0x5A5A;

        void Submitter(int thread)
        {
            var mine = new HashSet<PoolJob>(ReferenceEqualityComparer.Instance);
            for (int start = 0; start < PerThread; start += Round)
            {
                for (int k = start; k < start + Round; k++)
                {
                    int slot = (2 * k) + thread;
                    long id = pool.Submit(tagged, slot);
                    if (pool.FindJob(id) is { } o && !mine.Add(o))
                    {
                        Interlocked.Increment(ref reused);
                    }

                    Volatile.Write(ref ids[slot], id);
                    Interlocked.Increment(ref published);
                }

                // Take a round's worth of ended jobs (whoever submitted them), then return them all.
                var taken = new List<PoolJob>();
                for (int n = 0; n < Round;)
                {
                    if (pool.Done.TryDequeue(out PoolJob? job))
                    {
                        long result = job.GetResult<long>();
                        int slot = (int)(result >> 20);
                        Assert.Equal(0x5A5A, result & 0xFFFFF);
                        long expected = Volatile.Read(ref ids[slot]); // 0 while its submitter has not stored it yet
                        Assert.True(expected == 0 || expected == job.Id, $"job {job.Id} has the result of slot {slot}, whose id is {expected}");
                        Interlocked.Increment(ref seen[slot]);
                        taken.Add(job);
                        n++;
                    }
                    else if (pool.WaitIdle(TimeSpan.Zero) && pool.Done.IsEmpty)
                    {
                        break; // the rest of this round's jobs were cancelled or taken by the other thread
                    }
                    else
                    {
                        Thread.Yield();
                    }
                }

                foreach (PoolJob job in taken)
                {
                    pool.Return(job);
                }
            }
        }

        Exception? failure = null;
        var other = new Thread(() =>
        {
            try
            {
                Submitter(1);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        other.Start();
        Submitter(0);
        other.Join();
        Assert.Null(failure);
        Assert.True(pool.WaitIdle(Patience));
        canceller.Stop();
        while (pool.Done.TryDequeue(out PoolJob? job))
        {
            seen[(int)(job.GetResult<long>() >> 20)]++;
        }

        PoolChecks.AssertConserved(pool);
        long cancelledTotal = 0;
        for (int slot = 0; slot < seen.Length; slot++)
        {
            Assert.True(cancelled[slot] <= 1, $"job {slot} was cancelled {cancelled[slot]} times");
            Assert.True(seen[slot] == 1 - cancelled[slot], $"job {slot}: reported {seen[slot]} times, cancelled {cancelled[slot]}");
            cancelledTotal += cancelled[slot];
        }

        Assert.Equal(cancelledTotal, pool.CancelledCount);
        Assert.True(pool.Failed.IsEmpty);
        Assert.True(Interlocked.Read(ref reused) > PerThread, $"only {reused} submissions reused a job object");
    }

    /// <summary>Bytes this thread allocates for rounds of 10,000 jobs with a result, in waves of 500 whose results it
    /// takes from <c>Done</c> (and returns, when asked).</summary>
    private static long BytesPerRound(int spareJobs, bool returnJobs)
    {
        using FastThreadPool.Pool pool = Create(2, spareJobs);
        void Round()
        {
            for (int wave = 0; wave < 20; wave++)
            {
                for (int i = 0; i < 500; i++)
                {
                    pool.Submit(s_square, i);
                }

                for (int n = 0; n < 500;)
                {
                    if (pool.Done.TryDequeue(out PoolJob? job))
                    {
                        n++;
                        if (returnJobs)
                        {
                            pool.Return(job);
                        }
                    }
                    else
                    {
                        Thread.Yield();
                    }
                }
            }
        }

        for (int i = 0; i < 20; i++)
        {
            Round(); // warm-up: kept jobs, id chunks and queue segments reach their steady state
        }

        return Allocations.Least(Round, attempts: 5);
    }

    [Fact]
    public void ASteadyStreamOfReturnedJobsAllocatesAlmostNothing()
    {
        long returned = BytesPerRound(1 << 12, returnJobs: true);
        long notReturned = BytesPerRound(1 << 12, returnJobs: false);
        Assert.True(notReturned >= 10_000 * 48, $"jobs not returned: a round of 10,000 allocated only {notReturned} bytes");
        Assert.True(returned <= 10_000, $"jobs returned: a round of 10,000 allocated {returned} bytes");
    }
}

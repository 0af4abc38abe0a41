using System;
using System.Threading;
using Xunit;

namespace FastThreadPool.Tests.Unit.Pool;

/// <summary>
/// With the default queue, a worker takes a batch of jobs into its deque only while other workers take from the queue
/// too; while it is the queue's only consumer it takes single jobs (pool.md section 3). A pool of one worker keeps
/// batching. Counted with the pool's internal scheduling counts.
/// </summary>
public sealed class PoolBatchingTests
{
    private const int Jobs = 10_000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Queues <see cref="Jobs"/> jobs while every worker is held, then frees one worker (the others stay held)
    /// so that it drains the queue alone; the batches it took.</summary>
    private static long BatchesOfOneConsumer(int workers, bool onlyWhenShared)
    {
        using var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = workers, BatchOnlyWhenShared = onlyWhenShared });
        var gates = new ManualResetEventSlim[workers];
        for (int w = 0; w < workers; w++)
        {
            var gate = gates[w] = new ManualResetEventSlim(false);
            pool.Submit(() => gate.Wait());
            int busy = w + 1;
            Assert.True(SpinWait.SpinUntil(() => pool.Busy == busy, Patience), $"worker {busy} did not start");
        }

        int ran = 0;
        PoolDiagnostics before = pool.Diagnostics;
        for (int i = 0; i < Jobs; i++)
        {
            pool.Submit(() => Interlocked.Increment(ref ran));
        }

        gates[0].Set();
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref ran) == Jobs, Patience), "the free worker did not drain the queue");
        PoolDiagnostics counted = pool.Diagnostics - before;
        foreach (ManualResetEventSlim gate in gates)
        {
            gate.Set();
        }

        Assert.True(pool.WaitIdle(Patience));
        Assert.Equal(pool.SubmittedCount, pool.DoneCount);
        Assert.Equal(Jobs, counted.QueueTakes);
        Assert.Equal(0, counted.Steals);
        return counted.Batches;
    }

    [Fact]
    public void AWorkerThatIsTheQueuesOnlyConsumerTakesSingleJobs()
    {
        // The first take and a few at the queue's segment boundaries (1,024 jobs each) may batch; a batch of up to 8
        // jobs for every take would be over 1,000.
        long batches = BatchesOfOneConsumer(workers: 2, onlyWhenShared: true);
        Assert.InRange(batches, 1, 3 * (Jobs / 1024) + 3);
    }

    [Fact]
    public void WithBatchesWheneverJobsWaitTheSameWorkerBatches()
    {
        long batches = BatchesOfOneConsumer(workers: 2, onlyWhenShared: false);
        Assert.InRange(batches, Jobs / 8, Jobs);
    }

    [Fact]
    public void APoolOfOneWorkerKeepsBatching()
    {
        long batches = BatchesOfOneConsumer(workers: 1, onlyWhenShared: true);
        Assert.InRange(batches, Jobs / 8, Jobs);
    }
}

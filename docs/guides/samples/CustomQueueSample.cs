using FastThreadPool.Primitives;

namespace FastThreadPool.Guides;

/// <summary>The code of docs/guides/custom-queue.md: the pool on a user's own queue.</summary>
public static class CustomQueueSample
{
    /// <summary>Runs 1,000 jobs through a pool whose job queue is a lock-based queue; returns their sum.</summary>
    public static long PoolOnALockedQueue()
    {
        using var pool = new Pool(new PoolOptions { MaxWorkers = 2, Queue = new GuideLockedQueue<PoolJob>() });
        for (int i = 1; i <= 1000; i++)
        {
            pool.Submit(static x => (long)x, i);
        }

        pool.WaitIdle();
        long sum = 0;
        while (pool.Done.TryDequeue(out PoolJob? job))
        {
            sum += job.GetResult<long>();
        }

        return sum;
    }

    /// <summary>A bounded queue of yours makes <c>Submit</c> wait while it is full and <c>TrySubmit</c> say no.</summary>
    public static bool TrySubmitOnAFullQueue()
    {
        using var gate = new System.Threading.ManualResetEventSlim();
        var pool = new Pool(new PoolOptions { MaxWorkers = 1, Queue = new GuideLockedQueue<PoolJob>(capacity: 1) });
        pool.Submit(() => gate.Wait());               // occupies the only worker
        System.Threading.SpinWait.SpinUntil(() => pool.Busy == 1);
        pool.Submit(() => { });                       // fills the queue
        bool accepted = pool.TrySubmit(() => { }, out _);
        gate.Set();
        pool.Shutdown();
        return accepted;                              // false
    }
}

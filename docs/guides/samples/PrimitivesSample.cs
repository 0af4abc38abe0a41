using System;
using System.Threading;
using System.Threading.Tasks;
using FastThreadPool.Primitives;

namespace FastThreadPool.Guides;

/// <summary>The code of docs/guides/primitives.md; a test runs it.</summary>
public static class PrimitivesSample
{
    /// <summary>Producers and consumers over an unbounded queue, a semaphore counting the items; returns the sum.</summary>
    public static long QueueWithSemaphore(int producers, int perProducer)
    {
        var queue = new UnboundedMpmcQueue<int>();
        var items = new FastSemaphore(0);             // one permit per queued item: consumers sleep when there is none
        long sum = 0;
        var consumers = new Task[2];
        int total = producers * perProducer;
        int taken = 0;
        for (int c = 0; c < consumers.Length; c++)
        {
            consumers[c] = Task.Run(() =>
            {
                while (Interlocked.Increment(ref taken) <= total)
                {
                    items.Wait();                     // one CAS when a permit is free; spins, then parks
                    int v;
                    while (!queue.TryDequeue(out v))
                    {
                        Thread.SpinWait(1);           // another consumer may hold the item this permit stands for
                    }

                    Interlocked.Add(ref sum, v);
                }
            });
        }

        Parallel.For(0, producers, p =>
        {
            for (int i = 1; i <= perProducer; i++)
            {
                queue.Enqueue(i);
                items.Release();                      // wakes a parked consumer, if any
            }
        });
        Task.WaitAll(consumers);
        return sum;
    }

    /// <summary>A bounded queue refuses items when full instead of growing; returns how many it took.</summary>
    public static int BoundedBackPressure()
    {
        var queue = new BoundedMpmcQueue<string>(4);  // rounded up to a power of two
        int accepted = 0;
        for (int i = 0; i < 10; i++)
        {
            accepted += queue.TryEnqueue($"item {i}") ? 1 : 0;
        }

        return accepted;                              // 4: the rest were refused, nothing was lost silently
    }

    /// <summary>An owner thread pushes and pops at one end of a deque; thieves steal from the other; returns the sum of
    /// everything taken (each item exactly once).</summary>
    public static long DequeOwnerAndThieves(int items)
    {
        var deque = new WorkStealingDeque<int>();
        long sum = 0;
        using var done = new CancellationTokenSource();
        Task[] thieves = new Task[2];
        for (int t = 0; t < thieves.Length; t++)
        {
            thieves[t] = Task.Run(() =>
            {
                while (!done.IsCancellationRequested || !deque.IsEmpty)
                {
                    if (deque.TrySteal(out int v))    // FIFO end, one CAS
                    {
                        Interlocked.Add(ref sum, v);
                    }
                }
            });
        }

        var owner = new Thread(() =>
        {
            deque.BindOwner();                        // the thread that pushes and pops (checked in Debug builds)
            for (int i = 1; i <= items; i++)
            {
                deque.Push(i);
                if (i % 3 == 0 && deque.TryPop(out int mine)) // LIFO end, no CAS unless racing for the last item
                {
                    Interlocked.Add(ref sum, mine);
                }
            }

            while (deque.TryPop(out int rest))
            {
                Interlocked.Add(ref sum, rest);
            }
        });
        owner.Start();
        owner.Join();
        done.Cancel();
        Task.WaitAll(thieves);
        return sum;
    }
}

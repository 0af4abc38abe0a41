using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using FastThreadPool.Primitives;
using Xunit;

namespace FastThreadPool.Tests.Unit.Deque;

/// <summary>
/// Native runs: the owner pushes and pops while thieves steal. A counter per item proves every item is taken exactly
/// once; each thief sees increasing items (the live range of a deque is always increasing from top to bottom, since
/// an index is pushed again only after everything above it was popped); runs are bounded in items and time.
/// </summary>
public class DequeStressTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1, 300_000, 2, 50)]
    [InlineData(2, 200_000, 2, 30)]
    [InlineData(3, 100_000, 32, 50)]
    [InlineData(1, 200_000, 2, 95)] // the owner pops almost everything: constant last-item races
    [InlineData(4, 100_000, 2, 0)] // the owner only pushes: growth under steals
    public void EveryItemTakenExactlyOnce(int thieves, int items, int capacity, int popPercent)
    {
        var deque = new WorkStealingDeque<object>(capacity);
        var boxes = new object[items];
        var ids = new Dictionary<object, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < items; i++)
        {
            boxes[i] = new object();
            ids[boxes[i]] = i;
        }

        var taken = new int[items];
        long takenCount = 0;
        var failures = new List<string>();
        var deadline = Stopwatch.StartNew();
        bool ownerDone = false;
        using var start = new Barrier(thieves + 1);

        void Took(object? o, string who, ref int last)
        {
            if (o is null)
            {
                lock (failures)
                {
                    failures.Add($"{who} took null");
                }

                return;
            }

            int id = ids[o];
            if (Interlocked.Increment(ref taken[id]) != 1)
            {
                lock (failures)
                {
                    failures.Add($"item {id} taken twice (second time by {who})");
                }
            }

            if (who != "owner" && id <= last)
            {
                lock (failures)
                {
                    failures.Add($"{who} stole {id} after {last}");
                }
            }

            last = who == "owner" ? last : id;
            Interlocked.Increment(ref takenCount);
        }

        var threads = new List<Thread>();
        for (int k = 0; k < thieves; k++)
        {
            string name = "thief " + k;
            threads.Add(new Thread(() =>
            {
                start.SignalAndWait();
                int last = -1;
                SpinWait spinner = default;
                while (deadline.Elapsed < Limit)
                {
                    StealStatus s = deque.Steal(out object? o);
                    if (s == StealStatus.Success)
                    {
                        Took(o, name, ref last);
                        spinner = default;
                    }
                    else if (s == StealStatus.Empty)
                    {
                        if (Volatile.Read(ref ownerDone))
                        {
                            return;
                        }

                        spinner.SpinOnce(sleep1Threshold: -1);
                    }
                }
            }));
        }

        var owner = new Thread(() =>
        {
            start.SignalAndWait();
            var rnd = new Random(items + thieves);
            int ownerLast = 0;
            for (int i = 0; i < items && deadline.Elapsed < Limit; i++)
            {
                deque.Push(boxes[i]);
                while (rnd.Next(100) < popPercent && deque.TryPop(out object? o))
                {
                    Took(o, "owner", ref ownerLast);
                }
            }

            while (deque.TryPop(out object? o))
            {
                Took(o, "owner", ref ownerLast);
            }

            Volatile.Write(ref ownerDone, true);
        });
        threads.Add(owner);
        foreach (Thread t in threads)
        {
            t.Start();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }

        Assert.True(deadline.Elapsed < Limit, $"did not finish within {Limit}");
        Assert.Empty(failures);
        Assert.Equal(items, Interlocked.Read(ref takenCount));
        Assert.True(deque.IsEmpty);
    }
}

using System.Collections.Generic;
using System.Threading;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;
using Microsoft.Coyote.Specifications;

namespace FastThreadPool.Tests.Concurrency.Deque;

/// <summary>The shipped deque algorithm, instantiated with test hooks.</summary>
internal sealed class HookedDeque<THooks> where THooks : struct, IHooks
{
    private ChaseLevDeque<string, THooks> _deque;

    public HookedDeque(int capacity) => _deque = new ChaseLevDeque<string, THooks>(capacity);

    public int Count => _deque.Count;

    public void Push(string item) => _deque.Push(item);

    public bool TryPop(out string? item) => _deque.TryPop(out item);

    public StealStatus Steal(out string? item) => _deque.Steal(out item);
}

/// <summary>
/// Tiny owner/thief workloads for Coyote. The owner runs a fixed script of pushes and pops, each thief a bounded
/// number of steals; afterwards the owner drains the rest. Every pushed item must be taken exactly once, nothing
/// taken may be null, and each thief must see increasing items.
/// </summary>
internal static class DequeScenarios
{
    /// <summary>
    /// Runs <paramref name="ownerScript"/> ('+' push the next item, '-' pop) on the owner thread against
    /// <paramref name="thieves"/> thieves making <paramref name="steals"/> steal attempts each.
    /// </summary>
    public static void Run<THooks>(HookedDeque<THooks> deque, string prefill, string ownerScript, int thieves, int steals)
        where THooks : struct, IHooks
    {
        int next = 0;
        var pushed = new List<int>();
        var taken = new List<(string Who, int Item)>();
        foreach (char op in prefill)
        {
            Do(op, "owner");
        }

        void Do(char op, string who)
        {
            if (op == '+')
            {
                pushed.Add(next);
                deque.Push(next.ToString(System.Globalization.CultureInfo.InvariantCulture));
                next++;
            }
            else if (deque.TryPop(out string? item))
            {
                Record(who, item);
            }
        }

        void Record(string who, string? item)
        {
            Specification.Assert(item is not null, "{0} took null: a slot was read before it was written", who);
            lock (taken)
            {
                taken.Add((who, int.Parse(item!, System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        var threads = new List<Thread>
        {
            new(() =>
            {
                foreach (char op in ownerScript)
                {
                    Do(op, "owner");
                }
            }),
        };
        for (int k = 0; k < thieves; k++)
        {
            string name = "thief" + k;
            threads.Add(new Thread(() =>
            {
                for (int i = 0; i < steals; i++)
                {
                    if (deque.Steal(out string? item) == StealStatus.Success)
                    {
                        Record(name, item);
                    }
                }
            }));
        }

        foreach (Thread t in threads)
        {
            t.Start();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }

        while (deque.TryPop(out string? rest))
        {
            Record("drain", rest);
        }

        var seen = new HashSet<int>();
        var lastByThief = new Dictionary<string, int>();
        foreach ((string who, int item) in taken)
        {
            Specification.Assert(seen.Add(item), "item {0} taken twice (second time by {1})", item, who);
            if (who.StartsWith("thief", System.StringComparison.Ordinal))
            {
                if (lastByThief.TryGetValue(who, out int last))
                {
                    Specification.Assert(item > last, "{0} stole {1} after {2}: not FIFO", who, item, last);
                }

                lastByThief[who] = item;
            }
        }

        Specification.Assert(seen.Count == pushed.Count, "lost items: pushed {0}, taken {1}", pushed.Count, seen.Count);
        Specification.Assert(deque.Count == 0, "Count is {0} after draining", deque.Count);
    }
}

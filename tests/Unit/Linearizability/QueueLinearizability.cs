using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace FastThreadPool.Tests.Unit.Linearizability;

/// <summary>
/// Checks that a history of FIFO-queue operations is linearizable (Herlihy and Wing, TOPLAS 1990).
/// <list type="bullet">
/// <item><description><see cref="CheckExact"/>: an exhaustive search for a linearization (Wing and Gong, JPDC 1993,
/// with the memoization of G. Lowe, CCPE 2017): at each step try every operation that is minimal (no unplaced
/// operation returned before it was called), apply it to a sequential queue, and remember failed
/// (placed-set, queue-state) configurations. Exponential in the worst case: for short histories (up to ~40
/// operations).</description></item>
/// <item><description><see cref="CheckAspects"/>: T. Henzinger, A. Sezgin, V. Vafeiadis, "Aspect-Oriented
/// Linearizability Proofs" (CONCUR 2013): a queue history in which every value is enqueued at most once is
/// linearizable iff it has none of four violations: VFresh (a dequeue of a value never enqueued, or dequeued
/// before its enqueue was called), VRepet (a value dequeued twice), VOrd (enq(a) returned before enq(b) was called,
/// yet deq(b) returned before deq(a) was called, or b was dequeued and a never was), VWit (a dequeue returned
/// empty although some value was enqueued before it was called and not dequeued before it returned).
/// O(n log n); for long histories. Bounded queues: a failed enqueue ("full") is not checked by these aspects,
/// and such an enqueue is left out of the history (its value is never dequeued).</description></item>
/// </list>
/// Each returns null when the history is linearizable, else a description of the violation.
/// </summary>
public static class QueueLinearizability
{
    public static string? CheckExact(IReadOnlyList<Op> history, int capacity = int.MaxValue)
    {
        int n = history.Count;
        if (n > 62)
        {
            throw new ArgumentException("exact search is for short histories (at most 62 operations)", nameof(history));
        }

        Op[] ops = history.OrderBy(o => o.Start).ToArray();
        var failed = new HashSet<(ulong, string)>();
        var queue = new LinkedList<long>();

        bool Search(ulong placed)
        {
            if (placed == (n == 64 ? ulong.MaxValue : (1UL << n) - 1))
            {
                return true;
            }

            string state = string.Join(",", queue);
            if (failed.Contains((placed, state)))
            {
                return false;
            }

            // Minimal operations: not placed, and called before every unplaced operation returned.
            long minEnd = long.MaxValue;
            for (int i = 0; i < n; i++)
            {
                if ((placed & (1UL << i)) == 0)
                {
                    minEnd = Math.Min(minEnd, ops[i].End);
                }
            }

            for (int i = 0; i < n; i++)
            {
                if ((placed & (1UL << i)) != 0 || ops[i].Start > minEnd)
                {
                    continue;
                }

                Op op = ops[i];
                if (op.Kind == OpKind.Enqueue)
                {
                    bool fits = queue.Count < capacity;
                    if (op.Ok != fits)
                    {
                        continue;
                    }

                    if (op.Ok)
                    {
                        queue.AddLast(op.Value);
                        if (Search(placed | (1UL << i)))
                        {
                            return true;
                        }

                        queue.RemoveLast();
                    }
                    else if (Search(placed | (1UL << i)))
                    {
                        return true;
                    }
                }
                else if (op.Ok)
                {
                    if (queue.Count == 0 || queue.First!.Value != op.Value)
                    {
                        continue;
                    }

                    queue.RemoveFirst();
                    if (Search(placed | (1UL << i)))
                    {
                        return true;
                    }

                    queue.AddFirst(op.Value);
                }
                else
                {
                    if (queue.Count != 0)
                    {
                        continue;
                    }

                    if (Search(placed | (1UL << i)))
                    {
                        return true;
                    }
                }
            }

            failed.Add((placed, state));
            return false;
        }

        return Search(0) ? null : "no linearization exists:\n" + Describe(ops);
    }

    public static string? CheckAspects(IReadOnlyList<Op> history)
    {
        var enq = new Dictionary<long, Op>();
        var deq = new Dictionary<long, Op>();
        var empties = new List<Op>();
        foreach (Op op in history)
        {
            if (op.Kind == OpKind.Enqueue)
            {
                if (!op.Ok)
                {
                    continue;
                }

                if (!enq.TryAdd(op.Value, op))
                {
                    throw new ArgumentException($"value {op.Value} enqueued twice; the aspects need unique values");
                }
            }
            else if (op.Ok)
            {
                if (!deq.TryAdd(op.Value, op))
                {
                    return $"VRepet: value {op.Value} dequeued twice";
                }
            }
            else
            {
                empties.Add(op);
            }
        }

        foreach ((long value, Op d) in deq)
        {
            if (!enq.TryGetValue(value, out Op e))
            {
                return $"VFresh: value {value} dequeued but never enqueued";
            }

            if (d.End < e.Start)
            {
                return $"VFresh: value {value} dequeued before its enqueue was called";
            }
        }

        // Values sorted by the return of their enqueue; prefix maxima of the call of their dequeue (never dequeued
        // = +infinity). For a later-called enqueue or dequeue, every value whose enqueue returned before that call
        // is a prefix of this order.
        (long Value, long EnqEnd, long DeqStart)[] byEnqEnd = enq
            .Select(kv => (kv.Key, kv.Value.End, deq.TryGetValue(kv.Key, out Op d) ? d.Start : long.MaxValue))
            .OrderBy(t => t.End)
            .ToArray();
        long[] enqEnds = byEnqEnd.Select(t => t.EnqEnd).ToArray();
        long[] prefixMaxDeqStart = new long[byEnqEnd.Length];
        int[] prefixArgMax = new int[byEnqEnd.Length];
        for (int i = 0; i < byEnqEnd.Length; i++)
        {
            bool better = i == 0 || byEnqEnd[i].DeqStart > prefixMaxDeqStart[i - 1];
            prefixMaxDeqStart[i] = better ? byEnqEnd[i].DeqStart : prefixMaxDeqStart[i - 1];
            prefixArgMax[i] = better ? i : prefixArgMax[i - 1];
        }

        // Index of the last value whose enqueue returned strictly before `instant`, or -1.
        int PrefixBefore(long instant)
        {
            int lo = 0, hi = enqEnds.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (enqEnds[mid] < instant)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo - 1;
        }

        // VOrd: b dequeued; some a with enq(a) returned before enq(b) was called, and deq(a) called after deq(b)
        // returned (or never).
        foreach ((long b, Op db) in deq)
        {
            int k = PrefixBefore(enq[b].Start);
            if (k >= 0 && prefixMaxDeqStart[k] > db.End)
            {
                long a = byEnqEnd[prefixArgMax[k]].Value;
                return $"VOrd: enq({a}) returned before enq({b}) was called, but {b} was dequeued first" +
                       (deq.ContainsKey(a) ? "" : $" and {a} never was");
            }
        }

        // VWit: a dequeue returned empty although some value was enqueued before it was called and not dequeued
        // before it returned.
        foreach (Op empty in empties)
        {
            int k = PrefixBefore(empty.Start);
            if (k >= 0 && prefixMaxDeqStart[k] > empty.End)
            {
                long a = byEnqEnd[prefixArgMax[k]].Value;
                return $"VWit: thread {empty.Thread} got 'empty' while value {a} was provably in the queue";
            }
        }

        return null;
    }

    private static string Describe(IEnumerable<Op> ops)
    {
        var sb = new StringBuilder();
        foreach (Op op in ops)
        {
            sb.AppendLine($"  t{op.Thread} {op.Kind}({(op.Kind == OpKind.Enqueue || op.Ok ? op.Value.ToString() : "")}) -> {op.Ok} [{op.Start}, {op.End}]");
        }

        return sb.ToString();
    }
}

using System;
using System.Collections.Generic;
using System.Threading;
using FastThreadPool.Primitives;
using Microsoft.Coyote.Specifications;

namespace FastThreadPool.Tests.Concurrency.Queues;

/// <summary>
/// Tiny queue workloads for Coyote. Items are strings "producer:sequence" so that a slot read before it was
/// written (null), a recycled slot (null or another item), a duplicate, a loss and a per-producer order inversion
/// are all visible. Every loop is bounded; what is left is drained after the threads are joined.
/// </summary>
internal static class QueueScenarios
{
    /// <summary>
    /// <paramref name="producers"/> threads each enqueue <paramref name="perProducer"/> items (retrying a bounded
    /// number of times while full), <paramref name="consumers"/> threads dequeue; then the rest is drained and
    /// every successfully enqueued item must have been dequeued exactly once, in per-producer order within each
    /// consumer.
    /// </summary>
    /// <remarks>With <paramref name="takeMany"/>, consumers alternate a batch dequeue (into an array of
    /// <paramref name="batch"/> slots; it returns how many it took) with a single dequeue. A batch must hold no null, and
    /// its items join the consumer's list in the order the batch gave them, so the exactly-once and per-producer order
    /// checks cover the batch claim too.</remarks>
    public static void ProducersConsumers(IMpmcQueue<string> queue, int producers, int perProducer, int consumers, int consumerAttempts, Func<string[], int>? takeMany = null, int batch = 3)
    {
        var enqueued = new List<string>[producers];
        var taken = new List<string>[consumers + 1];
        var threads = new List<Thread>();
        for (int p = 0; p < producers; p++)
        {
            int id = p;
            enqueued[id] = new List<string>();
            threads.Add(new Thread(() =>
            {
                for (int i = 0; i < perProducer; i++)
                {
                    string item = id + ":" + i;
                    for (int attempt = 0; attempt < 4; attempt++)
                    {
                        if (queue.TryEnqueue(item))
                        {
                            enqueued[id].Add(item);
                            break;
                        }

                        Thread.Yield();
                    }
                }
            }));
        }

        for (int c = 0; c < consumers; c++)
        {
            int id = c;
            taken[id] = new List<string>();
            threads.Add(new Thread(() =>
            {
                var buffer = new string[batch];
                for (int attempt = 0; attempt < consumerAttempts; attempt++)
                {
                    if (takeMany is not null && attempt % 2 == 0)
                    {
                        int n = takeMany(buffer);
                        Specification.Assert(n >= 0 && n <= batch, "a batch of {0} items", n);
                        for (int i = 0; i < n; i++)
                        {
                            Specification.Assert(buffer[i] is not null, "dequeued null in a batch: a slot was read before it was written or after it was recycled");
                            taken[id].Add(buffer[i]);
                        }

                        continue;
                    }

                    if (queue.TryDequeue(out string? item))
                    {
                        Specification.Assert(item is not null, "dequeued null: a slot was read before it was written or after it was recycled");
                        taken[id].Add(item!);
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

        taken[consumers] = new List<string>();
        while (queue.TryDequeue(out string? rest))
        {
            Specification.Assert(rest is not null, "drained null");
            taken[consumers].Add(rest!);
        }

        CheckExactlyOnce(enqueued, taken);
        Specification.Assert(queue.Count == 0, "Count is {0} after draining", queue.Count);
    }

    public static void CheckExactlyOnce(List<string>[] enqueued, List<string>[] taken)
    {
        var expected = new HashSet<string>();
        foreach (List<string> list in enqueued)
        {
            expected.UnionWith(list);
        }

        var seen = new HashSet<string>();
        foreach (List<string> list in taken)
        {
            var lastByProducer = new Dictionary<string, int>();
            foreach (string item in list)
            {
                Specification.Assert(seen.Add(item), "item {0} dequeued twice", item);
                Specification.Assert(expected.Contains(item), "item {0} dequeued but never enqueued", item);
                string[] parts = item.Split(':');
                int seq = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                if (lastByProducer.TryGetValue(parts[0], out int last))
                {
                    Specification.Assert(seq > last, "per-producer order broken: {0} after {1}:{2}", item, parts[0], last);
                }

                lastByProducer[parts[0]] = seq;
            }
        }

        Specification.Assert(seen.Count == expected.Count, "lost items: enqueued {0}, dequeued {1}", expected.Count, seen.Count);
    }

    /// <summary>
    /// A producer enqueues one item and then raises a flag; a consumer that sees the flag must not be told the
    /// queue is empty (nobody else dequeues), which is the linearizability of "empty". A second producer keeps a
    /// slot claimed-but-unwritten in flight ahead of it.
    /// </summary>
    public static void NoFalseEmpty(IMpmcQueue<string> queue)
    {
        int flag = 0;
        var slow = new Thread(() => queue.TryEnqueue("0:0"));
        var fast = new Thread(() =>
        {
            queue.TryEnqueue("1:0");
            Volatile.Write(ref flag, 1);
        });
        bool sawFlag = false;
        bool got = false;
        var consumer = new Thread(() =>
        {
            if (Volatile.Read(ref flag) == 1)
            {
                sawFlag = true;
                got = queue.TryDequeue(out _);
            }
        });
        slow.Start();
        fast.Start();
        consumer.Start();
        slow.Join();
        fast.Join();
        consumer.Join();
        Specification.Assert(!sawFlag || got, "TryDequeue reported empty after an enqueue had completed");
    }
}

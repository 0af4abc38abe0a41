using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using FastThreadPool.Benchmarks.Suites;
using FastThreadPool.Primitives;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// The queues' 1p1c case with work per item on one side: the producer computes each item, or the consumer processes
/// each one it takes, with <c>k</c> steps of a dependent multiply-add (about a nanosecond each), for k from 0 to 16.
/// The consumer sums what it computes and every run checks the sum, so each run also proves that every item arrived
/// once. Each round runs every queue once per level and side, in an order drawn at random; ratios are
/// <c>ConcurrentQueue</c>'s time over the queue's within a round.
/// <para>Why: in the bare 1p1c loop (no work, items discarded) which of two regimes a run falls into decides its time.
/// Either the producer pulls away from the consumer and the two threads work on different cache lines, or the consumer
/// keeps up and both work in the same lines, each line moving between the cores for every item or two. A nanosecond
/// of work on one side moves a queue from one regime to the other. This mode shows the ratio across that range instead
/// of at one point of it. The column "producer's end" says which regime the runs were in: where the producer had
/// finished when the consumer finished (near 100%: in step; lower: the producer ran ahead). The columns "empty" and
/// "full" count the loop's failed calls per 1,000 items (the consumer's, the producer's), which cost nothing on the
/// path of a successful call.</para>
/// Run: <c>dotnet run -c Release --project bench -- queue-work [--rounds N] [--out DIR]</c> (default 100 rounds, about
/// 60 s; figures over the last three quarters); writes <c>queue-work.md</c>.
/// </summary>
public static class QueueWork
{
    private const int Items = QueueProducerConsumerBase.Items;

    private static readonly int[] s_levels = [0, 1, 2, 4, 8, 16];

    /// <summary>One run: ns per item, when the producer finished as a share of the run, and the failed calls per
    /// 1,000 items (the consumer's that found the queue empty, the producer's that found it full).</summary>
    private readonly record struct RunFigures(double Ns, double ProducerShare, double Empty, double Full);

    private sealed class Subject(string name, Func<int, int, long, RunFigures> run)
    {
        public string Name { get; } = name;

        /// <summary>(producer work, consumer work, expected sum) to the run's figures.</summary>
        public Func<int, int, long, RunFigures> Run { get; } = run;
    }

    /// <summary>Runs the rounds and writes <c>queue-work.md</c> into <paramref name="directory"/>.</summary>
    public static void Run(int rounds, string directory)
    {
        var cq = new ConcurrentQueue<long>();
        var ring = new BoundedMpmcQueue<long>(QueueProducerConsumerBase.RingSlots);
        var large = new BoundedMpmcQueue<long>(QueueProducerConsumerBase.LargeRingSlots);
        var unbounded = new UnboundedMpmcQueue<long>();
        Subject[] subjects =
        [
            Make("ConcurrentQueue", new ConcurrentQueueOps(cq)),
            Make("BoundedMpmcQueue", new BoundedOps(ring)),
            Make("BoundedMpmcQueue (2^20 slots)", new BoundedOps(large)),
            Make("UnboundedMpmcQueue", new UnboundedOps(unbounded)),
        ];

        // Cells: side (0: producer works, 1: consumer works) x level; level 0 is one cell, the bare loop with the sum.
        var cells = new List<(int Producer, int Consumer, long Expected)>();
        foreach (int k in s_levels)
        {
            cells.Add((0, k, Expected(0, k)));
            if (k > 0)
            {
                cells.Add((k, 0, Expected(k, 0)));
            }
        }

        int skipped = rounds / 4;
        var ns = new List<double>[cells.Count, subjects.Length];
        var share = new List<double>[cells.Count, subjects.Length];
        var empty = new List<double>[cells.Count, subjects.Length];
        var full = new List<double>[cells.Count, subjects.Length];
        for (int c = 0; c < cells.Count; c++)
        {
            for (int s = 0; s < subjects.Length; s++)
            {
                ns[c, s] = [];
                share[c, s] = [];
                empty[c, s] = [];
                full[c, s] = [];
            }
        }

        int[] order = Enumerable.Range(0, subjects.Length).ToArray();
        var random = new Random(20261127); // fixed: a rerun draws the same orders
        for (int round = 0; round < rounds; round++)
        {
            for (int c = 0; c < cells.Count; c++)
            {
                random.Shuffle(order);
                foreach (int s in order)
                {
                    RunFigures run = subjects[s].Run(cells[c].Producer, cells[c].Consumer, cells[c].Expected);
                    if (round >= skipped)
                    {
                        ns[c, s].Add(run.Ns);
                        share[c, s].Add(run.ProducerShare);
                        empty[c, s].Add(run.Empty);
                        full[c, s].Add(run.Full);
                    }
                }
            }
        }

        var md = new StringBuilder();
        md.AppendLine("# The queues' 1p1c case with work per item");
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{QueueAlone.MachineLine()} {rounds} rounds, figures over the last {rounds - skipped}. Work: k dependent multiply-add steps per item on one side. ns per item (median); ratio: ConcurrentQueue's time / the row's within each round, median and 25th-75th percentile; producer's end: when the producer finished, as a share of the run (median; near 100%: the two threads ran in step); empty and full: the consumer's calls that found the queue empty and the producer's that found it full, per 1,000 items (median)."));
        md.AppendLine();
        md.AppendLine("| work | queue | ns per item | ratio, 25th-75th | producer's end | empty | full |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        for (int c = 0; c < cells.Count; c++)
        {
            string work = cells[c].Producer == 0 && cells[c].Consumer == 0 ? "none"
                : cells[c].Producer > 0 ? $"producer, k = {cells[c].Producer}" : $"consumer, k = {cells[c].Consumer}";
            for (int s = 0; s < subjects.Length; s++)
            {
                string ratios = QueueAlone.RatioCell(ns[c, s].Select((t, i) => ns[c, 0][i] / t));
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {work} | {subjects[s].Name} | {Median(ns[c, s]):F2} | {ratios} | {Median(share[c, s]) * 100:F0}% | {Median(empty[c, s]):F1} | {Median(full[c, s]):F1} |"));
            }
        }

        QueueAlone.WriteTable(directory, "queue-work.md", md);
    }

    private static Subject Make<TQ>(string name, TQ q) where TQ : struct, IQueueOps =>
        new(name, (producer, consumer, expected) => OneProducerOneConsumer(q, producer, consumer, expected));

    /// <summary>k steps of a 64-bit linear congruential generator: a chain of dependent multiply-adds that the JIT
    /// cannot fold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Work(long x, int k)
    {
        for (int i = 0; i < k; i++)
        {
            x = unchecked(x * 6364136223846793005L + 1442695040888963407L);
        }

        return x;
    }

    private static long Expected(int producer, int consumer)
    {
        long sum = 0;
        for (long i = 0; i < Items; i++)
        {
            sum = unchecked(sum + Work(Work(i, producer), consumer));
        }

        return sum;
    }

    /// <summary>The headline 1p1c loop (the same waits: a <see cref="SpinWait"/> that is not reset), with the work,
    /// the sum and the check.</summary>
    private static RunFigures OneProducerOneConsumer<TQ>(TQ q, int producerWork, int consumerWork, long expected)
        where TQ : struct, IQueueOps
    {
        using var start = new Barrier(2);
        long began = 0, producerEnd = 0, consumerEnd = 0, sum = 0, fulls = 0, empties = 0;
        var producer = new Thread(() =>
        {
            start.SignalAndWait();
            SpinWait spinner = default;
            long failed = 0;
            for (long i = 0; i < Items; i++)
            {
                long item = Work(i, producerWork);
                while (!q.TryEnqueue(item))
                {
                    failed++;
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }

            producerEnd = Stopwatch.GetTimestamp();
            fulls = failed;
        });
        var consumer = new Thread(() =>
        {
            start.SignalAndWait();
            began = Stopwatch.GetTimestamp();
            SpinWait spinner = default;
            long local = 0, failed = 0;
            for (int i = 0; i < Items; i++)
            {
                long item;
                while (!q.TryDequeue(out item))
                {
                    failed++;
                    spinner.SpinOnce(sleep1Threshold: -1);
                }

                local = unchecked(local + Work(item, consumerWork));
            }

            consumerEnd = Stopwatch.GetTimestamp();
            sum = local;
            empties = failed;
        });
        producer.Start();
        consumer.Start();
        producer.Join();
        consumer.Join();
        if (sum != expected)
        {
            throw new InvalidOperationException($"sum {sum}, expected {expected}: an item was lost or taken twice");
        }

        return new RunFigures(Stopwatch.GetElapsedTime(began, consumerEnd).TotalNanoseconds / Items, (double)(producerEnd - began) / (consumerEnd - began),
            empties * 1000.0 / Items, fulls * 1000.0 / Items);
    }

    private static double Median(List<double> values) => QueueAlone.Median(values);
}

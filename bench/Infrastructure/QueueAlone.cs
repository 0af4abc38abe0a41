using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using FastThreadPool.Benchmarks.Suites;
using FastThreadPool.Primitives;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// The queue suite's 1p1c case in a process that runs nothing else: the same loop (<c>QueueProducerConsumerBase.Run</c>)
/// on the same four queues, each once per round in an order drawn at random (as in <see cref="Interleaved"/>, so that no
/// queue always runs right after the same one), and each queue alone on one thread, filled
/// with 2^20 - 16 items and then drained. It tells how much of a 1p1c ratio belongs to the queue and how much to what
/// runs around it (the interleaved rounds run the pool's cases between its calls).
/// Run: <c>dotnet run -c Release --project bench -- queue-alone [--rounds N] [--out DIR]</c> (default 400 rounds, about
/// 30 s; the figures are over the last quarter of them, once the code is at its final tier); writes <c>queue-alone.md</c>.
/// </summary>
public static class QueueAlone
{
    private const int Items = QueueProducerConsumerBase.Items;
    private const int Filled = Items - 16;

    private sealed class Subject(string name, Action oneProducerOneConsumer, Func<double> fill, Func<double> drain)
    {
        public string Name { get; } = name;
        public Action OneProducerOneConsumer { get; } = oneProducerOneConsumer;
        public Func<double> Fill { get; } = fill;
        public Func<double> Drain { get; } = drain;
        public List<double> Pairs { get; } = [];
        public List<double> Fills { get; } = [];
        public List<double> Drains { get; } = [];
    }

    /// <summary>Runs the rounds and writes <c>queue-alone.md</c> into <paramref name="directory"/>.</summary>
    public static void Run(int rounds, string directory)
    {
        var cq = new ConcurrentQueue<long>();
        var ring = new BoundedMpmcQueue<long>(QueueProducerConsumerBase.RingSlots);
        var large = new BoundedMpmcQueue<long>(QueueProducerConsumerBase.LargeRingSlots);
        var unbounded = new UnboundedMpmcQueue<long>();
        Subject[] subjects =
        [
            Make("ConcurrentQueue", new ConcurrentQueueOps(cq), alone: true),
            Make("BoundedMpmcQueue", new BoundedOps(ring), alone: false), // too few slots to hold the fill
            Make("BoundedMpmcQueue (2^20 slots)", new BoundedOps(large), alone: true),
            Make("UnboundedMpmcQueue", new UnboundedOps(unbounded), alone: true),
        ];

        int kept = Math.Max(1, rounds / 4);
        int[] order = Enumerable.Range(0, subjects.Length).ToArray();
        var random = new Random(20261126); // fixed: a rerun draws the same orders
        for (int round = 0; round < rounds; round++)
        {
            random.Shuffle(order);
            for (int k = 0; k < subjects.Length; k++)
            {
                Subject s = subjects[order[k]];
                long start = Stopwatch.GetTimestamp();
                s.OneProducerOneConsumer();
                double pair = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Items;
                double fill = s.Fill();
                double drain = s.Drain();
                if (round >= rounds - kept)
                {
                    s.Pairs.Add(pair);
                    s.Fills.Add(fill);
                    s.Drains.Add(drain);
                }
            }
        }

        var md = new StringBuilder();
        md.AppendLine("# The queues' 1p1c case in a process of its own");
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{MachineLine()} {rounds} rounds, figures over the last {kept}: ns per item, median (min-max); ratio: ConcurrentQueue's time / the row's within each round, median and 25th-75th percentile. 1p1c: the headline case's loop, 2^20 items; fill and drain: one thread, {Filled:N0} items each."));
        md.AppendLine();
        md.AppendLine("| queue | 1p1c | 1p1c ratio, 25th-75th | fill | drain |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        foreach (Subject s in subjects)
        {
            // Ratios within a round, as the interleaved rounds take them: ConcurrentQueue's time / this queue's.
            string ratios = RatioCell(s.Pairs.Select((p, i) => subjects[0].Pairs[i] / p));
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {s.Name} | {Median(s.Pairs):F2} ({s.Pairs.Min():F2}-{s.Pairs.Max():F2}) | {ratios} | {Cell(s.Fills)} | {Cell(s.Drains)} |"));
        }

        WriteTable(directory, "queue-alone.md", md);
    }

    private static Subject Make<TQ>(string name, TQ q, bool alone) where TQ : struct, IQueueOps =>
        new(name, () => QueueProducerConsumerBase.Run(q, 1), alone ? () => Fill(q) : () => double.NaN, alone ? () => Drain(q) : () => double.NaN);

    private static string Cell(List<double> values) =>
        values.Count == 0 || double.IsNaN(values[0]) ? "-" : string.Create(CultureInfo.InvariantCulture, $"{Median(values):F2} ({values.Min():F2}-{values.Max():F2})");

    /// <summary>The machine, the runtime and the date, as the tables of these modes open.</summary>
    internal static string MachineLine() => string.Create(CultureInfo.InvariantCulture,
        $"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {DateTime.UtcNow:yyyy-MM-dd}.");

    /// <summary>Writes a mode's table into <paramref name="directory"/> and prints it.</summary>
    internal static void WriteTable(string directory, string file, StringBuilder md)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, file), md.ToString());
        Console.Write(md.ToString());
    }

    /// <summary>The median (the upper one of an even count), as every table of these modes gives it.</summary>
    internal static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>Within-round ratios as the tables give them: "median, 25th-75th percentile".</summary>
    internal static string RatioCell(IEnumerable<double> ratios)
    {
        var sorted = ratios.OrderBy(r => r).ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{sorted[sorted.Count / 2]:F2}, {sorted[sorted.Count / 4]:F2}-{sorted[sorted.Count * 3 / 4]:F2}");
    }

    private static double Fill<TQ>(TQ q) where TQ : struct, IQueueOps
    {
        long start = Stopwatch.GetTimestamp();
        for (long i = 0; i < Filled; i++)
        {
            if (!q.TryEnqueue(i))
            {
                throw new InvalidOperationException("full");
            }
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / Filled;
    }

    private static double Drain<TQ>(TQ q) where TQ : struct, IQueueOps
    {
        long start = Stopwatch.GetTimestamp();
        long n = 0;
        while (q.TryDequeue(out _))
        {
            n++;
        }

        double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Filled;
        return n == Filled ? ns : throw new InvalidOperationException($"drained {n}, filled {Filled}");
    }
}

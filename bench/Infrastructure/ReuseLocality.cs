using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// Where returned jobs lie in memory, round after round (<see cref="Pool.Return(PoolJob)"/> with
/// <see cref="PoolOptions.SpareJobs"/>): the <c>submit with results</c> case (100,000 jobs from one thread, every
/// result taken from <see cref="Pool.Done"/>, each job returned once read), in three pools that alternate round by
/// round: one that returns nothing (new jobs every round), one that reuses the returned jobs in the order they came
/// back (the pool's way), and one that sorts each array of returned jobs by address first. For each pool and round it records
/// how often the next job taken from <c>Done</c> lies at most 128 bytes after the one before (the order the threads walk
/// the jobs in, as far as the processor's own prefetching is concerned), how often the next job's id is the one after
/// the last (the order the workers reported them in), and the time per job.
/// Run: <c>dotnet run -c Release --project bench -- reuse-locality [--rounds N] [--jobs N] [--out DIR]</c> (default 60
/// rounds of 100,000 jobs);
/// writes <c>reuse-locality.md</c>.
/// </summary>
public static class ReuseLocality
{
    private static int Jobs = 100_000;

    private sealed class Subject(string name, Pool pool, bool returnJobs)
    {
        public string Name { get; } = name;
        public Pool Pool { get; } = pool;
        public bool ReturnJobs { get; } = returnJobs;
        public List<(double Near, double Consecutive, double Ns)> Rounds { get; } = [];
    }

    /// <summary>Runs the rounds and writes <c>reuse-locality.md</c> into <paramref name="directory"/>.</summary>
    /// <param name="rounds">Rounds per pool.</param>
    /// <param name="directory">Where to write the table.</param>
    /// <param name="jobs">Jobs per round (default 100,000, as in the <c>submit with results</c> case).</param>
    public static void Run(int rounds, string directory, int jobs = 100_000)
    {
        Jobs = jobs;
        int workers = Environment.ProcessorCount;
        Subject[] subjects =
        [
            new("new jobs (nothing returned)", new Pool(new PoolOptions { MaxWorkers = workers }), returnJobs: false),
            new("returned jobs, in the order they came back (the pool's way)", new Pool(new PoolOptions { MaxWorkers = workers, SpareJobs = 1 << 17 }), returnJobs: true),
            new("returned jobs, each array sorted by address", new Pool(new PoolOptions { MaxWorkers = workers, SpareJobs = 1 << 17, SortKeptJobs = true }), returnJobs: true),
        ];

        Func<int, long> square = static i => (long)i * i;
        var addresses = new nint[Jobs];
        var ids = new long[Jobs];
        for (int round = 0; round < rounds; round++)
        {
            foreach (Subject s in subjects)
            {
                s.Rounds.Add(OneRound(s, square, addresses, ids));
            }
        }

        foreach (Subject s in subjects)
        {
            s.Pool.Dispose();
        }

        var md = new StringBuilder();
        md.AppendLine("# Returned jobs: where they lie, round after round");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {workers} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {DateTime.UtcNow:yyyy-MM-dd}. {Jobs:N0} jobs a round from one thread, {workers} workers, the three pools alternating round by round. \"Near\": the next job taken from Done lies at most 128 bytes after the one before; \"in id order\": its id is the one after the last; median of each block of rounds.");
        md.AppendLine();
        md.AppendLine("| pool | rounds | near | in id order | ns per job |");
        md.AppendLine("|---|---|---:|---:|---:|");
        int block = Math.Max(1, rounds / 4);
        foreach (Subject s in subjects)
        {
            for (int from = 0; from < rounds; from += block)
            {
                var part = s.Rounds.Skip(from).Take(block).ToList();
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {s.Name} | {from + 1}-{from + part.Count} | {Median(part.Select(r => r.Near)):0.0}% | {Median(part.Select(r => r.Consecutive)):0.0}% | {Median(part.Select(r => r.Ns)):0.0} |");
            }
        }

        Directory.CreateDirectory(directory);
        string file = Path.Combine(directory, "reuse-locality.md");
        File.WriteAllText(file, md.ToString());
        Console.Write(md.ToString());
        Console.WriteLine($"Written: {file}");
    }

    private static (double Near, double Consecutive, double Ns) OneRound(Subject s, Func<int, long> square, nint[] addresses, long[] ids)
    {
        Pool pool = s.Pool;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < Jobs; i++)
        {
            pool.Submit(square, i);
        }

        long sum = 0;
        for (int taken = 0; taken < Jobs;)
        {
            if (pool.Done.TryDequeue(out PoolJob? job))
            {
                sum += job.GetResult<long>();
                ids[taken] = job.Id;
                addresses[taken] = Unsafe.As<PoolJob, nint>(ref job); // a snapshot: only compared within the round
                if (s.ReturnJobs)
                {
                    pool.Return(job);
                }

                taken++;
            }
        }

        double ns = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / Jobs;
        if (sum != (long)(Jobs - 1) * Jobs * ((2L * Jobs) - 1) / 6)
        {
            throw new InvalidOperationException($"sum {sum}");
        }

        int near = 0;
        int consecutive = 0;
        for (int k = 1; k < Jobs; k++)
        {
            nint step = addresses[k] - addresses[k - 1];
            near += step > 0 && step <= 128 ? 1 : 0;
            consecutive += ids[k] == ids[k - 1] + 1 ? 1 : 0;
        }

        return (near * 100.0 / (Jobs - 1), consecutive * 100.0 / (Jobs - 1), ns);
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }
}

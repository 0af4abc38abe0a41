using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Threading;
using Xunit;

namespace FastThreadPool.Tests.Unit.Pool;

/// <summary>
/// The Python fastthreadpool README's examples, written in C#, with their outcomes asserted. Where the C# API differs
/// (Map returns its results in order instead of filling the done queue), the test says so.
/// </summary>
public class OriginalExamplesTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // pool = Pool(); pool.map(worker, range(100000)); pool.shutdown(); sum(pool.done)
    [Fact]
    public void MapThenShutdownThenSumTheResults()
    {
        var pool = new FastThreadPool.Pool();
        int[] results = pool.Map(static (int x) => x, Enumerable.Range(0, 100_000));
        Assert.True(pool.Shutdown(Patience));
        Assert.Equal(Enumerable.Range(0, 100_000).Sum(x => (long)x), results.Sum(x => (long)x));
    }

    // The same sum through the done queue: submit 50,000 identity jobs, shut down, sum what is in Done.
    [Fact]
    public void SubmitThenShutdownThenSumTheDoneQueue()
    {
        var pool = new FastThreadPool.Pool();
        for (int i = 0; i < 50_000; i++)
        {
            pool.Submit(static x => x, i);
        }

        Assert.True(pool.Shutdown(Patience));
        long sum = 0;
        while (pool.Done.TryDequeue(out PoolJob? job))
        {
            sum += job.GetResult<int>();
        }

        Assert.Equal(Enumerable.Range(0, 50_000).Sum(x => (long)x), sum);
        Assert.Equal(50_000, pool.DoneCount);
    }

    // pool.map(worker, data, done_callback=cb): each result goes to the callback instead of the done queue.
    [Fact]
    public void MapWithADoneCallback()
    {
        var pool = new FastThreadPool.Pool();
        long sum = 0;
        pool.Map(static (int x) => x * 2, Enumerable.Range(0, 10_000), r => Interlocked.Add(ref sum, r));
        Assert.True(pool.Shutdown(Patience));
        Assert.Equal(Enumerable.Range(0, 10_000).Sum(x => 2L * x), Interlocked.Read(ref sum));
        Assert.True(pool.Done.IsEmpty);
    }

    // Pool(result_id=True): submit returns an id, and the done queue holds (id, result) pairs. Here every job in Done
    // carries its id and its result.
    [Fact]
    public void ResultIdsPairEachResultWithItsJob()
    {
        var pool = new FastThreadPool.Pool(2);
        var expected = new Dictionary<long, string>();
        for (int i = 0; i < 100; i++)
        {
            expected[pool.Submit(static x => "result " + x, i)] = "result " + i;
        }

        Assert.True(pool.Shutdown(Patience));
        var seen = new Dictionary<long, string>();
        while (pool.Done.TryDequeue(out PoolJob? job))
        {
            seen[job.Id] = job.GetResult<string>();
        }

        Assert.Equal(expected.OrderBy(kv => kv.Key), seen.OrderBy(kv => kv.Key));
    }

    // init_callback keeps per-worker state (the original's example: a decompressor per worker); jobs use it.
    [Fact]
    public void InitCallbackKeepsAPerWorkerDecompressorBuffer()
    {
        var blocks = new List<(byte[] Compressed, byte[] Plain)>();
        var rnd = new Random(5);
        for (int i = 0; i < 64; i++)
        {
            byte[] plain = new byte[4096 + rnd.Next(4096)];
            for (int j = 0; j < plain.Length; j++)
            {
                plain[j] = (byte)(j % 17 + i);
            }

            var compressed = new MemoryStream();
            using (var deflate = new DeflateStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                deflate.Write(plain);
            }

            blocks.Add((compressed.ToArray(), plain));
        }

        var buffers = new ConcurrentBag<byte[]>();
        var pool = new FastThreadPool.Pool(new PoolOptions
        {
            MaxWorkers = 2,
            InitCallback = ctx =>
            {
                var buffer = new byte[16 * 1024];
                buffers.Add(buffer);
                ctx.State = buffer;
            },
        });
        foreach ((byte[] compressed, byte[] plain) in blocks)
        {
            pool.Submit(static (byte[] c) =>
            {
                var buffer = (byte[])FastThreadPool.Pool.CurrentWorker!.State!;
                using var deflate = new DeflateStream(new MemoryStream(c), CompressionMode.Decompress);
                int n = 0;
                int read;
                while ((read = deflate.Read(buffer, n, buffer.Length - n)) > 0)
                {
                    n += read;
                }

                return buffer.AsSpan(0, n).ToArray();
            }, compressed);
        }

        Assert.True(pool.Shutdown(Patience));
        var outputs = new List<byte[]>();
        while (pool.Done.TryDequeue(out PoolJob? job))
        {
            outputs.Add(job.GetResult<byte[]>());
        }

        Assert.Equal(64, outputs.Count);
        Assert.Equal(blocks.Select(b => Convert.ToBase64String(b.Plain)).OrderBy(x => x), outputs.Select(Convert.ToBase64String).OrderBy(x => x));
        Assert.InRange(buffers.Count, 1, 2); // one buffer per worker, not per job
    }
}

using System;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using FastThreadPool.Benchmarks.Infrastructure;

namespace FastThreadPool.Benchmarks.Suites;

/// <summary>
/// Suite "pool", case "submit": 100,000 tiny jobs submitted from one thread, then wait until all have run (each
/// job counts down; the last one sets an event). Time per job.
/// </summary>
[BenchmarkCategory("headline", "pool")]
public class PoolSubmitPeerBenchmarks
{
    private const int Jobs = 100_000;

    private sealed class CountingItem : IThreadPoolWorkItem
    {
        public int Remaining;
        public readonly ManualResetEventSlim Done = new(false);

        public void Execute()
        {
            if (Interlocked.Decrement(ref Remaining) == 0)
            {
                Done.Set();
            }
        }
    }

    private readonly CountingItem _item = new();

    [Benchmark(Baseline = true, OperationsPerInvoke = Jobs)]
    [Row("pool", "submit", "ThreadPool.UnsafeQueueUserWorkItem")]
    public void ThreadPoolQueue()
    {
        _item.Remaining = Jobs;
        _item.Done.Reset();
        for (int i = 0; i < Jobs; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_item, preferLocal: false);
        }

        _item.Done.Wait();
    }

    private readonly FastThreadPool.Pool _pool = new(new PoolOptions { KeepDone = false });

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("pool", "submit", "Pool.Submit", Ours = true)]
    public void PoolSubmit()
    {
        _item.Remaining = Jobs;
        _item.Done.Reset();
        Action job = _item.Execute;
        for (int i = 0; i < Jobs; i++)
        {
            _pool.Submit(job);
        }

        _item.Done.Wait();
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("pool", "submit", "Task.Run")]
    public void TaskRun()
    {
        _item.Remaining = Jobs;
        _item.Done.Reset();
        CountingItem item = _item;
        for (int i = 0; i < Jobs; i++)
        {
            Task.Run(item.Execute);
        }

        _item.Done.Wait();
    }
}

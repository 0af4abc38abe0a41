using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using FastThreadPool.Benchmarks.Infrastructure;

namespace FastThreadPool.Benchmarks.Suites;

/// <summary>
/// Suite "pool", case "submit": 100,000 tiny jobs submitted from one thread, then wait until all have run. The
/// BCL peers; the pool joins these rows when it lands.
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

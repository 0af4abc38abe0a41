using System;
using System.Collections.Concurrent;
using System.Linq;
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
    public void Cleanup()
    {
        _pool.Dispose();
        _reusing.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("pool", "submit", "Pool.Submit", Ours = true)]
    public void PoolSubmit() => SubmitAll(_pool);

    // The same with ended jobs reused (PoolOptions.SpareJobs, room for every job of an invocation): no job objects
    // allocated once warm, at the price of one more trip of each job's cache line between cores.
    private readonly FastThreadPool.Pool _reusing = new(new PoolOptions { KeepDone = false, SpareJobs = 1 << 17 });

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("pool", "submit", "Pool.Submit (SpareJobs)", Ours = true)]
    public void PoolSubmitReusing() => SubmitAll(_reusing);

    private void SubmitAll(FastThreadPool.Pool pool)
    {
        _item.Remaining = Jobs;
        _item.Done.Reset();
        Action job = _item.Execute;
        for (int i = 0; i < Jobs; i++)
        {
            pool.Submit(job);
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

/// <summary>
/// Suite "pool", case "submit with results": the original's <c>ex_simple_sum</c> at scale. 100,000 jobs submitted from
/// one thread, job <c>i</c> computes <c>i * i</c>; the caller then takes every result from where the jobs left it and
/// sums them (polling, with the same backoff for every row). The peers keep results the way their users would: a
/// <c>ConcurrentQueue</c> the thread-pool jobs enqueue into, and the <c>Task</c> of each job; the pool keeps them in its
/// <see cref="FastThreadPool.Pool.Done"/> queue. Time per job.
/// </summary>
[BenchmarkCategory("headline", "pool")]
public class PoolSubmitResultsBenchmarks
{
    private const int Jobs = 100_000;
    private const long Expected = (long)(Jobs - 1) * Jobs * (2L * Jobs - 1) / 6;

    private static long Square(int i) => (long)i * i;

    private static readonly Func<int, long> s_square = Square;
    private readonly ConcurrentQueue<long> _results = new();
    private readonly Action<int> _enqueueSquare;
    private readonly FastThreadPool.Pool _pool = new();
    private readonly Task<long>[] _tasks = new Task<long>[Jobs];

    public PoolSubmitResultsBenchmarks() => _enqueueSquare = i => _results.Enqueue(Square(i));

    // The same with each job handed back once its result is read (Pool.Return), and room kept for every job of an
    // invocation (PoolOptions.SpareJobs): no job objects allocated once warm.
    private readonly FastThreadPool.Pool _reusing = new(new PoolOptions { SpareJobs = 1 << 17 });

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        _reusing.Dispose();
    }

    private interface IResults
    {
        bool TryTake(out long result);
    }

    private readonly struct QueueResults(ConcurrentQueue<long> queue) : IResults
    {
        public bool TryTake(out long result) => queue.TryDequeue(out result);
    }

    private readonly struct DoneResults(FastThreadPool.Pool pool, bool returnJobs = false) : IResults
    {
        public bool TryTake(out long result)
        {
            if (pool.Done.TryDequeue(out PoolJob? job))
            {
                result = job.GetResult<long>();
                if (returnJobs)
                {
                    pool.Return(job);
                }

                return true;
            }

            result = 0;
            return false;
        }
    }

    private static long Checked(long sum) =>
        sum == Expected ? sum : throw new InvalidOperationException($"sum {sum}, expected {Expected}");

    // Takes all Jobs results, polling with the same backoff for every row, and checks their sum.
    private static long SumAll<TResults>(TResults results) where TResults : struct, IResults
    {
        long sum = 0;
        SpinWait spinner = default;
        for (int n = 0; n < Jobs;)
        {
            if (results.TryTake(out long r))
            {
                sum += r;
                n++;
                spinner = default;
            }
            else
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }

        return Checked(sum);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Jobs)]
    [Row("pool", "submit with results", "ThreadPool.UnsafeQueueUserWorkItem + ConcurrentQueue")]
    public long ThreadPoolQueue()
    {
        for (int i = 0; i < Jobs; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_enqueueSquare, i, preferLocal: false);
        }

        return SumAll(new QueueResults(_results));
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("pool", "submit with results", "Pool.Submit + Done", Ours = true)]
    public long PoolSubmit()
    {
        for (int i = 0; i < Jobs; i++)
        {
            _pool.Submit(s_square, i);
        }

        return SumAll(new DoneResults(_pool));
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("pool", "submit with results", "Pool.Submit + Done + Return (SpareJobs)", Ours = true)]
    public long PoolSubmitReturning()
    {
        for (int i = 0; i < Jobs; i++)
        {
            _reusing.Submit(s_square, i);
        }

        return SumAll(new DoneResults(_reusing, returnJobs: true));
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("pool", "submit with results", "Task.Run + Result")]
    public long TaskRun()
    {
        for (int i = 0; i < Jobs; i++)
        {
            int arg = i;
            _tasks[i] = Task.Run(() => Square(arg));
        }

        long sum = 0;
        foreach (Task<long> task in _tasks)
        {
            sum += task.Result;
        }

        return Checked(sum);
    }
}

/// <summary>
/// Suite "pool", case "map": 1,000,000 identity items mapped to a new array of results in input order. Baseline:
/// <c>Parallel.ForEach</c> over range partitions (its fast form), writing into a new array.
/// </summary>
[BenchmarkCategory("headline", "pool")]
public class PoolMapBenchmarks
{
    private const int Items = 1_000_000;
    private readonly int[] _items = System.Linq.Enumerable.Range(0, Items).ToArray();
    private readonly FastThreadPool.Pool _pool = new(new PoolOptions { KeepDone = false });

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    [Row("pool", "map", "Parallel.ForEach (ranges)")]
    public int[] ParallelForEach()
    {
        int[] items = _items;
        var results = new int[items.Length];
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, items.Length), range =>
        {
            for (int i = range.Item1; i < range.Item2; i++)
            {
                results[i] = items[i];
            }
        });
        return results;
    }

    [Benchmark(OperationsPerInvoke = Items)]
    [Row("pool", "map", "Pool.Map", Ours = true)]
    public int[] PoolMap() => _pool.Map(Identity, _items);

    /// <summary>The one worker delegate both map cases pass. The JIT's profile-guided optimization inlines the
    /// delegate call in the map's loop when one delegate dominates; two cases with two lambdas would each find the
    /// other's target guessed, depending on which ran first.</summary>
    internal static readonly Func<int, int> Identity = static x => x;
}

/// <summary>
/// Suite "pool", case "map into array": the same 1,000,000 identity items, with the results written into an array
/// allocated once. Both rows of case "map" allocate a new 4 MB array per call, and on this machine its first touch
/// takes about 1,000 page faults per call whose cost drifts by several times over minutes; this case measures the
/// maps without them. Baseline: <c>Parallel.ForEach</c> over range partitions.
/// </summary>
[BenchmarkCategory("headline", "pool")]
public class PoolMapIntoBenchmarks
{
    private const int Items = 1_000_000;
    private readonly int[] _items = System.Linq.Enumerable.Range(0, Items).ToArray();
    private readonly int[] _results = new int[Items];
    private readonly FastThreadPool.Pool _pool = new(new PoolOptions { KeepDone = false });

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    [Row("pool", "map into array", "Parallel.ForEach (ranges)")]
    public void ParallelForEach()
    {
        int[] items = _items;
        int[] results = _results;
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, items.Length), range =>
        {
            for (int i = range.Item1; i < range.Item2; i++)
            {
                results[i] = items[i];
            }
        });
    }

    [Benchmark(OperationsPerInvoke = Items)]
    [Row("pool", "map into array", "Pool.MapInto", Ours = true)]
    public void PoolMapInto() => _pool.MapInto(PoolMapBenchmarks.Identity, _items, _results);
}

/// <summary>
/// Suite "pool", case "nested": a binary tree of jobs 16 levels deep (65,535 jobs), each job submitting its two
/// children from inside the pool. Time per job.
/// </summary>
[BenchmarkCategory("headline", "pool")]
public class PoolNestedBenchmarks
{
    private const int Depth = 16;
    private const int Jobs = (1 << Depth) - 1;
    private readonly FastThreadPool.Pool _pool = new(new PoolOptions { KeepDone = false });
    private readonly ManualResetEventSlim _done = new(false);

    // Every job of both rows decrements it: on a line of its own, so that it does not take with it the line of _pool,
    // which each job of the pool's row reads to submit its children (next to _pool, the countdown made that row
    // about 1.6x slower on 2 cores, and left the ThreadPool row, which reads no field of this object, as it was).
    private PaddedInt64 _remaining;

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    private void Ran()
    {
        if (Interlocked.Decrement(ref _remaining.Value) == 0)
        {
            _done.Set();
        }
    }

    private void ThreadPoolNode(int depth)
    {
        if (depth > 1)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Self.ThreadPoolNode(s.Depth), (Self: this, Depth: depth - 1), preferLocal: true);
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Self.ThreadPoolNode(s.Depth), (Self: this, Depth: depth - 1), preferLocal: true);
        }

        Ran();
    }

    private void PoolNode(int depth)
    {
        if (depth > 1)
        {
            _pool.Submit(static s => s.Self.PoolNode(s.Depth), (Self: this, Depth: depth - 1));
            _pool.Submit(static s => s.Self.PoolNode(s.Depth), (Self: this, Depth: depth - 1));
        }

        Ran();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Jobs)]
    [Row("pool", "nested", "ThreadPool.UnsafeQueueUserWorkItem")]
    public void ThreadPoolNested()
    {
        _remaining.Value = Jobs;
        _done.Reset();
        ThreadPoolNode(Depth);
        _done.Wait();
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    [Row("pool", "nested", "Pool.Submit", Ours = true)]
    public void PoolNested()
    {
        _remaining.Value = Jobs;
        _done.Reset();
        _pool.Submit(static s => s.PoolNode(Depth), this);
        _done.Wait();
    }
}

/// <summary>
/// 100,000 tiny jobs submitted from <see cref="Submitters"/> threads (an equal share each), then wait until all have
/// run. Time per job. The cases of suite "pool" are the subclasses.
/// </summary>
public abstract class PoolSubmitFromThreadsBase
{
    private const int Jobs = 100_000;
    private FastThreadPool.Pool _pool = null!;
    private int _remaining;
    private readonly ManualResetEventSlim _done = new(false);

    public abstract int Submitters { get; set; }

    /// <summary>The pool's injection batch (how many jobs a worker takes from the submission queue at once).</summary>
    public virtual int Batch { get; set; } = FastThreadPool.Pool.DefaultInjectionBatch;

    // The same with ended jobs reused by the submitting threads (PoolOptions.SpareJobs, room for every job of an
    // invocation): each submitter takes arrays of 64 jobs that the workers ended.
    private FastThreadPool.Pool _reusing = null!;

    [GlobalSetup]
    public void Setup()
    {
        _pool = new(new PoolOptions { KeepDone = false, InjectionBatch = Batch });
        _reusing = new(new PoolOptions { KeepDone = false, InjectionBatch = Batch, SpareJobs = 1 << 17 });
    }

    private sealed class Item(PoolSubmitFromThreadsBase owner) : IThreadPoolWorkItem
    {
        public void Execute() => owner.Ran();
    }

    private void Ran()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.Set();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        _reusing.Dispose();
    }

    private void FromThreads(Action<int> submitShare)
    {
        _remaining = Jobs;
        _done.Reset();
        int share = Jobs / Submitters;
        var others = new Thread[Submitters - 1];
        for (int i = 0; i < others.Length; i++)
        {
            others[i] = new Thread(() => submitShare(share));
            others[i].Start();
        }

        submitShare(Jobs - (share * others.Length));
        foreach (Thread t in others)
        {
            t.Join();
        }

        _done.Wait();
    }

    protected void ThreadPoolQueueFromThreads()
    {
        var item = new Item(this);
        FromThreads(n =>
        {
            for (int i = 0; i < n; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal: false);
            }
        });
    }

    protected void PoolSubmitFromThreads() => SubmitFromThreads(_pool);

    protected void PoolSubmitReusingFromThreads() => SubmitFromThreads(_reusing);

    private void SubmitFromThreads(FastThreadPool.Pool pool)
    {
        Action job = Ran;
        FromThreads(n =>
        {
            for (int i = 0; i < n; i++)
            {
                pool.Submit(job);
            }
        });
    }
}

/// <summary>Suite "pool", case "submit2" (headline set): 100,000 tiny jobs submitted from two threads.</summary>
[BenchmarkCategory("headline", "pool")]
public class PoolSubmit2Benchmarks : PoolSubmitFromThreadsBase
{
    public override int Submitters { get; set; } = 2;

    [Benchmark(Baseline = true, OperationsPerInvoke = 100_000)]
    [Row("pool", "submit2", "ThreadPool.UnsafeQueueUserWorkItem", "2")]
    public void ThreadPoolQueue() => ThreadPoolQueueFromThreads();

    [Benchmark(OperationsPerInvoke = 100_000)]
    [Row("pool", "submit2", "Pool.Submit", "2", Ours = true)]
    public void PoolSubmit() => PoolSubmitFromThreads();

    [Benchmark(OperationsPerInvoke = 100_000)]
    [Row("pool", "submit2", "Pool.Submit (SpareJobs)", "2", Ours = true)]
    public void PoolSubmitReusing() => PoolSubmitReusingFromThreads();
}

/// <summary>Suite "pool", case "submit from N threads" (scaling set): from 1, 2, 4, 8 or 16 threads.</summary>
[BenchmarkCategory("scaling", "pool")]
public class PoolSubmitScalingBenchmarks : PoolSubmitFromThreadsBase
{
    [Params(1, 2, 4, 8, 16)]
    public override int Submitters { get; set; }

    [Benchmark(Baseline = true, OperationsPerInvoke = 100_000)]
    [Row("pool", "submit from {Submitters} threads", "ThreadPool.UnsafeQueueUserWorkItem", "{Submitters}")]
    public void ThreadPoolQueue() => ThreadPoolQueueFromThreads();

    [Benchmark(OperationsPerInvoke = 100_000)]
    [Row("pool", "submit from {Submitters} threads", "Pool.Submit", "{Submitters}", Ours = true)]
    public void PoolSubmit() => PoolSubmitFromThreads();
}

/// <summary>
/// Ablation (scaling set): 100,000 jobs from one thread with the pool's injection batch at 1 (a worker takes one job
/// at a time from the submission queue), 4, 8 (the default) and 16. The ThreadPool row is the same in each case.
/// </summary>
[BenchmarkCategory("scaling", "pool")]
public class PoolSubmitBatchBenchmarks : PoolSubmitFromThreadsBase
{
    public override int Submitters { get; set; } = 1;

    [Params(1, 4, 8, 16)]
    public override int Batch { get; set; }

    [Benchmark(Baseline = true, OperationsPerInvoke = 100_000)]
    [Row("pool", "submit, batch {Batch}", "ThreadPool.UnsafeQueueUserWorkItem", "1")]
    public void ThreadPoolQueue() => ThreadPoolQueueFromThreads();

    [Benchmark(OperationsPerInvoke = 100_000)]
    [Row("pool", "submit, batch {Batch}", "Pool.Submit", "1", Ours = true)]
    public void PoolSubmit() => PoolSubmitFromThreads();
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace FastThreadPool.Tests.Unit.Reliability;

/// <summary>The fault table (<c>artifacts/reliability/faults.md</c>).</summary>
public sealed class FaultReport : Report
{
    protected override string Name => "faults";

    protected override string[] Columns => ["fault injected", "what the pool did", "passes"];
}

/// <summary>
/// Faults: jobs that throw every kind of exception, callbacks that throw, an init callback that fails for one
/// worker, a job that blocks, recursion, jobs that wait for or shut down their own pool, a consumer that stops
/// reading. None may kill a worker silently, lose a job, or deadlock without a timeout reporting it.
/// </summary>
public class FaultTests(FaultReport report) : IClassFixture<FaultReport>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private sealed class CustomException(string message) : Exception(message);

    /// <param name="Name">The fault.</param>
    /// <param name="Run">Injects it and returns what the pool did, and whether that is right.</param>
    public sealed record Fault(string Name, Func<(string Observed, bool Ok)> Run);

    private static bool Conserved(FastThreadPool.Pool p) => p.SubmittedCount == p.DoneCount + p.FailedCount + p.CancelledCount;

    /// <summary>A job throwing <paramref name="make"/>'s exception: it must end Failed with that exception, the worker
    /// must go on (the next job runs), and the counts must agree.</summary>
    private static (string, bool) Throwing(Func<Exception> make, Action? job = null)
    {
        var pool = new FastThreadPool.Pool(1);
        long id = pool.Submit(job ?? (() => throw make()));
        int next = 0;
        pool.Submit(() => Interlocked.Increment(ref next));
        bool idle = pool.WaitIdle(Patience);
        pool.Failed.TryDequeue(out PoolJob? failed);
        bool stopped = pool.Shutdown(Patience);
        bool ok = idle && stopped && failed?.Id == id && failed.Status == PoolJobStatus.Failed && failed.Exception?.GetType() == make().GetType()
            && next == 1 && pool.Alive == 0 && Conserved(pool);
        return ($"job Failed with {failed?.Exception?.GetType().Name}; the worker ran the next job: {next == 1}; counts conserved: {Conserved(pool)}", ok);
    }

    public static readonly Fault[] Faults =
    [
        new("job throws InvalidOperationException", () => Throwing(() => new InvalidOperationException("x"))),
        new("job throws a custom exception", () => Throwing(() => new CustomException("x"))),
        new("job throws NullReferenceException (a real null dereference)", () => Throwing(() => new NullReferenceException(), () => { string s = null!; _ = s.Length; })),
        new("job throws DivideByZeroException (a real division)", () => Throwing(() => new DivideByZeroException(), () => { int zero = 0; _ = 1 / zero; })),
        new("job throws OperationCanceledException", () => Throwing(() => new OperationCanceledException())),
        new("job throws AggregateException", () => Throwing(() => new AggregateException(new InvalidOperationException()))),
        new("job throws from a finally block (replacing its exception)", () => Throwing(() => new IOException(), () =>
        {
            try
            {
                throw new InvalidOperationException("hidden");
            }
            finally
            {
                throw new IOException("from finally");
            }
        })),
        new("job's done callback throws", () =>
        {
            var pool = new FastThreadPool.Pool(1);
            long id = pool.Submit(() => 1, _ => throw new InvalidOperationException("callback"));
            bool idle = pool.WaitIdle(Patience);
            pool.Failed.TryDequeue(out PoolJob? failed);
            bool ok = idle && failed?.Id == id && failed.Exception is InvalidOperationException && pool.FailedCount == 1 && pool.Shutdown(Patience) && Conserved(pool);
            return ($"the job is reported Failed with the callback's exception: {failed?.Exception?.Message == "callback"}", ok);
        }),
        new("pool-level failed callback throws", () =>
        {
            var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 1, FailedCallback = _ => throw new InvalidOperationException("failed callback") });
            pool.Submit(() => throw new FormatException());
            bool idle = pool.WaitIdle(Patience);
            bool queued = pool.Failed.TryDequeue(out PoolJob? failed) && failed.Exception is FormatException;
            bool ok = idle && queued && pool.CallbackFailures == 1 && pool.LastCallbackException?.Message == "failed callback" && pool.Shutdown(Patience) && Conserved(pool);
            return ($"the job goes to Failed anyway; CallbackFailures = {pool.CallbackFailures}", ok);
        }),
        new("init callback fails for a worker (the only one, so it must run every job)", () =>
        {
            var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 1, InitCallback = ctx => { if (ctx.Index == 0) { throw new InvalidOperationException("init"); } } });
            int ran = 0;
            for (int i = 0; i < 1000; i++)
            {
                pool.Submit(() => Interlocked.Increment(ref ran));
            }

            bool idle = pool.WaitIdle(Patience);
            bool ok = idle && ran == 1000 && pool.CallbackFailures == 1 && pool.Shutdown(Patience) && pool.Alive == 0 && Conserved(pool);
            return ($"that worker still runs jobs: {ran} of 1000 ran; CallbackFailures = {pool.CallbackFailures}", ok);
        }),
        new("finish callback throws", () =>
        {
            var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 2, FinishCallback = _ => throw new InvalidOperationException("finish") });
            pool.Submit(() => { });
            pool.Submit(() => { });
            pool.WaitIdle(Patience);
            int started = pool.Alive;
            bool stopped = pool.Shutdown(Patience);
            bool ok = stopped && pool.Alive == 0 && pool.CallbackFailures == started && Conserved(pool);
            return ($"shutdown completes, all {started} started workers ended; CallbackFailures = {pool.CallbackFailures}", ok);
        }),
        new("a job blocks forever (until released)", () =>
        {
            using var gate = new ManualResetEventSlim();
            var pool = new FastThreadPool.Pool(1);
            pool.Submit(() => gate.Wait());
            SpinWait.SpinUntil(() => pool.Busy == 1, Patience);
            bool timedOut = !pool.Shutdown(TimeSpan.FromMilliseconds(100));
            bool stillRunning = pool.Alive == 1;
            gate.Set();
            bool joined = pool.Join(Patience);
            bool ok = timedOut && stillRunning && joined && pool.Alive == 0 && Conserved(pool);
            return ($"Shutdown(100 ms) returns false with the worker alive; after the release Join returns {joined}", ok);
        }),
        new("jobs submit jobs recursively (a chain of 10,000 and a tree of 4,095)", () =>
        {
            var pool = new FastThreadPool.Pool(2);
            int chain = 0;
            int tree = 0;
            void Link(int left)
            {
                Interlocked.Increment(ref chain);
                if (left > 1)
                {
                    pool.Submit(() => Link(left - 1));
                }
            }

            void Node(int depth)
            {
                Interlocked.Increment(ref tree);
                if (depth > 1)
                {
                    pool.Submit(() => Node(depth - 1));
                    pool.Submit(() => Node(depth - 1));
                }
            }

            pool.Submit(() => Link(10_000));
            pool.Submit(() => Node(12));
            bool idle = pool.WaitIdle(Patience);
            bool ok = idle && chain == 10_000 && tree == 4095 && pool.Shutdown(Patience) && Conserved(pool);
            return ($"{chain} chain links and {tree} tree nodes ran, each once", ok);
        }),
        new("a job calls WaitIdle() (no timeout) on its own pool", () =>
        {
            var pool = new FastThreadPool.Pool(1);
            long id = pool.Submit(() => pool.WaitIdle());
            bool idle = pool.WaitIdle(Patience);
            bool failed = pool.Failed.TryDequeue(out PoolJob? job) && job.Id == id && job.Exception is InvalidOperationException;
            bool ok = idle && failed && pool.Shutdown(Patience) && Conserved(pool);
            return ("the call throws InvalidOperationException (it would wait for itself); the job fails, no deadlock", ok);
        }),
        new("a job calls WaitIdle(50 ms) on its own pool", () =>
        {
            var pool = new FastThreadPool.Pool(1);
            bool? result = null;
            pool.Submit(() => { result = pool.WaitIdle(TimeSpan.FromMilliseconds(50)); });
            bool idle = pool.WaitIdle(Patience);
            bool ok = idle && result == false && pool.Shutdown(Patience) && Conserved(pool);
            return ($"returns {result} after the timeout (the job itself is outstanding)", ok);
        }),
        new("a job calls Shutdown() on its own pool", () =>
        {
            var pool = new FastThreadPool.Pool(2);
            int after = 0;
            int refused = 0;
            pool.Submit(() => pool.Shutdown());
            for (int i = 0; i < 100; i++)
            {
                try
                {
                    pool.Submit(() => Interlocked.Increment(ref after));
                }
                catch (PoolStoppedException)
                {
                    refused++;
                }
            }

            bool joined = pool.Join(Patience);
            bool ok = joined && pool.Alive == 0 && after + refused == 100 && Conserved(pool);
            return ($"no deadlock: the workers end (Join: {joined}); of 100 later submissions {after} ran and {refused} were refused with PoolStoppedException", ok);
        }),
        new("the Done consumer stops reading while DoneMax = 2", () =>
        {
            var pool = new FastThreadPool.Pool(new PoolOptions { MaxWorkers = 2, DoneMax = 2 });
            for (int i = 0; i < 10; i++)
            {
                pool.Submit(() => i);
            }

            bool timedOut = !pool.Shutdown(TimeSpan.FromMilliseconds(200));
            bool bounded = pool.Done.Count <= 2;
            int taken = 0;
            while (taken < 10 && SpinWait.SpinUntil(() => pool.Done.TryDequeue(out _), Patience))
            {
                taken++;
            }

            bool joined = pool.Join(Patience);
            bool ok = timedOut && bounded && taken == 10 && joined && Conserved(pool);
            return ($"workers wait (Done holds at most 2; Shutdown(200 ms) returns false); once read again, all {taken} arrive and the workers end", ok);
        }),
        new("a periodic job throws on every run", () =>
        {
            var pool = new FastThreadPool.Pool(1);
            int runs = 0;
            long id = pool.Schedule(TimeSpan.FromMilliseconds(5), () => { Interlocked.Increment(ref runs); throw new InvalidOperationException(); });
            bool ran = SpinWait.SpinUntil(() => Volatile.Read(ref runs) >= 3, Patience);
            bool cancelled = pool.Cancel(id);
            bool stopped = pool.Shutdown(Patience);
            bool ok = ran && cancelled && stopped && pool.FailedCount == Volatile.Read(ref runs) && Conserved(pool);
            return ($"each run Failed ({pool.FailedCount}), the schedule went on until cancelled", ok);
        }),
        new("an async job throws", () =>
        {
            var pool = new FastThreadPool.Pool(1);
            Task<int> t = pool.SubmitAsync<int>(() => throw new CustomException("async")).AsTask();
            bool faulted = SpinWait.SpinUntil(() => t.IsCompleted, Patience) && t.IsFaulted && t.Exception!.InnerException is CustomException;
            int next = pool.SubmitAsync(() => 7).AsTask().GetAwaiter().GetResult();
            bool ok = faulted && next == 7 && pool.Shutdown(Patience) && Conserved(pool);
            return ($"the task is faulted with the exception; the worker goes on ({next})", ok);
        }),
    ];

    public static IEnumerable<object[]> Names => Faults.Select((f, i) => new object[] { i, f.Name });

    [Theory]
    [MemberData(nameof(Names))]
    public void NothingIsLostNoWorkerDiesNoDeadlock(int index, string name)
    {
        (string observed, bool ok) = Faults[index].Run();
        report.Add($"{index:D3}", name, observed, ok ? "yes" : "NO");
        Assert.True(ok, $"{name}: {observed}");
    }
}

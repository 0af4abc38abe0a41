using System.Threading;
using BenchmarkDotNet.Attributes;
using FastThreadPool.Benchmarks.Infrastructure;
using FastThreadPool.Primitives;
using SysSemaphore = System.Threading.Semaphore;

namespace FastThreadPool.Benchmarks.Suites;

/// <summary>Suite "semaphore", case "uncontended": one thread, Wait then Release, a permit always free.</summary>
[BenchmarkCategory("headline", "semaphore")]
public class SemaphoreUncontendedBenchmarks
{
    private const int Ops = 1024;
    private readonly SemaphoreSlim _slim = new(1, int.MaxValue);
    private readonly SysSemaphore _kernel = new(1, int.MaxValue);
    private readonly FastSemaphore _fast = new(1);

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    [Row("semaphore", "uncontended", "SemaphoreSlim")]
    public void SemaphoreSlim()
    {
        for (int i = 0; i < Ops; i++)
        {
            _slim.Wait();
            _slim.Release();
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    [Row("semaphore", "uncontended", "System.Threading.Semaphore")]
    public void Semaphore()
    {
        for (int i = 0; i < Ops; i++)
        {
            _kernel.WaitOne();
            _kernel.Release();
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    [Row("semaphore", "uncontended", "FastSemaphore", Ours = true)]
    public void FastSemaphore()
    {
        for (int i = 0; i < Ops; i++)
        {
            _fast.Wait();
            _fast.Release();
        }
    }

    private long _word = 1;

    /// <summary>The floor of any semaphore that keeps its count in one word: a take and a give, each a read and a
    /// compare-and-swap, and nothing else (not a semaphore: a reference row, so that the ratio of the others to it shows
    /// what is left to gain).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    [Row("semaphore", "uncontended", "floor: 2 CAS on one word")]
    public long TwoCas()
    {
        for (int i = 0; i < Ops; i++)
        {
            long s = Volatile.Read(ref _word);
            Interlocked.CompareExchange(ref _word, s - 1, s);
            s = Volatile.Read(ref _word);
            Interlocked.CompareExchange(ref _word, s + 1, s);
        }

        return _word;
    }
}

/// <summary>
/// Suite "semaphore", case "seed-loop": the original library's example, 200,000 release+acquire pairs on one
/// thread, starting from zero permits. Baseline: <see cref="System.Threading.Semaphore"/>, the type the original
/// compared against.
/// </summary>
[BenchmarkCategory("headline", "semaphore")]
public class SemaphoreSeedLoopBenchmarks
{
    private const int Pairs = 200_000;

    [Benchmark(Baseline = true, OperationsPerInvoke = Pairs)]
    [Row("semaphore", "seed-loop", "System.Threading.Semaphore")]
    public void Semaphore()
    {
        using var s = new SysSemaphore(0, int.MaxValue);
        for (int i = 0; i < Pairs; i++)
        {
            s.Release();
            s.WaitOne();
        }
    }

    [Benchmark(OperationsPerInvoke = Pairs)]
    [Row("semaphore", "seed-loop", "SemaphoreSlim")]
    public void SemaphoreSlim()
    {
        using var s = new SemaphoreSlim(0, int.MaxValue);
        for (int i = 0; i < Pairs; i++)
        {
            s.Release();
            s.Wait();
        }
    }

    [Benchmark(OperationsPerInvoke = Pairs)]
    [Row("semaphore", "seed-loop", "FastSemaphore", Ours = true)]
    public void FastSemaphore()
    {
        var s = new FastSemaphore(0);
        for (int i = 0; i < Pairs; i++)
        {
            s.Release();
            s.Wait();
        }
    }

    private long _word;

    /// <summary>The floor (see <see cref="SemaphoreUncontendedBenchmarks.TwoCas"/>): a give and a take on one word.</summary>
    [Benchmark(OperationsPerInvoke = Pairs)]
    [Row("semaphore", "seed-loop", "floor: 2 CAS on one word")]
    public long TwoCas()
    {
        for (int i = 0; i < Pairs; i++)
        {
            long s = Volatile.Read(ref _word);
            Interlocked.CompareExchange(ref _word, s + 1, s);
            s = Volatile.Read(ref _word);
            Interlocked.CompareExchange(ref _word, s - 1, s);
        }

        return _word;
    }
}

/// <summary>
/// Suite "semaphore", case "pingpong": two threads hand one permit back and forth through two semaphores; time per
/// round trip (two hand-offs). Each side waits for the other, so this measures spin-then-park wake-up latency.
/// </summary>
[BenchmarkCategory("headline", "semaphore")]
public class SemaphorePingPongBenchmarks
{
    private const int Rounds = 20_000;

    private interface ISem
    {
        void Wait();

        void Release();
    }

    private readonly struct Slim(SemaphoreSlim s) : ISem
    {
        public void Wait() => s.Wait();

        public void Release() => s.Release();
    }

    private readonly struct Kernel(SysSemaphore s) : ISem
    {
        public void Wait() => s.WaitOne();

        public void Release() => s.Release();
    }

    private readonly struct Fast(FastSemaphore s) : ISem
    {
        public void Wait() => s.Wait();

        public void Release() => s.Release();
    }

    private static void Run<TS>(TS ping, TS pong) where TS : struct, ISem
    {
        var other = new Thread(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                ping.Wait();
                pong.Release();
            }
        });
        other.Start();
        for (int i = 0; i < Rounds; i++)
        {
            ping.Release();
            pong.Wait();
        }

        other.Join();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Rounds)]
    [Row("semaphore", "pingpong", "SemaphoreSlim", "2")]
    public void SemaphoreSlim() => Run(new Slim(new SemaphoreSlim(0)), new Slim(new SemaphoreSlim(0)));

    [Benchmark(OperationsPerInvoke = Rounds)]
    [Row("semaphore", "pingpong", "System.Threading.Semaphore", "2")]
    public void Semaphore() => Run(new Kernel(new SysSemaphore(0, int.MaxValue)), new Kernel(new SysSemaphore(0, int.MaxValue)));

    [Benchmark(OperationsPerInvoke = Rounds)]
    [Row("semaphore", "pingpong", "FastSemaphore (futex)", "2", Ours = true)]
    public void FastSemaphoreFutex() => Run(new Fast(Futex()), new Fast(Futex()));

    [Benchmark(OperationsPerInvoke = Rounds)]
    [Row("semaphore", "pingpong", "FastSemaphore (monitor)", "2", Ours = true)]
    public void FastSemaphoreMonitor() =>
        Run(new Fast(new FastSemaphore(0, int.MaxValue, ParkingBackend.Monitor)), new Fast(new FastSemaphore(0, int.MaxValue, ParkingBackend.Monitor)));

    private static FastSemaphore Futex() =>
        new(0, int.MaxValue, Primitives.FastSemaphore.DefaultBackend == ParkingBackend.Futex ? ParkingBackend.Futex : ParkingBackend.Monitor);
}

/// <summary>
/// Suite "semaphore", cases "wakeN": one releaser hands out permits one at a time to N waiters that take them in a
/// loop (parking whenever none is free); time per permit. This is the pool's idle-worker pattern.
/// </summary>
public abstract class SemaphoreWakeBase
{
    private const int Permits = 1 << 15;

    public abstract int Waiters { get; set; }

    private static void Run(System.Action wait, System.Action release, int waiters)
    {
        int per = Permits / waiters;
        var threads = new Thread[waiters];
        for (int w = 0; w < waiters; w++)
        {
            threads[w] = new Thread(() =>
            {
                for (int i = 0; i < per; i++)
                {
                    wait();
                }
            });
            threads[w].Start();
        }

        for (int i = 0; i < per * waiters; i++)
        {
            release();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Permits)]
    [Row("semaphore", "wake{Waiters}", "SemaphoreSlim", "1+{Waiters}")]
    public void SemaphoreSlim()
    {
        var s = new SemaphoreSlim(0);
        Run(() => s.Wait(), () => s.Release(), Waiters);
    }

    [Benchmark(OperationsPerInvoke = Permits)]
    [Row("semaphore", "wake{Waiters}", "FastSemaphore (futex)", "1+{Waiters}", Ours = true)]
    public void FastSemaphoreFutex()
    {
        var s = new FastSemaphore(0, int.MaxValue, FastSemaphore.DefaultBackend);
        Run(() => s.Wait(), () => s.Release(), Waiters);
    }

    [Benchmark(OperationsPerInvoke = Permits)]
    [Row("semaphore", "wake{Waiters}", "FastSemaphore (monitor)", "1+{Waiters}", Ours = true)]
    public void FastSemaphoreMonitor()
    {
        var s = new FastSemaphore(0, int.MaxValue, ParkingBackend.Monitor);
        Run(() => s.Wait(), () => s.Release(), Waiters);
    }
}

/// <summary>Headline: one releaser, two waiters (oversubscribed on 2 cores).</summary>
[BenchmarkCategory("headline", "semaphore")]
public class SemaphoreWakeBenchmarks : SemaphoreWakeBase
{
    [Params(2)]
    public override int Waiters { get; set; }
}

/// <summary>Scaling: 1 releaser and 1 to 15 waiters (16-core machine).</summary>
[BenchmarkCategory("scaling", "semaphore")]
public class SemaphoreWakeScalingBenchmarks : SemaphoreWakeBase
{
    [Params(1, 4, 15)]
    public override int Waiters { get; set; }
}

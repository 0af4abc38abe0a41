using System;
using System.Diagnostics;
using System.Threading;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// Ends the process when one measured call runs for longer than a limit, naming the call: a hang in a benchmark's
/// subject (a stranded job, a lost wake-up) then shows as a line in the log, not as a run that never ends. The rounds
/// modes (<see cref="PoolProbe"/>, <see cref="Interleaved"/>) mark each call; a call takes milliseconds.
/// </summary>
internal sealed class Watchdog : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly Thread _thread;
    private string? _call;
    private long _since;
    private int _disposed;

    public Watchdog()
    {
        _thread = new Thread(Watch) { IsBackground = true, Name = "benchmark watchdog" };
        _thread.Start();
    }

    /// <summary>Marks the start of a call (its name is what the log will say if it hangs).</summary>
    public void Enter(string call)
    {
        Volatile.Write(ref _since, Stopwatch.GetTimestamp());
        Volatile.Write(ref _call, call);
    }

    /// <summary>Marks the end of the call in progress.</summary>
    public void Leave() => Volatile.Write(ref _call, null);

    public void Dispose() => Volatile.Write(ref _disposed, 1);

    private void Watch()
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            Thread.Sleep(1000);
            string? call = Volatile.Read(ref _call);
            TimeSpan running = Stopwatch.GetElapsedTime(Volatile.Read(ref _since));
            if (call is not null && running > Limit && ReferenceEquals(call, Volatile.Read(ref _call)))
            {
                Console.WriteLine($"HANG: the call '{call}' has run for {running.TotalSeconds:F0} s (limit {Limit.TotalSeconds:F0} s); stopping the process.");
                Console.Out.Flush();
                Environment.Exit(3);
            }
        }
    }
}

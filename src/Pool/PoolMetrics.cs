using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FastThreadPool;

/// <summary>
/// The pool's instruments, published through <see cref="System.Diagnostics.Metrics"/> on a meter named
/// <see cref="Pool.MeterName"/> (one meter per pool, tagged with the pool's worker name prefix), so that
/// <c>dotnet-counters monitor --counters FastThreadPool</c> and OpenTelemetry see them. Counts are read when a
/// listener collects (observable instruments): they cost nothing on the job path. The wait-time histogram stamps a job
/// when it is queued and records when it starts, only while someone listens to it.
/// </summary>
internal sealed class PoolMetrics : IDisposable
{
    private static readonly long TicksPerMicrosecond = Math.Max(1, Stopwatch.Frequency / 1_000_000);
    private static readonly double SecondsPerUnit = (double)TicksPerMicrosecond / Stopwatch.Frequency;

    private readonly Meter _meter;
    private readonly Histogram<double> _waitTime;

    public PoolMetrics(Pool pool, string name)
    {
        _meter = new Meter(new MeterOptions(Pool.MeterName)
        {
            Version = typeof(Pool).Assembly.GetName().Version?.ToString(),
            Tags = [new KeyValuePair<string, object?>("fastthreadpool.pool.name", name)],
        });
        _meter.CreateObservableCounter("fastthreadpool.jobs.submitted", () => pool.SubmittedCount, "{job}", "Jobs accepted.");
        _meter.CreateObservableCounter("fastthreadpool.jobs.done", () => pool.DoneCount, "{job}", "Jobs that ended done.");
        _meter.CreateObservableCounter("fastthreadpool.jobs.failed", () => pool.FailedCount, "{job}", "Jobs that ended failed.");
        _meter.CreateObservableCounter("fastthreadpool.jobs.cancelled", () => pool.CancelledCount, "{job}", "Jobs cancelled before they started.");
        _meter.CreateObservableUpDownCounter("fastthreadpool.queue.length", () => pool.Pending, "{job}", "Accepted jobs that have not started.");
        _meter.CreateObservableUpDownCounter("fastthreadpool.workers.busy", () => pool.Busy, "{thread}", "Workers running a job.");
        _meter.CreateObservableUpDownCounter("fastthreadpool.workers.alive", () => pool.Alive, "{thread}", "Worker threads started and not ended.");
        _meter.CreateObservableUpDownCounter("fastthreadpool.timers.pending", () => pool.TimerCount, "{timer}", "Delayed jobs not yet due and periodic schedules.");
        _waitTime = _meter.CreateHistogram<double>(
            "fastthreadpool.job.wait_time",
            "s",
            "Time from a job being queued (or due) to a worker starting it.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10] });
    }

    /// <summary>Whether anyone listens to the wait-time histogram now.</summary>
    public bool WaitTimeEnabled => _waitTime.Enabled;

    /// <summary>Now, in microseconds, in 32 bits (wraps every 71 minutes; never 0, which means "not stamped", nor
    /// <see cref="TimerQueue.InHeap"/>).</summary>
    public static uint Stamp()
    {
        uint now = (uint)(Stopwatch.GetTimestamp() / TicksPerMicrosecond);
        return now is 0 or TimerQueue.InHeap ? 1 : now;
    }

    /// <summary>Records the wait of a job stamped at <paramref name="queuedAt"/> (waits over 71 minutes wrap).</summary>
    public void RecordWait(uint queuedAt) => _waitTime.Record(unchecked(Stamp() - queuedAt) * SecondsPerUnit);

    public void Dispose() => _meter.Dispose();
}

/// <summary>The pool's scheduling counts (see <see cref="Pool"/>'s internal <c>Diagnostics</c>).</summary>
internal readonly record struct PoolDiagnostics(
    long Parks, long WorkerWakes, long OutsideWakes, long StealScans, long Steals, long QueueTakes, long Batches, long Rests)
{
    /// <summary>The counts between two readings.</summary>
    public static PoolDiagnostics operator -(PoolDiagnostics a, PoolDiagnostics b) =>
        new(a.Parks - b.Parks, a.WorkerWakes - b.WorkerWakes, a.OutsideWakes - b.OutsideWakes, a.StealScans - b.StealScans,
            a.Steals - b.Steals, a.QueueTakes - b.QueueTakes, a.Batches - b.Batches, a.Rests - b.Rests);

    /// <summary>The sum of two sets of counts.</summary>
    public static PoolDiagnostics operator +(PoolDiagnostics a, PoolDiagnostics b) =>
        new(a.Parks + b.Parks, a.WorkerWakes + b.WorkerWakes, a.OutsideWakes + b.OutsideWakes, a.StealScans + b.StealScans,
            a.Steals + b.Steals, a.QueueTakes + b.QueueTakes, a.Batches + b.Batches, a.Rests + b.Rests);
}

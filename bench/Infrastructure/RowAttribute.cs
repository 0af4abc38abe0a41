using System;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// Describes what a benchmark method measures, as one row of <c>artifacts/bench/summary.json</c>. <c>{Name}</c> in
/// <see cref="Case"/> and <see cref="Threads"/> is replaced by the value of the benchmark parameter <c>Name</c>;
/// <see cref="Threads"/> may be a sum such as <c>{Producers}+{Consumers}</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RowAttribute : Attribute
{
    public RowAttribute(string suite, string @case, string impl, string threads = "1")
    {
        Suite = suite;
        Case = @case;
        Impl = impl;
        Threads = threads;
    }

    /// <summary>The suite: queue, deque, semaphore, pool, timers.</summary>
    public string Suite { get; }

    /// <summary>The case within the suite, e.g. pair, 1p1c.</summary>
    public string Case { get; }

    /// <summary>The type or API as a user would write it.</summary>
    public string Impl { get; }

    /// <summary>Threads taking part.</summary>
    public string Threads { get; }

    /// <summary>Whether the row measures one of this project's types.</summary>
    public bool Ours { get; set; }
}

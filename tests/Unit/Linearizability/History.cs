using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace FastThreadPool.Tests.Unit.Linearizability;

/// <summary>What a recorded queue operation did.</summary>
public enum OpKind
{
    Enqueue,
    Dequeue,
}

/// <summary>
/// One completed operation of a concurrent history: its call and return instants (Stopwatch ticks, one monotonic
/// clock for all threads), what it did and what it returned. For a dequeue, <see cref="Ok"/> false means "empty";
/// for an enqueue, "full".
/// </summary>
public readonly record struct Op(int Thread, OpKind Kind, long Value, bool Ok, long Start, long End);

/// <summary>
/// Per-thread recorders that together make a history. Each thread appends to its own list (no sharing while
/// recording); <see cref="Ops"/> merges them after the threads are joined.
/// </summary>
public sealed class HistoryRecorder
{
    private readonly List<Op>[] _perThread;

    public HistoryRecorder(int threads)
    {
        _perThread = new List<Op>[threads];
        for (int i = 0; i < threads; i++)
        {
            _perThread[i] = new List<Op>();
        }
    }

    public bool Enqueue(int thread, long value, Func<long, bool> op)
    {
        long start = Stopwatch.GetTimestamp();
        bool ok = op(value);
        long end = Stopwatch.GetTimestamp();
        _perThread[thread].Add(new Op(thread, OpKind.Enqueue, value, ok, start, end));
        return ok;
    }

    public delegate bool DequeueOp(out long value);

    public bool Dequeue(int thread, DequeueOp op)
    {
        long start = Stopwatch.GetTimestamp();
        bool ok = op(out long value);
        long end = Stopwatch.GetTimestamp();
        _perThread[thread].Add(new Op(thread, OpKind.Dequeue, ok ? value : 0, ok, start, end));
        return ok;
    }

    public List<Op> Ops()
    {
        var all = new List<Op>();
        foreach (List<Op> list in _perThread)
        {
            all.AddRange(list);
        }

        return all;
    }
}

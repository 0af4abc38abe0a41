using System;
using System.Collections.Generic;
using System.Threading;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool;

/// <summary>
/// The pool's delayed and periodic jobs: a binary min-heap of deadlines (ties in insertion order) under one lock,
/// served by one timer thread that parks on a <see cref="FastSemaphore"/> until the earliest deadline. Due jobs are
/// handed to the pool in deadline order, into a FIFO that its workers look at before any other queue. Deadlines are kept in
/// <see cref="TimeSpan"/> ticks since the queue was made, read from the pool's <see cref="TimeProvider"/>; with the
/// system provider the thread parks with a timeout, with any other provider it parks until a timer made by that
/// provider (for example a fake clock in tests) wakes it.
/// </summary>
/// <remarks>
/// The timer thread never runs user code: it moves jobs, and makes the run jobs of periodic schedules. The heap holds
/// (deadline, sequence, job) values, so a pending timer costs its job and one heap slot. A job in the heap carries
/// <see cref="InHeap"/> in <see cref="PoolJob.QueuedAt"/> (the field is otherwise the wait-time stamp). Cancelling is
/// O(1) and takes no lock: the canceller claims the mark with a CAS and leaves the slot behind as garbage, which the
/// timer thread drops when it reaches it; when garbage outnumbers live timers, the heap is rebuilt without it (O(n),
/// so O(1) amortized per cancel) and shrinks, so cancelled timers hold at most as much memory as live ones.
/// </remarks>
internal sealed class TimerQueue
{
    /// <summary>The <see cref="PoolJob.QueuedAt"/> of a job whose slot in the heap is live (never a wait-time stamp).</summary>
    public const uint InHeap = uint.MaxValue;

    private struct Node
    {
        public long Due;
        public long Sequence;
        public PoolJob Job;
    }

    private readonly Pool _pool;
    private readonly TimeProvider _time;
    private readonly bool _systemClock;
    private readonly long _epoch;
    private readonly Fault _faults;
    private readonly object _lock = new();
    private readonly HashSet<ScheduleJob> _schedules = [];
    private readonly FastSemaphore _signal;
    private Node[] _heap = new Node[16];
    private int _count; // written under _lock; Volatile so that a canceller's garbage check can read it without it
    private int _garbage; // slots of cancelled jobs still in the heap (changed with Interlocked: cancellers hold no lock)
    private int _pending; // live timers: delayed jobs in the heap and schedules (Interlocked: cancellers hold no lock)
    private long _sequence;
    private bool _stopped;
    private bool _wakePending;
    private long _sleepingUntil = long.MaxValue;
    private Thread? _thread;
    private ITimer? _providerTimer;

    public TimerQueue(Pool pool, TimeProvider time, ParkingBackend parking, Fault faults)
    {
        _pool = pool;
        _time = time;
        _systemClock = ReferenceEquals(time, TimeProvider.System);
        _epoch = time.GetTimestamp();
        _faults = faults;
        _signal = new FastSemaphore(0, int.MaxValue, parking);
    }

    /// <summary>Timers pending (delayed jobs not yet due, and periodic schedules not cancelled).</summary>
    public int Count => Math.Max(0, Volatile.Read(ref _pending));

    /// <summary>Live slots in the heap now.</summary>
    internal int LiveInHeap
    {
        get
        {
            lock (_lock)
            {
                return _count - Volatile.Read(ref _garbage);
            }
        }
    }

    /// <summary>The heap's array length (it shrinks as timers are cancelled).</summary>
    internal int HeapCapacity
    {
        get
        {
            lock (_lock)
            {
                return _heap.Length;
            }
        }
    }

    /// <summary>Now, in ticks since the queue was made.</summary>
    public long Now => _time.GetElapsedTime(_epoch).Ticks;

    /// <summary>The deadline <paramref name="delay"/> from now, or an exception if it is negative or too far.</summary>
    public long DeadlineAfter(TimeSpan delay, string paramName)
    {
        long now = Now;
        if (delay < TimeSpan.Zero || delay.Ticks >= long.MaxValue - now)
        {
            throw new ArgumentOutOfRangeException(paramName, delay, "The delay must be zero or positive and not overflow the clock.");
        }

        return now + delay.Ticks;
    }

    /// <summary>The deadline of the wall-clock time <paramref name="when"/> (now or later).</summary>
    public long DeadlineAt(DateTimeOffset when, string paramName)
    {
        TimeSpan delay = when - _time.GetUtcNow();
        if (delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(paramName, when, "The time is in the past.");
        }

        return DeadlineAfter(delay, paramName);
    }

    /// <summary>Adds a timer for an accepted job (registered, id taken); false if the timers have stopped.</summary>
    public bool Add(PoolJob job, long due)
    {
        bool start;
        lock (_lock)
        {
            if (_stopped)
            {
                return false;
            }

            if (job is ScheduleJob schedule)
            {
                _schedules.Add(schedule);
            }

            Interlocked.Increment(ref _pending);
            int index = Insert(job, due);
            start = _thread is null;
            if (start)
            {
                _thread = new Thread(Run);
            }
            else if (index == 0 && due < _sleepingUntil)
            {
                WakeLocked();
            }
        }

        if (start)
        {
            _thread!.Start();
        }

        return true;
    }

    /// <summary>After a job was cancelled (its state CAS won): if it holds a live slot in the heap, the slot becomes
    /// garbage. A schedule also leaves the set of schedules.</summary>
    public void Forget(PoolJob job)
    {
        if (Interlocked.CompareExchange(ref job.QueuedAt, 0, InHeap) == InHeap)
        {
            // The slot is ours to discard: the timer thread, which takes a slot with the same CAS, will drop it.
            if (job is not ScheduleJob)
            {
                Interlocked.Decrement(ref _pending);
            }

            int garbage = Interlocked.Increment(ref _garbage);
            if (garbage > 64 && garbage > Volatile.Read(ref _count) / 2)
            {
                lock (_lock)
                {
                    Compact();
                }
            }
        }

        if (job is ScheduleJob schedule)
        {
            lock (_lock)
            {
                if (_schedules.Remove(schedule))
                {
                    Interlocked.Decrement(ref _pending);
                }
            }
        }
    }

    /// <summary>Puts a fixed-delay schedule back in the heap once its run has ended.</summary>
    public void Rearm(ScheduleJob schedule, long due)
    {
        lock (_lock)
        {
            // Not if it was cancelled meanwhile (then it is no longer in _schedules), or if the timers stopped.
            if (_stopped || !_schedules.Contains(schedule) || schedule.QueuedAt == InHeap)
            {
                return;
            }

            if (Insert(schedule, due) == 0 && due < _sleepingUntil)
            {
                WakeLocked();
            }
        }
    }

    /// <summary>Stops the timers: every pending one is taken out and returned (for the pool to cancel), later
    /// additions fail, and the timer thread ends.</summary>
    public List<PoolJob> Stop()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return [];
            }

            _stopped = true;
            List<PoolJob> pending = PendingLocked();
            for (int i = 0; i < _count; i++)
            {
                Interlocked.CompareExchange(ref _heap[i].Job.QueuedAt, 0, InHeap);
            }

            Array.Clear(_heap, 0, _count);
            _count = 0;
            _garbage = 0;
            _schedules.Clear();
            Volatile.Write(ref _pending, 0);
            WakeLocked();
            return pending;
        }
    }

    /// <summary>Every pending timer's job (for <c>CancelAll(timers: true)</c>).</summary>
    public List<PoolJob> Snapshot()
    {
        lock (_lock)
        {
            return PendingLocked();
        }
    }

    private List<PoolJob> PendingLocked()
    {
        var pending = new List<PoolJob>(_schedules);
        for (int i = 0; i < _count; i++)
        {
            PoolJob job = _heap[i].Job;
            if (job is not ScheduleJob && Volatile.Read(ref job.QueuedAt) == InHeap)
            {
                pending.Add(job);
            }
        }

        return pending;
    }

    /// <summary>Waits for the timer thread to end (after <see cref="Stop"/>).</summary>
    public bool Join(int millisecondsTimeout)
    {
        Thread? thread;
        lock (_lock)
        {
            thread = _thread;
        }

        return thread is null || thread == Thread.CurrentThread || thread.Join(millisecondsTimeout);
    }

    private void WakeLocked()
    {
        if (!_wakePending)
        {
            _wakePending = true;
            _signal.Release();
        }
    }

    private void Run()
    {
        if (!_faults.Has(Fault.PlainThreads))
        {
            Thread.CurrentThread.Name = "FastThreadPool timer";
            Thread.CurrentThread.IsBackground = true;
        }

        var due = new List<PoolJob>();
        while (true)
        {
            long wait;
            lock (_lock)
            {
                _wakePending = false;
                if (_stopped)
                {
                    _providerTimer?.Dispose();
                    return;
                }

                long now = Now;
                TakeDue(now, due);
                wait = _count == 0 ? long.MaxValue : Math.Max(0, _heap[0].Due - now);
                _sleepingUntil = wait == long.MaxValue ? long.MaxValue : now + wait;
            }

            if (due.Count > 0)
            {
                _pool.FireTimers(due);
                due.Clear();
                continue; // look again: time went on while firing
            }

            if (_systemClock || wait == long.MaxValue)
            {
                // To the microsecond, rounded up: never wake before the deadline (a job runs late, never early).
                _signal.Wait(wait == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromTicks(Math.Min(wait, (int.MaxValue - 1) * TimeSpan.TicksPerMillisecond)));
            }
            else
            {
                // Another clock (a fake one in tests): let it tell us when the deadline has come. The provider's timer
                // counts from its own now at Change: set it again if the clock moved between our reading and the Change,
                // so that it fires exactly at the deadline.
                ITimer timer = _providerTimer ??= _time.CreateTimer(static s => ((TimerQueue)s!).Wake(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                long deadline = _sleepingUntil;
                long before;
                long after;
                do
                {
                    before = Now;
                    timer.Change(TimeSpan.FromTicks(Math.Max(0, deadline - before)), Timeout.InfiniteTimeSpan);
                    after = Now;
                }
                while (after != before && after < deadline);

                if (after < deadline)
                {
                    _signal.Wait();
                }
            }
        }
    }

    private void Wake()
    {
        lock (_lock)
        {
            WakeLocked();
        }
    }

    /// <summary>Moves what is due into <paramref name="due"/>, in deadline order, dropping garbage; periodic schedules
    /// get their next deadline (fixed rate) or leave the heap until their run ends (fixed delay).</summary>
    private void TakeDue(long now, List<PoolJob> due)
    {
        while (_count > 0 && _heap[0].Due <= now)
        {
            Node node = _heap[0];
            RemoveRoot();

            // The same CAS as a canceller's: whoever takes the mark owns the slot.
            if (Interlocked.CompareExchange(ref node.Job.QueuedAt, 0, InHeap) != InHeap)
            {
                Interlocked.Decrement(ref _garbage); // cancelled while waiting here
                continue;
            }

            if (node.Job is ScheduleJob schedule)
            {
                if (schedule.State != PoolJob.QueuedState)
                {
                    continue; // cancelled while out of the heap's mark (between a take and a re-insert)
                }

                due.Add(schedule);
                if (schedule.Mode == ScheduleMode.FixedRate)
                {
                    // On the grid first + k * interval, never drifting; ticks missed while late are skipped, not replayed.
                    long late = now - node.Due;
                    Insert(schedule, node.Due + (((late / schedule.Interval) + 1) * schedule.Interval));
                }
            }
            else
            {
                Interlocked.Decrement(ref _pending);
                due.Add(node.Job);
            }
        }
    }

    // ---- The heap (under _lock) ------------------------------------------------------------------------------

    private int Insert(PoolJob job, long due)
    {
        if (_count == _heap.Length)
        {
            Array.Resize(ref _heap, _count * 2);
        }

        // The mark that a canceller's CAS and Compact's read look for (they hold no lock, or read other slots' jobs).
        Volatile.Write(ref job.QueuedAt, InHeap);
        int index = _count;
        _heap[index] = new Node { Due = due, Sequence = ++_sequence, Job = job };
        Volatile.Write(ref _count, index + 1);
        return SiftUp(index);
    }

    private void RemoveRoot()
    {
        int last = _count - 1;
        Volatile.Write(ref _count, last);
        if (last > 0)
        {
            _heap[0] = _heap[last];
            SiftDown(0);
        }

        _heap[last] = default;
    }

    /// <summary>Rebuilds the heap from its live slots (Floyd's heapify, O(n)) and shrinks the array.</summary>
    private void Compact()
    {
        int live = 0;
        int dropped = 0;
        for (int i = 0; i < _count; i++)
        {
            if (Volatile.Read(ref _heap[i].Job.QueuedAt) == InHeap)
            {
                _heap[live++] = _heap[i];
            }
            else
            {
                dropped++;
            }
        }

        Array.Clear(_heap, live, _count - live);
        Volatile.Write(ref _count, live);
        Interlocked.Add(ref _garbage, -dropped);
        for (int i = (live / 2) - 1; i >= 0; i--)
        {
            SiftDown(i);
        }

        int size = 16;
        while (size < live * 2)
        {
            size *= 2;
        }

        if (size < _heap.Length)
        {
            Array.Resize(ref _heap, size);
        }
    }

    private int SiftUp(int index)
    {
        Node node = _heap[index];
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            if (!Earlier(node, _heap[parent]))
            {
                break;
            }

            _heap[index] = _heap[parent];
            index = parent;
        }

        _heap[index] = node;
        return index;
    }

    private void SiftDown(int index)
    {
        Node node = _heap[index];
        while (true)
        {
            int child = (2 * index) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && Earlier(_heap[child + 1], _heap[child]))
            {
                child++;
            }

            if (!Earlier(_heap[child], node))
            {
                break;
            }

            _heap[index] = _heap[child];
            index = child;
        }

        _heap[index] = node;
    }

    private static bool Earlier(in Node a, in Node b) => a.Due < b.Due || (a.Due == b.Due && a.Sequence < b.Sequence);
}

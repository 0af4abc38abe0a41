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
/// The timer thread never runs user code: it moves jobs, and makes the run jobs of periodic schedules. Cancelling
/// removes the entry from the heap at once (O(log n)), so cancelled timers hold no memory.
/// </remarks>
internal sealed class TimerQueue
{
    private readonly Pool _pool;
    private readonly TimeProvider _time;
    private readonly bool _systemClock;
    private readonly long _epoch;
    private readonly Fault _faults;
    private readonly object _lock = new();
    private readonly Dictionary<long, TimerEntry> _byId = new();
    private readonly FastSemaphore _signal;
    private TimerEntry[] _heap = new TimerEntry[16];
    private int _count;
    private long _sequence;
    private bool _stopped;
    private bool _wakePending;
    private long _sleepingUntil = long.MaxValue;
    private int _pending; // _byId.Count, readable without the lock
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
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byId.Count;
            }
        }
    }

    /// <summary>Entries in the heap now (a fixed-delay schedule leaves it while its run is queued or running).</summary>
    internal int HeapCount
    {
        get
        {
            lock (_lock)
            {
                return _count;
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

    /// <summary>Whether any timer may be pending (a cheap look: cancelling an ordinary job skips the lock).</summary>
    public bool HasPending => Volatile.Read(ref _pending) != 0;

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
        var entry = new TimerEntry(job);
        if (job is ScheduleJob schedule)
        {
            schedule.Entry = entry;
        }

        bool start;
        lock (_lock)
        {
            if (_stopped)
            {
                return false;
            }

            _byId.Add(job.Id, entry);
            Volatile.Write(ref _pending, _byId.Count);
            Insert(entry, due);
            start = _thread is null;
            if (start)
            {
                _thread = new Thread(Run);
            }
            else if (entry.Index == 0 && due < _sleepingUntil)
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

    /// <summary>Takes a cancelled job's timer out of the heap, if it has one.</summary>
    public void Forget(long id)
    {
        lock (_lock)
        {
            if (_byId.Remove(id, out TimerEntry? entry))
            {
                Volatile.Write(ref _pending, _byId.Count);
                if (entry.Index >= 0)
                {
                    RemoveAt(entry.Index);
                }
            }
        }
    }

    /// <summary>Puts a fixed-delay schedule back in the heap once its run has ended.</summary>
    public void Rearm(TimerEntry entry, long due)
    {
        lock (_lock)
        {
            // Not if it was cancelled meanwhile (then it is no longer in _byId), or if the timers stopped.
            if (_stopped || entry.Index >= 0 || !_byId.ContainsKey(entry.Job.Id))
            {
                return;
            }

            Insert(entry, due);
            if (entry.Index == 0 && due < _sleepingUntil)
            {
                WakeLocked();
            }
        }
    }

    /// <summary>Stops the timers: every pending one is taken out and returned (for the pool to cancel), later
    /// additions fail, and the timer thread ends.</summary>
    public List<PoolJob> Stop()
    {
        var pending = new List<PoolJob>();
        lock (_lock)
        {
            if (!_stopped)
            {
                _stopped = true;
                foreach (TimerEntry entry in _byId.Values)
                {
                    pending.Add(entry.Job);
                }

                _byId.Clear();
                Volatile.Write(ref _pending, 0);
                Array.Clear(_heap, 0, _count);
                _count = 0;
                WakeLocked();
            }
        }

        return pending;
    }

    /// <summary>Every pending timer's job (for <c>CancelAll(timers: true)</c>).</summary>
    public List<PoolJob> Snapshot()
    {
        lock (_lock)
        {
            return new List<PoolJob>(EntriesJobs());
        }
    }

    private IEnumerable<PoolJob> EntriesJobs()
    {
        foreach (TimerEntry entry in _byId.Values)
        {
            yield return entry.Job;
        }
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

        var due = new List<TimerEntry>();
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
                // Round up: never wake before the deadline (a job runs late, never early).
                int ms = wait == long.MaxValue ? Timeout.Infinite : (int)Math.Min(int.MaxValue - 1, (wait / TimeSpan.TicksPerMillisecond) + (wait % TimeSpan.TicksPerMillisecond != 0 ? 1 : 0));
                _signal.Wait(ms);
            }
            else
            {
                // Another clock (a fake one in tests): let it tell us when the deadline has come.
                // The provider's timer counts from its own now at Change: set it again if the clock moved between our
                // reading and the Change, so that it fires exactly at the deadline.
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

    /// <summary>Moves what is due into <paramref name="due"/>, in deadline order; periodic entries get their next
    /// deadline (fixed rate) or leave the heap until their run ends (fixed delay).</summary>
    private void TakeDue(long now, List<TimerEntry> due)
    {
        while (_count > 0 && _heap[0].Due <= now)
        {
            TimerEntry entry = _heap[0];
            due.Add(entry);
            if (entry.Job is ScheduleJob { Mode: ScheduleMode.FixedRate } schedule)
            {
                // On the grid first + k * interval, never drifting; ticks missed while late are skipped, not replayed.
                long late = now - entry.Due;
                long next = entry.Due + (((late / schedule.Interval) + 1) * schedule.Interval);
                RemoveAt(0);
                Insert(entry, next);
            }
            else
            {
                RemoveAt(0);
                if (entry.Job is not ScheduleJob)
                {
                    _byId.Remove(entry.Job.Id);
                    Volatile.Write(ref _pending, _byId.Count);
                }
            }
        }
    }

    // ---- The heap (under _lock) ------------------------------------------------------------------------------

    private void Insert(TimerEntry entry, long due)
    {
        entry.Due = due;
        entry.Sequence = ++_sequence;
        if (_count == _heap.Length)
        {
            Array.Resize(ref _heap, _count * 2);
        }

        _heap[_count] = entry;
        entry.Index = _count;
        _count++;
        SiftUp(entry.Index);
    }

    private void RemoveAt(int index)
    {
        TimerEntry removed = _heap[index];
        removed.Index = -1;
        _count--;
        if (index != _count)
        {
            TimerEntry last = _heap[_count];
            _heap[index] = last;
            last.Index = index;
            SiftDown(index);
            SiftUp(last.Index);
        }

        _heap[_count] = null!;
        if (_heap.Length > 64 && _count < _heap.Length / 4)
        {
            Array.Resize(ref _heap, _heap.Length / 2); // cancelled timers give their memory back
        }
    }

    private void SiftUp(int index)
    {
        TimerEntry entry = _heap[index];
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            if (!Earlier(entry, _heap[parent]))
            {
                break;
            }

            Place(_heap[parent], index);
            index = parent;
        }

        Place(entry, index);
    }

    private void SiftDown(int index)
    {
        TimerEntry entry = _heap[index];
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

            if (!Earlier(_heap[child], entry))
            {
                break;
            }

            Place(_heap[child], index);
            index = child;
        }

        Place(entry, index);
    }

    private void Place(TimerEntry entry, int index)
    {
        _heap[index] = entry;
        entry.Index = index;
    }

    private static bool Earlier(TimerEntry a, TimerEntry b) => a.Due < b.Due || (a.Due == b.Due && a.Sequence < b.Sequence);
}

/// <summary>A pending timer: a delayed job, or a periodic schedule.</summary>
internal sealed class TimerEntry(PoolJob job)
{
    public readonly PoolJob Job = job;
    public long Due;
    public long Sequence;
    public int Index = -1;
}

using System;
using System.Diagnostics;
using System.Threading;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool;

public sealed partial class Pool
{
    // Steering (PoolOptions.AdaptiveWorkers, internal and off by default): while a stream of jobs keeps the pool busy,
    // worker 0 measures the pool's throughput with k working workers and with a neighbouring number, in slices that
    // alternate between the two, and keeps the better. A stream of tiny jobs runs faster on fewer workers (each job's
    // lines move between fewer cores: pool.md section 3, the 16-core runs); a stream of heavy jobs on more.
    //
    // Workers whose index is at or above the limit rest after each job, for at most RestMs, while the lease that
    // worker 0 renews holds. Each rest ends in a look for work (the worker's loop), so every queue keeps the consumers
    // it has without a limit, at a slower pace: a resting worker takes about one job per RestMs. If worker 0 stops
    // renewing the lease (it is blocked in a job, or parked), every rest ends within the lease.
    private const int SteerEvery = 64;                                     // worker 0 reads the clock every this many jobs
    private const int RestMs = 1;                                          // the longest rest between two looks for work
    private static readonly long s_lease = Stopwatch.Frequency / 500;      // 2 ms
    private static readonly long s_slice = Stopwatch.Frequency / 4000;     // 250 us

    private readonly FastSemaphore? _restGate;
    private readonly Steering? _steering;
    private int _limit = int.MaxValue;
    private long _leaseEnd;
    private int _resting;

    /// <summary>The steering's state in one line (empty without steering), for the probe's table.</summary>
    internal string SteeringState => _steering?.ToString() ?? "";

    /// <summary>The current limit on working workers (<see cref="int.MaxValue"/>: none).</summary>
    internal int WorkerLimit => Volatile.Read(ref _limit);

    /// <summary>For tests: sets the limit and a lease of <paramref name="lease"/> from now, as worker 0 would.</summary>
    internal void HoldLimitForTests(int limit, TimeSpan lease)
    {
        Volatile.Write(ref _leaseEnd, Stopwatch.GetTimestamp() + (long)(lease.TotalSeconds * Stopwatch.Frequency));
        SetLimit(limit);
    }

    /// <summary>After each job a worker ran, with steering on.</summary>
    private void AfterJobSteered(Worker self)
    {
        if (self.Index == 0)
        {
            Steer(self);
        }
        else if (self.Index >= Volatile.Read(ref _limit)) // a look only: Rest reads it again after its full fence
        {
            Rest(self);
        }
    }

    /// <summary>Worker 0: renews the lease and moves the controller on, every <see cref="SteerEvery"/> jobs.</summary>
    private void Steer(Worker self)
    {
        if ((++self.SteerCount & (SteerEvery - 1)) != 0)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        // Read by resting workers (Rest) with no ordering against anything else: a lease seen late ends or lengthens
        // one rest of at most RestMs.
        Volatile.Write(ref _leaseEnd, now + s_lease);
        _steering!.Tick(this, now);
    }

    /// <summary>A worker at or above the limit, its deque empty: rests for at most <see cref="RestMs"/> while the
    /// lease holds, then goes back to its loop.</summary>
    private void Rest(Worker self)
    {
        if (!self.Deque.IsEmpty)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        long end = Volatile.Read(ref _leaseEnd);
        if (now >= end)
        {
            return;
        }

        // Announce the rest, then read the limit again: a full fence each side (here the increment, in SetLimit the
        // write and then the read of _resting), so a raised limit either is seen here or releases this rest.
        Interlocked.Increment(ref _resting);
        if (self.Index >= Volatile.Read(ref _limit) && Volatile.Read(ref _stopping) == 0)
        {
            self.Rests++;
            int ms = (int)Math.Min(RestMs, ((end - now) * 1000 / Stopwatch.Frequency) + 1);
            while (!_restGate!.Wait(ms) && _options.Faults.Has(Fault.RestWhileLeaseHolds)
                && Stopwatch.GetTimestamp() < Volatile.Read(ref _leaseEnd) && Volatile.Read(ref _stopping) == 0)
            {
                // Broken on purpose (systematic tests): the rest goes on while the lease holds.
            }
        }

        Interlocked.Decrement(ref _resting);
    }

    private void SetLimit(int k)
    {
        int old = _limit; // written by worker 0 only
        // A full fence between writing the limit and reading the resting count below; pairs with Rest's increment of
        // _resting before it reads the limit: a rest either sees the raised limit or is counted and released.
        Interlocked.Exchange(ref _limit, k);
        if (k > old)
        {
            // Release the resting workers, no more permits than there are rests (a rest that timed out leaves its
            // permit, and the next rest would end at once).
            int release = Volatile.Read(ref _resting) - _restGate!.CurrentCount;
            if (release > 0)
            {
                _restGate.Release(release);
            }
        }
    }

    /// <summary>Worker 0's search for the best number of working workers.</summary>
    private sealed class Steering
    {
        private const int TrialSlices = 8;   // A B B A A B B A
        private const int HoldSlices = 40;   // 10 ms at the best before the next trial

        private readonly long[] _jobs = new long[2];
        private readonly long[] _time = new long[2];
        private readonly int _max;
        private readonly int _fixed;
        private int _best;
        private int _candidate;
        private bool _down = true;
        private int _losses;
        private int _slice = -1;             // index in the trial; -1: not started; TrialSlices: holding
        private int _holdLeft;
        private long _sliceStart;
        private long _sliceEnded;
        private long _trials, _moves, _gaps, _holds;

        /// <param name="max">The pool's most workers.</param>
        /// <param name="fixedLimit">A limit to hold instead of steering (0: steer).</param>
        public Steering(int max, int fixedLimit)
        {
            _max = max;
            _fixed = fixedLimit;
            _best = max;
        }

        public override string ToString() =>
            _fixed > 0 ? $"held at {_fixed}" : $"best {_best}, trials {_trials}, moves {_moves}, gaps {_gaps}, holds {_holds}";

        public void Tick(Pool pool, long now)
        {
            if (_fixed > 0)
            {
                if (pool._limit != _fixed)
                {
                    pool.SetLimit(_fixed);
                }

                return;
            }

            if (now - _sliceStart < s_slice)
            {
                return;
            }

            long ended = pool.Sum(static w => Volatile.Read(ref w.Done) + Volatile.Read(ref w.Failed)); // jobs ended so far
            bool gap = _sliceStart == 0 || now - _sliceStart > 3 * s_slice;
            if (_slice >= 0 && _slice < TrialSlices)
            {
                if (gap)
                {
                    _gaps++; // the stream stopped for a while: measure this slice again
                }
                else
                {
                    int arm = (_slice & 1) ^ ((_slice >> 1) & 1); // A B B A A B B A
                    _jobs[arm] += ended - _sliceEnded;
                    _time[arm] += now - _sliceStart;
                    _slice++;
                    if (_slice == TrialSlices)
                    {
                        Decide();
                    }
                }
            }
            else if (_slice >= TrialSlices && --_holdLeft <= 0)
            {
                _slice = -1;
            }

            if (_slice == -1)
            {
                _candidate = Neighbour();
                _slice = _candidate == _best ? TrialSlices : 0;
                _holdLeft = HoldSlices;
            }

            _sliceStart = now;
            _sliceEnded = ended;
            int limit = _slice < TrialSlices && (_slice & 3) is 1 or 2 ? _candidate : _best;
            pool.SetLimit(limit >= _max ? int.MaxValue : limit);
        }

        private int Neighbour()
        {
            int c = _down ? Math.Max(1, _best / 2) : Math.Min(_max, _best * 2);
            if (c == _best)
            {
                _down = !_down;
                c = _down ? Math.Max(1, _best / 2) : Math.Min(_max, _best * 2);
            }

            return c;
        }

        private void Decide()
        {
            double a = (double)_jobs[0] / _time[0];
            double b = (double)_jobs[1] / _time[1];
            _jobs[0] = _jobs[1] = _time[0] = _time[1] = 0;
            _trials++;
            if (b > a * 1.03)
            {
                _moves++;
                _best = _candidate;
                _losses = 0;
                _slice = -1; // go on in the same direction at once
                return;
            }

            _down = !_down;
            if (++_losses >= 2)
            {
                _losses = 0;
                _holdLeft = HoldSlices;
                _slice = TrialSlices; // hold
                _holds++;
            }
            else
            {
                _slice = -1;
            }
        }
    }
}

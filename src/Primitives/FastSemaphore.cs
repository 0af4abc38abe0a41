using System;
using System.Runtime.CompilerServices;
using System.Threading;
using FastThreadPool.Primitives.Internal;

namespace FastThreadPool.Primitives;

/// <summary>How a <see cref="FastSemaphore"/> blocks a thread that has to wait.</summary>
public enum ParkingBackend
{
    /// <summary>The fastest correct backend available on this platform (see <see cref="FastSemaphore.DefaultBackend"/>).</summary>
    Default,

    /// <summary><see cref="Monitor.Wait(object, int)"/> on a per-thread object. Available everywhere.</summary>
    Monitor,

    /// <summary>The Linux <c>futex</c> system call on a per-thread word. Linux on x64 and arm64 only.</summary>
    Futex,
}

/// <summary>
/// A counting semaphore with one atomic instruction on its uncontended paths: the count, the number of waiting
/// threads and the number of wake-ups in flight share one 64-bit word. A waiter that finds no permit spins briefly,
/// then parks; <see cref="Release(int)"/> wakes exactly as many parked threads as it released permits for (no more
/// than are waiting), the most recently parked first.
/// </summary>
/// <remarks>
/// <para>Design and sources: the benaphore (B. Schillings; J. Preshing, "Roll Your Own Lightweight Mutex") keeps an
/// atomic count in user space and enters the kernel only to wait; U. Drepper, "Futexes Are Tricky", shows why the
/// count and the waiter bookkeeping must change together; dotnet/runtime's <c>LowLevelLifoSemaphore</c> keeps its
/// counts in one word and wakes the most recently parked thread first (its caches are warm). Here the word holds
/// <c>count</c> (bits 0-30), <c>spinners</c> (bits 31-35: threads spinning before they park), <c>waiters</c>
/// (bits 36-49: threads registered to park) and <c>signaled</c> (bits 50-63: wake-up tokens handed out and not yet
/// accounted for by a waiter). A release adds its permits and, in the same compare-and-swap, reserves
/// <c>min(waiters, count + n - spinners) - signaled</c> wake-ups (each spinner and each waiter with a token in
/// flight will take a permit without a new wake-up); a spinner leaves the spinning state by a compare-and-swap that
/// takes a permit or registers it as a waiter while the count is zero; a woken waiter, in one compare-and-swap,
/// gives back its token and takes a permit or registers to park again.</para>
/// <para>Permits are never lost or duplicated: they live only in <c>count</c>, and a waiter takes one only by a
/// compare-and-swap that sees it. A waiter whose time runs out or whose token is cancelled leaves with a
/// compare-and-swap that either takes a permit (if one is free at that instant, the wait succeeds) or unregisters
/// with <c>count == 0</c>; a wake-up token handed to it is always accounted for, so no release is left without a
/// thread to consume it while threads are parked.</para>
/// <para>Fairness: none, as for <see cref="SemaphoreSlim"/>. A thread arriving while a woken thread is on its way
/// may take the permit first (barging); the woken thread then parks again.</para>
/// <para>Spinning: a waiter that finds no permit first only reads the word for a few pausing iterations (a
/// hand-off between two threads usually completes there); then it registers as a spinner and spins on, yielding as
/// well, or, if half the processors (at most 31) already do, registers as a waiter and parks.</para>
/// <para>Limits: at most 16,383 threads may wait at once (<see cref="InvalidOperationException"/> beyond).</para>
/// </remarks>
public sealed class FastSemaphore
{
    // The word: count (bits 0-30), spinners (31-35), waiters (36-49), signaled (50-63).
    private const long CountMask = 0x7FFF_FFFFL;
    private const int SpinnersShift = 31;
    private const int WaitersShift = 36;
    private const int SignaledShift = 50;
    private const long Mask5 = 0x1F;
    private const long Mask14 = 0x3FFF;
    private const long SpinnerUnit = 1L << SpinnersShift;
    private const long WaiterUnit = 1L << WaitersShift;
    private const long SignaledUnit = 1L << SignaledShift;
    private const int MaxWaiters = (int)Mask14;

    // Spin iterations before parking: the first 10 pause with growing counts, the rest also yield the processor.
    // 35 is the runtime's own SpinWait.SpinCountforSpinBeforeWait; 10 (pausing only) lost the 2-thread ping-pong
    // to SemaphoreSlim (829 vs 622 ns per round trip on 2 cores), 35 won it (170 vs 229 ns with the futex backend); 60 was no better.
    // The first PauseIterations (SpinWait's own yield threshold: the iterations that only pause) are spent unregistered.
    private const int SpinLimit = 35;
    private const int PauseIterations = 10;

    // Threads that may spin at once (the others park at once: more spinners only fight over the word).
    private static readonly int MaxSpinners = (int)Math.Min(Mask5, Math.Max(1, Environment.ProcessorCount / 2));

    private readonly ParkingLot _lot;
    private readonly int _maxCount;
    private readonly Fault _faults;

    // Head: the word, alone on its cache lines (every operation touches it).
    private PaddedHeadAndTail _word;

    /// <summary>The backend used by <see cref="ParkingBackend.Default"/> on this platform.</summary>
    public static ParkingBackend DefaultBackend { get; } = FutexParker.Instance is not null ? ParkingBackend.Futex : ParkingBackend.Monitor;

    /// <summary>Creates a semaphore with <paramref name="initialCount"/> permits and no maximum
    /// (<see cref="int.MaxValue"/>).</summary>
    /// <param name="initialCount">Permits available at first.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="initialCount"/> is negative.</exception>
    public FastSemaphore(int initialCount)
        : this(initialCount, int.MaxValue, ParkingBackend.Default)
    {
    }

    /// <summary>Creates a semaphore with <paramref name="initialCount"/> permits and at most
    /// <paramref name="maxCount"/>.</summary>
    /// <param name="initialCount">Permits available at first.</param>
    /// <param name="maxCount">The most permits the semaphore may hold; a release beyond it throws
    /// <see cref="SemaphoreFullException"/>.</param>
    /// <param name="backend">How waiting threads block.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="initialCount"/> is negative or greater than
    /// <paramref name="maxCount"/>, <paramref name="maxCount"/> is less than 1, or <paramref name="backend"/> is not
    /// a defined value.</exception>
    /// <exception cref="PlatformNotSupportedException"><paramref name="backend"/> is
    /// <see cref="ParkingBackend.Futex"/> on a platform without it.</exception>
    public FastSemaphore(int initialCount, int maxCount, ParkingBackend backend = ParkingBackend.Default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(initialCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialCount, maxCount);
        if (backend == ParkingBackend.Default)
        {
            backend = DefaultBackend;
        }

        Parker parker = backend switch
        {
            ParkingBackend.Monitor => MonitorParker.Instance,
            ParkingBackend.Futex => FutexParker.Instance ?? throw new PlatformNotSupportedException("The futex backend needs Linux on x64 or arm64."),
            _ => throw new ArgumentOutOfRangeException(nameof(backend)),
        };
        Backend = backend;
        _maxCount = maxCount;
        _lot = new ParkingLot(parker);
        _word.Head = initialCount;
    }

    /// <summary>For tests: a semaphore on a given parker, with deliberate faults (checked on slow paths only).</summary>
    internal FastSemaphore(int initialCount, int maxCount, Parker parker, Fault faults = Fault.None)
    {
        _faults = faults;
        _maxCount = maxCount;
        _lot = new ParkingLot(parker);
        _word.Head = initialCount;
        Backend = ParkingBackend.Monitor;
    }

    /// <summary>The backend this semaphore parks with (never <see cref="ParkingBackend.Default"/>).</summary>
    public ParkingBackend Backend { get; }

    /// <summary>Permits available now.</summary>
    public int CurrentCount => Count(Volatile.Read(ref _word.Head));

    /// <summary>The most permits the semaphore may hold.</summary>
    public int MaxCount => _maxCount;

    /// <summary>Threads registered to park now (for diagnostics).</summary>
    public int WaitingCount => Waiters(Volatile.Read(ref _word.Head));

    internal ParkingLot Lot => _lot;

    internal int SignaledCount => Signaled(Volatile.Read(ref _word.Head));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Count(long s) => (int)(s & CountMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Spinners(long s) => (int)((long)((ulong)s >> SpinnersShift) & Mask5);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Waiters(long s) => (int)((long)((ulong)s >> WaitersShift) & Mask14);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Signaled(long s) => (int)((long)((ulong)s >> SignaledShift) & Mask14);

    /// <summary>Takes a permit if one is free now; never waits.</summary>
    /// <returns><see langword="true"/> if a permit was taken.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWait()
    {
        // One attempt inline; a lost race retries out of line (the loop would only burden the caller). The CAS is a
        // full fence and pairs with the releaser's CAS on the same word: what it wrote before releasing is visible here.
        long s = Volatile.Read(ref _word.Head);
        if (Count(s) == 0)
        {
            return false;
        }

        return Interlocked.CompareExchange(ref _word.Head, s - 1, s) == s || TryWaitSlow();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryWaitSlow()
    {
        long s = Volatile.Read(ref _word.Head);
        while (Count(s) > 0)
        {
            long seen = Interlocked.CompareExchange(ref _word.Head, s - 1, s);
            if (seen == s)
            {
                return true;
            }

            s = seen;
        }

        return false;
    }

    /// <summary>Takes a permit, waiting as long as it takes.</summary>
    public void Wait()
    {
        if (!TryWait())
        {
            WaitSlow(Timeout.Infinite, default);
        }
    }

    /// <summary>Takes a permit, waiting as long as it takes unless <paramref name="cancellationToken"/> is
    /// cancelled first.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before a permit
    /// was taken (no permit is taken then).</exception>
    public void Wait(CancellationToken cancellationToken) => Wait(Timeout.Infinite, cancellationToken);

    /// <summary>Takes a permit, waiting at most <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <returns><see langword="true"/> if a permit was taken; <see langword="false"/> if the time ran out (no permit is
    /// taken then).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than
    /// <see cref="Timeout.InfiniteTimeSpan"/>) or greater than <see cref="int.MaxValue"/> milliseconds.</exception>
    public bool Wait(TimeSpan timeout) => Wait(timeout, default);

    /// <summary>Takes a permit, waiting at most <paramref name="timeout"/> unless <paramref name="cancellationToken"/>
    /// is cancelled first.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> if a permit was taken; <see langword="false"/> if the time ran out.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than
    /// <see cref="Timeout.InfiniteTimeSpan"/>) or greater than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before a permit
    /// was taken.</exception>
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Kept to the microsecond (a timeout is not rounded to whole milliseconds), within the same range.
        int ms = ToMilliseconds(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        if (TryWait())
        {
            return true;
        }

        return ms != 0 && WaitSlow(ms == Timeout.Infinite ? Timeout.Infinite : (timeout.Ticks + 9) / 10, cancellationToken);
    }

    /// <summary>Takes a permit, waiting at most <paramref name="millisecondsTimeout"/> milliseconds unless
    /// <paramref name="cancellationToken"/> is cancelled first.</summary>
    /// <param name="millisecondsTimeout">How long to wait; <see cref="Timeout.Infinite"/> (-1) for no limit, 0 to
    /// not wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> if a permit was taken; <see langword="false"/> if the time ran out.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="millisecondsTimeout"/> is less than -1.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before a permit
    /// was taken (also when it already was at the call, as with <see cref="SemaphoreSlim"/>).</exception>
    public bool Wait(int millisecondsTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(millisecondsTimeout, Timeout.Infinite);
        cancellationToken.ThrowIfCancellationRequested();
        if (TryWait())
        {
            return true;
        }

        return millisecondsTimeout != 0 && WaitSlow(millisecondsTimeout == Timeout.Infinite ? Timeout.Infinite : millisecondsTimeout * 1000L, cancellationToken);
    }

    private static int ToMilliseconds(TimeSpan timeout)
    {
        long ms = (long)Math.Ceiling(timeout.TotalMilliseconds);
        if (ms < Timeout.Infinite || ms > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be Timeout.InfiniteTimeSpan or between 0 and int.MaxValue milliseconds.");
        }

        return (int)ms;
    }

    private bool WaitSlow(long microsecondsTimeout, CancellationToken cancellationToken)
    {
        long deadline = microsecondsTimeout == Timeout.Infinite ? long.MaxValue : _lot.Parker.Now + microsecondsTimeout;

        // Spin a little: a release is often only a few hundred nanoseconds away, and parking costs microseconds.
        // Spinners are counted in the word, so a release does not wake a parked thread for a permit that a spinner
        // will take: a spinner leaves the spinning state only by a CAS that takes a permit or that turns it into a
        // registered waiter while the count is zero; either CAS fails if a release came in between.
        // First look at the word without registering, for the pausing part of a SpinWait (as SemaphoreSlim does): in a
        // hand-off between two threads the permit usually comes within this window, and a waiter that only reads the
        // word leaves its cache line to the releaser until there is a permit to take. A release in this window does
        // not count us: it may reserve a wake-up for a parked thread while we take the permit, and that thread then
        // finds none and parks again (barging, as documented).
        SpinWait spinner = default;
        while (!spinner.NextSpinWillYield)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
            if (TryWait())
            {
                return true;
            }
        }

        long s = Volatile.Read(ref _word.Head);
        bool spinning = false;
        while (true)
        {
            long next;
            if (Count(s) > 0)
            {
                next = s - 1;
            }
            else if (Spinners(s) < MaxSpinners)
            {
                next = s + SpinnerUnit;
            }
            else
            {
                break;
            }

            long seen = Interlocked.CompareExchange(ref _word.Head, next, s);
            if (seen == s)
            {
                if (Count(s) > 0)
                {
                    return true;
                }

                spinning = true;
                break;
            }

            s = seen;
        }

        if (spinning)
        {
            // Registered now, so releases leave our permit to us: the rest of the spin, yielding as well.
            for (int i = PauseIterations; i < SpinLimit; i++)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                s = Volatile.Read(ref _word.Head);
                while (Count(s) > 0)
                {
                    long seen = Interlocked.CompareExchange(ref _word.Head, s - 1 - SpinnerUnit, s);
                    if (seen == s)
                    {
                        return true;
                    }

                    s = seen;
                }
            }
        }

        // Register as a waiter (leaving the spinners, if we spun), unless a permit turned up.
        s = Volatile.Read(ref _word.Head);
        long leave = spinning ? SpinnerUnit : 0;
        if (_faults.Has(Fault.RegisterWithoutRecheck))
        {
            // Broken on purpose: a release between the read above and the add below sees no waiter to wake.
            if (Count(s) > 0)
            {
                Interlocked.Add(ref _word.Head, -leave);
                if (TryWait())
                {
                    return true;
                }

                leave = 0;
            }

            Interlocked.Add(ref _word.Head, WaiterUnit - leave);
        }

        while (!_faults.Has(Fault.RegisterWithoutRecheck))
        {
            long next;
            if (Count(s) > 0)
            {
                next = s - 1 - leave;
            }
            else if (Waiters(s) == MaxWaiters)
            {
                if (spinning)
                {
                    Interlocked.Add(ref _word.Head, -SpinnerUnit);
                }

                throw new InvalidOperationException($"FastSemaphore: more than {MaxWaiters} threads waiting.");
            }
            else
            {
                next = s - leave + WaiterUnit;
            }

            long seen = Interlocked.CompareExchange(ref _word.Head, next, s);
            if (seen == s)
            {
                if (Count(s) > 0)
                {
                    return true;
                }

                break;
            }

            s = seen;
        }

        while (true)
        {
            bool woken = _lot.Park(deadline, cancellationToken);
            bool giveUp = cancellationToken.IsCancellationRequested
                || (deadline != long.MaxValue && _lot.Parker.Now >= deadline);

            // One CAS: give back the token (if any), and take a permit, leave, or stay registered.
            s = Volatile.Read(ref _word.Head);
            while (true)
            {
                long next = woken && !(giveUp && _faults.Has(Fault.DropTokenOnGiveUp)) ? s - SignaledUnit : s;
                bool take = Count(s) > 0;
                if (take)
                {
                    next = next - 1 - WaiterUnit;
                }
                else if (giveUp)
                {
                    next -= WaiterUnit;
                }

                long seen = next == s ? s : Interlocked.CompareExchange(ref _word.Head, next, s);
                if (seen == s)
                {
                    if (take)
                    {
                        return true;
                    }

                    if (giveUp)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        return false;
                    }

                    break;
                }

                s = seen;
            }
        }
    }

    /// <summary>Adds one permit, waking a parked thread if one waits.</summary>
    /// <returns>The count before the release.</returns>
    /// <exception cref="SemaphoreFullException">The count would exceed <see cref="MaxCount"/> (nothing changes).</exception>
    public int Release() => Release(1);

    /// <summary>Adds <paramref name="releaseCount"/> permits, waking up to that many parked threads.</summary>
    /// <param name="releaseCount">Permits to add, at least 1.</param>
    /// <returns>The count before the release.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="releaseCount"/> is less than 1.</exception>
    /// <exception cref="SemaphoreFullException">The count would exceed <see cref="MaxCount"/> (nothing changes).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Release(int releaseCount)
    {
        // Fast path, inline: nobody spins, waits or is being woken (every bit above the count is clear), and the
        // permits fit under the maximum. One CAS (a full fence: it publishes what this thread wrote before releasing to
        // the thread whose CAS takes the permit); anything else goes out of line.
        long s = Volatile.Read(ref _word.Head);
        if (releaseCount > 0 && (s >> SpinnersShift) == 0 && s <= (long)_maxCount - releaseCount
            && Interlocked.CompareExchange(ref _word.Head, s + releaseCount, s) == s)
        {
            return (int)s;
        }

        return ReleaseSlow(releaseCount);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int ReleaseSlow(int releaseCount)
    {
        if (releaseCount < 1)
        {
            ThrowReleaseCount(releaseCount);
        }

        long s = Volatile.Read(ref _word.Head);
        while (true)
        {
            int count = Count(s);
            if ((long)count + releaseCount > _maxCount)
            {
                throw new SemaphoreFullException($"Adding {releaseCount} permits to {count} would exceed the maximum of {_maxCount}.");
            }

            // Wake-ups to reserve. Of the permits there will be, each spinner takes one without a wake-up and each
            // waiter with a token in flight takes one; wake registered waiters for the rest, as many as there are.
            // Counting all permits (not just this release's) counts each spinner once.
            long permits = (long)count + releaseCount;
            int toWake = (int)Math.Min(Waiters(s), Math.Max(0, permits - Spinners(s))) - Signaled(s);
            toWake = Math.Max(0, toWake);
            if (toWake > 1 && _faults.Has(Fault.ReleaseWakesOne))
            {
                toWake = 1;
            }

            long next = s + releaseCount + (toWake * SignaledUnit);
            long seen = Interlocked.CompareExchange(ref _word.Head, next, s);
            if (seen == s)
            {
                if (toWake > 0)
                {
                    _lot.Wake(toWake);
                }

                return count;
            }

            s = seen;
        }
    }

    private static void ThrowReleaseCount(int releaseCount) =>
        throw new ArgumentOutOfRangeException(nameof(releaseCount), releaseCount, "At least one permit must be released.");
}

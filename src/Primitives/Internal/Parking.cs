using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace FastThreadPool.Primitives.Internal;

/// <summary>
/// How a thread blocks until it is woken: the seam between <see cref="FastSemaphore"/> and the operating system.
/// A parked thread waits on its own <see cref="ParkNode"/>; the semaphore's <see cref="ParkingLot"/> decides which
/// nodes to wake.
/// </summary>
internal abstract class Parker
{
    private static readonly long TicksPerMicrosecond = Stopwatch.Frequency / 1_000_000;
    private static readonly double MicrosecondsPerTick = 1e6 / Stopwatch.Frequency;

    /// <summary>The clock that deadlines are measured on, in microseconds (<see cref="Stopwatch"/>: fine-grained, where
    /// <see cref="Environment.TickCount64"/> moves in steps of up to 4 ms on Linux; a test backend may substitute a
    /// logical clock).</summary>
    public virtual long Now => Microseconds(Stopwatch.GetTimestamp());

    private static long Microseconds(long timestamp) =>
        TicksPerMicrosecond > 0 && Stopwatch.Frequency % 1_000_000 == 0 ? timestamp / TicksPerMicrosecond : (long)(timestamp * MicrosecondsPerTick);

    /// <summary>A node for the calling thread (cached per thread and backend).</summary>
    public abstract ParkNode NodeForCurrentThread();

    /// <summary>Blocks until <see cref="ParkNode.Word"/> is no longer <see cref="ParkNode.Waiting"/> or until
    /// <paramref name="deadline"/> (a <see cref="Now"/> value; <see cref="long.MaxValue"/> for none) passes. May return early (spuriously); callers re-check.</summary>
    public abstract void Block(ParkNode node, long deadline);

    /// <summary>Wakes the thread blocked on <paramref name="node"/> (after its state was changed).</summary>
    public abstract void Unblock(ParkNode node);
}

/// <summary>One parked thread: its wake state and its place in the parking lot's stack.</summary>
internal class ParkNode
{
    public const int Waiting = 0;
    public const int Woken = 1;
    public const int Interrupted = 2;

    /// <summary><see cref="Waiting"/>, <see cref="Woken"/> (a wake-up token was handed to this node) or
    /// <see cref="Interrupted"/> (a cancellation asks the thread to look at its token).</summary>
    public int State;

    // The parking lot's stack (most recent first), guarded by the lot's lock.
    public ParkNode? Newer;
    public ParkNode? Older;
    public bool InStack;

    /// <summary>The state word a futex waits on; for the managed backend, <see cref="State"/>.</summary>
    public virtual ref int Word => ref State;
}

/// <summary>
/// A LIFO stack of parked threads and a count of wake-ups handed out before their thread arrived. Wake-up tokens are
/// never lost: <see cref="Wake"/> gives each one to the most recently parked thread, or keeps it for the next thread
/// to park. The stack is guarded by a lock; the lock is only taken on the slow path, when a thread really parks or a
/// release really has a parked thread to wake.
/// </summary>
internal sealed class ParkingLot
{
    private readonly object _gate = new();
    private readonly Parker _parker;
    private ParkNode? _newest;
    private int _pendingTokens;

    public ParkingLot(Parker parker) => _parker = parker;

    public Parker Parker => _parker;

    /// <summary>
    /// Parks the calling thread until it takes a wake-up token (returns <see langword="true"/>), or until the
    /// deadline passes or <paramref name="token"/> is cancelled without a token for it (returns
    /// <see langword="false"/>). A token handed to this thread is always taken: if a wake races with the deadline
    /// or the cancellation, the thread reports the token.
    /// </summary>
    public bool Park(long deadline, CancellationToken token)
    {
        ParkNode node = _parker.NodeForCurrentThread();
        lock (_gate)
        {
            if (_pendingTokens > 0)
            {
                _pendingTokens--;
                return true;
            }

            // Reset under the lock before the node is visible in the stack: a waker that pops it writes Woken after.
            Volatile.Write(ref node.Word, ParkNode.Waiting);
            node.Older = _newest;
            node.Newer = null;
            if (_newest is not null)
            {
                _newest.Newer = node;
            }

            _newest = node;
            node.InStack = true;
        }

        CancellationTokenRegistration registration = default;
        if (token.CanBeCanceled)
        {
            registration = token.UnsafeRegister(static (state, _) =>
            {
                var (lot, n) = ((ParkingLot, ParkNode))state!;
                // Only a waiting node is interrupted: a CAS, so a Woken written by a waker is never overwritten.
                if (Interlocked.CompareExchange(ref n.Word, ParkNode.Interrupted, ParkNode.Waiting) == ParkNode.Waiting)
                {
                    lot._parker.Unblock(n);
                }
            }, (this, node));
        }

        try
        {
            while (true)
            {
                int state = Volatile.Read(ref node.Word);
                if (state == ParkNode.Woken)
                {
                    return true;
                }

                bool expired = deadline != long.MaxValue && _parker.Now >= deadline;
                if (state == ParkNode.Interrupted || expired || token.IsCancellationRequested)
                {
                    lock (_gate)
                    {
                        if (node.InStack)
                        {
                            Remove(node);
                            return false;
                        }
                    }

                    // A waker took the node out of the stack, and set Woken under the lock before releasing it (over
                    // Interrupted, if a cancellation came first): the token is ours.
                    return true;
                }

                _parker.Block(node, deadline);
            }
        }
        finally
        {
            // Unregister rather than Dispose: Dispose waits for a callback that is running on the cancelling thread.
            // A callback that runs late finds the node Woken (no effect) or, if this thread parks again meanwhile,
            // interrupts that park once; Park then returns false without a token and the caller parks again.
            registration.Unregister();
        }
    }

    /// <summary>Hands out <paramref name="count"/> wake-up tokens, most recently parked thread first.</summary>
    public void Wake(int count)
    {
        if (count <= 0)
        {
            return;
        }

        // Wake outside the lock, in batches. The batch is a local buffer, not a chain through the nodes: a woken
        // thread may return and park again (rewriting its node's links under the lock) before we unblock it.
        NodeBatch batch = default;
        while (true)
        {
            int taken = 0;
            lock (_gate)
            {
                while (count > 0 && taken < NodeBatch.Size && _newest is not null)
                {
                    ParkNode node = _newest;
                    Remove(node);
                    // Under the lock, before it is released: a parked thread that finds itself out of the stack (after
                    // taking the lock) sees Woken. Release: pairs with the parked thread's acquire read of Word.
                    Volatile.Write(ref node.Word, ParkNode.Woken);
                    batch[taken++] = node;
                    count--;
                }

                if (_newest is null)
                {
                    _pendingTokens += count;
                    count = 0;
                }
            }

            for (int i = 0; i < taken; i++)
            {
                _parker.Unblock(batch[i]!);
                batch[i] = null;
            }

            if (count == 0)
            {
                return;
            }
        }
    }

    [InlineArray(Size)]
    private struct NodeBatch
    {
        public const int Size = 8;

        private ParkNode? _node;
    }

    /// <summary>Threads in the stack now (for tests and diagnostics).</summary>
    public int ParkedCount
    {
        get
        {
            lock (_gate)
            {
                int n = 0;
                for (ParkNode? p = _newest; p is not null; p = p.Older)
                {
                    n++;
                }

                return n;
            }
        }
    }

    /// <summary>Tokens handed out before a thread parked to take them (for tests and diagnostics).</summary>
    public int PendingTokens
    {
        get
        {
            lock (_gate)
            {
                return _pendingTokens;
            }
        }
    }

    private void Remove(ParkNode node)
    {
        if (node.Newer is not null)
        {
            node.Newer.Older = node.Older;
        }
        else
        {
            _newest = node.Older;
        }

        if (node.Older is not null)
        {
            node.Older.Newer = node.Newer;
        }

        node.Newer = null;
        node.Older = null;
        node.InStack = false;
    }
}

/// <summary>Parks with <see cref="Monitor.Wait(object, int)"/> on the node. Works everywhere, and under Coyote.</summary>
internal sealed class MonitorParker : Parker
{
    public static readonly MonitorParker Instance = new();

    [ThreadStatic]
    private static ParkNode? t_node;

    public override ParkNode NodeForCurrentThread() => t_node ??= new ParkNode();

    public override void Block(ParkNode node, long deadline)
    {
        lock (node)
        {
            if (Volatile.Read(ref node.Word) != ParkNode.Waiting)
            {
                return;
            }

            if (deadline == long.MaxValue)
            {
                Monitor.Wait(node);
            }
            else
            {
                long left = deadline - Now;
                if (left > 0)
                {
                    Monitor.Wait(node, (int)Math.Min((left + 999) / 1000, int.MaxValue)); // rounded up to milliseconds
                }
            }
        }
    }

    public override void Unblock(ParkNode node)
    {
        lock (node)
        {
            Monitor.Pulse(node);
        }
    }
}

/// <summary>
/// Parks with the Linux <c>futex</c> system call on a word of the node in pinned memory: FUTEX_WAIT sleeps only if
/// the word still says <see cref="ParkNode.Waiting"/>, so a wake between the check and the sleep is not lost.
/// </summary>
internal sealed unsafe class FutexParker : Parker
{
    // Before Instance: static initializers run in text order, and Probe needs this.
    private static readonly long SyscallNumber = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        _ => -1,
    };

    public static readonly FutexParker? Instance = Probe();

    private const int FutexWaitPrivate = 128;
    private const int FutexWakePrivate = 129;

    [ThreadStatic]
    private static FutexNode? t_node;

    private sealed class FutexNode : ParkNode
    {
        // One pinned int per node; State above is unused by this backend.
        private readonly int[] _word = GC.AllocateArray<int>(1, pinned: true);

        public override ref int Word => ref _word[0];
    }

    public override ParkNode NodeForCurrentThread() => t_node ??= new FutexNode();

    public override void Block(ParkNode node, long deadline)
    {
        ref int word = ref node.Word;
        nint address = (nint)Unsafe.AsPointer(ref word);
        if (deadline == long.MaxValue)
        {
            Futex(address, FutexWaitPrivate, ParkNode.Waiting, null);
            return;
        }

        long left = deadline - Now;
        if (left <= 0)
        {
            return;
        }

        Timespec ts;
        ts.Seconds = left / 1_000_000;
        ts.Nanoseconds = left % 1_000_000 * 1000;
        Futex(address, FutexWaitPrivate, ParkNode.Waiting, &ts);
    }

    public override void Unblock(ParkNode node)
    {
        nint address = (nint)Unsafe.AsPointer(ref node.Word);
        Futex(address, FutexWakePrivate, 1, null);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private static long Futex(nint address, int op, int value, Timespec* timeout) =>
        Syscall(SyscallNumber, address, op, value, (nint)timeout, 0, 0);


    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long Syscall(long number, nint address, int op, int value, nint timeout, nint address2, int value3);

    private static FutexParker? Probe()
    {
        if (!OperatingSystem.IsLinux() || SyscallNumber < 0)
        {
            return null;
        }

        try
        {
            // A wake on a private word that nobody waits on returns 0 when the call works.
            int[] word = GC.AllocateArray<int>(1, pinned: true);
            return Futex((nint)Unsafe.AsPointer(ref word[0]), FutexWakePrivate, 1, null) == 0 ? new FutexParker() : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }
}

using System.Runtime.CompilerServices;

namespace FastThreadPool.Primitives.Internal;

/// <summary>
/// Deliberate faults that a systematic test may switch on, one per algorithm invariant that a test must be able
/// to see broken. Production code passes <see cref="NoHooks"/>, whose <see cref="IHooks.Faults"/> is the
/// constant <see cref="Fault.None"/>, so every <c>if (THooks.Faults.Has(...))</c> branch is removed by the JIT.
/// </summary>
[System.Flags]
internal enum Fault
{
    None = 0,

    /// <summary>Bounded queue: publish the slot's sequence before writing the item.</summary>
    PublishBeforeWrite = 1 << 0,

    /// <summary>Unbounded queue, and the bounded ring over element types without references (read before claim): the
    /// consumer reads the item after its claim, when the segment may already have been recycled and its slot cleared,
    /// or the ring's producer of the next lap may already have written the slot.</summary>
    ReadItemAfterClaim = 1 << 1,

    /// <summary>Deque: the owner's pop reads top before it stores bottom (the reordering that a missing store->load
    /// fence allows, written out so that a sequentially consistent tester can see it).</summary>
    PopReadsTopFirst = 1 << 2,

    /// <summary>Deque: the owner's pop stores bottom with a release store instead of a full fence (for native
    /// litmus tests; under a sequentially consistent tester it behaves like the correct code).</summary>
    PopWithoutFence = 1 << 3,

    /// <summary>Deque: the owner takes the last item without racing the thieves' CAS.</summary>
    PopLastWithoutCas = 1 << 4,

    /// <summary>Deque: growth publishes the new array before copying the items into it.</summary>
    PublishArrayBeforeCopy = 1 << 5,

    /// <summary>Semaphore: a waiter reads the count, and registers as a waiter with a separate atomic add instead of
    /// one compare-and-swap that sees the count still zero (the classic lost wake-up).</summary>
    RegisterWithoutRecheck = 1 << 6,

    /// <summary>Semaphore: a release of n permits wakes at most one waiter.</summary>
    ReleaseWakesOne = 1 << 7,

    /// <summary>Semaphore: a waiter that gives up (timeout or cancellation) after taking a wake-up token does not
    /// give the token back.</summary>
    DropTokenOnGiveUp = 1 << 8,

    /// <summary>Pool: <c>Cancel</c> checks that a job is queued and then marks it cancelled, without a CAS, so a
    /// worker can start it in between.</summary>
    CancelWithoutCas = 1 << 9,

    /// <summary>Not a fault: the pool leaves its worker threads' name and background flag alone, which the systematic
    /// tester cannot intercept.</summary>
    PlainThreads = 1 << 10,

    /// <summary>Pool timers: the timer thread hands due jobs over without looking at whether the pool is stopping,
    /// so a periodic run made after shutdown is queued where no worker will take it.</summary>
    FireWithoutStopCheck = 1 << 11,

    /// <summary>Pool: a worker that took a job while more work waits wakes a parked worker but never starts a new one,
    /// so with the started workers busy a job can wait for one of them to finish.</summary>
    HandOnWithoutStart = 1 << 12,

    /// <summary>Pool: a worker ends at shutdown once the shared queues and its own deque are empty, without looking at
    /// the other workers' deques or at batches on their way into them.</summary>
    EndWithoutLookingElsewhere = 1 << 13,

    /// <summary>Pool: <c>Cancel</c> compares a job's state and not its id, so a stale id cancels the job that a reused
    /// object holds now.</summary>
    CancelIgnoresId = 1 << 14,

    /// <summary>Pool: the outstanding count reads the submitted count before the ended counts, so a job that submits
    /// another and ends between the two reads makes the pool look idle while the other is queued.</summary>
    ReadSubmittedBeforeEnded = 1 << 15,

    /// <summary>Unbounded queue: a batch dequeue looks at the first slot's state only and takes the slots after it
    /// as published, so it can read a slot that a producer has claimed but not yet written.</summary>
    BatchWithoutLookingAtEachSlot = 1 << 16,

    /// <summary>Unbounded queue: a slot's state is its kind alone, without the life it was written in, so a recycled
    /// segment whose items are not cleared (a value type) shows the last life's Full slots as published.</summary>
    MarkWithoutLife = 1 << 17,

    /// <summary>Pool: a canceller claims a queued job and reads whether a worker has marked it started without the
    /// process-wide barrier in between, so the worker's mark can still sit in its store buffer while the worker reads
    /// the state before the claim (for native litmus tests; under a sequentially consistent tester it behaves like
    /// the correct code).</summary>
    CancelWithoutBarrier = 1 << 18,

    /// <summary>Pool: a worker that finds a job claimed by a canceller after its first look skips it even when the
    /// canceller, having seen the worker's mark, decided that the job runs: the job neither runs nor ends cancelled.</summary>
    StartMissesRunDecision = 1 << 19,

    /// <summary>Pool: a worker's wake-up hand-on looks only at its own deque and the shared queues, even after it
    /// stole, searched or was woken, so a job left in the deque of a worker blocked in its job can wait while another
    /// worker parks.</summary>
    HandOnOwnDequeOnly = 1 << 20,

    /// <summary>Pool steering: a worker above the limit rests for as long as the lease holds instead of for one short
    /// rest that ends in a look for work, so while the lease holds a job that needs that worker waits for the lease.</summary>
    RestWhileLeaseHolds = 1 << 21,

    /// <summary>Both queues: a consumer that stood back reads the dequeue word (the ring's head) again before its claim
    /// (to claim against the newest one), keeping the slot it looked at before the wait, so it can claim a later ticket
    /// with the item of one that another consumer took meanwhile.</summary>
    StandBackRereadsWord = 1 << 22,

    /// <summary>Unbounded queue: the fast enqueue writes the slot it addressed from the word it read before its FAA
    /// whatever word the FAA returned, so two producers that read the same word write the same slot, and the ticket
    /// the later one was handed is never written.</summary>
    EnqueueTrustsWordRead = 1 << 23,

    /// <summary>Both queues: a consumer whose second wait was answered claims its own position with the item of the
    /// position it polled (the ring's position a reach ahead, the unbounded queue's segment's last slot), which is not
    /// its own.</summary>
    ReachTakesPolledSlot = 1 << 24,
}

/// <summary>
/// The seam between an algorithm and a systematic tester. The tester's implementation inserts a scheduling point
/// at plain (non-<c>Volatile</c>, non-<c>Interlocked</c>) memory accesses, which Coyote cannot see otherwise,
/// and may switch on one <see cref="Fault"/>.
/// </summary>
internal interface IHooks
{
    /// <summary>Faults switched on; <see cref="Fault.None"/> in production.</summary>
    static abstract Fault Faults { get; }

    /// <summary>Called just before a plain shared-memory access that matters to the algorithm.</summary>
    static abstract void Interleave();
}

/// <summary>The production hooks: nothing happens, and the JIT removes every call.</summary>
internal readonly struct NoHooks : IHooks
{
    /// <inheritdoc/>
    public static Fault Faults
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Fault.None;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave()
    {
    }
}

internal static class FaultExtensions
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Has(this Fault faults, Fault fault) => (faults & fault) != 0;
}

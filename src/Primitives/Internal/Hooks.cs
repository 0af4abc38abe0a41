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

    /// <summary>Unbounded queue: the consumer reads the item after its claim, when the segment may already have been
    /// recycled and its slot cleared.</summary>
    ReadItemAfterClaim = 1 << 1,
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

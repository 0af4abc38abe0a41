using FastThreadPool.Primitives.Internal;
using Microsoft.Coyote.Runtime;

namespace FastThreadPool.Tests.Concurrency.Harness;

/// <summary>Hooks that let Coyote interleave at the algorithms' plain memory accesses; no fault.</summary>
internal readonly struct CoyoteHooks : IHooks
{
    public static Fault Faults => Fault.None;

    public static void Interleave() => SchedulingPoint.Interleave();
}

/// <summary>Coyote hooks with <see cref="Fault.PublishBeforeWrite"/> switched on.</summary>
internal readonly struct PublishBeforeWriteHooks : IHooks
{
    public static Fault Faults => Fault.PublishBeforeWrite;

    public static void Interleave() => SchedulingPoint.Interleave();
}

/// <summary>Coyote hooks with <see cref="Fault.ReadItemAfterClaim"/> switched on.</summary>
internal readonly struct ReadItemAfterClaimHooks : IHooks
{
    public static Fault Faults => Fault.ReadItemAfterClaim;

    public static void Interleave() => SchedulingPoint.Interleave();
}

/// <summary>Coyote hooks with <see cref="Fault.BatchWithoutLookingAtEachSlot"/> switched on.</summary>
internal readonly struct BatchWithoutLookingAtEachSlotHooks : IHooks
{
    public static Fault Faults => Fault.BatchWithoutLookingAtEachSlot;

    public static void Interleave() => SchedulingPoint.Interleave();
}

/// <summary>Coyote hooks with <see cref="Fault.PopReadsTopFirst"/> switched on.</summary>
internal readonly struct PopReadsTopFirstHooks : IHooks
{
    public static Fault Faults => Fault.PopReadsTopFirst;

    public static void Interleave() => SchedulingPoint.Interleave();
}

/// <summary>Coyote hooks with <see cref="Fault.PopLastWithoutCas"/> switched on.</summary>
internal readonly struct PopLastWithoutCasHooks : IHooks
{
    public static Fault Faults => Fault.PopLastWithoutCas;

    public static void Interleave() => SchedulingPoint.Interleave();
}

/// <summary>Coyote hooks with <see cref="Fault.PublishArrayBeforeCopy"/> switched on.</summary>
internal readonly struct PublishArrayBeforeCopyHooks : IHooks
{
    public static Fault Faults => Fault.PublishArrayBeforeCopy;

    public static void Interleave() => SchedulingPoint.Interleave();
}

/// <summary>Coyote hooks with <see cref="Fault.MarkWithoutLife"/> switched on.</summary>
internal readonly struct MarkWithoutLifeHooks : IHooks
{
    public static Fault Faults => Fault.MarkWithoutLife;

    public static void Interleave() => SchedulingPoint.Interleave();
}

/// <summary>Coyote hooks with <see cref="Fault.StandBackRereadsWord"/> switched on.</summary>
internal readonly struct StandBackRereadsWordHooks : IHooks
{
    public static Fault Faults => Fault.StandBackRereadsWord;

    public static void Interleave() => SchedulingPoint.Interleave();
}

/// <summary>Coyote hooks with <see cref="Fault.ReachTakesPolledSlot"/> switched on.</summary>
internal readonly struct ReachTakesPolledSlotHooks : IHooks
{
    public static Fault Faults => Fault.ReachTakesPolledSlot;

    public static void Interleave() => SchedulingPoint.Interleave();
}

/// <summary>Coyote hooks with <see cref="Fault.EnqueueTrustsWordRead"/> switched on.</summary>
internal readonly struct EnqueueTrustsWordReadHooks : IHooks
{
    public static Fault Faults => Fault.EnqueueTrustsWordRead;

    public static void Interleave() => SchedulingPoint.Interleave();
}

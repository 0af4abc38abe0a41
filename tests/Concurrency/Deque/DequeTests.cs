using FastThreadPool.Tests.Concurrency.Harness;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Deque;

public class DequeTests
{
    // The last-item race: one item, the owner pops it while a thief steals it.
    [Fact]
    public void LastItemOwnerVsOneThief() =>
        Scenario.AssertNoBug(nameof(LastItemOwnerVsOneThief),
            () => DequeScenarios.Run(new HookedDeque<CoyoteHooks>(4), prefill: "+", ownerScript: "-+-", thieves: 1, steals: 2));

    [Fact]
    public void LastItemOwnerVsTwoThieves() =>
        Scenario.AssertNoBug(nameof(LastItemOwnerVsTwoThieves),
            () => DequeScenarios.Run(new HookedDeque<CoyoteHooks>(4), prefill: "++", ownerScript: "--", thieves: 2, steals: 2));

    // Growth from 2 slots to 8 while a thief steals from the old and the new arrays.
    [Fact]
    public void StealDuringGrowth() =>
        Scenario.AssertNoBug(nameof(StealDuringGrowth),
            () => DequeScenarios.Run(new HookedDeque<CoyoteHooks>(2), prefill: "+", ownerScript: "++++-", thieves: 1, steals: 3));

    // Pops and steals on an empty deque around a push: bottom goes below top and back.
    [Fact]
    public void PopAndStealOnEmpty() =>
        Scenario.AssertNoBug(nameof(PopAndStealOnEmpty),
            () => DequeScenarios.Run(new HookedDeque<CoyoteHooks>(2), prefill: "", ownerScript: "-+--+", thieves: 2, steals: 2));

    [Fact]
    public void FindsPopLastWithoutCas() =>
        Scenario.AssertFindsBug(nameof(FindsPopLastWithoutCas),
            () => DequeScenarios.Run(new HookedDeque<PopLastWithoutCasHooks>(4), prefill: "+", ownerScript: "-+-", thieves: 1, steals: 2),
            "taken twice|took null"); // the thief takes the item again, or reads its slot after the owner cleared it

    [Fact]
    public void FindsPopReadingTopBeforeStoringBottom() =>
        Scenario.AssertFindsBug(nameof(FindsPopReadingTopBeforeStoringBottom),
            () => DequeScenarios.Run(new HookedDeque<PopReadsTopFirstHooks>(4), prefill: "++", ownerScript: "--", thieves: 2, steals: 2),
            "taken twice|took null");

    [Fact]
    public void FindsPublishArrayBeforeCopy() =>
        Scenario.AssertFindsBug(nameof(FindsPublishArrayBeforeCopy),
            () => DequeScenarios.Run(new HookedDeque<PublishArrayBeforeCopyHooks>(2), prefill: "+", ownerScript: "++++-", thieves: 1, steals: 3),
            "took null");

    // On an empty deque, the reordered pop lets the owner and a thief both take the item pushed between them.
    [Fact]
    public void FindsPopReadingTopFirstAroundEmpty() =>
        Scenario.AssertFindsBug(nameof(FindsPopReadingTopFirstAroundEmpty),
            () => DequeScenarios.Run(new HookedDeque<PopReadsTopFirstHooks>(2), prefill: "", ownerScript: "-++--", thieves: 2, steals: 2),
            "taken twice|took null");
}

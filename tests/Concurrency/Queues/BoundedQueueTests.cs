using FastThreadPool.Tests.Concurrency.Harness;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Queues;

public class BoundedQueueTests
{
    [Fact]
    public void FullEmptyBoundaryCapacity2() =>
        Scenario.AssertNoBug(nameof(FullEmptyBoundaryCapacity2),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedQueue<CoyoteHooks>(2), producers: 2, perProducer: 2, consumers: 1, consumerAttempts: 3));

    [Fact]
    public void SlotReuseAfterFullLapCapacity2() =>
        Scenario.AssertNoBug(nameof(SlotReuseAfterFullLapCapacity2),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedQueue<CoyoteHooks>(2), producers: 1, perProducer: 5, consumers: 2, consumerAttempts: 3));

    [Fact]
    public void IndicesWrapAroundLongMaxValue() =>
        Scenario.AssertNoBug(nameof(IndicesWrapAroundLongMaxValue),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedQueue<CoyoteHooks>(2, startIndex: long.MaxValue - 2), producers: 2, perProducer: 2, consumers: 2, consumerAttempts: 2));

    [Fact]
    public void NoFalseEmpty() =>
        Scenario.AssertNoBug(nameof(NoFalseEmpty), () => QueueScenarios.NoFalseEmpty(new HookedBoundedQueue<CoyoteHooks>(4)));

    // The same scenarios over a value type: the read-before-claim protocol.
    [Fact]
    public void ValueItemsFullEmptyBoundaryCapacity2() =>
        Scenario.AssertNoBug(nameof(ValueItemsFullEmptyBoundaryCapacity2),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedValueQueue<CoyoteHooks>(2), producers: 2, perProducer: 2, consumers: 1, consumerAttempts: 3));

    [Fact]
    public void ValueItemsSlotReuseAfterFullLapCapacity2() =>
        Scenario.AssertNoBug(nameof(ValueItemsSlotReuseAfterFullLapCapacity2),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedValueQueue<CoyoteHooks>(2), producers: 1, perProducer: 5, consumers: 2, consumerAttempts: 3));

    [Fact]
    public void ValueItemsTwoProducersTwoConsumersCapacity2() =>
        Scenario.AssertNoBug(nameof(ValueItemsTwoProducersTwoConsumersCapacity2),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedValueQueue<CoyoteHooks>(2), producers: 2, perProducer: 3, consumers: 2, consumerAttempts: 4));

    [Fact]
    public void ValueItemsIndicesWrapAroundLongMaxValue() =>
        Scenario.AssertNoBug(nameof(ValueItemsIndicesWrapAroundLongMaxValue),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedValueQueue<CoyoteHooks>(2, startIndex: long.MaxValue - 2), producers: 2, perProducer: 2, consumers: 2, consumerAttempts: 2));

    [Fact]
    public void ValueItemsNoFalseEmpty() =>
        Scenario.AssertNoBug(nameof(ValueItemsNoFalseEmpty), () => QueueScenarios.NoFalseEmpty(new HookedBoundedValueQueue<CoyoteHooks>(4)));

    // Capacity 4, so that a consumer stands back (its position the first of a group of four, the group's last not yet
    // published), over laps of the ring and across the wrap-around of the positions: the wait, and the quiet note it
    // leaves when nobody answers it, must not change what is taken.
    [Fact]
    public void StandingBackOverLaps() =>
        Scenario.AssertNoBug(nameof(StandingBackOverLaps),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedQueue<CoyoteHooks>(4), producers: 1, perProducer: 9, consumers: 2, consumerAttempts: 5));

    [Fact]
    public void ValueItemsStandingBackBesideTwoProducers() =>
        Scenario.AssertNoBug(nameof(ValueItemsStandingBackBesideTwoProducers),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedValueQueue<CoyoteHooks>(4), producers: 2, perProducer: 4, consumers: 2, consumerAttempts: 4));

    [Fact]
    public void ValueItemsStandingBackAcrossWrapAround() =>
        Scenario.AssertNoBug(nameof(ValueItemsStandingBackAcrossWrapAround),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedValueQueue<CoyoteHooks>(4, startIndex: long.MaxValue - 5), producers: 1, perProducer: 8, consumers: 2, consumerAttempts: 5));

    // The second wait (rings of 4,096 slots or more wait for a position 1,024 ahead; here a ring of 32 with a reach of
    // 8): a consumer whose group was filled polls the position reach - 1 past its own, and claims its own after it,
    // answered or not. Neither wait may change what is taken, with references (Vyukov's protocol) or values (read
    // before claim, positions across the wrap-around).
    [Fact]
    public void StandingBackToTheReach() =>
        Scenario.AssertNoBug(nameof(StandingBackToTheReach),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedQueue<CoyoteHooks>(32, reach: 8), producers: 1, perProducer: 12, consumers: 2, consumerAttempts: 7));

    [Fact]
    public void ValueItemsStandingBackToTheReachAcrossWrapAround() =>
        Scenario.AssertNoBug(nameof(ValueItemsStandingBackToTheReachAcrossWrapAround),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedValueQueue<CoyoteHooks>(32, startIndex: long.MaxValue - 5, reach: 8), producers: 2, perProducer: 6, consumers: 2, consumerAttempts: 7));

    // The broken variant, which only a consumer that stood back runs: after the wait it claims the head read again with
    // the slot of the position it looked at first, which the other consumer may have taken (and, with references,
    // cleared).
    [Fact]
    public void FindsStandBackRereadingHead() =>
        Scenario.AssertFindsBug(nameof(FindsStandBackRereadingHead),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedQueue<StandBackRereadsWordHooks>(4), producers: 1, perProducer: 6, consumers: 2, consumerAttempts: 4),
            "twice|order|null");

    // The broken variant of the second wait: a consumer whose wait was answered takes the item of the position it
    // polled instead of its own.
    [Fact]
    public void FindsReachTakingThePolledSlot() =>
        Scenario.AssertFindsBug(nameof(FindsReachTakingThePolledSlot),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedValueQueue<ReachTakesPolledSlotHooks>(32, reach: 8), producers: 1, perProducer: 12, consumers: 1, consumerAttempts: 13),
            "twice|order|lost");

    [Fact]
    public void FindsValueItemsPublishBeforeWrite() =>
        Scenario.AssertFindsBug(nameof(FindsValueItemsPublishBeforeWrite),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedValueQueue<PublishBeforeWriteHooks>(2), producers: 1, perProducer: 2, consumers: 1, consumerAttempts: 2),
            "dequeued null");

    // The planted bug of the read-before-claim protocol: a consumer that reads the item after its claim can read the
    // next lap's item, written by a producer that saw the head past the slot. The schedule needs a consumer preempted
    // between its claim and its read for a whole lap of the ring: under fair-prioritization the first one comes at
    // iteration 2,207-2,211 for seeds 1, 2, 3 and 5 (5 for seed 4; 5 and 34 for the scenario's two seeds), past the
    // 2,000 that planted-bug searches had before their bound became Scenario.PlantedBugIterations.
    [Fact]
    public void FindsValueItemsReadAfterClaim() =>
        Scenario.AssertFindsBug(nameof(FindsValueItemsReadAfterClaim),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedValueQueue<ReadItemAfterClaimHooks>(2), producers: 1, perProducer: 5, consumers: 2, consumerAttempts: 3),
            "twice|order|lost");

    [Fact]
    public void FindsPublishBeforeWrite() =>
        Scenario.AssertFindsBug(nameof(FindsPublishBeforeWrite),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedQueue<PublishBeforeWriteHooks>(2), producers: 1, perProducer: 2, consumers: 1, consumerAttempts: 2),
            "dequeued null");
}

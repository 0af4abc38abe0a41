using FastThreadPool.Tests.Concurrency.Harness;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Queues;

public class UnboundedQueueTests
{
    [Fact]
    public void SegmentHandOver() =>
        Scenario.AssertNoBug(nameof(SegmentHandOver),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedQueue<CoyoteHooks>(2), producers: 2, perProducer: 3, consumers: 1, consumerAttempts: 4));

    [Fact]
    public void SegmentRecyclingWithTwoConsumers() =>
        Scenario.AssertNoBug(nameof(SegmentRecyclingWithTwoConsumers),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedQueue<CoyoteHooks>(2), producers: 1, perProducer: 6, consumers: 2, consumerAttempts: 4));

    // Segments recycled through the further spares (a queue that keeps more than one): a segment may wait there
    // while late threads of its last life still touch it.
    [Fact]
    public void SegmentRecyclingThroughSpares() =>
        Scenario.AssertNoBug(nameof(SegmentRecyclingThroughSpares),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedQueue<CoyoteHooks>(2, spareSegments: 3), producers: 2, perProducer: 4, consumers: 2, consumerAttempts: 4));

    [Fact]
    public void StaleProducersAcrossLives() =>
        Scenario.AssertNoBug(nameof(StaleProducersAcrossLives),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedQueue<CoyoteHooks>(2), producers: 3, perProducer: 2, consumers: 2, consumerAttempts: 3));

    [Fact]
    public void NoFalseEmpty() =>
        Scenario.AssertNoBug(nameof(NoFalseEmpty), () => QueueScenarios.NoFalseEmpty(new HookedUnboundedQueue<CoyoteHooks>(2)));

    [Fact]
    public void FindsReadItemAfterClaim() =>
        Scenario.AssertFindsBug(nameof(FindsReadItemAfterClaim),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedQueue<ReadItemAfterClaimHooks>(2), producers: 1, perProducer: 5, consumers: 2, consumerAttempts: 3),
            "dequeued");
}

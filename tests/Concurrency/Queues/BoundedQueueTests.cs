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

    [Fact]
    public void FindsPublishBeforeWrite() =>
        Scenario.AssertFindsBug(nameof(FindsPublishBeforeWrite),
            () => QueueScenarios.ProducersConsumers(new HookedBoundedQueue<PublishBeforeWriteHooks>(2), producers: 1, perProducer: 2, consumers: 1, consumerAttempts: 2),
            "dequeued null");
}

using FastThreadPool.Guides;
using FastThreadPool.Tests.Concurrency.Harness;
using FastThreadPool.Tests.Concurrency.Queues;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Guides;

/// <summary>
/// The code of docs/guides/coyote-in-ci.md: the queue scenarios run against a user's queue. A correct queue must pass;
/// the racy ring must be caught (a lost or duplicated item), which shows the harness can fail.
/// </summary>
public class CustomQueueCoyoteTests
{
    [Fact]
    public void ALockedQueuePassesTheScenarios() =>
        Scenario.AssertNoBug(nameof(ALockedQueuePassesTheScenarios), () =>
            QueueScenarios.ProducersConsumers(new GuideLockedQueue<string>(capacity: 2), producers: 2, perProducer: 2, consumers: 2, consumerAttempts: 3));

    [Fact]
    public void TheRacyRingIsCaught() =>
        Scenario.AssertFindsBug(nameof(TheRacyRingIsCaught), () =>
            QueueScenarios.ProducersConsumers(new GuideRacyRing<string>(capacity: 4), producers: 2, perProducer: 2, consumers: 1, consumerAttempts: 4),
            "lost|twice|never enqueued|Count is|order");
}

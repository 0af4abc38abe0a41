using FastThreadPool.Guides;
using FastThreadPool.Primitives;
using FastThreadPool.Tests.Unit.Queues;
using Xunit;

namespace FastThreadPool.Tests.Unit;

/// <summary>The guides' code (docs/guides/samples) runs and gives the results the guides state.</summary>
public class GuideTests
{
    [Fact]
    public void PrimitivesGuide()
    {
        Assert.Equal(3L * (100 * 101 / 2), PrimitivesSample.QueueWithSemaphore(producers: 3, perProducer: 100));
        Assert.Equal(4, PrimitivesSample.BoundedBackPressure());
        Assert.Equal(10_000L * 10_001 / 2, PrimitivesSample.DequeOwnerAndThieves(10_000));
    }

    [Fact]
    public void CustomQueueGuide()
    {
        Assert.Equal(1000L * 1001 / 2, CustomQueueSample.PoolOnALockedQueue());
        Assert.False(CustomQueueSample.TrySubmitOnAFullQueue());
    }
}

/// <summary>What the custom-queue guide asks a user to write: the whole contract suite against their queue.</summary>
public sealed class GuideLockedQueueContractTests : QueueContractTests
{
    protected override IMpmcQueue<long> Create(int capacity) => new GuideLockedQueue<long>(capacity);

    protected override int ExpectedCapacity(int requested) => requested;
}

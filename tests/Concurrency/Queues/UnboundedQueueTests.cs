using System;
using FastThreadPool.Primitives;
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

    // Items of a value type: a recycled segment keeps them (only references are cleared) and keeps its slots' states,
    // marks of the life that ended; the new life must not take them as published.
    [Fact]
    public void ValueItemsAcrossRecycledSegments() =>
        Scenario.AssertNoBug(nameof(ValueItemsAcrossRecycledSegments),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedValueQueue<CoyoteHooks>(2), producers: 2, perProducer: 3, consumers: 2, consumerAttempts: 4));

    [Fact]
    public void ValueItemsThroughSpares() =>
        Scenario.AssertNoBug(nameof(ValueItemsThroughSpares),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedValueQueue<CoyoteHooks>(2, spareSegments: 3), producers: 1, perProducer: 6, consumers: 2, consumerAttempts: 4));

    // The broken variant: states without the life, so a recycled segment's slots look published before they are
    // written, and a consumer takes the last life's item again. The scenario's checks see that as an item taken twice,
    // or, when the consumer that takes it again has already taken a later item of the same producer, first as that
    // producer's order broken (seeds 2 and 3: "0:1 after 0:4").
    [Fact]
    public void FindsMarkWithoutLife() =>
        Scenario.AssertFindsBug(nameof(FindsMarkWithoutLife),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedValueQueue<MarkWithoutLifeHooks>(2), producers: 1, perProducer: 5, consumers: 2, consumerAttempts: 3),
            "twice|order");

    // Segments of four slots, so that a consumer stands back (its slot the first of a group of four, the group's last
    // slot not yet published), over two lives of each segment: the wait, and the quiet note it leaves when nobody
    // answers it, must not change what is taken.
    [Fact]
    public void StandingBackAcrossLives() =>
        Scenario.AssertNoBug(nameof(StandingBackAcrossLives),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedQueue<CoyoteHooks>(4), producers: 1, perProducer: 9, consumers: 2, consumerAttempts: 5));

    [Fact]
    public void StandingBackBesideTwoProducers() =>
        Scenario.AssertNoBug(nameof(StandingBackBesideTwoProducers),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedValueQueue<CoyoteHooks>(4), producers: 2, perProducer: 4, consumers: 2, consumerAttempts: 4));

    // The second wait (segments of 1,024 slots or more wait for their last slot; here segments of 8 given it): a
    // consumer whose group was filled polls its segment's last slot, and claims its own ticket after it, answered or
    // not. Neither wait may change what is taken, with references or values, over several lives of the segments; the
    // queue's note (counted in head moves) only keeps consumers from the second wait. An answered wait makes the queue
    // stream: emptied segments then go through the line of cooling segments (here reused once one other waits behind
    // them), and back to the one spare when a wait ends unanswered.
    // Each also checks that some of its schedules end with the queue streaming, so that the cooling line is explored.
    [Fact]
    public void StandingBackToTheSegmentsEnd() =>
        AssertNoBugAndSomeScheduleStreams(nameof(StandingBackToTheSegmentsEnd),
            () => new HookedUnboundedQueue<CoyoteHooks>(8, farWait: true, cooling: 1), q => q.Streaming, producers: 1, perProducer: 18, consumers: 2, consumerAttempts: 10);

    [Fact]
    public void ValueItemsStandingBackToTheSegmentsEndBesideTwoProducers() =>
        AssertNoBugAndSomeScheduleStreams(nameof(ValueItemsStandingBackToTheSegmentsEndBesideTwoProducers),
            () => new HookedUnboundedValueQueue<CoyoteHooks>(8, farWait: true, cooling: 1), q => q.Streaming, producers: 2, perProducer: 6, consumers: 2, consumerAttempts: 7);

    // The broken variant of the second wait: a consumer whose wait was answered takes the item of the slot it polled
    // (its segment's last) instead of its own.
    [Fact]
    public void FindsSegmentsEndTakingThePolledSlot() =>
        Scenario.AssertFindsBug(nameof(FindsSegmentsEndTakingThePolledSlot),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedValueQueue<ReachTakesPolledSlotHooks>(8, farWait: true), producers: 1, perProducer: 12, consumers: 1, consumerAttempts: 13),
            "twice|order|lost");

    // The broken variant, which only a consumer that stood back runs: after the wait it claims against the dequeue word
    // read again, with the item it read for the ticket it looked at first, which the other consumer may have taken. It
    // shows as an item taken twice or out of order, or as a hang: when the word read again shows the segment used up
    // (ticket = size), the broken claim takes the right to move the head and returns the item instead, so every
    // consumer waits for a head move that never comes (the fair strategies' step bound, reached first under the
    // probabilistic strategy's seeds).
    [Fact]
    public void FindsStandBackRereadingWord() =>
        Scenario.AssertFindsBug(nameof(FindsStandBackRereadingWord),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedQueue<StandBackRereadsWordHooks>(4), producers: 1, perProducer: 6, consumers: 2, consumerAttempts: 4),
            "twice|order|Scheduling steps bound");

    // The broken variant of the fast enqueue: it writes the slot it addressed from the word it read before its FAA
    // even when another producer's FAA came between the two, so both producers write one slot (one item overwritten)
    // and the ticket handed to the later one is never written. It shows as that item lost or, since consumers wait for
    // a ticket that was handed out, as every consumer waiting for it (the fair step bound).
    [Fact]
    public void FindsEnqueueTrustingTheWordRead() =>
        Scenario.AssertFindsBug(nameof(FindsEnqueueTrustingTheWordRead),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedQueue<EnqueueTrustsWordReadHooks>(4), producers: 2, perProducer: 2, consumers: 1, consumerAttempts: 3),
            "lost|twice|Scheduling steps bound");

    [Fact]
    public void NoFalseEmpty() =>
        Scenario.AssertNoBug(nameof(NoFalseEmpty), () => QueueScenarios.NoFalseEmpty(new HookedUnboundedQueue<CoyoteHooks>(2)));

    [Fact]
    public void FindsReadItemAfterClaim() =>
        Scenario.AssertFindsBug(nameof(FindsReadItemAfterClaim),
            () => QueueScenarios.ProducersConsumers(new HookedUnboundedQueue<ReadItemAfterClaimHooks>(2), producers: 1, perProducer: 5, consumers: 2, consumerAttempts: 3),
            "dequeued");

    // Batch dequeues (one claim for a run of published slots) against producers and single dequeues: runs cut short by
    // an unpublished slot, by the segment's end (segments of 2, batches of 3) and by a lost claim.
    [Fact]
    public void BatchClaimsAcrossSegments()
    {
        Scenario.AssertNoBug(nameof(BatchClaimsAcrossSegments), () =>
        {
            var queue = new HookedUnboundedQueue<CoyoteHooks>(2);
            QueueScenarios.ProducersConsumers(queue, producers: 2, perProducer: 3, consumers: 2, consumerAttempts: 4, takeMany: queue.TryDequeueMany);
        });
    }

    [Fact]
    public void BatchClaimsWithRecycling()
    {
        Scenario.AssertNoBug(nameof(BatchClaimsWithRecycling), () =>
        {
            var queue = new HookedUnboundedQueue<CoyoteHooks>(4, spareSegments: 2);
            QueueScenarios.ProducersConsumers(queue, producers: 1, perProducer: 7, consumers: 2, consumerAttempts: 4, takeMany: queue.TryDequeueMany, batch: 4);
        });
    }

    // The broken batch takes as many slots as tickets were handed out once the first is published: a slot whose
    // producer has its ticket but has not written it is read as null.
    [Fact]
    public void FindsBatchWithoutLookingAtEachSlot()
    {
        Scenario.AssertFindsBug(nameof(FindsBatchWithoutLookingAtEachSlot), () =>
        {
            var queue = new HookedUnboundedQueue<BatchWithoutLookingAtEachSlotHooks>(4);
            QueueScenarios.ProducersConsumers(queue, producers: 2, perProducer: 2, consumers: 1, consumerAttempts: 3, takeMany: queue.TryDequeueMany);
        }, "dequeued null|lost items|dequeued twice");
    }

    private static void AssertNoBugAndSomeScheduleStreams<TQueue>(string name, Func<TQueue> create, Func<TQueue, bool> streaming,
        int producers, int perProducer, int consumers, int consumerAttempts)
        where TQueue : IMpmcQueue<string>
    {
        bool streamed = false;
        Scenario.AssertNoBug(name, () =>
        {
            TQueue queue = create();
            QueueScenarios.ProducersConsumers(queue, producers, perProducer, consumers, consumerAttempts);
            streamed |= streaming(queue);
        });
        Assert.True(streamed, "no schedule ended with the queue streaming");
    }
}

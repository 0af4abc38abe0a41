using System.Collections.Generic;
using Xunit;

namespace FastThreadPool.Tests.Unit.Linearizability;

/// <summary>The checkers must accept linearizable histories and reject each kind of violation.</summary>
public class CheckerSelfTests
{
    private static Op E(int t, long v, long s, long e, bool ok = true) => new(t, OpKind.Enqueue, v, ok, s, e);

    private static Op D(int t, long v, long s, long e) => new(t, OpKind.Dequeue, v, true, s, e);

    private static Op Empty(int t, long s, long e) => new(t, OpKind.Dequeue, 0, false, s, e);

    public static IEnumerable<object[]> Good()
    {
        // Sequential FIFO.
        yield return new object[] { new List<Op> { E(0, 1, 0, 1), E(0, 2, 2, 3), D(1, 1, 4, 5), D(1, 2, 6, 7), Empty(1, 8, 9) } };

        // Overlapping enqueues may be dequeued in either order.
        yield return new object[] { new List<Op> { E(0, 1, 0, 10), E(1, 2, 1, 9), D(2, 2, 11, 12), D(2, 1, 13, 14) } };

        // An empty result overlapping the enqueue is fine.
        yield return new object[] { new List<Op> { E(0, 1, 0, 10), Empty(1, 2, 3), D(1, 1, 11, 12) } };
    }

    public static IEnumerable<object[]> Bad()
    {
        yield return new object[] { new List<Op> { D(1, 7, 0, 1) }, "VFresh" };
        yield return new object[] { new List<Op> { E(0, 1, 0, 1), D(1, 1, 2, 3), D(2, 1, 4, 5) }, "VRepet" };
        yield return new object[] { new List<Op> { E(0, 1, 0, 1), E(0, 2, 2, 3), D(1, 2, 4, 5), D(1, 1, 6, 7) }, "VOrd" };
        yield return new object[] { new List<Op> { E(0, 1, 0, 1), E(0, 2, 2, 3), D(1, 2, 4, 5) }, "VOrd" };
        yield return new object[] { new List<Op> { E(0, 1, 0, 1), Empty(1, 2, 3), D(1, 1, 4, 5) }, "VWit" };
    }

    [Theory]
    [MemberData(nameof(Good))]
    public void AcceptsLinearizable(List<Op> history)
    {
        Assert.Null(QueueLinearizability.CheckAspects(history));
        Assert.Null(QueueLinearizability.CheckExact(history));
    }

    [Theory]
    [MemberData(nameof(Bad))]
    public void RejectsViolation(List<Op> history, string aspect)
    {
        string? aspects = QueueLinearizability.CheckAspects(history);
        Assert.NotNull(aspects);
        Assert.StartsWith(aspect, aspects);
        Assert.NotNull(QueueLinearizability.CheckExact(history));
    }

    [Fact]
    public void ExactSearchKnowsCapacity()
    {
        // Capacity 1: the second enqueue can only fail if the first item is still there.
        var full = new List<Op> { E(0, 1, 0, 1), E(0, 2, 2, 3, ok: false), D(1, 1, 4, 5) };
        Assert.Null(QueueLinearizability.CheckExact(full, capacity: 1));
        var wrongFull = new List<Op> { E(0, 1, 0, 1), D(1, 1, 2, 3), E(0, 2, 4, 5, ok: false) };
        Assert.NotNull(QueueLinearizability.CheckExact(wrongFull, capacity: 1));
    }
}

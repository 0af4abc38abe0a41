using System.Runtime.CompilerServices;
using System.Threading;

namespace FastThreadPool.Primitives.Internal;

/// <summary>
/// What the queues' consumers share when they stand back from a producer they have caught up with (the fast dequeues
/// of the unbounded queue and of the bounded ring; <c>papers/mpmc-queues.md</c> §2 and §3, "Standing back"). A
/// consumer whose position is the first of a group of <see cref="Group"/>, published, while the group's last is not,
/// polls the last one until it is published, at most <see cref="Polls"/> times; a wait that nobody answers keeps the
/// queue's consumers from waiting again for the next <see cref="Quiet"/> positions. The polls only delay a consumer:
/// they decide nothing, and the reads order nothing.
/// </summary>
internal static class StandingBack
{
    /// <summary>The positions of a group: four 16-byte slots (an item of one reference or one <c>long</c>, and its
    /// state) fill 64 bytes, a cache line.</summary>
    public const int Group = 4;

    /// <summary>How many times a consumer polls the group's last position, a <c>Thread.SpinWait(1)</c> before each
    /// read.</summary>
    public const int Polls = 4;

    /// <summary>For how many positions a wait that ends unanswered keeps consumers from waiting again.</summary>
    public const int Quiet = 4096;

    /// <summary>How many positions ahead a consumer whose group was filled goes on waiting for (the bounded ring's second
    /// wait, in rings of four times as many slots or more): 1,024 eight-byte items and their sequences fill 256 cache
    /// lines, far more than a core's prefetchers run ahead of its reads.</summary>
    public const int Reach = 1024;

    /// <summary>How many times the second wait polls, a <see cref="ReachPause"/> before each read: about 13 us on the
    /// 2-core AMD machine (<c>Thread.SpinWait(4)</c> measured 105 ns there), time for a producer that takes 12 ns an
    /// item to write <see cref="Reach"/> of them.</summary>
    public const int ReachPolls = 128;

    /// <summary>The <c>Thread.SpinWait</c> iterations between two polls of the second wait.</summary>
    public const int ReachPause = 4;

    /// <summary>Polls <paramref name="state"/> until it reads <paramref name="published"/>: false if it did not within
    /// <see cref="Polls"/> reads.</summary>
    public static bool Until(ref int state, int published) => Until(ref state, published, Polls, 1);

    /// <summary>The segment size from which the unbounded queue's consumers make the second wait, for their segment's
    /// last slot: that of <see cref="Reach"/>.</summary>
    public const int FarWaitSegment = Reach;

    /// <summary>For how many positions, at most, the unbounded queue's unanswered second waits keep its consumers from
    /// another (the span doubles with each unanswered wait, from <see cref="Quiet"/>).</summary>
    public const int FarQuietMax = 1 << 20;

    /// <summary>How far past its own ticket the unbounded queue's consumer looks when its second wait ends unanswered: a
    /// producer that has published that far went on, only slower than the wait allows; one that has not, stopped. The
    /// second wait is made only by a consumer further than this from its segment's last slot, so that a producer that
    /// answers it has gone on for at least this many items: a burst of a few dozen cannot. (An eighth of a segment
    /// smaller than 1,024 slots given the wait in tests, at least 1.)</summary>
    public const int FarProgress = 128;

    /// <summary>The bytes of emptied segments that a streaming unbounded queue's reuse of a segment waits behind: a
    /// core's second-level cache here (1 MiB on the 2-core AMD machine), so that the lines a producer writes have left
    /// the consumers' caches.</summary>
    public const int CoolingBytes = 1 << 20;

    /// <summary>The most emptied segments a streaming unbounded queue's reuse waits behind (64 default segments of
    /// 16-byte slots fill <see cref="CoolingBytes"/>).</summary>
    public const int CoolingMax = 64;

    /// <summary>The unbounded queue's second wait: as <see cref="Until(ref int, int)"/>, at most
    /// <see cref="ReachPolls"/> times, <see cref="ReachPause"/> spin iterations before each read.</summary>
    public static bool UntilFar(ref int state, int published) => Until(ref state, published, ReachPolls, ReachPause);

    /// <summary>The second wait of the bounded ring: as <see cref="Until(ref long, long)"/>, at most
    /// <see cref="ReachPolls"/> times, <see cref="ReachPause"/> spin iterations before each read.</summary>
    public static bool UntilFar(ref long sequence, long published) => Until(ref sequence, published, ReachPolls, ReachPause);

    /// <summary>As <see cref="Until(ref int, int)"/>, for the bounded ring's 64-bit sequences.</summary>
    public static bool Until(ref long sequence, long published) => Until(ref sequence, published, Polls, 1);

    private static bool Until(ref int state, int published, int polls, int pause)
    {
        for (int i = 0; i < polls; i++)
        {
            Thread.SpinWait(pause);

            // Volatile so that each poll reads memory again; it orders nothing.
            if (Volatile.Read(ref state) == published)
            {
                return true;
            }
        }

        return false;
    }

    private static bool Until(ref long sequence, long published, int polls, int pause)
    {
        for (int i = 0; i < polls; i++)
        {
            Thread.SpinWait(pause);

            // Volatile so that each poll reads memory again; it orders nothing.
            if (Volatile.Read(ref sequence) == published)
            {
                return true;
            }
        }

        return false;
    }
}

using System;
using System.Threading;
using FastThreadPool.Primitives;
using FastThreadPool.Primitives.Internal;
using Xunit;
using Xunit.Abstractions;

namespace FastThreadPool.Tests.Unit.Deque;

/// <summary>The deque with its pop's full fence replaced by a release store (litmus only).</summary>
internal readonly struct PopWithoutFenceHooks : IHooks
{
    public static Fault Faults => Fault.PopWithoutFence;

    public static void Interleave()
    {
    }
}

/// <summary>
/// A native litmus test of the pop/steal race, the one place where the deque depends on a store->load fence. Each
/// round the owner pushes <see cref="Items"/> items and then pops until empty while one thief steals until empty,
/// each after a small random delay so that the two sides meet at every offset. A round in which an item is taken
/// twice (or not at all) is a violation. Coyote cannot see this bug (its schedules are sequentially consistent); the
/// hardware can: on x86 a store waits in the store buffer while later loads go ahead.
/// </summary>
internal static class DequeLitmus
{
    public const int Items = 4;

    private sealed class Shared<THooks> where THooks : struct, IHooks
    {
        public ChaseLevDeque<long, THooks> Deque = new(Items);
        public readonly long[] ThiefTook = new long[Items * 2];
        public int ThiefCount;
    }

    /// <summary>Runs the rounds (stopping rule: <see cref="LitmusRounds.Run"/>); a round in which both sides took items
    /// counts as met.</summary>
    public static LitmusResult Run<THooks>(TimeSpan duration, long maxRounds, long minContested = 0, TimeSpan? longest = null) where THooks : struct, IHooks
    {
        var s = new Shared<THooks>();
        using var thief = new LitmusPartner(_ => Steal(s));
        var counts = new int[Items];
        var ownerTook = new long[Items * 2];
        return LitmusRounds.Run(duration, maxRounds, minContested, longest, (round, rnd) =>
        {
            long basis = round * Items;
            for (int i = 0; i < Items; i++)
            {
                s.Deque.Push(basis + i);
            }

            thief.Go(round);
            LitmusPartner.Delay(rnd.Next(64));

            int ownerCount = 0;
            while (s.Deque.TryPop(out long v) && ownerCount < ownerTook.Length)
            {
                ownerTook[ownerCount++] = v;
            }

            thief.WaitFor(round);

            Array.Clear(counts);
            bool bad = false;
            for (int i = 0; i < ownerCount; i++)
            {
                bad |= Count(counts, ownerTook[i] - basis);
            }

            int thiefCount = s.ThiefCount;
            for (int i = 0; i < thiefCount; i++)
            {
                bad |= Count(counts, s.ThiefTook[i] - basis);
            }

            foreach (int c in counts)
            {
                bad |= c != 1;
            }

            string? violation = null;
            if (bad)
            {
                violation = $"round {round}: owner took [{string.Join(", ", ownerTook[..ownerCount])}], thief took [{string.Join(", ", s.ThiefTook[..thiefCount])}] of {basis}..{basis + Items - 1}";

                // Resynchronize: drain whatever is left.
                while (s.Deque.TryPop(out _))
                {
                }
            }

            return new LitmusRound(ownerCount > 0 && thiefCount > 0, violation);
        });
    }

    private static bool Count(int[] counts, long offset)
    {
        if (offset < 0 || offset >= counts.Length)
        {
            return true;
        }

        counts[offset]++;
        return false;
    }

    // The thief's side of a round: steal until the deque is seen empty.
    private static void Steal<THooks>(Shared<THooks> s) where THooks : struct, IHooks
    {
        int n = 0;
        while (n < s.ThiefTook.Length)
        {
            StealStatus status = s.Deque.Steal(out long v);
            if (status == StealStatus.Success)
            {
                s.ThiefTook[n++] = v;
            }
            else if (status == StealStatus.Empty)
            {
                break;
            }
        }

        s.ThiefCount = n;
    }
}

/// <summary>Tests that need both cores to themselves (a litmus test whose two sides must really run at once): xunit runs
/// this collection alone, never in parallel with another.</summary>
[CollectionDefinition(nameof(NeedsTheMachine), DisableParallelization = true)]
public sealed class NeedsTheMachine;

[Collection(nameof(NeedsTheMachine))]
public class DequeLitmusTests(ITestOutputHelper output)
{
    [Fact]
    public void PopStealRaceNeverTakesAnItemTwice()
    {
        DequeLitmus.Run<NoHooks>(TimeSpan.FromSeconds(2), maxRounds: 5_000_000, minContested: 1_000, longest: TimeSpan.FromSeconds(30))
            .AssertCorrect(output, "correct deque", minContested: 1_000);
    }

    /// <summary>
    /// The same litmus against the deque without its store->load fence. Not part of the normal test run (it depends
    /// on the hardware reordering within a short window); run it with <c>build.ps1 litmus</c>.
    /// </summary>
    [Fact]
    [Trait("Category", "Manual")]
    public void FenceLessPopIsCaughtOnThisMachine()
    {
        DequeLitmus.Run<PopWithoutFenceHooks>(TimeSpan.FromSeconds(20), maxRounds: long.MaxValue)
            .AssertCaught(output, "fence-less deque");
    }
}

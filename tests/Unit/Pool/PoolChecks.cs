using System;
using Xunit;

namespace FastThreadPool.Tests.Unit.Pool;

/// <summary>The pool's conservation check, shared by the pool's test classes.</summary>
internal static class PoolChecks
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Waits for the pool to be idle, then checks submitted = done + failed + cancelled and nothing pending.</summary>
    public static void AssertConserved(FastThreadPool.Pool pool)
    {
        Assert.True(pool.WaitIdle(Patience), "the pool did not become idle");
        Assert.Equal(pool.SubmittedCount, pool.DoneCount + pool.FailedCount + pool.CancelledCount);
        Assert.Equal(0, pool.Pending);
    }
}

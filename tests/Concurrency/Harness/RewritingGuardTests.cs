using System.Reflection;
using FastThreadPool.Primitives;
using Microsoft.Coyote.Rewriting;
using Xunit;

namespace FastThreadPool.Tests.Concurrency.Harness;

/// <summary>
/// Coyote's results mean nothing unless the code under test was rewritten: unrewritten Interlocked and Volatile
/// calls are invisible to it, so a correct counter can be reported buggy and a broken one pass. These tests fail
/// when the build's rewrite step (FastThreadPool.Tests.Concurrency.csproj, target CoyoteRewrite) did not run.
/// </summary>
public class RewritingGuardTests
{
    [Theory]
    [InlineData("FastThreadPool.Primitives")]
    [InlineData("FastThreadPool")]
    [InlineData("FastThreadPool.Tests.Concurrency")]
    public void AssemblyIsRewritten(string assemblyName)
    {
        Assembly assembly = assemblyName switch
        {
            "FastThreadPool.Primitives" => typeof(IMpmcQueue<>).Assembly,
            "FastThreadPool" => typeof(PoolStoppedException).Assembly,
            _ => typeof(RewritingGuardTests).Assembly,
        };

        Assert.True(RewritingEngine.IsAssemblyRewritten(assembly),
            $"{assembly.GetName().Name} is not rewritten by Coyote; run the build of tests/Concurrency (its CoyoteRewrite target).");
    }
}

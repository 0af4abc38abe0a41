using System.IO;
using Xunit;

namespace FastThreadPool.Tests.Unit;

/// <summary>Each example of <c>examples/</c> runs (with small sizes) and verifies its own result.</summary>
public class ExamplesTests
{
    [Theory]
    [InlineData("sum")]
    [InlineData("semaphore")]
    [InlineData("echo")]
    [InlineData("schedule")]
    [InlineData("init")]
    public void RunsAndVerifiesItsResult(string name)
    {
        var output = new StringWriter();
        bool ok = FastThreadPool.Examples.Program.Run(name, quick: true, output);
        Assert.True(ok, output.ToString());
    }
}

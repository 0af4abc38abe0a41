using System.Runtime.CompilerServices;
using FastThreadPool.Primitives.Internal;
using Xunit;

namespace FastThreadPool.Tests.Unit.Internal;

public class PaddingTests
{
    [Fact]
    public unsafe void HeadAndTailSitOnSeparateCacheLines()
    {
        Assert.Equal(3 * CacheLine.Size, sizeof(PaddedHeadAndTail));
        PaddedHeadAndTail p = default;
        byte* basis = (byte*)Unsafe.AsPointer(ref p);
        Assert.Equal(CacheLine.Size, (byte*)Unsafe.AsPointer(ref p.Head) - basis);
        Assert.Equal(2 * CacheLine.Size, (byte*)Unsafe.AsPointer(ref p.Tail) - basis);
    }
}

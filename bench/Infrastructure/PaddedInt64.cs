using System.Runtime.InteropServices;

namespace FastThreadPool.Benchmarks.Infrastructure;

/// <summary>
/// A 64-bit value with 64 bytes of padding on each side, so that it has its cache line to itself wherever the
/// containing object puts it. For the words that every operation of a benchmark writes (a countdown, an index): next
/// to other fields, each write would also take from the other cores the line of whatever those fields hold, and the
/// rows whose code reads them would pay for the benchmark's layout rather than for their own work.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 136)]
public struct PaddedInt64
{
    /// <summary>The value.</summary>
    [FieldOffset(64)]
    public long Value;
}

using System.Runtime.InteropServices;

namespace FastThreadPool.Primitives.Internal;

/// <summary>
/// Cache-line size used for padding. 128 bytes rather than 64: on x86-64 the adjacent-line (spatial) prefetcher
/// pulls cache lines in pairs, so two hot fields 64 bytes apart still interfere; crossbeam's
/// <c>CachePadded</c> uses 128 on x86-64 and aarch64 for the same reason (Intel 64 and IA-32 Optimization
/// Reference Manual, section 3.7.3). dotnet/runtime's <c>PaddingHelpers.CACHE_LINE_SIZE</c> is 64 on x64 and 128
/// on arm64; 128 costs a few bytes per queue and removes the question.
/// </summary>
internal static class CacheLine
{
    /// <summary>Padding unit in bytes.</summary>
    public const int Size = 128;
}

/// <summary>
/// Two 64-bit indices, each alone on its own pair of cache lines, with padding before the first so that the
/// object header and neighbouring fields of the owner cannot share its line.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 3 * CacheLine.Size)]
internal struct PaddedHeadAndTail
{
    /// <summary>Consumer index (dequeue side).</summary>
    [FieldOffset(1 * CacheLine.Size)] public long Head;

    /// <summary>Producer index (enqueue side).</summary>
    [FieldOffset(2 * CacheLine.Size)] public long Tail;

    /// <summary>Beside <see cref="Head"/>, on the consumers' line: the unbounded queue's quiet note, the dequeue word
    /// before which a consumer does not stand back.</summary>
    [FieldOffset((1 * CacheLine.Size) + sizeof(long))] public long HeadNote;
}

/// <summary>
/// The bounded ring's indices: <see cref="Head"/> and <see cref="Tail"/> as in <see cref="PaddedHeadAndTail"/>, and
/// beside the tail, on the producers' line, <see cref="HeadSeen"/>: a value the head had, which producers read
/// instead of the consumers' line.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 3 * CacheLine.Size)]
internal struct PaddedRingIndices
{
    /// <summary>Consumer index (dequeue side).</summary>
    [FieldOffset(1 * CacheLine.Size)] public long Head;

    /// <summary>Producer index (enqueue side).</summary>
    [FieldOffset(2 * CacheLine.Size)] public long Tail;

    /// <summary>A value <see cref="Head"/> had (never more than it has now), kept by producers.</summary>
    [FieldOffset((2 * CacheLine.Size) + sizeof(long))] public long HeadSeen;

    /// <summary>Beside <see cref="Head"/>, on the consumers' line: the position before which a consumer does not stand
    /// back (the ring's quiet note).</summary>
    [FieldOffset((1 * CacheLine.Size) + sizeof(long))] public long HeadNote;

    /// <summary>The ring's reach (how far ahead a consumer that stood back waits for the producers to be), written once
    /// at construction and read only by consumers that stood back: in the padding before <see cref="Head"/>, so that
    /// it costs the ring no space of its own.</summary>
    [FieldOffset(0)] public int Reach;
}

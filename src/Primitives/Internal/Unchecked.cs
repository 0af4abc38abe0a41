using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastThreadPool.Primitives.Internal;

/// <summary>
/// Array elements addressed without the array's checks, for indices that the caller keeps in range itself (masked by
/// a power-of-two length fixed at construction, or checked against the length just before). For an array of a
/// reference type, <c>ref array[i]</c> and <c>array[i] = x</c> also cost an array-covariance check (a helper call,
/// since a <c>T[]</c> may hold any subtype); these skip it too.
/// </summary>
internal static class Unchecked
{
    /// <summary>The element at <paramref name="index"/>, which must lie within <paramref name="array"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref T At<T>(T[] array, nint index) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), index);
}

using System;
using System.Diagnostics;
using System.IO;

namespace FastThreadPool.Examples;

internal static class Timing
{
    /// <summary>Times <paramref name="body"/>, prints one line and returns whether its result was right.</summary>
    public static bool Row(TextWriter output, string what, int items, Func<long> body, long expected)
    {
        var clock = Stopwatch.StartNew();
        long result = body();
        clock.Stop();
        bool ok = result == expected;
        double ns = clock.Elapsed.TotalNanoseconds / Math.Max(1, items);
        output.WriteLine($"  {what,-46} {clock.Elapsed.TotalMilliseconds,10:0.000} ms {ns,10:0.0} ns/item   result {result}{(ok ? "" : $"  WRONG, expected {expected}")}");
        return ok;
    }
}

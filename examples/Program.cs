using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace FastThreadPool.Examples;

/// <summary>
/// The original library's examples in C#, each printing a comparison and checking its own result (exit code 1 if a
/// result is wrong):
/// <c>dotnet run -c Release --project examples -- sum|semaphore|echo|schedule|init|all [--quick]</c>.
/// <c>--quick</c> runs each with small sizes (the tests use it).
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, Func<bool, TextWriter, bool>> Examples = new()
    {
        ["sum"] = SimpleSum.Run,
        ["semaphore"] = SemaphoreExample.Run,
        ["echo"] = EchoServer.Run,
        ["schedule"] = ScheduleExample.Run,
        ["init"] = InitCallback.Run,
    };

    public static int Main(string[] args)
    {
        bool quick = args.Contains("--quick");
        string which = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "all";
        IEnumerable<string> names = which == "all" ? Examples.Keys : [which];
        bool ok = true;
        foreach (string name in names)
        {
            if (!Examples.TryGetValue(name, out Func<bool, TextWriter, bool>? run))
            {
                Console.Error.WriteLine($"unknown example '{name}'; one of: {string.Join(", ", Examples.Keys)}, all");
                return 2;
            }

            Console.WriteLine($"== {name}");
            bool passed = run(quick, Console.Out);
            Console.WriteLine(passed ? $"== {name}: results verified" : $"== {name}: WRONG RESULT");
            ok &= passed;
        }

        return ok ? 0 : 1;
    }

    /// <summary>Runs one example by name (for the tests).</summary>
    public static bool Run(string name, bool quick, TextWriter output) => Examples[name](quick, output);
}

using System;
using System.Collections.Generic;
using System.Threading;

namespace FastThreadPool.Tests.Concurrency.Harness;

/// <summary>Runs bodies on threads of their own (controlled by Coyote once the assembly is rewritten).</summary>
internal static class Threads
{
    /// <summary>Starts one thread per body, then joins them all.</summary>
    public static void Run(params Action[] bodies)
    {
        var threads = new List<Thread>();
        foreach (Action body in bodies)
        {
            threads.Add(new Thread(() => body()));
        }

        foreach (Thread t in threads)
        {
            t.Start();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }
    }
}

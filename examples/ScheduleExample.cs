using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;

namespace FastThreadPool.Examples;

/// <summary>
/// The original's <c>ex_schedule</c>: two periodic jobs (one with a done callback), two jobs at a wall-clock time, a
/// delayed one; after a while one periodic job is cancelled, later every timer, then shutdown. Prints each run with
/// its time. Checked: nothing ran before its deadline, the cancelled schedule did not run after its cancel, nothing ran
/// after <c>CancelAll(timers: true)</c>, and every job is counted.
/// </summary>
internal static class ScheduleExample
{
    public static bool Run(bool quick, TextWriter output)
    {
        double scale = quick ? 0.5 : 1.0;
        TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms * scale);
        var clock = Stopwatch.StartNew();
        var runs = new List<(string Name, TimeSpan At)>();
        void Hello(string text)
        {
            lock (runs)
            {
                runs.Add((text, clock.Elapsed));
            }

            output.WriteLine($"  {clock.Elapsed.TotalMilliseconds,8:0.0} ms  {text}");
        }

        var pool = new Pool(new PoolOptions { KeepDone = false });
        DateTimeOffset start = DateTimeOffset.UtcNow - clock.Elapsed;
        long every100 = pool.Schedule(Ms(100), () => Hello("every 100 ms"));
        long every150 = pool.Schedule(Ms(150), () => Hello("every 150 ms"), done: job => output.WriteLine($"  {clock.Elapsed.TotalMilliseconds,8:0.0} ms  done: run {job.Id} of the 150 ms schedule"));
        pool.SubmitAt(start + Ms(180), () => Hello("at 180 ms"));
        pool.SubmitAt(start + Ms(380), () => Hello("at 380 ms"));
        pool.SubmitLater(Ms(190), () => Hello("190 ms later"));

        Thread.Sleep(Ms(500));
        bool cancelled = pool.Cancel(every150);
        TimeSpan cancelledAt = clock.Elapsed;
        output.WriteLine($"  {cancelledAt.TotalMilliseconds,8:0.0} ms  cancel the 150 ms schedule: {cancelled}");
        Thread.Sleep(Ms(500));
        int stopped = pool.CancelAll(timers: true);
        TimeSpan stoppedAt = clock.Elapsed;
        output.WriteLine($"  {stoppedAt.TotalMilliseconds,8:0.0} ms  cancel every timer: {stopped} stopped");
        Thread.Sleep(Ms(200));
        bool ended = pool.Shutdown(TimeSpan.FromSeconds(10));

        bool ok = ended && cancelled && stopped == 1;
        (string, TimeSpan)[] all;
        lock (runs)
        {
            all = [.. runs];
        }

        foreach ((string name, TimeSpan at) in all)
        {
            TimeSpan earliest = name switch
            {
                "at 180 ms" => Ms(180),
                "at 380 ms" => Ms(380),
                "190 ms later" => Ms(190),
                "every 100 ms" => Ms(100),
                _ => Ms(150),
            };
            ok &= at >= earliest;

            // A run that started just before a cancel may read the clock just after it: allow a margin well under
            // the next tick (100 ms away).
            ok &= !(name == "every 150 ms" && at > cancelledAt + Ms(40));
            ok &= at <= stoppedAt + Ms(40);
        }

        ok &= all.Count(r => r.Item1 == "at 180 ms") == 1 && all.Count(r => r.Item1 == "at 380 ms") == 1 && all.Count(r => r.Item1 == "190 ms later") == 1;
        ok &= all.Count(r => r.Item1 == "every 100 ms") >= 2 && all.Count(r => r.Item1 == "every 150 ms") >= 2;
        ok &= pool.SubmittedCount == pool.DoneCount + pool.FailedCount + pool.CancelledCount;
        output.WriteLine($"  {all.Length} runs; submitted {pool.SubmittedCount} = done {pool.DoneCount} + failed {pool.FailedCount} + cancelled {pool.CancelledCount}");
        return ok;
    }
}

using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Collections.Generic;
using FastThreadPool;

public static class P
{
    const int Depth = 16; const int Jobs = (1 << Depth) - 1;
    static int _remaining; static readonly ManualResetEventSlim _done = new(false);
    static Pool _pool = null!;
    static void Ran() { if (Interlocked.Decrement(ref _remaining) == 0) _done.Set(); }
    static void TPNode(int d) { if (d > 1) { ThreadPool.UnsafeQueueUserWorkItem(static s => TPNode(s), d - 1, preferLocal: true); ThreadPool.UnsafeQueueUserWorkItem(static s => TPNode(s), d - 1, preferLocal: true); } Ran(); }
    static void PNode(int d) { if (d > 1) { _pool.Submit(static s => PNode(s), d - 1); _pool.Submit(static s => PNode(s), d - 1); } Ran(); }
    static double TP() { _remaining = Jobs; _done.Reset(); var sw = Stopwatch.StartNew(); TPNode(Depth); _done.Wait(); return sw.Elapsed.TotalNanoseconds / Jobs; }
    static double PL() { _remaining = Jobs; _done.Reset(); var sw = Stopwatch.StartNew(); _pool.Submit(static s => PNode(s), Depth); _done.Wait(); return sw.Elapsed.TotalNanoseconds / Jobs; }
    public static void Main(string[] args)
    {
        _pool = new Pool(new PoolOptions { KeepDone = false });
        int rounds = int.Parse(args[0]);
        var a = new List<double>(); var b = new List<double>();
        for (int i = 0; i < 20; i++) { TP(); PL(); }
        for (int r = 0; r < rounds; r++)
        {
            var d0 = _pool.Diagnostics;
            if (r % 2 == 0) { a.Add(TP()); b.Add(PL()); } else { b.Add(PL()); a.Add(TP()); }
            var d = _pool.Diagnostics - d0;
            if (r % 3 == 0) Console.WriteLine($"TP {a[^1]:F1} Pool {b[^1]:F1}  {d}");
        }
        double M(List<double> l) { var s = l.OrderBy(x => x).ToList(); return s[s.Count / 2]; }
        var ratio = a.Zip(b, (x, y) => x / y).OrderBy(x => x).ToList();
        Console.WriteLine($"TP {M(a):F2} Pool {M(b):F2} ratio {ratio[ratio.Count/2]:F2}"); string Q(List<double> l) { var s = l.OrderBy(x => x).ToList(); return string.Join(" ", new[]{0.1,0.25,0.5,0.75,0.9}.Select(p => s[(int)(p*(s.Count-1))].ToString("F1"))); } Console.WriteLine("TP p10-p90: " + Q(a)); Console.WriteLine("Pool p10-p90: " + Q(b));
    }
}

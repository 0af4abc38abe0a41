using System.Collections.Concurrent;
using System.Diagnostics;
using FastThreadPool;
using FastThreadPool.Primitives;

const int Jobs = 100_000;
long expected = (long)(Jobs - 1) * Jobs * (2L * Jobs - 1) / 6;
static long Square(int i) => (long)i * i;
Func<int, long> square = Square;

var cq = new ConcurrentQueue<long>();
Action<int> tpEnqueue = i => cq.Enqueue(Square(i));

var poolDone = new Pool();
var poolNoDone = new Pool(new PoolOptions { KeepDone = false });
var poolDone1 = new Pool(new PoolOptions { MaxWorkers = 1 });
var uq = new UnboundedMpmcQueue<long>();
Action<int> uqEnqueue = i => uq.TryEnqueue(Square(i));
var cq2 = new ConcurrentQueue<long>();
Action<int> cq2Enqueue = i => cq2.Enqueue(Square(i));

long Drain(Func<(bool, long)> take)
{
    long sum = 0; var sw = new SpinWait();
    for (int n = 0; n < Jobs;)
    {
        var (ok, r) = take();
        if (ok) { sum += r; n++; sw = default; } else sw.SpinOnce(-1);
    }
    if (sum != expected) throw new Exception("bad sum");
    return sum;
}

var variants = new (string Name, Func<(double sub, double total)> Run)[]
{
    ("TP + CQ", () => { var t = Stopwatch.StartNew(); for (int i = 0; i < Jobs; i++) ThreadPool.UnsafeQueueUserWorkItem(tpEnqueue, i, false); double s = t.Elapsed.TotalNanoseconds;
        Drain(() => cq.TryDequeue(out long r) ? (true, r) : (false, 0)); return (s / Jobs, t.Elapsed.TotalNanoseconds / Jobs); }),
    ("Pool + Done", () => { var t = Stopwatch.StartNew(); for (int i = 0; i < Jobs; i++) poolDone.Submit(square, i); double s = t.Elapsed.TotalNanoseconds;
        Drain(() => poolDone.Done.TryDequeue(out PoolJob? j) ? (true, j.GetResult<long>()) : (false, 0)); return (s / Jobs, t.Elapsed.TotalNanoseconds / Jobs); }),
    ("Pool(1) + Done", () => { var t = Stopwatch.StartNew(); for (int i = 0; i < Jobs; i++) poolDone1.Submit(square, i); double s = t.Elapsed.TotalNanoseconds;
        Drain(() => poolDone1.Done.TryDequeue(out PoolJob? j) ? (true, j.GetResult<long>()) : (false, 0)); return (s / Jobs, t.Elapsed.TotalNanoseconds / Jobs); }),
    ("Pool + own Unbounded<long>", () => { var t = Stopwatch.StartNew(); for (int i = 0; i < Jobs; i++) poolNoDone.Submit(uqEnqueue, i); double s = t.Elapsed.TotalNanoseconds;
        Drain(() => uq.TryDequeue(out long r) ? (true, r) : (false, 0)); return (s / Jobs, t.Elapsed.TotalNanoseconds / Jobs); }),
    ("Pool + own CQ<long>", () => { var t = Stopwatch.StartNew(); for (int i = 0; i < Jobs; i++) poolNoDone.Submit(cq2Enqueue, i); double s = t.Elapsed.TotalNanoseconds;
        Drain(() => cq2.TryDequeue(out long r) ? (true, r) : (false, 0)); return (s / Jobs, t.Elapsed.TotalNanoseconds / Jobs); }),
};
double seconds = args.Length > 0 ? double.Parse(args[0]) : 20;
if (args.Length > 1) { var keep = args[1].Split(',').Select(int.Parse).ToHashSet(); variants = variants.Where((v, i) => i == 0 || keep.Contains(i)).ToArray(); }
var res = variants.Select(_ => new List<(double, double)>()).ToArray();
var rnd = new Random(1);
var gcs = new (int g0, int g1, int g2, double pause)[variants.Length];
var clock = Stopwatch.StartNew();
int rounds = 0;
while (clock.Elapsed.TotalSeconds < seconds)
{
    Thread.Sleep(5);
    foreach (int k in Enumerable.Range(0, variants.Length).OrderBy(_ => rnd.Next()))
    {
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        var pause = GC.GetTotalPauseDuration();
        res[k].Add(variants[k].Run());
        gcs[k].g0 += GC.CollectionCount(0) - g0; gcs[k].g1 += GC.CollectionCount(1) - g1; gcs[k].g2 += GC.CollectionCount(2) - g2;
        gcs[k].pause += (GC.GetTotalPauseDuration() - pause).TotalMilliseconds;
    }
    rounds++;
}
static double Med(IEnumerable<double> x) { var a = x.OrderBy(v => v).ToArray(); return a[a.Length / 2]; }
Console.WriteLine($"rounds {rounds} (first quarter dropped)");
int skip = rounds / 4;
for (int k = 0; k < variants.Length; k++)
{
    var r = res[k].Skip(skip).ToList();
    var ratios = r.Select((v, idx) => res[0][idx + skip].Item2 / v.Item2);
    Console.WriteLine($"{variants[k].Name,-28} submit {Med(r.Select(v => v.Item1)),7:F1} ns  total {Med(r.Select(v => v.Item2)),7:F1} ns  ratio vs TP {Med(ratios):F2}  per call: gen0 {gcs[k].g0/(double)rounds:F2} gen1 {gcs[k].g1/(double)rounds:F2} gen2 {gcs[k].g2/(double)rounds:F2} pause {gcs[k].pause/rounds:F3} ms");
}

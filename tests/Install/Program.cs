// The install test: a fresh console project that gets FastThreadPool only from the packages in artifacts/packages
// (FastThreadPool.Primitives comes with it as a dependency) and uses a queue, the deque, the semaphore and the pool.
using FastThreadPool;
using FastThreadPool.Primitives;

var queue = new UnboundedMpmcQueue<int>();
var bounded = new BoundedMpmcQueue<int>(2);
for (int i = 1; i <= 3; i++)
{
    queue.Enqueue(i);
    bounded.TryEnqueue(i);
}

var deque = new WorkStealingDeque<int>();
deque.Push(10);
deque.Push(20);
bool popped = deque.TryPop(out int last);
bool stolen = deque.TrySteal(out int first);

var semaphore = new FastSemaphore(0);
semaphore.Release(2);
bool waited = semaphore.Wait(TimeSpan.FromSeconds(5)) && semaphore.TryWait() && !semaphore.TryWait();

using var pool = new Pool(new PoolOptions { MaxWorkers = 2, Queue = new BoundedMpmcQueue<PoolJob>(64) });
int[] squares = pool.Map(static x => x * x, Enumerable.Range(0, 100).ToArray());
long id = pool.Submit(static () => 42);
int async = await pool.SubmitAsync(static () => 7);
pool.WaitIdle();
pool.Done.TryDequeue(out PoolJob? job);

bool ok = queue.Count == 3 && bounded.Count == 2 && popped && last == 20 && stolen && first == 10 && waited
    && squares[99] == 9801 && job?.Id == id && job.GetResult<int>() == 42 && async == 7;
pool.Shutdown();
Console.WriteLine(ok ? "install ok" : "install WRONG");
return ok ? 0 : 1;

using System.Threading;
using FastThreadPool.Primitives.Internal;
using Monitor = System.Threading.Monitor;

namespace FastThreadPool.Tests.Concurrency.Semaphore;

/// <summary>
/// The managed parking backend for Coyote: untimed blocking on the node's monitor (which Coyote controls), and
/// timeouts as a choice Coyote makes. A waiter with a deadline does not sleep: each time it would block, Coyote
/// decides whether its time has run out (the logical clock jumps to the deadline) or it looks again, so a wake-up
/// can land before, between and after those looks.
/// </summary>
internal sealed class CoyoteParker : Parker
{
    private readonly Microsoft.Coyote.Random.Generator _choice = Microsoft.Coyote.Random.Generator.Create();
    private long _now;

    public override long Now => Volatile.Read(ref _now);

    // A fresh node per park: Coyote's threads are not reused across iterations the way ThreadStatic would assume.
    public override ParkNode NodeForCurrentThread() => new();

    public override void Block(ParkNode node, long deadline)
    {
        if (deadline != long.MaxValue)
        {
            if (_choice.NextBoolean())
            {
                long now;
                while ((now = Volatile.Read(ref _now)) < deadline)
                {
                    Interlocked.CompareExchange(ref _now, deadline, now);
                }
            }

            return;
        }

        lock (node)
        {
            while (Volatile.Read(ref node.Word) == ParkNode.Waiting)
            {
                Monitor.Wait(node);
            }
        }
    }

    public override void Unblock(ParkNode node)
    {
        lock (node)
        {
            Monitor.PulseAll(node);
        }
    }
}

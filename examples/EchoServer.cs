using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace FastThreadPool.Examples;

/// <summary>
/// The original's echo server: one blocking handler per connection on the pool's workers, against an async-socket
/// server on the .NET thread pool. A load client with N connections on loopback sends a message, reads back exactly
/// as many bytes, and checks them; messages per second at 1 KiB and 4 KiB. Each server echoes exactly the bytes it
/// received (the original echoed its whole buffer, which let the client skip real round trips).
/// </summary>
internal static class EchoServer
{
    public static bool Run(bool quick, TextWriter output)
    {
        int connections = quick ? 2 : 4;
        TimeSpan duration = TimeSpan.FromMilliseconds(quick ? 300 : 2000);
        bool ok = true;
        foreach (int size in new[] { 1024, 4096 })
        {
            output.WriteLine($" {connections} connections, {size:N0}-byte messages, {duration.TotalSeconds:0.0} s each:");
            ok &= Measure(output, "Pool: a blocking handler per connection", size, connections, duration, PoolServer);
            ok &= Measure(output, "async sockets on the .NET thread pool", size, connections, duration, AsyncServer);
        }

        return ok;
    }

    private static bool Measure(TextWriter output, string name, int size, int connections, TimeSpan duration, Func<Socket, int, IDisposable> start)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(connections);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        using IDisposable server = start(listener, connections);

        long roundTrips = 0;
        int wrong = 0;
        using var stop = new CancellationTokenSource(duration);
        var clients = new Thread[connections];
        for (int c = 0; c < connections; c++)
        {
            int seed = c;
            clients[c] = new Thread(() =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Connect(endPoint);
                var message = new byte[size];
                var reply = new byte[size];
                new Random(seed).NextBytes(message);
                long mine = 0;
                while (!stop.IsCancellationRequested)
                {
                    message[0] = (byte)mine;
                    socket.Send(message);
                    int got = 0;
                    while (got < size)
                    {
                        int n = socket.Receive(reply, got, size - got, SocketFlags.None);
                        if (n == 0)
                        {
                            Interlocked.Increment(ref wrong);
                            return;
                        }

                        got += n;
                    }

                    if (!reply.AsSpan().SequenceEqual(message))
                    {
                        Interlocked.Increment(ref wrong);
                    }

                    mine++;
                }

                Interlocked.Add(ref roundTrips, mine);
                socket.Shutdown(SocketShutdown.Both);
            });
        }

        var clock = Stopwatch.StartNew();
        foreach (Thread t in clients)
        {
            t.Start();
        }

        foreach (Thread t in clients)
        {
            t.Join();
        }

        clock.Stop();
        output.WriteLine($"  {name,-46} {roundTrips / clock.Elapsed.TotalSeconds,12:N0} messages/s   {(wrong == 0 ? "every echo exact" : $"{wrong} WRONG echoes")}");
        return wrong == 0 && roundTrips > 0;
    }

    private static void Echo(Socket socket)
    {
        using (socket)
        {
            socket.NoDelay = true;
            var buffer = new byte[64 * 1024];
            while (true)
            {
                int n;
                try
                {
                    n = socket.Receive(buffer);
                }
                catch (SocketException)
                {
                    return;
                }

                if (n == 0)
                {
                    return;
                }

                socket.Send(buffer, 0, n, SocketFlags.None); // exactly what was received (Send sends it all)
            }
        }
    }

    private sealed class Stopper(Action stop) : IDisposable
    {
        public void Dispose() => stop();
    }

    private static IDisposable PoolServer(Socket listener, int connections)
    {
        var pool = new Pool(new PoolOptions { MaxWorkers = connections, KeepDone = false, WorkerNamePrefix = "echo" });
        var acceptor = new Thread(() =>
        {
            for (int i = 0; i < connections; i++)
            {
                Socket client = listener.Accept();
                pool.Submit(static s => Echo(s), client);
            }
        })
        { IsBackground = true };
        acceptor.Start();
        return new Stopper(() =>
        {
            acceptor.Join();
            pool.Shutdown(TimeSpan.FromSeconds(10));
        });
    }

    private static IDisposable AsyncServer(Socket listener, int connections)
    {
        Task serving = Task.Run(async () =>
        {
            var handlers = new Task[connections];
            for (int i = 0; i < connections; i++)
            {
                Socket client = await listener.AcceptAsync().ConfigureAwait(false);
                handlers[i] = Task.Run(() => EchoAsync(client));
            }

            await Task.WhenAll(handlers).ConfigureAwait(false);
        });
        return new Stopper(() => serving.Wait(TimeSpan.FromSeconds(10)));
    }

    private static async Task EchoAsync(Socket socket)
    {
        using (socket)
        {
            socket.NoDelay = true;
            var buffer = new byte[64 * 1024];
            while (true)
            {
                int n;
                try
                {
                    n = await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                }
                catch (SocketException)
                {
                    return;
                }

                if (n == 0)
                {
                    return;
                }

                int sent = 0;
                while (sent < n)
                {
                    sent += await socket.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None).ConfigureAwait(false);
                }
            }
        }
    }
}

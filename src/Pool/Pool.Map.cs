using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace FastThreadPool;

public sealed partial class Pool
{
    /// <summary>
    /// Runs <paramref name="worker"/> over every item, spread across the workers in chunks, and returns the results in
    /// input order (the original's <c>map</c>, whose results went to the done queue). The calling thread takes chunks
    /// too, so this also works from inside one of the pool's jobs. Per item it costs one delegate call; per chunk,
    /// one atomic increment.
    /// </summary>
    /// <typeparam name="TIn">The item type.</typeparam>
    /// <typeparam name="TOut">The result type.</typeparam>
    /// <param name="worker">Runs once per item.</param>
    /// <param name="items">The items; arrays and lists are read in place, other sequences are copied first.</param>
    /// <param name="chunkSize">Items per chunk; 0 picks one (about eight chunks per worker, at most 4,096 items).</param>
    /// <returns>The results, <c>results[i] = worker(items[i])</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="worker"/> or <paramref name="items"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkSize"/> is negative.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    /// <remarks>If the worker throws for an item, no further chunks are started and the first exception is rethrown
    /// here once the chunks in flight have ended.</remarks>
    public TOut[] Map<TIn, TOut>(Func<TIn, TOut> worker, IEnumerable<TIn> items, int chunkSize = 0)
    {
        ArgumentNullException.ThrowIfNull(worker);
        MapBatch<TIn, TOut> batch = StartMap(worker, items, chunkSize, null, null);
        batch.RunChunks();
        batch.WaitAll();
        return batch.Results!;
    }

    /// <summary>
    /// As <see cref="Map{TIn, TOut}(Func{TIn, TOut}, IEnumerable{TIn}, int)"/>, writing the results into the caller's
    /// array instead of a new one: <c>results[i] = worker(items[i])</c>. For arrays and lists of items nothing is
    /// allocated per item, and the call itself allocates only its bookkeeping (a few hundred bytes), so a loop of
    /// maps over large inputs does not allocate, and fault in, a new large array each time.
    /// </summary>
    /// <typeparam name="TIn">The item type.</typeparam>
    /// <typeparam name="TOut">The result type.</typeparam>
    /// <param name="worker">Runs once per item.</param>
    /// <param name="items">The items; arrays and lists are read in place, other sequences are copied first.</param>
    /// <param name="results">Receives the results; at least as long as <paramref name="items"/> (entries past the
    /// items' count are left alone).</param>
    /// <param name="chunkSize">Items per chunk; 0 picks one (about eight chunks per worker, at most 4,096 items).</param>
    /// <exception cref="ArgumentNullException"><paramref name="worker"/>, <paramref name="items"/> or
    /// <paramref name="results"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkSize"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="items"/>.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    /// <remarks>If the worker throws for an item, no further chunks are started and the first exception is rethrown
    /// here once the chunks in flight have ended; the results of the chunks that ran are written.</remarks>
    public void MapInto<TIn, TOut>(Func<TIn, TOut> worker, IEnumerable<TIn> items, TOut[] results, int chunkSize = 0)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(results);
        IList<TIn> list = items as IList<TIn> ?? new List<TIn>(items);
        if (results.Length < list.Count)
        {
            throw new ArgumentException($"The results array holds {results.Length} items; the map has {list.Count}.", nameof(results));
        }

        MapBatch<TIn, TOut> batch = StartMap(worker, list, chunkSize, null, results);
        batch.RunChunks();
        batch.WaitAll();
    }

    /// <summary>
    /// Runs <paramref name="worker"/> over every item in chunks across the workers and hands each result to
    /// <paramref name="done"/> (in the worker thread that computed it, in no particular order), like the original's
    /// <c>map</c> with a done callback. Returns once the chunks are queued; <see cref="WaitIdle()"/> waits for them.
    /// </summary>
    /// <typeparam name="TIn">The item type.</typeparam>
    /// <typeparam name="TOut">The result type.</typeparam>
    /// <param name="worker">Runs once per item.</param>
    /// <param name="items">The items; arrays and lists are read in place (do not change them until the map ends),
    /// other sequences are copied first.</param>
    /// <param name="done">Receives each result.</param>
    /// <param name="chunkSize">Items per chunk; 0 picks one.</param>
    /// <returns>The number of helper jobs queued (each counts as one job; an exception from the worker or the callback
    /// fails its helper job, which stops taking chunks, and is reported in <see cref="Failed"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="worker"/>, <paramref name="items"/> or
    /// <paramref name="done"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkSize"/> is negative.</exception>
    /// <exception cref="PoolStoppedException">The pool is shutting down or has shut down.</exception>
    public int Map<TIn, TOut>(Func<TIn, TOut> worker, IEnumerable<TIn> items, Action<TOut> done, int chunkSize = 0)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(done);
        return StartMap(worker, items, chunkSize, done, null).Helpers;
    }

    private MapBatch<TIn, TOut> StartMap<TIn, TOut>(Func<TIn, TOut> worker, IEnumerable<TIn> items, int chunkSize, Action<TOut>? done, TOut[]? into)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfNegative(chunkSize);
        if (IsStopping)
        {
            throw new PoolStoppedException();
        }

        IList<TIn> list = items as IList<TIn> ?? new List<TIn>(items);
        int count = list.Count;

        int workers = _workers.Length;
        if (chunkSize == 0)
        {
            chunkSize = Math.Clamp(count / (workers * 8), 1, 4096);
        }

        var batch = new MapBatch<TIn, TOut>(list, worker, done, count, chunkSize, into);

        // Helpers: one per worker at most, fewer for few chunks. The caller of the ordered map takes chunks too, so it
        // gets one helper fewer: with a worker per core, the caller and every worker would be one thread more than
        // the cores, and a thread descheduled while it holds a chunk delays the whole map by a time slice.
        int helpers = done is null
            ? Math.Min(Math.Max(1, workers - 1), batch.Chunks - 1)
            : Math.Min(workers, batch.Chunks);
        for (int i = 0; i < helpers; i++)
        {
            Accept(new MapHelperJob<TIn, TOut>(batch), first: false);
            batch.Helpers++;
        }

        return batch;
    }

    /// <summary>A helper job: takes chunks of a map until none are left.</summary>
    private sealed class MapHelperJob<TIn, TOut>(MapBatch<TIn, TOut> batch) : PoolJob(null)
    {
        public override object? Argument => null;

        public override object? Result => null;

        internal override bool Reported => false;

        private protected override void Invoke() => batch.RunChunks();
    }

    private sealed class MapBatch<TIn, TOut>
    {
        private readonly IList<TIn> _items;
        private readonly TIn[]? _array;
        private readonly Func<TIn, TOut> _worker;
        private readonly Action<TOut>? _done;
        private readonly int _count;
        private readonly int _chunkSize;
        private const int Stopped = int.MaxValue / 2;
        private int _nextChunk;
        private int _pendingChunks;
        private ExceptionDispatchInfo? _error;

        public MapBatch(IList<TIn> items, Func<TIn, TOut> worker, Action<TOut>? done, int count, int chunkSize, TOut[]? into)
        {
            _items = items;
            _array = items as TIn[];
            _worker = worker;
            _done = done;
            _count = count;
            _chunkSize = chunkSize;
            Chunks = (int)(((long)count + chunkSize - 1) / chunkSize);
            _pendingChunks = Chunks;
            Results = done is null ? into ?? new TOut[count] : null;
        }

        public int Chunks { get; }

        public int Helpers { get; set; }

        public TOut[]? Results { get; }

        /// <summary>Takes and runs chunks until none are left (or one failed).</summary>
        public void RunChunks()
        {
            while (true)
            {
                // The claim: one atomic increment per chunk.
                int chunk = Interlocked.Increment(ref _nextChunk) - 1;
                if (chunk >= Chunks)
                {
                    return;
                }

                try
                {
                    RunChunk(chunk);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);

                    // Stop the claims. The first to stop them learns how many were made and gives up the rest, which
                    // nobody will claim now; each claimed chunk ends through Finish(1).
                    int claimed = Interlocked.Exchange(ref _nextChunk, Stopped);
                    if (claimed < Stopped)
                    {
                        Finish(Chunks - Math.Min(claimed, Chunks));
                    }

                    Finish(1);
                    if (_done is not null)
                    {
                        throw; // fails this helper job: reported in Failed
                    }

                    return;
                }

                Finish(1);
            }
        }

        private void RunChunk(int chunk)
        {
            int start = chunk * _chunkSize;
            int end = Math.Min(_count, start + _chunkSize);
            TOut[]? results = Results;
            Func<TIn, TOut> worker = _worker; // in a register: a field would be read again after every call
            if (_array is { } array && results is not null)
            {
                // Spans of the chunk: no bounds check per item.
                ReadOnlySpan<TIn> source = array.AsSpan(start, end - start);
                Span<TOut> target = results.AsSpan(start, end - start);
                for (int i = 0; i < source.Length; i++)
                {
                    target[i] = worker(source[i]);
                }
            }
            else if (results is not null)
            {
                IList<TIn> items = _items;
                for (int i = start; i < end; i++)
                {
                    results[i] = worker(items[i]);
                }
            }
            else
            {
                IList<TIn> items = _items;
                Action<TOut> done = _done!;
                for (int i = start; i < end; i++)
                {
                    done(worker(items[i]));
                }
            }
        }

        private void Finish(int chunks)
        {
            if (Interlocked.Add(ref _pendingChunks, -chunks) <= 0)
            {
                lock (this)
                {
                    Monitor.PulseAll(this);
                }
            }
        }

        /// <summary>Waits until every chunk has ended or been given up, then rethrows the first failure.</summary>
        public void WaitAll()
        {
            lock (this)
            {
                while (Volatile.Read(ref _pendingChunks) > 0)
                {
                    Monitor.Wait(this);
                }
            }

            _error?.Throw();
        }
    }
}

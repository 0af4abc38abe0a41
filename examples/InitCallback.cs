using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace FastThreadPool.Examples;

/// <summary>
/// The original's init-callback example: workers decompress Brotli blocks, each with a decoder (and its output
/// buffer) made once per worker by the init callback and kept in the worker's context; against a decoder made per
/// block with <c>Parallel.For</c>, and one thread. Checked: every block's checksum.
/// </summary>
internal static class InitCallback
{
    private const int BlockSize = 64 * 1024;

    /// <summary>A worker's decoder: its output buffer is reused for every block it decodes.</summary>
    private sealed class BlockDecoder
    {
        private readonly byte[] _output = new byte[BlockSize];

        public long Checksum(byte[] block)
        {
            if (!BrotliDecoder.TryDecompress(block, _output, out int written))
            {
                throw new InvalidDataException("a block did not decompress");
            }

            return Sum(_output.AsSpan(0, written));
        }
    }

    public static bool Run(bool quick, TextWriter output)
    {
        int blocks = quick ? 32 : 512;
        var rng = new Random(1);
        var raw = new byte[blocks][];
        var packed = new byte[blocks][];
        long expected = 0;
        for (int i = 0; i < blocks; i++)
        {
            // Compressible data: runs of random bytes.
            raw[i] = new byte[BlockSize];
            for (int j = 0; j < BlockSize; j += 16)
            {
                raw[i].AsSpan(j, 16).Fill((byte)rng.Next(32));
            }

            var buffer = new byte[BrotliEncoder.GetMaxCompressedLength(BlockSize)];
            BrotliEncoder.TryCompress(raw[i], buffer, out int length, quality: 5, window: 22);
            packed[i] = buffer[..length];
            expected += Sum(raw[i]);
        }

        output.WriteLine($" {blocks} Brotli blocks of {BlockSize / 1024} KiB ({packed.Sum(p => p.Length) / 1024} KiB packed), checksums summed:");
        bool ok = true;
        ok &= Timing.Row(output, "Pool: a decoder per worker (init callback)", blocks, () =>
        {
            var pool = new Pool(new PoolOptions { InitCallback = ctx => ctx.State = new BlockDecoder(), KeepDone = false });
            long total = 0;
            foreach (byte[] block in packed)
            {
                pool.Submit(b => Interlocked.Add(ref total, ((BlockDecoder)Pool.CurrentWorker!.State!).Checksum(b)), block);
            }

            pool.Shutdown();
            return total;
        }, expected);
        ok &= Timing.Row(output, "Parallel.For: a decoder per block", blocks, () =>
        {
            long total = 0;
            Parallel.For(0, blocks, i => Interlocked.Add(ref total, new BlockDecoder().Checksum(packed[i])));
            return total;
        }, expected);
        ok &= Timing.Row(output, "one thread, one decoder", blocks, () =>
        {
            var decoder = new BlockDecoder();
            return packed.Sum(decoder.Checksum);
        }, expected);
        return ok;
    }

    private static long Sum(ReadOnlySpan<byte> data)
    {
        long sum = 0;
        for (int i = 0; i < data.Length; i++)
        {
            sum += data[i] * (long)((i % 7) + 1);
        }

        return sum;
    }
}

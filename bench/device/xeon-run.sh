#!/usr/bin/env bash
# The 16-core run, in one command of about 5 minutes (prepared by bench/device/pack.sh; results under $OUT):
#   1. probe/: the pool's submit case taken apart (pool-probe, every configuration): ThreadPool, the pool with 1 to 16
#      workers and its batch policies, the steered pool and limits held at 1, 2 and 4 working workers, the submitter
#      alone, the workers alone (1 and 16 draining jobs queued while they were held), the submit case with SpareJobs
#      (reused jobs, prefetched by the submitter: is it as fast as fresh jobs on 16 cores too?), submit with results
#      (through Done, through Done with every job returned for reuse, and through a value queue), Pool.Cancel, and the
#      floor of a shared countdown, each with the median and mean time and the collector's pauses per job; 130 s of
#      rounds.
#   2. interleaved/: the headline's interleaved rounds (the cases in which threads hand work to each other); 90 s.
#   3. scaling/: the queues' thread sweep, 1p1c to 8p8c (BenchmarkDotNet's summary); about a minute.
# FTP_SCALE=N (percent, default 100) scales every duration: FTP_SCALE=5 tries the script out in under a minute.
set -uo pipefail
scale=${FTP_SCALE:-100}
secs() { echo $(( $1 * scale / 100 > 3 ? $1 * scale / 100 : 3 )); }
out=${OUT:-/tmp/ftp-out}
x=/tmp/ftp-x
rm -rf "$x"
mkdir -p "$x" "$out"
tar -C "$x" -xJf .device/bench.tar.xz
{ nproc; lscpu | grep -E "Model name|Socket|NUMA node\(s\)"; } > "$out/machine.txt"
bin="$x/pub/FastThreadPool.Benchmarks"
status=0

# Each step under a limit of its own (its length and 60 s): a step that hangs must leave time and results for the next.
p=$(secs 130)
timeout $((p + 60)) "$bin" pool-probe --seconds "$p" --out "$out/probe" > "$out/probe.log" 2>&1 || status=1

i=$(secs 90)
timeout $((i + 60)) "$bin" interleaved --seconds "$i" --out "$out/interleaved" > "$out/interleaved.log" 2>&1 || status=1
rm -f "$out/interleaved/interleaved.csv" # every call of every round: too large to bring back, the .md and .json suffice

# The queues' thread sweep (BenchmarkDotNet, short in-process job): 1p1c to 8p8c against ConcurrentQueue and Channel.
timeout 300 "$bin" scaling --filter '*QueueScaling*' --out "$x/scaling" > "$out/scaling.log" 2>&1 || status=1
mkdir -p "$out/scaling" && cp "$x"/scaling/summary.* "$out/scaling/" 2>/dev/null

tail -n 3 "$out"/*.log
exit $status

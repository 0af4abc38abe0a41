#!/usr/bin/env bash
# The 16-core run, in one command of about 6 minutes (prepared by bench/device/pack.sh; results under $OUT):
#   1. probe/: the pool's submit case taken apart (pool-probe, every configuration) with this checkout's code:
#      ThreadPool, the pool with 1 to 16 workers and its batch policies, the submitter alone, submit with results and
#      the floor of a shared countdown; 130 s of rounds.
#   2. interleaved/: the headline's interleaved rounds (the cases in which threads hand work to each other); 90 s.
#   3. steering/: the probe with the assemblies of the branch experiment/steering, its configurations of one worker
#      per core (steered, held at 1, 2 and 4, lazy wake-ups, and its default) next to ThreadPool; 130 s. Skipped if
#      the archive has no steering/.
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

"$bin" pool-probe --seconds "$(secs 130)" --out "$out/probe" > "$out/probe.log" 2>&1 || status=1

"$bin" interleaved --seconds "$(secs 90)" --out "$out/interleaved" > "$out/interleaved.log" 2>&1 || status=1
rm -f "$out/interleaved/interleaved.csv" # every call of every round: too large to bring back, the .md and .json suffice

if [ -d "$x/pub/steering" ]; then
  cp -r "$x/pub" "$x/steer"
  cp "$x"/pub/steering/* "$x/steer/"
  "$x/steer/FastThreadPool.Benchmarks" pool-probe --seconds "$(secs 130)" --only "ThreadPool, |Pool $(nproc) workers" \
    --out "$out/steering" > "$out/steering.log" 2>&1 || status=1
fi

tail -n 3 "$out"/*.log
exit $status

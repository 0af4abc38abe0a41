#!/usr/bin/env bash
# Runs the scaling set and the headline set from a self-contained publish (build.ps1 publish), on a machine
# without .NET. Usage: run-scaling.sh OUTDIR   (results: OUTDIR/scaling/summary.* and OUTDIR/headline/summary.*)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: run-scaling.sh OUTDIR}"
mkdir -p "$out/scaling" "$out/headline"
{ nproc; lscpu | grep -E "Model name|Socket|NUMA node\(s\)"; } > "$out/machine.txt"
"$here/FastThreadPool.Benchmarks" scaling --out "$out/scaling-run" > "$out/scaling.log" 2>&1; s=$?
cp "$out"/scaling-run/summary.* "$out/scaling/" 2>/dev/null
"$here/FastThreadPool.Benchmarks" headline --out "$out/headline-run" > "$out/headline.log" 2>&1; h=$?
cp "$out"/headline-run/summary.* "$out/headline/" 2>/dev/null
rm -rf "$out/scaling-run" "$out/headline-run"
echo "scaling exit $s, headline exit $h"
[ "$s" = 0 ] && [ "$h" = 0 ]

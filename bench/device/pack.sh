#!/usr/bin/env bash
# Prepares the 16-core run (bench/device/xeon-run.sh) on the development machine: a self-contained publish of this
# checkout's benchmarks, with the app's own assemblies built from the branch experiment/steering beside it (the same
# packages and runtime, so they run from the same folder: a second self-contained publish would not fit in the 64 MiB
# that can be sent), packed into .device/bench.tar.xz, and the run script copied to .device/ (a folder that
# .git/info/exclude lists). Then, with the device tool: run `bash .device/xeon-run.sh` with carry [".device"].
set -euo pipefail
root="$(git rev-parse --show-toplevel)"
cd "$root"
work=/tmp/ftp-device
rm -rf "$work"
mkdir -p "$work"
dotnet publish bench/FastThreadPool.Benchmarks.csproj -c Release -r linux-x64 --self-contained -o "$work/pub" > "$work/publish.log"
if git rev-parse --verify -q experiment/steering > /dev/null; then
  git worktree add -f --detach "$work/steering-src" experiment/steering > /dev/null
  dotnet publish "$work/steering-src/bench/FastThreadPool.Benchmarks.csproj" -c Release -r linux-x64 --self-contained \
    -o "$work/steering-pub" > "$work/publish-steering.log"
  mkdir -p "$work/pub/steering"
  cp "$work"/steering-pub/FastThreadPool*.dll "$work"/steering-pub/FastThreadPool.Benchmarks.deps.json "$work/pub/steering/"
  git worktree remove --force "$work/steering-src"
fi
rm -rf .device
mkdir -p .device
tar -C "$work" -cJf .device/bench.tar.xz pub
cp bench/device/xeon-run.sh .device/
ls -l .device

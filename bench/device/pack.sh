#!/usr/bin/env bash
# Prepares the 16-core run (bench/device/xeon-run.sh) on the development machine: a self-contained publish of this
# checkout's benchmarks packed into .device/bench.tar.xz (about 36 MB, under the 64 MiB that can be sent), and the run
# script copied to .device/ (a folder that .git/info/exclude lists). Then, with the device tool: run
# `bash .device/xeon-run.sh` with carry [".device"], and give the machine back.
set -euo pipefail
root="$(git rev-parse --show-toplevel)"
cd "$root"
work=/tmp/ftp-device
rm -rf "$work"
mkdir -p "$work"
dotnet publish bench/FastThreadPool.Benchmarks.csproj -c Release -r linux-x64 --self-contained -o "$work/pub" > "$work/publish.log"
rm -rf .device
mkdir -p .device
tar -C "$work" -cJf .device/bench.tar.xz pub
cp bench/device/xeon-run.sh .device/
ls -l .device

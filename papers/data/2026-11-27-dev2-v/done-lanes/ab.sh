#!/bin/bash
# ab.sh SECS PAIRS VARIANTS_ARG
for p in $(seq 1 $2); do for v in old new; do echo "== $v"; dotnet /tmp/resh/run-$v/resh.dll $1 $3 | tail -n +2; done; done

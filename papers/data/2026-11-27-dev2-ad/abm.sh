#!/bin/bash
# usage: abm.sh N OUTROOT "tag:bin:ENV=..;ENV=.." ... -- args...
N=$1; R=$2; shift 2
S=()
while [ "$1" != "--" ]; do S+=("$1"); shift; done; shift
mkdir -p $R
for i in $(seq 1 $N); do
  for s in "${S[@]}"; do
    tag=${s%%:*}; rest=${s#*:}; bin=${rest%%:*}; envs=${rest#*:}
    ( IFS=';'; for e in $envs; do [ -n "$e" ] && export "$e"; done; /tmp/$bin/FastThreadPool.Benchmarks "$@" --out $R/$tag-$i > $R/$tag-$i.log 2>&1 )
  done
done
echo done > $R.done

#!/usr/bin/env bash
# Side-by-side CPU and peak RSS of two checkouts of audit-router on the same generated inputs,
# alternating runs (A B A B …) so that a noisy machine affects both alike. For "did this change
# regress?" questions (e.g. a refactor) where bench/run.js compares against the plain-loop floor.
# Usage: bench/compare.sh <checkout A> <checkout B> [lines=200000] [runs=5]   (each checkout built)
# Prints: scenario side cpu_seconds peak_rss_kb, one line per run.
set -u
A=$1; B=$2; N=${3:-200000}; RUNS=${4:-5}
dir=$(mktemp -d)
for sc in mixed audit; do
  node -e "const {writeStream}=require('$B/scripts/generate-stream.js'); const fs=require('fs'); const fd=fs.openSync('$dir/$sc.log','w'); writeStream({seed:42,lines:$N,scenario:'$sc'}, fd).then(()=>fs.closeSync(fd));"
done
ls -la $dir >&2
for sc in mixed audit; do
  for i in $(seq 1 $RUNS); do
    for side in A B; do
      root=$([ $side = A ] && echo $A || echo $B)
      rm -rf $dir/out; mkdir -p $dir/out
      /usr/bin/time -f "%U %S %M" -o $dir/t node $root/bin/audit-router --file $dir/out/out.jsonl < $dir/$sc.log 2>/dev/null >/dev/null
      read u s m < $dir/t
      echo "$sc $side $(echo "$u + $s" | bc) $m"
    done
  done
done
rm -rf $dir

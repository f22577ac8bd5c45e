#!/usr/bin/env bash
# What the API server costs at start-up, off and on: empty input, `--file`, interleaved runs of
#   base  another build without the API server (e.g. `git archive <commit> | tar -x -C DIR`,
#         node_modules linked, `npm run build`), given as $1
#   off   this build, no --api-address
#   on    this build, --api-address 127.0.0.1:0 (prom-client loaded, server listening)
# GNU time: wall (%e), peak RSS (%M), CPU (%U+%S). Prints medians.
#   bench/api-cost.sh /tmp/base-build [runs]
set -u
base=${1:?usage: bench/api-cost.sh <base build dir> [runs]}
runs=${2:-21}
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
for _ in $(seq 1 "$runs"); do
  /usr/bin/time -f "base %e %M %U %S" node "$base/bin/audit-router" --file "$out/b.jsonl" < /dev/null 2>>"$out/t.log" >/dev/null
  /usr/bin/time -f "off %e %M %U %S" node "$here/bin/audit-router" --file "$out/o.jsonl" < /dev/null 2>>"$out/t.log" >/dev/null
  /usr/bin/time -f "on %e %M %U %S" node "$here/bin/audit-router" --file "$out/n.jsonl" --api-address 127.0.0.1:0 < /dev/null 2>>"$out/t.log" >/dev/null
done
grep -E "^(base|off|on) " "$out/t.log" > "$out/r.txt"
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const k of ["base", "off", "on"]) {
  const r = rows.filter((x) => x[0] === k);
  console.log(`${k.padEnd(4)} runs ${r.length}  wall ${(med(r.map((x) => +x[1])) * 1000).toFixed(0)} ms  peak RSS ${(med(r.map((x) => +x[2])) / 1024).toFixed(1)} MB  CPU ${(med(r.map((x) => +x[3] + +x[4])) * 1000).toFixed(0)} ms`);
}' "$out/r.txt"
rm -rf "$out"

// @ts-check
'use strict';
/**
 * Fallback CPU/RSS measurement when GNU /usr/bin/time is missing: preloaded into the measured
 * node process (NODE_OPTIONS="--require <this file>"), it writes the process's own rusage to
 * $AUDIT_ROUTER_BENCH_RUSAGE at exit. Misses only the work done after the 'exit' handlers.
 */
const fs = require('node:fs');

const out = process.env.AUDIT_ROUTER_BENCH_RUSAGE;
if (out) {
  // Not inherited by anything this process might spawn.
  delete process.env.AUDIT_ROUTER_BENCH_RUSAGE;
  process.on('exit', () => {
    const r = process.resourceUsage();
    fs.writeFileSync(out, JSON.stringify({ userS: r.userCPUTime / 1e6, systemS: r.systemCPUTime / 1e6, maxRssKB: r.maxRSS }));
  });
}

// @ts-check
'use strict';
/**
 * Event-loop delay of the process it is preloaded into (`node --require <this file> ...`), from
 * perf_hooks.monitorEventLoopDelay, for the network bench. Active only when
 * $AUDIT_ROUTER_BENCH_LOOP_DELAY names a file; then, at exit, it writes there as JSON:
 * - `whole`: p50 / p99 / max / mean delay (ms) and the sample count over the whole run;
 * - `phases`: the same per phase, with the CPU seconds spent in it: each SIGUSR2 closes the
 *   current phase (so the bench can mark "warm-up", "outage", "recovery" ... from outside) and
 *   the exit closes the last one;
 * - `rusage`: the process's own CPU seconds and peak RSS (process.resourceUsage()).
 * The histogram records the time between two of its timer's ticks, i.e. the interval plus the
 * delay (an idle loop reads ~10.2 ms at a 10 ms resolution): the interval is subtracted here, so
 * the figures are the delay alone. Nothing is written while the process runs, so the measurement
 * adds no I/O to the loop it measures; its cost is one timer per `RESOLUTION_MS` per histogram.
 */
const fs = require('node:fs');
const { monitorEventLoopDelay } = require('node:perf_hooks');

/** The sampling interval. A stall shows as one sample of about its length. */
const RESOLUTION_MS = 10;

const out = process.env.AUDIT_ROUTER_BENCH_LOOP_DELAY;
if (out) {
  // Not inherited by anything this process might spawn.
  delete process.env.AUDIT_ROUTER_BENCH_LOOP_DELAY;
  const whole = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const phase = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  whole.enable();
  phase.enable();
  /** @type {object[]} */
  const phases = [];
  /** Delay in ms: the recorded tick-to-tick time minus the interval. @param {number} ns */
  const delay = (ns) => Math.max(0, Math.round(ns / 1e3 - RESOLUTION_MS * 1e3) / 1e3);
  const summary = (/** @type {import('node:perf_hooks').IntervalHistogram} */ h) => (h.count === 0
    ? { count: 0, p50: null, p99: null, max: null, mean: null }
    : { count: h.count, p50: delay(h.percentile(50)), p99: delay(h.percentile(99)), max: delay(h.max), mean: delay(h.mean) });
  let cpuAtPhaseStart = process.cpuUsage();
  const closePhase = () => {
    const cpu = process.cpuUsage(cpuAtPhaseStart);
    cpuAtPhaseStart = process.cpuUsage();
    phases.push({ endedAt: Date.now(), cpuS: (cpu.user + cpu.system) / 1e6, ...summary(phase) });
    phase.reset();
  };
  process.on('SIGUSR2', closePhase);
  process.on('exit', () => {
    closePhase();
    const r = process.resourceUsage();
    fs.writeFileSync(out, JSON.stringify({
      resolutionMs: RESOLUTION_MS,
      whole: summary(whole),
      phases,
      rusage: { userS: r.userCPUTime / 1e6, systemS: r.systemCPUTime / 1e6, maxRssKB: r.maxRSS },
    }));
  });
}

// @ts-check
'use strict';
/**
 * Samples a running process's resident set (VmRSS in /proc/<pid>/status) at an interval, to show
 * whether memory grows with the input or levels off. `pid` may be a wrapper (GNU time): then the
 * sample is taken from its child, the measured process. Linux only; elsewhere no samples.
 */
const fs = require('node:fs');

/** @param {number} pid @returns {number | null} VmRSS in kB */
function vmRssKB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** @param {number} pid @returns {number | null} */
function firstChild(pid) {
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length > 0 ? Number(children[0]) : null;
  } catch {
    return null;
  }
}

/**
 * @param {number} pid
 * @param {{ wrapped: boolean, intervalMs: number }} o
 * @returns {{ stop: () => { tS: number, rssKB: number }[] }}
 */
function sampleRss(pid, o) {
  /** @type {{ tS: number, rssKB: number }[]} */
  const samples = [];
  const start = process.hrtime.bigint();
  /** @type {number | null} */ let target = o.wrapped ? null : pid;
  const timer = setInterval(() => {
    if (target === null) target = firstChild(pid);
    if (target === null) return;
    const rss = vmRssKB(target);
    if (rss !== null) samples.push({ tS: Math.round(Number(process.hrtime.bigint() - start) / 1e6) / 1000, rssKB: rss });
  }, o.intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/**
 * The highest sample in each quarter of the run (memory that keeps growing shows as a rising row).
 * @param {{ tS: number, rssKB: number }[]} samples
 * @returns {number[]} MB per quarter (NaN for an empty quarter)
 */
function quarters(samples) {
  const out = [NaN, NaN, NaN, NaN];
  if (samples.length === 0) return out;
  const end = samples[samples.length - 1].tS;
  for (const s of samples) {
    const q = Math.min(3, Math.floor((s.tS / (end || 1)) * 4));
    const mb = s.rssKB / 1024;
    if (!(out[q] >= mb)) out[q] = mb;
  }
  return out;
}

module.exports = { sampleRss, quarters };

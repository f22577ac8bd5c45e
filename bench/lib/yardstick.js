// @ts-check
'use strict';
/**
 * The yardstick: `shared/bench/ref-router.mjs`, a plain, dependency-free router doing the spec's
 * minimum (JSON.parse, key-name redaction that re-parses JSON strings, URL masking, the
 * raw-command rule, JSON.stringify, synchronous writes). It lives outside the repository on
 * purpose, so nobody tunes it together with the code it measures; every CPU target of the
 * benchmark is a ratio to it, run alternately with audit-router in the same batch, so the targets
 * hold on any machine.
 *
 * Where it is found, first match wins: `--yardstick PATH`, `$AUDIT_ROUTER_YARDSTICK`, then
 * `shared/bench/ref-router.mjs` beside the repository or beside any directory above it (CI: a
 * read-only `../shared/` next to the clone; a git worktree at /work/wt/<name>: /work/shared).
 */
const fs = require('node:fs');
const path = require('node:path');
const { runMeasured } = require('./proc.js');
const { countOutput, clearDir } = require('./output.js');

const RELATIVE = path.join('shared', 'bench', 'ref-router.mjs');

/**
 * The yardstick's path, or null when none is found.
 * @param {string} root the repository root @param {string | null} explicit
 * @returns {{ path: string, how: string } | null}
 */
function findYardstick(root, explicit) {
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new Error(`--yardstick ${explicit}: no such file`);
    return { path: path.resolve(explicit), how: '--yardstick' };
  }
  const env = process.env.AUDIT_ROUTER_YARDSTICK;
  if (env) {
    if (!fs.existsSync(env)) throw new Error(`AUDIT_ROUTER_YARDSTICK=${env}: no such file`);
    return { path: path.resolve(env), how: 'AUDIT_ROUTER_YARDSTICK' };
  }
  for (let dir = path.resolve(root); ; ) {
    const parent = path.dirname(dir);
    const candidate = path.join(parent, RELATIVE);
    if (fs.existsSync(candidate)) return { path: candidate, how: `found beside ${dir}` };
    if (parent === dir) return null;
    dir = parent;
  }
}

/** The yardstick's "done" counters from its stderr. @param {string} stderr */
function doneCounters(stderr) {
  const lines = stderr.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].includes('"message":"done"')) continue;
    try {
      return JSON.parse(lines[i]);
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * One measured run of the yardstick on a file input (`--file`), checked: exit 0 and as many lines
 * written as it says it accepted. (Its acceptance is simpler than our schema, so that count is
 * not ours; it is recorded.)
 * @param {string} yardstick @param {string} inputPath @param {string} runDir
 */
async function runYardstick(yardstick, inputPath, runDir) {
  clearDir(runDir);
  const out = path.join(runDir, 'ref.jsonl');
  const fd = fs.openSync(inputPath, 'r');
  let m;
  try {
    m = await runMeasured([process.execPath, yardstick, '--file', out], { stdin: fd });
  } finally {
    fs.closeSync(fd);
  }
  const written = await countOutput(out);
  const done = doneCounters(m.stderrTail);
  const ok = m.exitCode === 0 && done !== null && written.lines === done.audit;
  return {
    userS: m.userS, systemS: m.systemS, cpuS: Math.round(m.cpuS * 1000) / 1000, wallS: Math.round(m.wallS * 10000) / 10000,
    maxRssKB: m.maxRssKB, exitCode: m.exitCode, outputLines: written.lines, counters: done, ok,
  };
}

module.exports = { findYardstick, runYardstick };

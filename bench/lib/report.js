// @ts-check
'use strict';
/** The machine a benchmark ran on, the terminal table, and the results files. */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

/** The machine, the node, and the commit measured. */
function machine() {
  const cpus = os.cpus();
  const git = (/** @type {string[]} */ args) => {
    const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const status = git(['status', '--porcelain', '--', 'src', 'sinks', 'bin', 'schemas']);
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    commit: git(['rev-parse', '--short', 'HEAD']),
    // Uncommitted changes in the measured code make the commit alone not enough to reproduce.
    dirty: status === null ? null : status.length > 0,
  };
}

/** os.loadavg() rounded, to note how busy the machine was. */
function load() {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

/** @param {number} x @param {number} digits */
function fixed(x, digits) {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}

/** @param {number} x */
function grouped(x) {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-';
}

/**
 * A left-aligned text table.
 * @param {string[]} header
 * @param {string[][]} rows
 */
function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (/** @type {string[]} */ cells) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * Writes one scenario's results to bench/results/<stamp>-<scenario>.json.
 * @param {string} stamp
 * @param {string} scenario
 * @param {unknown} result
 * @returns {string} the file written
 */
function writeResult(stamp, scenario, result) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${stamp}-${scenario}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

/**
 * A figure against its target. pass: null when the figure could not be measured.
 * @typedef {{ scenario: string, metric: string, value: number, limit: number, unit: string, pass: boolean | null }} Check
 */

/** @param {string} scenario @param {string} metric @param {number} value @param {number} limit @param {string} unit @returns {Check} */
function check(scenario, metric, value, limit, unit) {
  return { scenario, metric, value, limit, unit, pass: Number.isFinite(value) ? value <= limit : null };
}

/** The router's "finished" log line (counters only, never content), or null. @param {string} stderr @returns {any} */
function finishedLog(stderr) {
  const lines = stderr.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].includes('"message":"finished"')) continue;
    try {
      return JSON.parse(lines[i]);
    } catch {
      return null;
    }
  }
  return null;
}

/** Warns (through `log`) when dist/ is older than the sources it is built from. @param {(msg: string) => void} log */
function checkBuild(log) {
  const cli = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
  if (!fs.existsSync(cli)) throw new Error('dist/ is missing: build first (npm run build)');
  const built = fs.statSync(cli).mtimeMs;
  for (const dir of ['src', 'sinks', 'sources']) {
    for (const name of fs.readdirSync(path.join(ROOT, dir), { recursive: true })) {
      const file = path.join(ROOT, dir, String(name));
      if (file.endsWith('.ts') && fs.statSync(file).mtimeMs > built) {
        log(`warning: ${path.relative(ROOT, file)} is newer than dist/: the figures are for the last build (npm run build)`);
        return;
      }
    }
  }
}

/** The "targets" table: each figure, its target, PASS or MISS. @param {Check[]} checks */
function targetsTable(checks) {
  const digits = (/** @type {string} */ unit) => (unit === 'ms' || unit === 'x' ? 2 : unit === 'MB' ? 1 : 3);
  const row = (/** @type {Check} */ c) => [
    c.scenario,
    c.metric,
    Number.isFinite(c.value) ? `${fixed(c.value, digits(c.unit))} ${c.unit}` : '-',
    `<= ${c.limit} ${c.unit}`,
    c.pass === null ? 'n/a' : c.pass ? 'PASS' : 'MISS',
  ];
  return '\ntargets\n' + table(['scenario', 'metric', 'measured', 'target', ''], checks.map(row));
}

module.exports = { machine, load, fixed, grouped, table, writeResult, check, finishedLog, checkBuild, targetsTable, ROOT, RESULTS_DIR };

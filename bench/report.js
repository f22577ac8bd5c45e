#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `audit-router report` on 1 M audit events (target: under 10 s here), measured from outside
 * (GNU time: CPU, wall, peak RSS), next to the plain loop (bench/baseline.js) on the same input
 * in the same run. Two inputs: one plain file, and the same events as a rotated trail (three
 * gzipped rotated files + the current file, named as the file sink names them). Memory is checked
 * flat: peak RSS at N vs N/10 events. Every run's JSON is checked: totals.events equals the
 * number of audit events generated.
 *
 *   node bench/report.js [--events 1000000] [--runs 3]
 */
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { ensureInput, CACHE_DIR } = require('./lib/inputs');
const { runMeasured, describeCommand, describeMethod } = require('./lib/proc');
const { median } = require('./lib/stats');

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'audit-router');
const BASELINE = path.join(__dirname, 'baseline.js');
const TARGET_S = 10;

function args() {
  const o = { events: 1_000_000, runs: 3 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--events') o.events = Number(argv[++i]);
    else if (argv[i] === '--runs') o.runs = Number(argv[++i]);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

/** The input split into a rotated trail: 3 gzipped rotated files and the current file (cached). @param {string} input */
function ensureTrail(input) {
  const dir = `${input}.trail`;
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const text = fs.readFileSync(input);
  const parts = [];
  let start = 0;
  for (let p = 1; p <= 4; p++) {
    let end = p === 4 ? text.length : text.indexOf(0x0a, Math.floor((text.length * p) / 4)) + 1;
    if (end <= 0) end = text.length;
    parts.push(text.subarray(start, end));
    start = end;
  }
  const history = [];
  for (let p = 0; p < 3; p++) {
    const name = path.join(dir, `audit.jsonl.2026030${p + 5}T103000.000Z.001.gz`);
    fs.writeFileSync(name, zlib.gzipSync(parts[p]));
    history.push(name);
  }
  fs.writeFileSync(path.join(dir, 'audit.jsonl'), parts[3]);
  fs.writeFileSync(path.join(dir, 'audit.jsonl.history'), history.join('\n') + '\n');
  fs.writeFileSync(done, '');
  return dir;
}

/** One report run; checks the JSON it printed. @param {string} target @param {number} expected */
async function reportRun(target, expected) {
  const out = path.join(CACHE_DIR, `report-${process.pid}.json`);
  const fd = fs.openSync(out, 'w');
  try {
    const m = await runMeasured([process.execPath, BIN, 'report', target, '--json'], { stdin: 'ignore', stdout: fd });
    if (m.exitCode !== 0) throw new Error(`report exited ${m.exitCode}: ${m.stderrTail}`);
    const events = JSON.parse(fs.readFileSync(out, 'utf8')).totals.events;
    if (events !== expected) throw new Error(`report counted ${events} events, expected ${expected}`);
    return m;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(out, { force: true });
  }
}

async function main() {
  const o = args();
  const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);
  if (!fs.existsSync(path.join(ROOT, 'dist'))) throw new Error('no dist/: run npm run build first');
  log(`report bench: ${o.events} audit events, ${o.runs} runs each; ${describeMethod()}`);
  const big = await ensureInput({ scenario: 'audit', lines: o.events, seed: 42, log });
  const small = await ensureInput({ scenario: 'audit', lines: Math.floor(o.events / 10), seed: 42, log });
  const trail = ensureTrail(big.path);
  const rows = [];
  for (const [label, target, expected] of /** @type {Array<[string, string, number]>} */ ([
    [`plain file, ${big.lines} events (${(big.bytes / 1048576).toFixed(0)} MiB)`, big.path, big.expectedAudit],
    ['rotated trail: 3 gzipped + current file, same events', trail, big.expectedAudit],
    [`plain file, ${small.lines} events (memory check)`, small.path, small.expectedAudit],
  ])) {
    const runs = [];
    for (let i = 0; i < o.runs; i++) runs.push(await reportRun(target, expected));
    const row = {
      label,
      command: describeCommand([process.execPath, BIN, 'report', target, '--json']),
      wallS: median(runs.map((r) => r.wallS)),
      cpuS: median(runs.map((r) => r.cpuS)),
      rssMB: median(runs.map((r) => r.maxRssKB / 1024)),
      worstWallS: Math.max(...runs.map((r) => r.wallS)),
    };
    rows.push(row);
    log(`${label}: wall ${row.wallS.toFixed(2)} s (worst ${row.worstWallS.toFixed(2)}), CPU ${row.cpuS.toFixed(2)} s, peak RSS ${row.rssMB.toFixed(1)} MB`);
  }
  const fd = fs.openSync(big.path, 'r');
  let baseline;
  try {
    baseline = await runMeasured([process.execPath, BASELINE, '/dev/null'], { stdin: fd });
  } finally {
    fs.closeSync(fd);
  }
  log(`plain loop (bench/baseline.js) on the ${big.lines}-event file: wall ${baseline.wallS.toFixed(2)} s, CPU ${baseline.cpuS.toFixed(2)} s, peak RSS ${(baseline.maxRssKB / 1024).toFixed(1)} MB`);
  const [plain, rotated, tenth] = rows;
  const result = {
    events: big.expectedAudit,
    rows,
    baseline: { wallS: baseline.wallS, cpuS: baseline.cpuS, rssMB: baseline.maxRssKB / 1024 },
    ratioToBaselineCpu: plain.cpuS / baseline.cpuS,
    rssRatio1MvsTenth: plain.rssMB / tenth.rssMB,
    target: `report of ${big.expectedAudit} events under ${TARGET_S} s wall`,
    pass: plain.wallS < TARGET_S && rotated.wallS < TARGET_S,
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  log(`${result.pass ? 'PASS' : 'MISS'}: ${result.target}; CPU ${result.ratioToBaselineCpu.toFixed(2)}× the plain loop; peak RSS ${result.rssRatio1MvsTenth.toFixed(2)}× at 10× the events`);
}

main().catch((err) => {
  process.stderr.write(`bench/report: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

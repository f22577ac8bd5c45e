#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * What the tamper-evident chain costs (docs/integrity.md): CPU per event of bin/audit-router with
 * a file sink, without and with `--chain-key` (plus signed checkpoints), and of `audit-router
 * verify` per record, beside the plain-loop baseline (bench/baseline.js) in the same run. Runs are
 * interleaved (baseline, plain, chained, signed, verify; repeated) and medians reported, because
 * the machine is shared and absolute times vary 2-3x between days: read the ratios.
 *
 *   node bench/integrity.js [--lines N] [--runs N] [--seed S]
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ensureInput } = require('./lib/inputs.js');
const { runMeasured, describeMethod } = require('./lib/proc.js');
const { machine, load, ROOT } = require('./lib/report.js');
const { median } = require('./lib/stats.js');

const BIN = path.join(ROOT, 'bin', 'audit-router');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

async function main() {
  const lines = arg('--lines', 200_000);
  const runs = arg('--runs', 5);
  const seed = arg('--seed', 42);
  const input = await ensureInput({ scenario: 'audit', lines, seed, log: (m) => process.stderr.write(m + '\n') });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-bench-integrity-'));
  const key = path.join(work, 'chain.key');
  fs.writeFileSync(key, crypto.randomBytes(32).toString('hex'), { mode: 0o600 });
  const signing = path.join(work, 'signing.pem');
  fs.writeFileSync(signing, crypto.generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const signedConfig = path.join(work, 'signed.toml');
  fs.writeFileSync(
    signedConfig,
    `[sinks.a]\ntype = "file"\npath = ${JSON.stringify(path.join(work, 'signed', 'audit.jsonl'))}\n` +
      `integrity = { key_file = ${JSON.stringify(key)}, signing_key_file = ${JSON.stringify(signing)} }\n`,
  );

  /** @type {Record<string, { argv: () => string[], cpu: number[], records?: boolean }>} */
  const cases = {
    baseline: { argv: () => [process.execPath, path.join(ROOT, 'bench', 'baseline.js'), path.join(work, 'baseline.jsonl')], cpu: [] },
    'file sink': { argv: () => [process.execPath, BIN, '--file', path.join(work, 'plain', 'audit.jsonl')], cpu: [] },
    'file sink + chain': { argv: () => [process.execPath, BIN, '--file', path.join(work, 'chained', 'audit.jsonl'), '--chain-key', key], cpu: [] },
    'file sink + chain + signed checkpoints': { argv: () => [process.execPath, BIN, '-c', signedConfig], cpu: [] },
    'verify --key (per record)': { argv: () => [process.execPath, BIN, 'verify', path.join(work, 'chained'), '--key', key], cpu: [], records: true },
  };
  const fresh = () => {
    for (const d of ['plain', 'chained', 'signed']) fs.rmSync(path.join(work, d), { recursive: true, force: true });
  };
  let records = 0;
  for (let run = 0; run <= runs; run++) {
    fresh();
    for (const [name, c] of Object.entries(cases)) {
      const fd = fs.openSync(c.records ? os.devNull : input.path, 'r');
      const m = await runMeasured(c.argv(), { stdin: fd });
      fs.closeSync(fd);
      if (m.exitCode !== 0) throw new Error(`${name} exited ${m.exitCode}: ${m.stderrTail.slice(-1000)}`);
      if (run > 0) c.cpu.push(m.cpuS); // run 0 warms the page cache
    }
    if (run === 0) {
      const file = path.join(work, 'chained', 'audit.jsonl');
      records = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    }
  }
  const events = input.expectedAudit;
  const base = median(cases.baseline.cpu);
  const plain = median(cases['file sink'].cpu);
  const rows = Object.entries(cases).map(([name, c]) => {
    const cpu = median(c.cpu);
    const per = c.records ? records : events;
    return { name, cpu, usPer: (cpu / per) * 1e6, ratio: cpu / base };
  });
  const out = [];
  out.push(`integrity bench: ${events.toLocaleString('en-US')} audit events (${input.lines.toLocaleString('en-US')} lines, seed ${seed}), ${runs} runs + 1 warm-up, medians`);
  out.push(`machine: ${JSON.stringify(machine())}; load before/after: ${JSON.stringify(load())}`);
  out.push(`CPU: ${describeMethod()}`);
  out.push('');
  out.push('| run | CPU s (median) | CPU µs per event | vs baseline |');
  out.push('|---|---:|---:|---:|');
  for (const r of rows) out.push(`| ${r.name} | ${r.cpu.toFixed(3)} | ${r.usPer.toFixed(2)}${r.name.startsWith('verify') ? ' per record' : ''} | ${r.ratio.toFixed(2)}x |`);
  const chained = median(cases['file sink + chain'].cpu);
  out.push('');
  out.push(`chaining adds ${(((chained - plain) / events) * 1e6).toFixed(2)} µs CPU per event (${(((chained - plain) / plain) * 100).toFixed(1)} % of the plain file sink)`);
  process.stdout.write(out.join('\n') + '\n');
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});

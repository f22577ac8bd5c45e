#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `audit-router verify` streams: its peak RSS must not grow with the size of the trail. Writes a
 * chained trail of realistic events (the record format of src/integrity/chain.ts, built dist/)
 * of SMALL and LARGE MiB, then verifies each under GNU time and reports CPU, wall and peak RSS.
 *
 *   node bench/verify-memory.js [--small-mb 100] [--large-mb 1024]
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runMeasured, describeMethod } = require('./lib/proc.js');
const { machine, load, ROOT } = require('./lib/report.js');
const { generate } = require('../scripts/generate-stream.js');
const { chainValue, GENESIS, recordBody, sealedLine } = require(path.join(ROOT, 'dist', 'src', 'integrity', 'chain.js'));

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

/** A chained file of about `mb` MiB: an open record, events, a shutdown checkpoint-free tail is avoided by ending with one. */
function writeTrail(file, mb, key) {
  const events = [...generate({ seed: 7, lines: 2000, scenario: 'audit' })].map((g) => g.line);
  const fd = fs.openSync(file, 'w');
  const sha = crypto.createHash('sha256');
  let chain = GENESIS;
  let seq = 0;
  let bytes = 0;
  let count = 0;
  const put = (json, kind) => {
    const body = recordBody(json, ++seq, kind);
    chain = chainValue(key, chain, body);
    const line = sealedLine(body, chain);
    sha.update(line);
    bytes += Buffer.byteLength(line);
    return line;
  };
  const zero = '0'.repeat(64);
  let out = put(JSON.stringify({ audit_router: 'open', reason: 'start', file: path.basename(file), prev_file: null, prev_seq: 0, prev_chain: zero, time: new Date().toISOString() }), 'open');
  const limit = mb * 1024 * 1024;
  while (bytes < limit) {
    out += put(events[seq % events.length], 'event');
    count++;
    if (out.length > 1 << 20) {
      fs.writeSync(fd, out);
      out = '';
    }
  }
  const cp = {
    audit_router: 'checkpoint', reason: 'shutdown', file: path.basename(file), first_seq: 1, last_seq: seq, count,
    chain: chain.toString('hex'), file_sha256: sha.copy().digest('hex'), prev_file_chain: null, interval_ms: 60000, time: new Date().toISOString(),
  };
  out += put(JSON.stringify(cp), 'checkpoint');
  fs.writeSync(fd, out);
  fs.closeSync(fd);
  return seq;
}

async function main() {
  const sizes = [arg('--small-mb', 100), arg('--large-mb', 1024)];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-bench-verify-'));
  const keyFile = path.join(work, 'chain.key');
  const keyText = crypto.randomBytes(32).toString('hex');
  fs.writeFileSync(keyFile, keyText, { mode: 0o600 });
  const rows = [];
  try {
    for (const mb of sizes) {
      const file = path.join(work, `audit-${mb}.jsonl`);
      const records = writeTrail(file, mb, Buffer.from(keyText));
      const m = await runMeasured([process.execPath, path.join(ROOT, 'bin', 'audit-router'), 'verify', file, '--key', keyFile], { stdin: 'ignore' });
      if (m.exitCode !== 0) throw new Error(`verify exited ${m.exitCode}: ${m.stderrTail}`);
      rows.push({ mb, records, ...m });
      fs.rmSync(file);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const out = [`verify memory: ${JSON.stringify(machine())}; load ${JSON.stringify(load())}`, `CPU/RSS: ${describeMethod()}`, ''];
  out.push('| trail | records | CPU s | wall s | µs CPU per record | MiB/s (wall) | peak RSS |');
  out.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    out.push(`| ${r.mb} MiB | ${r.records.toLocaleString('en-US')} | ${r.cpuS.toFixed(2)} | ${r.wallS.toFixed(2)} | ${((r.cpuS / r.records) * 1e6).toFixed(2)} | ${(r.mb / r.wallS).toFixed(0)} | ${(r.maxRssKB / 1024).toFixed(0)} MB |`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});

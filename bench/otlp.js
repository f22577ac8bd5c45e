#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * What an otlp sink costs at start-up and in memory: bin/audit-router with a file sink only,
 * against the same config plus an otlp sink, interleaved run by run (the machine is shared and
 * noisy: alternating spreads its load over both alike), with `node -e ''` as the floor.
 *
 *   node bench/otlp.js [--runs N] [--events N]
 *
 * - startup: empty input. The otlp sink is built (its serializer required) but sends nothing.
 * - events: N audit events (default 2 000) delivered to a local HTTP server that acknowledges
 *   POST /v1/logs with an empty 200, so the serializer, gzip and the agent are exercised; the run
 *   counts only when the router's `finished` line says all N were delivered.
 * Medians of the measured runs after one warm-up; peak RSS also as the worst run. Against the
 * performance targets (docs/performance.md): start-up ≤ 120 ms wall, peak RSS ≤ 64 MB.
 */
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { runMeasured, describeCommand } = require('./lib/proc.js');
const { median, max } = require('./lib/stats.js');
const { machine, load, table, check, targetsTable, finishedLog, ROOT } = require('./lib/report.js');
const { generate } = require('../scripts/generate-stream.js');

const BIN = path.join(ROOT, 'bin', 'audit-router');
const TARGETS = { startupWallMs: 120, rssMB: 64 };

function args() {
  const o = { runs: 15, events: 2000 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    if (argv[i] === '--runs' && Number.isInteger(v) && v > 0) (o.runs = v), i++;
    else if (argv[i] === '--events' && Number.isInteger(v) && v > 0) (o.events = v), i++;
    else throw new Error(`usage: node bench/otlp.js [--runs N] [--events N] (got ${argv[i]})`);
  }
  return o;
}

/** An OTLP/HTTP stand-in that acknowledges every POST /v1/logs (no decoding: not what is measured). */
function startAcknowledger() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(req.url === '/v1/logs' && req.method === 'POST' ? 200 : 404, { 'content-type': 'application/x-protobuf' });
        res.end();
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** @param {number[]} xs */
const r3 = (xs) => Math.round(median(xs) * 1000) / 1000;

async function main() {
  const o = args();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-router-bench-otlp-'));
  const server = /** @type {http.Server} */ (await startAcknowledger());
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  try {
    const fileOnly = path.join(dir, 'file.toml');
    const withOtlp = path.join(dir, 'otlp.toml');
    const fileSink = `[sinks.archive]\ntype = "file"\npath = "${path.join(dir, 'out.jsonl')}"\n`;
    fs.writeFileSync(fileOnly, fileSink);
    fs.writeFileSync(withOtlp, `${fileSink}[sinks.otel]\ntype = "otlp"\nendpoint = "http://127.0.0.1:${port}"\n`);
    const empty = path.join(dir, 'empty.txt');
    fs.writeFileSync(empty, '');
    const events = path.join(dir, 'events.txt');
    const lines = [...generate({ seed: 42, lines: o.events, scenario: 'audit' })].map((g) => g.line);
    fs.writeFileSync(events, lines.join('\n') + '\n');

    /** @type {Record<string, import('./lib/proc.js').Measured[]>} */
    const runs = { node: [], 'startup file': [], 'startup file+otlp': [], 'events file': [], 'events file+otlp': [] };
    const cases = [
      ['node', ['node', '-e', ''], empty, 0],
      ['startup file', ['node', BIN, '-c', fileOnly], empty, 0],
      ['startup file+otlp', ['node', BIN, '-c', withOtlp], empty, 0],
      ['events file', ['node', BIN, '-c', fileOnly], events, o.events],
      ['events file+otlp', ['node', BIN, '-c', withOtlp], events, o.events],
    ];
    const loadBefore = load();
    for (let i = 0; i <= o.runs; i++) {
      for (const [name, argv, input, expected] of /** @type {[string, string[], string, number][]} */ (cases)) {
        const fd = fs.openSync(input, 'r');
        let m;
        try {
          m = await runMeasured(argv, { stdin: fd });
        } finally {
          fs.closeSync(fd);
        }
        if (m.exitCode !== 0) throw new Error(`${name}: exit ${m.exitCode}\n${m.stderrTail}`);
        if (name !== 'node') {
          const done = finishedLog(m.stderrTail);
          const sinks = done?.sinks ?? {};
          for (const [sink, c] of Object.entries(sinks)) {
            if (c.delivered !== expected) throw new Error(`${name}: sink ${sink} delivered ${c.delivered}, expected ${expected}`);
          }
        }
        if (i > 0) runs[name].push(m);
      }
    }
    const rows = Object.entries(runs).map(([name, ms]) => [
      name,
      r3(ms.map((m) => m.wallS * 1000)).toFixed(1),
      r3(ms.map((m) => m.cpuS * 1000)).toFixed(1),
      (median(ms.map((m) => m.maxRssKB)) / 1024).toFixed(1),
      (max(ms.map((m) => m.maxRssKB)) / 1024).toFixed(1),
    ]);
    const result = {
      machine: machine(),
      loadBefore,
      loadAfter: load(),
      runs: o.runs,
      events: o.events,
      commands: cases.map(([name, argv, input]) => `${name}: ${describeCommand(/** @type {string[]} */ (argv))} < ${input === empty ? 'empty' : `${o.events} audit events`}`),
      medians: Object.fromEntries(rows.map((r) => [r[0], { wallMs: Number(r[1]), cpuMs: Number(r[2]), rssMB: Number(r[3]), rssMBWorst: Number(r[4]) }])),
    };
    const startup = result.medians['startup file+otlp'];
    const checks = [
      check('startup file+otlp', 'wall', startup.wallMs, TARGETS.startupWallMs, 'ms'),
      check('startup file+otlp', 'peak RSS (worst run)', startup.rssMBWorst, TARGETS.rssMB, 'MB'),
      check('events file+otlp', 'peak RSS (worst run)', result.medians['events file+otlp'].rssMBWorst, TARGETS.rssMB, 'MB'),
    ];
    process.stdout.write(`${table(['case', 'wall ms', 'CPU ms', 'RSS MB', 'RSS MB worst'], rows)}${targetsTable(checks)}\n`);
    process.stdout.write(`${JSON.stringify({ ...result, checks })}\n`);
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});

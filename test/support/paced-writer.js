#!/usr/bin/env node
'use strict';
/**
 * A writer process feeding audit-router's stdin at a steady rate, as an MCP server's stderr
 * would: `count` audit events (scripts/generate-stream.js, seed `seed`, so `duration_ms` is each
 * event's 0-based index) written `perTick` at a time every `tickMs` ms to stdout, then exits.
 *
 *   node paced-writer.js <count> <seed> <perTick> <tickMs>
 *
 * Writes are blocking (fs.writeSync on fd 1, retried on EAGAIN): a router that stops reading
 * stalls the writer, as it would stall a real server.
 */
const path = require('node:path');
const { writeAll } = require('./write-all.js');
const { generate } = require(path.join(__dirname, '..', '..', 'scripts', 'generate-stream.js'));

const count = Number(process.argv[2] ?? 1000);
const seed = Number(process.argv[3] ?? 1);
const perTick = Number(process.argv[4] ?? 10);
const tickMs = Number(process.argv[5] ?? 5);


const lines = [...generate({ seed, lines: count, scenario: 'audit' })].map((g) => g.line);
let next = 0;
function tick() {
  const end = Math.min(next + perTick, lines.length);
  if (end > next) writeAll(1, lines.slice(next, end).join('\n') + '\n');
  next = end;
  if (next < lines.length) setTimeout(tick, tickMs);
}
tick();

#!/usr/bin/env node
'use strict';
/**
 * A stand-in for a stdio MCP server in wrapper-mode tests: writes `count` audit events
 * (scripts/generate-stream.js, seed `seed`) to its stderr with blocking writes, like a Rust server's
 * eprintln!, and after each one its progress ("<n>\n") to stdout. A write blocks when the pipe is
 * full, so the progress shows exactly when the server stalls.
 *
 *   node stderr-writer.js <count> <seed>     env: WRITER_STAY=1 (stay alive when done),
 *                                                 WRITER_IGNORE_TERM=1 (ignore SIGTERM, say so)
 *
 * It never touches process.stderr/stdout (Node would make those pipes non-blocking): fs.writeSync only.
 */
const fs = require('node:fs');
const path = require('node:path');
const { generate } = require(path.join(__dirname, '..', '..', 'scripts', 'generate-stream.js'));

const count = Number(process.argv[2] ?? 100);
const seed = Number(process.argv[3] ?? 1);
process.on('SIGTERM', () => {
  fs.writeSync(1, 'SIGTERM\n');
  if (process.env.WRITER_IGNORE_TERM !== '1') process.exit(143);
});
let n = 0;
for (const { line } of generate({ seed, lines: count, scenario: 'audit' })) {
  fs.writeSync(2, line + '\n');
  fs.writeSync(1, `${++n}\n`);
}
fs.writeSync(1, 'done\n');
if (process.env.WRITER_STAY === '1') setInterval(() => {}, 1000);

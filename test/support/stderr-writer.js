#!/usr/bin/env node
'use strict';
/**
 * A stand-in for a stdio MCP server in wrapper-mode tests: writes `count` audit events
 * (scripts/generate-stream.js, seed `seed`) to its stderr with blocking writes, like a Rust server's
 * eprintln!, and after each one its progress ("<n>\n") to stdout. A write blocks when the pipe is
 * full, so the progress shows exactly when the server stalls.
 *
 *   node stderr-writer.js <count> <seed>     env: WRITER_STAY=1 (stay alive when done),
 *                                                 WRITER_IGNORE_TERM=1 (ignore SIGTERM, say so),
 *                                                 WRITER_YIELD=1 (let the event loop run between
 *                                                 writes, so a signal handler runs at once)
 *
 * It never touches process.stderr/stdout (Node would make those pipes non-blocking): fs.writeSync only.
 */
const path = require('node:path');
const { writeAll } = require('./write-all.js');
const { generate } = require(path.join(__dirname, '..', '..', 'scripts', 'generate-stream.js'));

const count = Number(process.argv[2] ?? 100);
const seed = Number(process.argv[3] ?? 1);
process.on('SIGTERM', () => {
  writeAll(1, 'SIGTERM\n');
  if (process.env.WRITER_IGNORE_TERM !== '1') process.exit(143);
});

async function main() {
  let n = 0;
  for (const { line } of generate({ seed, lines: count, scenario: 'audit' })) {
    writeAll(2, line + '\n');
    writeAll(1, `${++n}\n`);
    if (process.env.WRITER_YIELD === '1') await new Promise((resolve) => setImmediate(resolve));
  }
  writeAll(1, 'done\n');
  if (process.env.WRITER_STAY === '1') setInterval(() => {}, 1000);
}
main();

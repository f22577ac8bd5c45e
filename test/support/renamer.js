#!/usr/bin/env node
'use strict';
/**
 * An outside actor (an operator's script, a misconfigured logrotate) that keeps moving a file
 * away: every `pauseMs` ms, if `<file>` exists it is renamed to `<dir>/<n>` (n = 1, 2, ...).
 * Runs until SIGTERM; then prints how many renames it made and exits.
 *
 *   node renamer.js <file> <dir> <pauseMs>
 */
const fs = require('node:fs');
const path = require('node:path');

const [file, dir] = [process.argv[2], process.argv[3]];
const pauseMs = Number(process.argv[4] ?? 1);
fs.mkdirSync(dir, { recursive: true });
let renames = 0;
let stop = false;
process.on('SIGTERM', () => (stop = true));

function step() {
  if (stop) {
    process.stdout.write(`${renames}\n`, () => process.exit(0));
    return;
  }
  try {
    fs.renameSync(file, path.join(dir, String(renames + 1)));
    renames++;
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  setTimeout(step, pauseMs);
}
step();

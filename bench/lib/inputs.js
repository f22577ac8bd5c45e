// @ts-check
'use strict';
/**
 * Benchmark inputs: generated once by scripts/generate-stream.js (seeded, so deterministic) and cached in
 * the temporary directory by scenario + lines + seed + a hash of the generator, with how many
 * valid audit events they hold (the ground truth every run's output is checked against).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { writeStream } = require('../../scripts/generate-stream.js');

const CACHE_DIR = path.join(os.tmpdir(), 'audit-router-bench');

/** @typedef {{ path: string, scenario: 'mixed'|'audit'|'empty', lines: number, seed: number, bytes: number, expectedAudit: number, generator: string, cached: boolean }} BenchInput */

/** Short hash of the generator's source: a changed generator never reuses an old input. */
function generatorHash() {
  const source = fs.readFileSync(path.join(__dirname, '..', '..', 'scripts', 'generate-stream.js'));
  return crypto.createHash('sha256').update(source).digest('hex').slice(0, 10);
}

/**
 * The cached input file for (scenario, lines, seed), generating it if needed.
 * @param {{ scenario: 'mixed'|'audit', lines: number, seed: number, log?: (msg: string) => void }} o
 * @returns {Promise<BenchInput>}
 */
async function ensureInput(o) {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const hash = generatorHash();
  const stem = `${o.scenario}-${o.lines}-s${o.seed}`;
  const file = path.join(CACHE_DIR, `${stem}-g${hash}.txt`);
  const metaFile = `${file}.json`;
  try {
    /** @type {BenchInput} */
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    if (fs.statSync(file).size === meta.bytes) return { ...meta, cached: true };
  } catch {
    // Not cached yet (or a half-written cache): generate.
  }
  // Inputs of an older generator are stale: remove them (they can be hundreds of MB).
  for (const name of fs.readdirSync(CACHE_DIR)) {
    if (name.startsWith(`${stem}-g`) && !name.startsWith(`${stem}-g${hash}`)) fs.rmSync(path.join(CACHE_DIR, name), { force: true });
  }
  o.log?.(`generating ${o.lines.toLocaleString('en-US')} ${o.scenario} lines (seed ${o.seed}) into ${file} ...`);
  const partial = `${file}.${process.pid}.partial`;
  const fd = fs.openSync(partial, 'w');
  let expectedAudit = 0;
  try {
    await writeStream({ scenario: o.scenario, lines: o.lines, seed: o.seed }, fd, (entry) => {
      if (entry.truth.kind === 'audit') expectedAudit++;
    });
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(partial, file);
  /** @type {BenchInput} */
  const meta = { path: file, scenario: o.scenario, lines: o.lines, seed: o.seed, bytes: fs.statSync(file).size, expectedAudit, generator: hash, cached: false };
  fs.writeFileSync(metaFile, JSON.stringify(meta) + '\n');
  return meta;
}

/** An empty input file (the startup scenario). @returns {BenchInput} */
function emptyInput() {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const file = path.join(CACHE_DIR, 'empty.txt');
  fs.writeFileSync(file, '');
  return { path: file, scenario: 'empty', lines: 0, seed: 0, bytes: 0, expectedAudit: 0, generator: generatorHash(), cached: true };
}

module.exports = { ensureInput, emptyInput, generatorHash, CACHE_DIR };

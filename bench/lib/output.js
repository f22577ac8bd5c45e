// @ts-check
'use strict';
/**
 * Counts what the file sink wrote: lines of the current file plus those of every rotated file
 * (`<name>.<stamp>.<nnn>[.gz]`, decompressed), so a run that rotated is checked whole.
 */
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { pipeline } = require('node:stream/promises');

/** Newlines in a file, gunzipped first when `gzipped`. @param {string} file @param {boolean} gzipped */
async function countNewlines(file, gzipped) {
  let n = 0;
  // biome-ignore lint/correctness/useYield: a consuming stage of stream.pipeline yields nothing by design
  const count = async function* (/** @type {AsyncIterable<Buffer>} */ chunks) {
    for await (const chunk of chunks) {
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) n++;
    }
  };
  if (gzipped) await pipeline(fs.createReadStream(file), zlib.createGunzip(), count);
  else await pipeline(fs.createReadStream(file), count);
  return n;
}

/**
 * Lines written to `file` and its rotated files.
 * @param {string} file
 * @returns {Promise<{ lines: number, files: number, bytes: number }>}
 */
async function countOutput(file) {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let lines = 0;
  let files = 0;
  let bytes = 0;
  for (const name of fs.readdirSync(dir)) {
    if (name !== base && !(name.startsWith(`${base}.`) && /\.\d{3}(\.gz)?$/.test(name))) continue;
    const full = path.join(dir, name);
    files++;
    bytes += fs.statSync(full).size;
    lines += await countNewlines(full, name.endsWith('.gz'));
  }
  return { lines, files, bytes };
}

/** Empties a run directory (outputs of the previous run). @param {string} dir */
function clearDir(dir) {
  for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}

module.exports = { countOutput, clearDir };

#!/usr/bin/env node
/**
 * A writer process that behaves like the kubelet (and logrotate) writing a container's log:
 * audit events at a steady rate into <dir>/0.log, raw or in CRI format (events over 16 KiB split
 * into `P` parts, as the kubelet does), rotated every `rotateEvery` events:
 *   rename: 0.log → 0.log.<UTC timestamp>, a new 0.log created; rotated files are gzipped two
 *           rotations later (the kubelet keeps the newest rotated file uncompressed);
 *   copytruncate: copied to 0.log.<timestamp>, then truncated in place;
 *   delete: removed and created again.
 * Every `bigEvery`-th event carries ~40 KiB of arguments. It records what it wrote in a manifest
 * (JSON lines: {"gen","ino","path"} per file generation, {"seq","gen","end"} per event: the offset
 * just past the event's last line), so a test can tell which events lie before a checkpoint.
 *
 *   node test/support/log-writer.js '{"dir":"/tmp/x","events":1000,"perTick":10,"tickMs":20,...}'
 * Ends after the last event; SIGTERM stops it early (after a whole event).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const opts = {
  format: 'raw',
  rotation: 'rename',
  rotateEvery: 0,
  bigEvery: 0,
  perTick: 10,
  tickMs: 20,
  startSeq: 0,
  ...JSON.parse(process.argv[2]),
};
const file = path.join(opts.dir, opts.file ?? '0.log');
const manifest = fs.openSync(opts.manifest ?? path.join(opts.dir, 'manifest.jsonl'), 'a');
const PART = 16 * 1024;

let stop = false;
process.on('SIGTERM', () => (stop = true));

function event(seq) {
  const big = opts.bigEvery > 0 && seq % opts.bigEvery === opts.bigEvery - 1;
  const args = big ? JSON.stringify({ blob: 'x'.repeat(40 * 1024), seq }) : JSON.stringify({ key: `k${seq}` });
  return JSON.stringify({
    timestamp: new Date().toISOString(),
    level: 'INFO',
    fields: { event: 'tool_invocation', tool: 'get_key', toolset: 'database', result: 'success', duration_ms: seq, arguments: args },
    target: 'audit',
  });
}

function frame(line) {
  if (opts.format !== 'cri') return line + '\n';
  const bytes = Buffer.from(line);
  const ts = new Date().toISOString().replace('Z', '000000Z');
  let out = '';
  for (let i = 0; i < bytes.length || i === 0; i += PART) {
    const last = i + PART >= bytes.length;
    out += `${ts} stderr ${last ? 'F' : 'P'} ${bytes.subarray(i, i + PART).toString('latin1')}\n`;
  }
  return Buffer.from(out, 'latin1');
}

let gen = 0;
let fd = -1;
let offset = 0;
/** The first bytes of the current generation, until there are 256: a test tells files apart by them, as the router does. */
let head = Buffer.alloc(0);
const rotated = [];

function openGeneration() {
  fd = fs.openSync(file, 'a');
  offset = fs.fstatSync(fd).size;
  head = Buffer.alloc(0);
  gen++;
  fs.writeSync(manifest, JSON.stringify({ gen, ino: fs.fstatSync(fd).ino, path: file }) + '\n');
}

function stamp() {
  return new Date().toISOString().replace(/[-:]/g, '').replace('.', '-');
}

function rotate() {
  const target = `${file}.${stamp()}-${gen}`;
  if (opts.rotation === 'copytruncate') {
    fs.copyFileSync(file, target);
    fs.ftruncateSync(fd, 0);
    offset = 0;
    head = Buffer.alloc(0);
    gen++;
    fs.writeSync(manifest, JSON.stringify({ gen, ino: fs.fstatSync(fd).ino, path: file, truncated: true }) + '\n');
    return;
  }
  fs.closeSync(fd);
  if (opts.rotation === 'delete') fs.unlinkSync(file);
  else {
    fs.renameSync(file, target);
    rotated.push(target);
    // Gzip the rotated file of two rotations ago, as the kubelet compresses all but the newest.
    if (rotated.length > 2) {
      const old = rotated.shift();
      fs.writeFileSync(`${old}.gz`, zlib.gzipSync(fs.readFileSync(old)));
      fs.unlinkSync(old);
    }
  }
  openGeneration();
}

async function main() {
  openGeneration();
  let seq = opts.startSeq;
  const end = opts.startSeq + opts.events;
  while (seq < end && !stop) {
    for (let i = 0; i < opts.perTick && seq < end; i++, seq++) {
      if (opts.rotateEvery > 0 && seq > opts.startSeq && (seq - opts.startSeq) % opts.rotateEvery === 0) rotate();
      const bytes = frame(event(seq));
      fs.writeSync(fd, bytes);
      offset += Buffer.byteLength(bytes);
      if (head.length < 256) {
        head = Buffer.concat([head, Buffer.from(bytes)]).subarray(0, 256);
        if (head.length === 256) fs.writeSync(manifest, JSON.stringify({ gen, head: head.toString('hex') }) + '\n');
      }
      fs.writeSync(manifest, JSON.stringify({ seq, gen, end: offset }) + '\n');
    }
    await new Promise((r) => setTimeout(r, opts.tickMs));
  }
  fs.closeSync(fd);
  fs.closeSync(manifest);
}

main().catch((err) => {
  process.stderr.write(String(err?.stack) + '\n');
  process.exit(1);
});

#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * The "plain JavaScript loop" the performance targets are set against (issue: JSON.parse,
 * recursive redaction, JSON.stringify, sync writes). It is NOT audit-router: no schema, no URL
 * masking, no depth limit, no tool rules, no rotation, no backpressure. It is the floor a Node.js
 * process pays for parsing and re-serialising every event, measured on the same machine at the
 * same time as audit-router, so the two can be compared.
 *
 *   node bench/baseline.js OUT_FILE < input.log
 */
const { openSync, readSync, writeSync, closeSync } = require('node:fs');

const SENSITIVE = new Set(['password', 'apikey', 'secret', 'token', 'accesstoken', 'authorization', 'credential', 'privatekey']);
const norm = (/** @type {string} */ k) => k.replace(/[^a-z0-9]/gi, '').toLowerCase();

/** @param {any} v @returns {any} */
function redact(v) {
  if (typeof v === 'string') {
    const c = v.charCodeAt(0);
    if (c === 123 || c === 91) {
      try {
        return JSON.stringify(redact(JSON.parse(v)));
      } catch {
        return v;
      }
    }
    return v;
  }
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = redact(v[i]);
    return v;
  }
  for (const k in v) v[k] = SENSITIVE.has(norm(k)) ? '[REDACTED]' : redact(v[k]);
  return v;
}

const out = openSync(process.argv[2] ?? '/dev/null', 'w');
const chunk = Buffer.allocUnsafe(1 << 16);
let rest = '';
let pending = '';
let n;
while ((n = readSync(0, chunk, 0, chunk.length, null)) > 0) {
  const lines = (rest + chunk.toString('utf8', 0, n)).split('\n');
  rest = lines.pop() ?? '';
  for (const line of lines) {
    if (line.charCodeAt(0) !== 123) continue;
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (e === null || e.target !== 'audit') continue;
    pending += JSON.stringify(redact(e)) + '\n';
    if (pending.length > 65536) {
      writeSync(out, pending);
      pending = '';
    }
  }
}
writeSync(out, pending);
closeSync(out);

#!/usr/bin/env node
'use strict';
/**
 * False positives of the redaction rules: every mask the Redactor writes is recorded (through its
 * `observe` option, with the rule's name) and judged against the ground truth.
 *   node bench/redact-fp.js [lines] [seed]          the generated stream (scripts/generate-stream.js)
 *   node bench/redact-fp.js --file examples/redisctl-mcp-stderr.log
 * On the generated stream a mask is a true positive when what it replaces holds a planted secret
 * of its line, already masked when it replaces a mask ("[REDACTED]", "redacted"), and a false
 * positive otherwise. A file has no truth file: there, the generator's secret format
 * (sk-/pw-/tok_/S3cr3t + 16 hex) marks the secrets. Build first (npm run build).
 */
const fs = require('node:fs');
const path = require('node:path');
const { Redactor } = require(path.join(__dirname, '..', 'dist', 'src', 'transforms', 'redact', 'index.js'));
const { generate } = require(path.join(__dirname, '..', 'scripts', 'generate-stream.js'));

const SECRET_FORMAT = /(?:sk-|pw-|tok_|S3cr3t)[0-9a-f]{16}/g;
const args = process.argv.slice(2);
const fileIndex = args.indexOf('--file');

/** @type {{ line: string, secrets: string[] }[]} */
let input;
let source;
if (fileIndex >= 0) {
  const file = args[fileIndex + 1];
  source = file;
  input = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => ({ line, secrets: line.match(SECRET_FORMAT) ?? [] }));
} else {
  const lines = Number(args[0] ?? 20000);
  const seed = Number(args[1] ?? 42);
  source = `generated mixed stream, ${lines} lines, seed ${seed}, hostile`;
  input = [...generate({ lines, seed, scenario: 'mixed', hostile: true })]
    .filter((g) => g.truth.kind !== 'garbage')
    .map((g) => ({ line: g.line, secrets: g.truth.secrets }));
}

let current = [];
/** rule -> { tp, fp, already, samples } */
const byRule = new Map();
const redactor = new Redactor({
  observe(rule, secret) {
    const text = typeof secret === 'string' ? secret : JSON.stringify(secret);
    let entry = byRule.get(rule);
    if (!entry) byRule.set(rule, (entry = { tp: 0, fp: 0, already: 0, samples: new Map() }));
    if (text === '[REDACTED]' || text === 'redacted' || text === '"[REDACTED]"') entry.already++;
    else if (current.some((s) => text.includes(s))) entry.tp++;
    else {
      entry.fp++;
      const sample = text.length > 60 ? text.slice(0, 57) + '...' : text;
      entry.samples.set(sample, (entry.samples.get(sample) ?? 0) + 1);
    }
  },
});

/** Every key of a parsed line, JSON inside strings included: name -> { sensitive, tp, fp, already }. */
const keyStats = new Map();
function visitKeys(value, secrets, depth) {
  if (depth > 64) return;
  if (typeof value === 'string') {
    const t = value.trimStart();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        visitKeys(JSON.parse(t), secrets, depth + 1);
      } catch {}
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) visitKeys(v, secrets, depth + 1);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (redactor.isSensitiveKey(k)) {
      let e = keyStats.get(k);
      if (!e) keyStats.set(k, (e = { tp: 0, fp: 0, already: 0 }));
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      if (text === '[REDACTED]') e.already++;
      else if (secrets.some((s) => text.includes(s))) e.tp++;
      else e.fp++;
    } else visitKeys(v, secrets, depth + 1);
  }
}

let leaked = 0;
for (const { line, secrets } of input) {
  current = secrets;
  try {
    visitKeys(JSON.parse(line), secrets, 0);
  } catch {}
  let out;
  const trimmed = line.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      out = JSON.stringify(redactor.redactMessage(JSON.parse(line)));
    } catch {
      out = redactor.redactText(line);
    }
  } else out = redactor.redactText(line);
  for (const s of secrets) if (out.includes(s)) leaked++;
}

const keyNames = [...keyStats].sort((a, b) => b[1].fp - a[1].fp);
const keyFp = keyNames.filter(([, e]) => e.fp > 0);
console.log(`key names judged sensitive: ${keyNames.length}; holding a planted secret or a mask every time: ${keyNames.length - keyFp.length}; holding a non-secret at least once: ${keyFp.length}`);
for (const [k, e] of keyFp) console.log(`  ${JSON.stringify(k)}: ${e.fp} non-secret values, ${e.tp} secrets, ${e.already} already masked`);
console.log(`key names judged sensitive: ${keyNames.map(([k]) => k).join(' ')}`);

/**
 * Rules that mask whole values by design, secret or not: a JSON-RPC result, every raw-command
 * operand, a URL's user name (as redisctl-mcp does), what fails closed. Their non-secret masks are
 * the policy, not false positives; they are listed apart.
 */
const POLICY = new Set(['jsonrpc_result', 'redis_command', 'redis_bulk_load', 'redis_alias_set', 'url_credentials', 'max_depth', 'malformed_url', 'unparseable_json', 'tool_arguments']);

let tp = 0;
let fp = 0;
console.log(`source: ${source}; ${input.length} lines; planted secrets left in the output: ${leaked}`);
console.log('rule                      masks  true-pos  false-pos  already-masked');
for (const [rule, e] of [...byRule].sort()) {
  if (!POLICY.has(rule)) {
    tp += e.tp;
    fp += e.fp;
  }
  console.log(`${(POLICY.has(rule) ? rule + ' (policy)' : rule).padEnd(24)} ${String(e.tp + e.fp + e.already).padStart(6)} ${String(e.tp).padStart(9)} ${String(e.fp).padStart(10)} ${String(e.already).padStart(15)}`);
}
console.log(`false positives of the name and text rules: ${fp} of ${tp + fp} masks of unmasked values (${((100 * fp) / Math.max(1, tp + fp)).toFixed(2)} %)`);
for (const [rule, e] of byRule) {
  if (e.samples.size === 0) continue;
  const top = [...e.samples].sort((a, b) => b[1] - a[1]).slice(0, 8);
  console.log(`  ${rule}: ${top.map(([s, n]) => `${JSON.stringify(s)} x${n}`).join(', ')}`);
}

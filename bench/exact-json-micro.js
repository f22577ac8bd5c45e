#!/usr/bin/env node
'use strict';
/**
 * Cost of exact integers (src/util/exact-json.ts) on the generated audit stream (build first:
 * npm run build).
 *   node bench/exact-json-micro.js [lines] [seed]
 * Every line pays the gate (a test for a run of 16 digits) and stringifyJson's checks; only lines
 * that hold a long digit run take the exact parse. Prints ns per line for each step, against plain
 * JSON.parse / JSON.stringify over the same lines, for the stream as generated and for the same
 * lines with one integer beyond 2^53 spliced into each.
 */
const path = require('node:path');
const { mayHoldBigInteger, parseJson, stringifyJson } = require(path.join(__dirname, '..', 'dist', 'src', 'util', 'exact-json.js'));
const { generate } = require(path.join(__dirname, '..', 'scripts', 'generate-stream.js'));

const n = Number(process.argv[2] || 20000);
const seed = Number(process.argv[3] || 42);
// Decoded from bytes, as the router gets them (flat strings, not the generator's concatenations).
const flat = (l) => Buffer.from(l).toString('utf8');
const plain = [...generate({ lines: n, seed, scenario: 'audit' })].map((g) => flat(g.line));
const big = plain.map((l) => flat(l.replace('"duration_ms":', '"request_id":18446744073709551615,"duration_ms":')));

function cpuNs(fn, rounds) {
  for (let r = 0; r < 2; r++) fn(); // warm up
  const start = process.cpuUsage();
  for (let r = 0; r < rounds; r++) fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / (rounds * n);
}

const rounds = 10;
let sink = 0;
const report = (name, lines) => {
  const parsedPlain = lines.map((l) => JSON.parse(l));
  const parsedExact = lines.map((l) => parseJson(l));
  const gate = cpuNs(() => { for (const l of lines) if (mayHoldBigInteger(l)) sink++; }, rounds);
  const jp = cpuNs(() => { for (const l of lines) sink += JSON.parse(l) === null ? 1 : 0; }, rounds);
  const ep = cpuNs(() => { for (const l of lines) sink += (mayHoldBigInteger(l) ? parseJson(l) : JSON.parse(l)) === null ? 1 : 0; }, rounds);
  const js = cpuNs(() => { for (const v of parsedPlain) sink += JSON.stringify(v).length; }, rounds);
  const es = cpuNs(() => { for (const v of parsedExact) sink += stringifyJson(v).length; }, rounds);
  console.log(`${name}: gate ${gate.toFixed(0)} ns/line; parse: JSON.parse ${jp.toFixed(0)}, gate + exact path ${ep.toFixed(0)} ns/line (x${(ep / jp).toFixed(2)}); stringify: JSON.stringify ${js.toFixed(0)}, stringifyJson ${es.toFixed(0)} ns/line (x${(es / js).toFixed(2)})`);
};
console.log(`${n} generated audit lines (seed ${seed}), mean ${Math.round(plain.reduce((a, l) => a + l.length, 0) / n)} bytes; node ${process.version}`);
report('as generated (no integer beyond 2^53)', plain);
report('one integer beyond 2^53 in every line ', big);
if (sink === -1) console.log('');

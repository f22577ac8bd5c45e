// @ts-check
'use strict';
/**
 * The strict local receivers of the tests (test/support/datadog-intake.ts, fluentd-server.ts),
 * run inside the bench process as the network sinks' other end. They are TypeScript: compiled
 * once per bench run with the project's own tsc into <repo>/tmp/ (gitignored; inside the repo so
 * that their `@msgpack/msgpack` import resolves from its node_modules), and removed at exit.
 *
 * Each receiver is wrapped in the same small interface: take the receiver down and up, and tally
 * what it received by each event's seq (the generator's audit events carry `duration_ms == seq`),
 * counting events never seen before (`distinct`), duplicates (at-least-once) and records without
 * a seq. Tallying empties the receiver's own arrays, so a 200 000-event run does not keep 200 000
 * parsed records alive in the process that also paces the input.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT } = require('./report.js');

const SOURCES = ['test/support/datadog-intake.ts', 'test/support/fluentd-server.ts'];

/** @type {{ dir: string, datadog: any, fluentd: any } | null} */
let compiled = null;

/** Compiles the two receivers (once) and loads them. */
function load() {
  if (compiled) return compiled;
  const tmp = path.join(ROOT, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  const dir = fs.mkdtempSync(path.join(tmp, 'bench-receivers-'));
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, [
    '--ignoreConfig', '--module', 'commonjs', '--target', 'es2022', '--strict', '--skipLibCheck', '--types', 'node',
    '--rootDir', path.join(ROOT, 'test', 'support'), '--outDir', dir, ...SOURCES.map((s) => path.join(ROOT, s)),
  ], { cwd: ROOT, encoding: 'utf8' });
  process.once('exit', () => {
    fs.rmSync(dir, { recursive: true, force: true });
    try {
      fs.rmdirSync(tmp); // only when empty: other tools may use <repo>/tmp too
    } catch {
      // not empty, or gone
    }
  });
  const datadogJs = path.join(dir, 'datadog-intake.js');
  const fluentdJs = path.join(dir, 'fluentd-server.js');
  if (r.status !== 0 || !fs.existsSync(datadogJs) || !fs.existsSync(fluentdJs)) {
    throw new Error(`could not compile the test receivers with ${tsc} (status ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  compiled = { dir, datadog: require(datadogJs), fluentd: require(fluentdJs) };
  return compiled;
}

/** Counts received events by seq. */
class Tally {
  constructor() {
    this.seen = new Uint8Array(1 << 16);
    this.distinct = 0;
    this.duplicates = 0;
    this.noSeq = 0;
    /** Every seq below this has been received (delivery keeps order, so this is what is done). */
    this.prefix = 0;
  }

  /** @param {unknown} seq */
  add(seq) {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      this.noSeq++;
      return;
    }
    if (seq >= this.seen.length) {
      let size = this.seen.length;
      while (size <= seq) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.seen);
      this.seen = grown;
    }
    if (this.seen[seq]) this.duplicates++;
    else {
      this.seen[seq] = 1;
      this.distinct++;
      while (this.prefix < this.seen.length && this.seen[this.prefix]) this.prefix++;
    }
  }

  /** How many of seqs 0..n-1 were never received. @param {number} n */
  missingBelow(n) {
    let missing = 0;
    for (let i = this.prefix; i < n; i++) if (i >= this.seen.length || !this.seen[i]) missing++;
    return missing;
  }
}

/**
 * @typedef {{
 *   kind: 'datadog' | 'fluentd',
 *   tally: () => Tally,
 *   down: () => Promise<void>,
 *   up: () => Promise<void>,
 *   close: () => Promise<void>,
 *   sinkToml: (name: string) => string,
 *   stats: () => Record<string, number>,
 * }} Receiver
 */

/**
 * A Datadog intake. The sink gets the endpoint and an api_key_file (so the key is in neither the
 * config nor the results).
 * @param {string} apiKeyFile a file this function writes the key to
 * @returns {Promise<Receiver>}
 */
async function startDatadog(apiKeyFile) {
  const apiKey = `bench-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(apiKeyFile, apiKey + '\n', { mode: 0o600 });
  const intake = await load().datadog.startDatadogIntake({ apiKey });
  const tally = new Tally();
  const statuses = /** @type {Record<string, number>} */ ({});
  let requests = 0;
  return {
    kind: 'datadog',
    tally() {
      const logs = /** @type {Record<string, unknown>[]} */ (intake.logs);
      for (const log of logs) tally.add(log.duration_ms);
      logs.length = 0;
      const reqs = /** @type {{ status: number }[]} */ (intake.requests);
      for (const r of reqs) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      requests += reqs.length;
      reqs.length = 0;
      return tally;
    },
    down: () => intake.goAway(),
    up: () => intake.comeBack(),
    close: () => intake.close(),
    sinkToml: (name) => `[sinks.${name}]\ntype = "datadog"\nendpoint = "${intake.url}"\napi_key_file = ${JSON.stringify(apiKeyFile)}\n`,
    stats: () => ({ requests, ...Object.fromEntries(Object.entries(statuses).map(([k, v]) => [`status_${k}`, v])) }),
  };
}

/** @param {Record<string, unknown>} record */
function fluentSeq(record) {
  const fields = record.fields;
  return fields !== null && typeof fields === 'object' && !Array.isArray(fields)
    ? /** @type {Record<string, unknown>} */ (fields).duration_ms
    : record.duration_ms;
}

/** A Fluentd in_forward server (plain TCP, no handshake). @returns {Promise<Receiver>} */
async function startFluentd() {
  const server = await load().fluentd.startFluentdServer();
  const tally = new Tally();
  let chunks = 0;
  return {
    kind: 'fluentd',
    tally() {
      const events = /** @type {{ record: Record<string, unknown> }[]} */ (server.events);
      for (const e of events) tally.add(fluentSeq(e.record));
      events.length = 0;
      chunks += server.chunks.length;
      server.chunks.length = 0;
      return tally;
    },
    down: () => server.stop(),
    up: () => server.restart(),
    close: () => server.close(),
    sinkToml: (name) => `[sinks.${name}]\ntype = "fluentd"\nhost = "127.0.0.1"\nport = ${server.port}\n`,
    stats: () => ({ chunks, connections: server.connections, malformed: server.malformed, droppedConnections: server.dropped }),
  };
}

module.exports = { startDatadog, startFluentd, Tally };

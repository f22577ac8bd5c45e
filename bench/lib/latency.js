// @ts-check
'use strict';
/**
 * End-to-end latency at a steady rate: each audit event's line is written to the router's stdin
 * at its scheduled time, and its arrival is stamped on the router's stdout (the --stdout sink,
 * a FIFO) and in the output file (the --file sink), each read by a worker thread
 * (bench/lib/tail-worker.js). Latency is arrival minus the moment of the write() call, on one
 * monotonic clock.
 *
 * Pacing starts once the router logs "started" (so start-up is not counted), and the first
 * `warmupSeconds` of events are sent but left out of the figures.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { generate } = require('../../scripts/generate-stream.js');
const { runMeasured } = require('./proc.js');
const { quantile, max } = require('./stats.js');

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * @typedef {{ count: number, missing: number, p50: number, p90: number, p99: number, p999: number, max: number, mean: number }} LatencySummary
 */

/** @param {number[]} values @param {number} missing @returns {LatencySummary} */
function summarise(values, missing) {
  let sum = 0;
  for (const v of values) sum += v;
  return {
    count: values.length,
    missing,
    p50: quantile(values, 0.5),
    p90: quantile(values, 0.9),
    p99: quantile(values, 0.99),
    p999: quantile(values, 0.999),
    max: max(values),
    mean: values.length > 0 ? sum / values.length : NaN,
  };
}

/**
 * A tail-worker stamping arrivals of the lines of `file` into a shared array.
 * @param {{ file: string, fd: number | null, mode: 'poll'|'stream' }} source
 * @param {number} total @param {number} deadlineMs
 */
function startReader(source, total, deadlineMs) {
  const mode = source.mode;
  const arrival = new Float64Array(new SharedArrayBuffer(total * 8));
  const control = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(path.join(__dirname, 'tail-worker.js'), {
    workerData: { ...source, seqs: arrival.buffer, control: control.buffer, deadlineMs },
  });
  /** @type {Promise<{ lines: number, unknown: number }>} */
  const done = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`tail worker (${mode}) exited with ${code} before reporting`)));
  });
  const stop = () => {
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
  };
  return { arrival, done, stop };
}

/** @param {number} ms */
const round3 = (ms) => Math.round(ms * 1000) / 1000;

/**
 * @param {{ bin: string, runDir: string, rate: number, seconds: number, warmupSeconds: number, seed: number }} o
 */
async function runLatency(o) {
  const warmCount = Math.round(o.rate * o.warmupSeconds);
  const total = warmCount + Math.round(o.rate * o.seconds);
  /** @type {Buffer[]} */
  const payload = new Array(total);
  for (const { line, truth } of generate({ scenario: 'audit', lines: total, seed: o.seed })) {
    if (truth.seq === undefined) throw new Error('latency input: audit line without seq');
    payload[truth.seq] = Buffer.from(line + '\n');
  }
  const outFile = path.join(o.runDir, 'latency.jsonl');
  const argv = [o.bin, '--file', outFile, '--stdout'];

  const sent = new Float64Array(total);
  const scheduled = new Float64Array(total);
  const deadlineMs = nowMs() + (o.warmupSeconds + o.seconds) * 1000 + 120_000;
  // The router's stdout is a FIFO read by a worker (not a pipe read by this event loop).
  const fifo = path.join(o.runDir, 'stdout.fifo');
  const made = spawnSync('mkfifo', ['-m', '600', fifo], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr || made.error}`);
  // The read end first, non-blocking (so neither open waits for the other end); the write end
  // is the child's stdout, and ours is closed once the child has exited: the reader then sees EOF.
  const readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const stdoutFd = fs.openSync(fifo, fs.constants.O_WRONLY);
  const viaFile = startReader({ file: outFile, fd: null, mode: 'poll' }, total, deadlineMs);
  const viaStdout = startReader({ file: fifo, fd: readFd, mode: 'stream' }, total, deadlineMs);

  /** @type {Error | null} */ let pacingError = null;
  let measured;
  try {
    measured = await runMeasured(argv, {
      stdin: 'pipe',
      stdout: stdoutFd,
      onSpawn(child) {
        const stdin = /** @type {import('node:stream').Writable} */ (child.stdin);
        const stderr = /** @type {import('node:stream').Readable} */ (child.stderr);
        stdin.on('error', (err) => { pacingError = err; });

        const interval = 1000 / o.rate;
        let next = 0;
        /** @type {number} */ let t0 = 0;
        const tick = () => {
          const now = nowMs();
          while (next < total && t0 + next * interval <= now) {
            scheduled[next] = t0 + next * interval;
            sent[next] = nowMs();
            stdin.write(payload[next]);
            next++;
          }
          if (next < total) setTimeout(tick, Math.max(0, t0 + next * interval - nowMs()));
          else stdin.end();
        };
        // Start the clock once the router is ready (its "started" log line), or after 10 s anyway.
        let seen = '';
        let begun = false;
        const begin = () => {
          if (begun) return;
          begun = true;
          clearTimeout(fallback);
          t0 = nowMs();
          tick();
        };
        const fallback = setTimeout(begin, 10_000);
        stderr.on('data', (/** @type {string} */ s) => {
          if (begun) return;
          seen += s;
          if (seen.includes('"message":"started"')) begin();
        });
      },
    });
  } finally {
    fs.closeSync(stdoutFd);
    viaFile.stop();
    viaStdout.stop();
  }
  const fileTail = await viaFile.done;
  const stdoutTail = await viaStdout.done.finally(() => fs.closeSync(readFd));

  /** @type {number[]} */ const stdoutLat = [];
  /** @type {number[]} */ const fileLat = [];
  /** @type {number[]} */ const sendLag = [];
  let stdoutMissing = 0;
  let fileMissing = 0;
  for (let i = warmCount; i < total; i++) {
    sendLag.push(sent[i] - scheduled[i]);
    if (viaStdout.arrival[i] > 0) stdoutLat.push(viaStdout.arrival[i] - sent[i]);
    else stdoutMissing++;
    if (viaFile.arrival[i] > 0) fileLat.push(viaFile.arrival[i] - sent[i]);
    else fileMissing++;
  }
  let allStdout = 0;
  let allFile = 0;
  for (let i = 0; i < total; i++) {
    if (viaStdout.arrival[i] > 0) allStdout++;
    if (viaFile.arrival[i] > 0) allFile++;
  }
  const ok = measured.exitCode === 0 && pacingError === null && allStdout === total && allFile === total
    && stdoutTail.lines === total && fileTail.lines === total;
  return {
    argv,
    ok,
    sent: total,
    measuredEvents: total - warmCount,
    warmupEvents: warmCount,
    measured,
    pacingError: pacingError ? /** @type {Error} */ (pacingError).message : null,
    stdout: { lines: stdoutTail.lines, unknown: stdoutTail.unknown, ...summarise(stdoutLat, stdoutMissing) },
    file: { lines: fileTail.lines, unknown: fileTail.unknown, ...summarise(fileLat, fileMissing) },
    sendLag: summarise(sendLag, 0),
    raw: { stdoutMs: stdoutLat.map(round3), fileMs: fileLat.map(round3) },
  };
}

module.exports = { runLatency };

// @ts-check
'use strict';
/**
 * Worker thread of the latency scenario: reads one output of the router and stamps, for each
 * event, when its line was first readable. On its own thread, so neither the main thread's pacing
 * nor its event loop delays the stamps.
 * - mode 'poll' (the file sink's file): read() every ~0.2 ms, sleeping on Atomics.wait between.
 * - mode 'stream' (the read end of a FIFO that is the router's stdout, opened non-blocking by
 *   the main thread, passed as `fd`): read() until end of file, sleeping ~0.2 ms on EAGAIN.
 *
 * workerData: { file, fd, mode, seqs: SharedArrayBuffer (Float64 per event: arrival, ms of the
 * monotonic clock; 0 = not seen), control: SharedArrayBuffer (Int32: [0] stop flag, [1] lines
 * seen), deadlineMs }.
 */
const fs = require('node:fs');
const { workerData, parentPort } = require('node:worker_threads');

/** @type {{ file: string, fd: number | null, mode: 'poll'|'stream', seqs: SharedArrayBuffer, control: SharedArrayBuffer, deadlineMs: number }} */
const data = workerData;
const arrival = new Float64Array(data.seqs);
const control = new Int32Array(data.control);
const POLL_MS = 0.2;

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = () => Atomics.wait(control, 0, 0, POLL_MS);
const stopped = () => Atomics.load(control, 0) !== 0 || nowMs() > data.deadlineMs;

/** The event's seq (generator: duration_ms == seq), wherever the layout put the fields. @param {string} line */
function seqOf(line) {
  try {
    const record = JSON.parse(line);
    const fields = record !== null && typeof record.fields === 'object' && record.fields !== null ? record.fields : record;
    return typeof fields.duration_ms === 'number' ? fields.duration_ms : -1;
  } catch {
    return -1;
  }
}

function main() {
  /** @type {number | null} */ let fd = data.fd;
  while (fd === null) {
    try {
      fd = fs.openSync(data.file, 'r');
    } catch {
      if (stopped()) return { lines: 0, unknown: 0 };
      sleep();
    }
  }
  const buf = Buffer.allocUnsafe(1 << 20);
  let carry = Buffer.alloc(0);
  let pos = 0;
  let lines = 0;
  let unknown = 0;
  for (;;) {
    let n;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, data.mode === 'stream' ? null : pos);
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EAGAIN') throw err;
      if (stopped()) break;
      sleep();
      continue;
    }
    if (n === 0) {
      if (data.mode === 'stream') break;
      // Stop only after a read that found nothing new once told to stop.
      if (stopped()) break;
      sleep();
      continue;
    }
    const t = nowMs();
    pos += n;
    const bytes = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
    let start = 0;
    for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
      const seq = seqOf(bytes.toString('utf8', start, nl));
      start = nl + 1;
      lines++;
      if (seq >= 0 && seq < arrival.length && arrival[seq] === 0) arrival[seq] = t;
      else unknown++;
    }
    carry = Buffer.from(bytes.subarray(start));
    Atomics.store(control, 1, lines);
  }
  // A descriptor handed over by the main thread is closed by it.
  if (data.fd === null) fs.closeSync(fd);
  return { lines, unknown };
}

parentPort?.postMessage(main());

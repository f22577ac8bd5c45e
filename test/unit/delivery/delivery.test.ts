/**
 * The delivery layer, driven through a small in-test Transport (our own unit, not a stand-in for
 * a user's part): batching, backoff, classification, splitting, backpressure, the disk buffer
 * and the close deadline. Receivers over real sockets are exercised by the sink tests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  backoffDelay,
  createDeliverySink,
  DeliveryError,
  httpStatusError,
  parseDeliveryOptions,
  retryAfterFromHeaders,
  toDeliveryError,
  type DeliverySink,
  type Transport,
} from '../../../src/delivery';
import { createLogger } from '../../../src/util/log';
import type { SinkContext, SinkEvent, SinkOptions } from '../../../src/api/sink';
import { undelivered } from '../../../src/api/sink';
import { CollectingDeadLetter } from '../../support/dead-letter';
import { waitFor } from '../../support/wait';

function auditEvent(i: number, pad = 0): SinkEvent {
  const record = {
    timestamp: `2026-03-05T10:30:${String(i % 60).padStart(2, '0')}.123456Z`,
    level: 'INFO',
    fields: { event: 'tool_invocation', tool: `tool_${i}`, toolset: 'enterprise', result: 'success', duration_ms: i, arguments: 'x'.repeat(pad) },
    target: 'audit',
  };
  return { record, json: JSON.stringify(record), fields: record.fields };
}

const toolOf = (e: SinkEvent): string => String(e.fields.tool);

class Deferred {
  promise: Promise<void>;
  resolve!: () => void;
  constructor() {
    this.promise = new Promise((r) => (this.resolve = r));
  }
}

type Step = (batch: readonly SinkEvent[], signal: AbortSignal) => Promise<void> | void;

/** Records every attempt; each attempt runs the next scripted step (default: succeed). */
class ScriptedTransport implements Transport {
  maxEventBytes = 100_000;
  attempts: string[][] = [];
  delivered: string[] = [];
  steps: Step[] = [];
  /** Used when no step is queued. */
  fallback: Step = () => {};
  signals: AbortSignal[] = [];
  closed = false;
  size(event: SinkEvent): number {
    return Buffer.byteLength(event.json);
  }
  async send(batch: readonly SinkEvent[], signal: AbortSignal): Promise<void> {
    this.attempts.push(batch.map(toolOf));
    this.signals.push(signal);
    const step = this.steps.shift() ?? this.fallback;
    await step(batch, signal);
    this.delivered.push(...batch.map(toolOf));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

interface Harness {
  sink: DeliverySink;
  transport: ScriptedTransport;
  deadLetter: CollectingDeadLetter;
  logs: Record<string, unknown>[];
}

const tmpDirs: string[] = [];
const openSinks: DeliverySink[] = [];

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-router-delivery-'));
  tmpDirs.push(dir);
  return dir;
}

function harness(options: SinkOptions, transport = new ScriptedTransport(), random?: () => number, attemptTimeoutMs = 5000): Harness {
  const logs: Record<string, unknown>[] = [];
  const deadLetter = new CollectingDeadLetter();
  const context: SinkContext = {
    name: 'test',
    logger: createLogger('debug', (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    deadLetter,
    baseDir: os.tmpdir(),
  };
  const config = parseDeliveryOptions(options, 'test', os.tmpdir(), { attemptTimeoutMs });
  const sink = createDeliverySink({ type: 'scripted', config, transport, context, ...(random ? { random } : {}) });
  openSinks.push(sink);
  return { sink, transport, deadLetter, logs };
}


const fast = { retry: { initial_backoff: '1ms', max_backoff: '5ms' }, batch: { linger: '1ms' } };

afterEach(async () => {
  for (const sink of openSinks.splice(0)) await sink.close(Date.now() + 1000);
  for (const dir of tmpDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('error classification', () => {
  const none = (): null => null;
  it('maps HTTP statuses to what the delivery layer does', () => {
    expect(httpStatusError(400, none)).toMatchObject({ kind: 'permanent', errorClass: 'http_400' });
    expect(httpStatusError(401, none)).toMatchObject({ kind: 'auth', errorClass: 'auth' });
    expect(httpStatusError(403, none)).toMatchObject({ kind: 'auth', errorClass: 'auth' });
    expect(httpStatusError(408, none)).toMatchObject({ kind: 'retryable', errorClass: 'timeout' });
    expect(httpStatusError(413, none)).toMatchObject({ kind: 'too_large' });
    expect(httpStatusError(429, none)).toMatchObject({ kind: 'retryable', errorClass: 'http_429' });
    expect(httpStatusError(500, none)).toMatchObject({ kind: 'retryable', errorClass: 'http_5xx' });
    expect(httpStatusError(503, none)).toMatchObject({ kind: 'retryable', errorClass: 'http_5xx' });
  });

  it('treats network errors and unknown throws as retryable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(toDeliveryError(new TypeError('fetch failed', { cause: refused }))).toMatchObject({
      kind: 'retryable',
      errorClass: 'network',
      message: 'network error: ECONNREFUSED',
    });
    expect(toDeliveryError(Object.assign(new Error('t'), { code: 'ETIMEDOUT' }))).toMatchObject({ errorClass: 'timeout' });
    expect(toDeliveryError('weird')).toMatchObject({ kind: 'retryable', errorClass: 'network' });
  });

  it('reads Retry-After (seconds or a date) and x-ratelimit-reset', () => {
    const now = Date.parse('2026-03-05T10:30:00Z');
    const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;
    expect(retryAfterFromHeaders(headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(retryAfterFromHeaders(headers({ 'retry-after': 'Thu, 05 Mar 2026 10:30:07 GMT' }), now)).toBe(7000);
    expect(retryAfterFromHeaders(headers({ 'x-ratelimit-reset': '2' }), now)).toBe(2000);
    expect(retryAfterFromHeaders(headers({ 'x-ratelimit-reset': String(now / 1000 + 5) }), now)).toBe(5000);
    expect(retryAfterFromHeaders(headers({ 'retry-after': 'soon' }), now)).toBeNull();
    expect(httpStatusError(429, headers({ 'x-ratelimit-reset': '1' }), now).retryAfterMs).toBe(1000);
  });
});

describe('backoff', () => {
  it('stays within [0, min(max, initial * 2^attempt)) with full jitter', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(60_000, 1000 * 2 ** attempt);
      expect(backoffDelay(attempt, 1000, 60_000, null, () => 0)).toBe(0);
      const top = backoffDelay(attempt, 1000, 60_000, null, () => 0.999999);
      expect(top).toBeLessThan(ceiling);
      expect(top).toBeGreaterThanOrEqual(ceiling - 1);
      const mid = backoffDelay(attempt, 1000, 60_000, null, () => 0.5);
      expect(mid).toBe(Math.floor(ceiling / 2));
    }
  });

  it('uses the wait the receiver asked for, capped by max_backoff', () => {
    expect(backoffDelay(0, 1000, 60_000, 7000, () => 0)).toBe(7000);
    expect(backoffDelay(5, 1000, 60_000, 3_600_000, () => 0)).toBe(60_000);
  });

  it('retries with the planned delays and honours Retry-After', async () => {
    const h = harness({ ...fast, retry: { initial_backoff: '10ms', max_backoff: '1s' } }, undefined, () => 0.5);
    h.transport.steps.push(
      () => Promise.reject(new DeliveryError('down', 'retryable', 'network')),
      () => Promise.reject(new DeliveryError('down', 'retryable', 'network')),
      () => Promise.reject(httpStatusError(429, (n) => (n === 'retry-after' ? '0.05' : null))),
    );
    h.sink.write(auditEvent(1));
    await waitFor(() => h.transport.delivered.length === 1, 'delivery');
    const planned = h.logs.filter((l) => l.message === 'delivery failed, retrying').map((l) => l.retry_in_ms);
    expect(planned).toEqual([5, 10, 50]);
    expect(h.sink.counters).toMatchObject({ accepted: 1, delivered: 1, retried: 3, lastError: 'http_429' });
    expect(h.sink.healthy).toBe(true);
    expect(h.logs.some((l) => l.message === 'delivery resumed')).toBe(true);
  });
});

describe('batching', () => {
  it('flushes as soon as a batch is full by count', async () => {
    const gate = new Deferred();
    const h = harness({ batch: { max_events: 3, linger: '1h' } });
    h.transport.steps.push(() => gate.promise);
    for (let i = 1; i <= 7; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.transport.attempts.length === 1, 'first batch');
    gate.resolve();
    await waitFor(() => h.transport.delivered.length === 7, 'all events');
    expect(h.transport.attempts).toEqual([['tool_1', 'tool_2', 'tool_3'], ['tool_4', 'tool_5', 'tool_6'], ['tool_7']]);
  });

  it('flushes as soon as a batch is full by bytes', async () => {
    const gate = new Deferred();
    const size = Buffer.byteLength(auditEvent(1, 500).json);
    const h = harness({ batch: { max_events: 100, max_bytes: size * 2, linger: '1h' } });
    h.transport.steps.push(() => gate.promise);
    for (let i = 1; i <= 5; i++) h.sink.write(auditEvent(i, 500));
    await waitFor(() => h.transport.attempts.length === 1, 'first batch');
    gate.resolve();
    await waitFor(() => h.transport.delivered.length === 5, 'all events');
    expect(h.transport.attempts.map((a) => a.length)).toEqual([2, 2, 1]);
  });

  it('waits for the linger before sending a partial batch, and leaves no timer behind', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    // Earlier tests in this file leave sinks with timers of their own (backoffs); let them expire
    // first, or one ending mid-test makes the count below drop for a reason not this sink's.
    await waitFor(() => timers() === 0, 'earlier tests\' timers', 10_000).catch(() => {});
    const before = timers();
    const h = harness({ batch: { max_events: 100, linger: '30ms' } });
    h.sink.write(auditEvent(1));
    h.sink.write(auditEvent(2));
    expect(h.transport.attempts).toEqual([]);
    await waitFor(() => h.transport.attempts.length === 1, 'the lingering batch');
    expect(h.transport.attempts).toEqual([['tool_1', 'tool_2']]);
    await waitFor(() => h.sink.counters.delivered === 2, 'delivery');
    expect(timers()).toBe(before); // idle: nothing scheduled
    await h.sink.close(Date.now() + 1000);
    expect(timers()).toBe(before);
    expect(h.transport.closed).toBe(true);
  });
});

describe('failures', () => {
  it('splits a batch refused with 413 down to one event, dead-letters a single event still refused', async () => {
    const gate = new Deferred();
    const h = harness({ ...fast, batch: { max_events: 5, linger: '1h' } });
    h.transport.steps.push(() => gate.promise.then(() => Promise.reject(httpStatusError(413, () => null))));
    h.transport.fallback = (batch) => {
      if (batch.length > 2 || batch.some((e) => toolOf(e) === 'tool_4')) throw httpStatusError(413, () => null);
    };
    for (let i = 1; i <= 5; i++) h.sink.write(auditEvent(i));
    gate.resolve();
    await waitFor(() => h.sink.counters.delivered + h.sink.counters.deadLettered === 5, 'all settled');
    expect(h.transport.delivered.sort()).toEqual(['tool_1', 'tool_2', 'tool_3', 'tool_5']);
    expect(h.deadLetter.records).toHaveLength(1);
    expect(h.deadLetter.records[0]).toMatchObject({ reason: 'event_too_large', sink: 'test', event: auditEvent(4).record });
    expect(h.transport.attempts[0]).toHaveLength(5);
    expect(h.transport.attempts[1]).toHaveLength(3);
    expect(undelivered(h.sink.counters)).toBe(0);
  });

  it('dead-letters a batch refused with 400 without retrying it', async () => {
    const h = harness(fast);
    h.transport.steps.push(() => Promise.reject(httpStatusError(400, () => null)));
    h.sink.write(auditEvent(1));
    await waitFor(() => h.sink.counters.deadLettered === 1, 'dead-letter');
    expect(h.transport.attempts).toHaveLength(1);
    expect(h.deadLetter.records[0]).toMatchObject({ reason: 'undeliverable', detail: 'receiver answered HTTP 400' });
    expect(h.sink.counters.lastError).toBe('http_400');
  });

  it('on 401/403 logs once, turns unhealthy, keeps the events in the dead-letter and does not spin', async () => {
    const h = harness({ ...fast, retry: { initial_backoff: '1ms', max_backoff: '1h' } });
    h.transport.fallback = () => Promise.reject(httpStatusError(403, () => null));
    for (let i = 1; i <= 3; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.sink.counters.deadLettered === 3, 'dead-letters');
    for (let i = 4; i <= 6; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.sink.counters.deadLettered === 6, 'more dead-letters');
    expect(h.transport.attempts).toHaveLength(1); // one refused request, then no more until max_backoff
    expect(h.sink.healthy).toBe(false);
    expect(h.sink.counters.lastError).toBe('auth');
    expect(h.logs.filter((l) => l.level === 'ERROR')).toHaveLength(1);
    expect(h.deadLetter.records.map((r) => r.reason)).toEqual(Array(6).fill('undeliverable'));
    expect(undelivered(h.sink.counters)).toBe(0);
  });

  it('on 401/403 with a disk buffer keeps the events in the buffer', async () => {
    const dir = tmpDir();
    const h = harness({ ...fast, retry: { initial_backoff: '1ms', max_backoff: '1h' }, buffer: { type: 'disk', path: dir } });
    h.transport.fallback = () => Promise.reject(httpStatusError(401, () => null));
    for (let i = 1; i <= 3; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.sink.healthy === false, 'unhealthy');
    await h.sink.close(Date.now() + 2000);
    expect(h.transport.attempts).toHaveLength(1);
    expect(h.sink.counters).toMatchObject({ accepted: 3, delivered: 0, deadLettered: 0, buffered: 3 });
    expect(undelivered(h.sink.counters)).toBe(0);
  });

  it('abandons an attempt after the attempt timeout and retries it', async () => {
    const h = harness(fast, undefined, undefined, 50);
    h.transport.steps.push(() => new Promise(() => {})); // hangs, ignores the signal
    h.sink.write(auditEvent(1));
    await waitFor(() => h.transport.delivered.length === 1, 'delivery after the timeout');
    expect(h.transport.attempts).toHaveLength(2);
    expect(h.transport.signals[0]!.aborted).toBe(true);
    expect(h.logs.find((l) => l.message === 'delivery failed, retrying')).toMatchObject({ error_class: 'timeout' });
  });
});

describe('when the queue is full', () => {
  it('"block": write returns false and drain waits for space; nothing is dropped', async () => {
    const gate = new Deferred();
    const h = harness({ queue: { max_events: 3 }, batch: { max_events: 1, linger: '1ms' } });
    h.transport.steps.push(() => gate.promise);
    expect(h.sink.write(auditEvent(1))).toBe(true);
    expect(h.sink.write(auditEvent(2))).toBe(true);
    expect(h.sink.write(auditEvent(3))).toBe(false);
    let drained = false;
    const drain = h.sink.drain().then(() => (drained = true));
    await waitFor(() => h.transport.attempts.length === 1, 'the blocked attempt');
    expect(drained).toBe(false);
    gate.resolve();
    await drain;
    await waitFor(() => h.transport.delivered.length === 3, 'all delivered');
    expect(h.sink.counters).toMatchObject({ accepted: 3, delivered: 3, dropped: 0, deadLettered: 0 });
  });

  it('"drop_newest": drops and dead-letters what does not fit, counted', async () => {
    const gate = new Deferred();
    const h = harness({ queue: { max_events: 2 }, when_full: 'drop_newest', batch: { linger: '1ms' } });
    h.transport.steps.push(() => gate.promise);
    for (let i = 1; i <= 5; i++) expect(h.sink.write(auditEvent(i))).toBe(true);
    gate.resolve();
    await waitFor(() => h.transport.delivered.length === 2, 'delivery');
    expect(h.transport.delivered).toEqual(['tool_1', 'tool_2']);
    expect(h.sink.counters).toMatchObject({ accepted: 5, delivered: 2, dropped: 3, deadLettered: 3 });
    expect(h.deadLetter.records.map((r) => [r.reason, r.sink, toolOf({ fields: (r.event!.fields as never) } as unknown as SinkEvent)])).toEqual([
      ['dropped_queue_full', 'test', 'tool_3'],
      ['dropped_queue_full', 'test', 'tool_4'],
      ['dropped_queue_full', 'test', 'tool_5'],
    ]);
  });
});

describe('close', () => {
  it('never waits past the deadline: aborts the request in flight, dead-letters what is left', async () => {
    const h = harness({ ...fast, batch: { max_events: 2, linger: '1ms' } });
    h.transport.fallback = () => new Promise(() => {}); // a receiver that never answers
    for (let i = 1; i <= 5; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.transport.attempts.length === 1, 'the hung attempt');
    await h.sink.close(Date.now() + 100);
    expect(h.transport.signals[0]!.aborted).toBe(true);
    expect(h.sink.counters).toMatchObject({ accepted: 5, delivered: 0, deadLettered: 5, buffered: 0 });
    expect(h.deadLetter.records.every((r) => r.reason === 'undeliverable' && /shutdown deadline/.test(String(r.detail)))).toBe(true);
    expect(undelivered(h.sink.counters)).toBe(0);
    // After close, writes are refused into the dead-letter rather than lost.
    h.sink.write(auditEvent(6));
    expect(h.sink.counters).toMatchObject({ accepted: 6, deadLettered: 6 });
  });

  it('delivers what is pending before the deadline, without waiting for the linger', async () => {
    const h = harness({ batch: { max_events: 100, linger: '1h' } });
    for (let i = 1; i <= 3; i++) h.sink.write(auditEvent(i));
    await h.sink.close(Date.now() + 5000);
    expect(h.transport.delivered).toEqual(['tool_1', 'tool_2', 'tool_3']);
    expect(h.sink.counters).toMatchObject({ accepted: 3, delivered: 3 });
  });
});

describe('disk buffer', () => {
  const down = (): Promise<void> => Promise.reject(new DeliveryError('down', 'retryable', 'network'));

  it('keeps undelivered events at close and replays them first on the next start', async () => {
    const dir = tmpDir();
    const a = harness({ ...fast, buffer: { type: 'disk', path: dir, fsync: 'always' } });
    a.transport.fallback = down;
    for (let i = 1; i <= 5; i++) a.sink.write(auditEvent(i));
    await waitFor(() => a.transport.attempts.length >= 1, 'an attempt');
    await a.sink.close(Date.now() + 100);
    expect(a.sink.counters).toMatchObject({ accepted: 5, delivered: 0, deadLettered: 0, buffered: 5 });
    expect(undelivered(a.sink.counters)).toBe(0);

    const b = harness({ ...fast, buffer: { type: 'disk', path: dir } });
    expect(b.sink.bufferStats).toEqual({ replayed: 5, tornRecords: 0 });
    b.sink.write(auditEvent(6));
    await waitFor(() => b.transport.delivered.length === 6, 'replay and new event');
    expect(b.transport.delivered).toEqual(['tool_1', 'tool_2', 'tool_3', 'tool_4', 'tool_5', 'tool_6']);
    expect(b.transport.attempts[0]!.slice(0, 5)).toEqual(['tool_1', 'tool_2', 'tool_3', 'tool_4', 'tool_5']);
    await b.sink.close(Date.now() + 1000);
    expect(b.sink.counters).toMatchObject({ accepted: 6, delivered: 6, buffered: 0 });

    // Everything acknowledged: a third start has nothing to replay, and old segments are gone.
    const c = harness({ buffer: { type: 'disk', path: dir } });
    expect(c.sink.bufferStats.replayed).toBe(0);
    await c.sink.close(Date.now() + 1000);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  });

  it('skips and counts a torn last record left by a crash in the middle of an append', async () => {
    const dir = tmpDir();
    const a = harness({ ...fast, buffer: { type: 'disk', path: dir } });
    a.transport.fallback = down;
    for (let i = 1; i <= 3; i++) a.sink.write(auditEvent(i));
    await a.sink.close(Date.now() + 50);
    const segment = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()[0]!;
    const torn = auditEvent(4).json.slice(0, 40); // no newline: the append never finished
    fs.appendFileSync(path.join(dir, segment), torn);

    const b = harness({ ...fast, buffer: { type: 'disk', path: dir } });
    expect(b.sink.bufferStats).toEqual({ replayed: 3, tornRecords: 1 });
    expect(b.logs.some((l) => /torn record/.test(String(l.message)))).toBe(true);
    await waitFor(() => b.transport.delivered.length === 3, 'replay');
    expect(b.transport.delivered).toEqual(['tool_1', 'tool_2', 'tool_3']);
    await b.sink.close(Date.now() + 1000);
    expect(b.sink.counters).toMatchObject({ accepted: 3, delivered: 3, deadLettered: 0 });
  });

  it('dead-letters (without content) a complete record that no longer parses', async () => {
    const dir = tmpDir();
    const a = harness({ ...fast, buffer: { type: 'disk', path: dir } });
    a.transport.fallback = down;
    a.sink.write(auditEvent(1));
    await a.sink.close(Date.now() + 50);
    const segment = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()[0]!;
    fs.appendFileSync(path.join(dir, segment), '{"broken\n');
    const b = harness({ ...fast, buffer: { type: 'disk', path: dir } });
    await waitFor(() => b.sink.counters.delivered + b.sink.counters.deadLettered === 2, 'settled');
    expect(b.deadLetter.records).toEqual([{ reason: 'undeliverable', sink: 'test', detail: 'unreadable disk buffer record', size: 8 }]);
    expect(undelivered(b.sink.counters)).toBe(0);
  });

  it('rolls over segments and deletes them once acknowledged', async () => {
    const dir = tmpDir();
    const h = harness({ batch: { max_events: 10, linger: '1ms' }, buffer: { type: 'disk', path: dir, max_bytes: '40K', fsync: 'never' } });
    for (let i = 1; i <= 200; i++) {
      if (!h.sink.write(auditEvent(i, 50))) await h.sink.drain();
    }
    await waitFor(() => h.transport.delivered.length === 200, 'all');
    expect(h.transport.delivered).toEqual(Array.from({ length: 200 }, (_, i) => `tool_${i + 1}`));
    await h.sink.close(Date.now() + 1000);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  });

  it('refuses a buffer directory another live process (or sink) is using', () => {
    const dir = tmpDir();
    harness({ buffer: { type: 'disk', path: dir } });
    expect(() => harness({ buffer: { type: 'disk', path: dir } })).toThrow(/in use by process/);
  });
});

describe('options', () => {
  it('reports bad values with their key', () => {
    const parse = (o: SinkOptions) => parseDeliveryOptions(o, 'dd', '/base', { attemptTimeoutMs: 1 });
    expect(() => parse({ batch: { max_bytes: 'lots' } })).toThrow(/sinks\.dd\.batch\.max_bytes/);
    expect(() => parse({ retry: { initial_backoff: '5s', max_backoff: '1s' } })).toThrow(/max_backoff/);
    expect(() => parse({ buffer: { type: 'disk' } })).toThrow(/buffer\.path/);
    expect(() => parse({ when_full: 'drop_oldest' })).toThrow(/when_full/);
    expect(parse({ buffer: { type: 'disk', path: 'buf' } }).buffer).toEqual({ type: 'disk', path: '/base/buf', maxBytes: 256 * 1024 * 1024, fsync: 'batch' });
    expect(parse({}).batch.lingerMs).toBe(200);
  });
});

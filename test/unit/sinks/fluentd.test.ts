/**
 * The Fluentd sink against a real local Forward-protocol server (test/support/fluentd-server.ts:
 * TCP, TLS and unix sockets on this host, real msgpack).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSink, parseEventTime } from '../../../sinks/fluentd';
import type { DeliverySink } from '../../../src/delivery';
import { createLogger } from '../../../src/util/log';
import type { SinkContext, SinkEvent, SinkOptions } from '../../../src/api/sink';
import { undelivered } from '../../../src/api/sink';
import { makeTestCertificates, startFluentdServer, type FluentdServer, type FluentdServerOptions } from '../../support/fluentd-server';
import { CollectingDeadLetter } from '../../support/dead-letter';
import { waitFor } from '../../support/wait';

const ROOT = path.join(__dirname, '..', '..', '..');

function auditEvent(i: number, fraction = '123456789'): SinkEvent {
  const record = {
    timestamp: `2026-03-05T10:30:${String(i % 60).padStart(2, '0')}.${fraction}Z`,
    level: 'INFO',
    fields: { event: 'tool_invocation', tool: `tool_${i}`, toolset: 'enterprise', result: 'success', duration_ms: i, arguments: '{"name":"cache-db","password":"[REDACTED]"}' },
    target: 'audit',
  };
  return { record, json: JSON.stringify(record), fields: record.fields };
}

const EPOCH_10_30_00 = Date.UTC(2026, 2, 5, 10, 30, 0) / 1000;

interface Harness {
  sink: DeliverySink;
  deadLetter: CollectingDeadLetter;
  logs: Record<string, unknown>[];
}

const servers: FluentdServer[] = [];
const sinks: DeliverySink[] = [];
const dirs: string[] = [];

function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function server(options: FluentdServerOptions = {}): Promise<FluentdServer> {
  const s = await startFluentdServer(options);
  servers.push(s);
  return s;
}

async function makeSink(options: SinkOptions): Promise<Harness> {
  const logs: Record<string, unknown>[] = [];
  const deadLetter = new CollectingDeadLetter();
  const context: SinkContext = {
    name: 'fd',
    logger: createLogger('debug', (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    deadLetter,
    baseDir: os.tmpdir(),
  };
  const sink = (await createSink(
    { batch: { linger: '5ms' }, retry: { initial_backoff: '10ms', max_backoff: '50ms' }, ack_timeout: '1s', ...options },
    context,
  )) as DeliverySink;
  sinks.push(sink);
  return { sink, deadLetter, logs };
}


const tools = (s: FluentdServer): string[] => s.events.map((e) => String((e.record.fields as Record<string, unknown>).tool));
const distinct = (list: string[]): string[] => [...new Set(list)].sort();
const expected = (n: number): string[] => Array.from({ length: n }, (_, i) => `tool_${i + 1}`).sort();

afterEach(async () => {
  for (const sink of sinks.splice(0)) await sink.close(Date.now() + 1000);
  for (const s of servers.splice(0)) await s.close();
});

afterAll(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('fluentd sink', () => {
  for (const mode of ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'] as const) {
    it(`sends the exact records with nanosecond EventTimes, acknowledged, in ${mode} mode`, async () => {
      const s = await server();
      const h = await makeSink({ port: s.port, event_mode: mode, tag: 'audit.test' });
      const events = [auditEvent(1, '123456789'), auditEvent(2, '000001'), auditEvent(3, '5')];
      for (const e of events) h.sink.write(e);
      await waitFor(() => h.sink.counters.delivered === 3, 'acknowledged delivery');
      expect(s.events.map((e) => ({ tag: e.tag, time: e.time, record: e.record, mode: e.mode }))).toEqual([
        { tag: 'audit.test', time: { seconds: EPOCH_10_30_00 + 1, nanoseconds: 123456789 }, record: events[0]!.record, mode },
        { tag: 'audit.test', time: { seconds: EPOCH_10_30_00 + 2, nanoseconds: 1000 }, record: events[1]!.record, mode },
        { tag: 'audit.test', time: { seconds: EPOCH_10_30_00 + 3, nanoseconds: 500000000 }, record: events[2]!.record, mode },
      ]);
      expect(s.chunks.every((c) => c.chunk !== undefined && c.acked)).toBe(true);
      expect(s.chunks).toHaveLength(mode === 'Message' ? 3 : 1);
      expect(h.sink.counters).toMatchObject({ accepted: 3, delivered: 3, retried: 0 });
    });
  }

  it('delivers everything written while the server was down once it is back', async () => {
    const s = await server();
    const h = await makeSink({ port: s.port });
    await s.stop();
    for (let i = 1; i <= 20; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.sink.counters.retried > 0, 'a failed attempt');
    expect(h.sink.healthy).toBe(false);
    await s.restart();
    await waitFor(() => h.sink.counters.delivered === 20, 'all delivered');
    expect(tools(s)).toEqual(Array.from({ length: 20 }, (_, i) => `tool_${i + 1}`));
    expect(h.sink.healthy).toBe(true);
  });

  it('re-sends a chunk whose ack never came (at-least-once)', async () => {
    const s = await server();
    s.fault({ withholdAck: true });
    const h = await makeSink({ port: s.port, ack_timeout: '200ms' });
    for (let i = 1; i <= 3; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.sink.counters.delivered === 3, 'delivery after the resend');
    expect(s.chunks.map((c) => c.acked)).toEqual([false, true]);
    expect(tools(s)).toEqual(['tool_1', 'tool_2', 'tool_3', 'tool_1', 'tool_2', 'tool_3']);
    expect(h.sink.counters).toMatchObject({ retried: 3, lastError: 'timeout' });
  });

  it('loses nothing when the connection is reset in the middle of a chunk', async () => {
    const s = await server();
    s.fault({ dropMidChunk: true, count: 2 });
    const h = await makeSink({ port: s.port });
    for (let i = 1; i <= 10; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.sink.counters.delivered === 10, 'delivery');
    expect(s.dropped).toBe(2);
    expect(distinct(tools(s))).toEqual(expected(10));
    expect(undelivered(h.sink.counters)).toBe(0);
  });

  it('waits for a slow ack rather than counting the chunk early', async () => {
    const s = await server();
    s.fault({ delayAckMs: 100 });
    const h = await makeSink({ port: s.port });
    h.sink.write(auditEvent(1));
    await waitFor(() => s.events.length === 1, 'the event at the server');
    expect(h.sink.counters.delivered).toBe(0);
    await waitFor(() => h.sink.counters.delivered === 1, 'the ack');
    expect(s.events).toHaveLength(1);
  });

  it('speaks TLS with a CA it is given', async () => {
    const certs = makeTestCertificates(tmpDir('audit-router-certs-'));
    const s = await server({ tls: { key: certs.key, cert: certs.cert } });
    const h = await makeSink({ port: s.port, tls: { ca: certs.caPath } });
    h.sink.write(auditEvent(1));
    await waitFor(() => h.sink.counters.delivered === 1, 'delivery over TLS');
    expect(tools(s)).toEqual(['tool_1']);
  });

  it('presents a client certificate for mutual TLS', async () => {
    const certs = makeTestCertificates(tmpDir('audit-router-certs-'));
    const s = await server({ tls: { key: certs.key, cert: certs.cert, ca: certs.ca, requestCert: true } });
    const h = await makeSink({ port: s.port, tls: { ca: certs.caPath, cert: certs.clientCertPath, key: certs.clientKeyPath } });
    h.sink.write(auditEvent(1));
    await waitFor(() => h.sink.counters.delivered === 1, 'delivery over mutual TLS');
  });

  it('refuses a server certificate it cannot verify: a configuration error, unhealthy, no spinning', async () => {
    const certs = makeTestCertificates(tmpDir('audit-router-certs-'));
    const s = await server({ tls: { key: certs.key, cert: certs.cert } });
    const h = await makeSink({ port: s.port, tls: {}, retry: { initial_backoff: '10ms', max_backoff: '1h' } });
    h.sink.write(auditEvent(1));
    await waitFor(() => h.sink.counters.deadLettered === 1, 'dead-letter');
    expect(h.sink.healthy).toBe(false);
    expect(h.sink.counters.lastError).toBe('tls');
    expect(s.events).toHaveLength(0);
  });

  it('authenticates with a shared key and a user', async () => {
    const s = await server({ sharedKey: 's3cret-shared', selfHostname: 'aggregator', users: { router: 'pw-123' } });
    const h = await makeSink({ port: s.port, shared_key: 's3cret-shared', self_hostname: 'router-1', username: 'router', password: 'pw-123' });
    h.sink.write(auditEvent(1));
    await waitFor(() => h.sink.counters.delivered === 1, 'delivery after the handshake');
    expect(s.authFailures).toBe(0);
    expect(tools(s)).toEqual(['tool_1']);
  });

  it('on a wrong shared key: one clear error, unhealthy, events dead-lettered, the key nowhere', async () => {
    const s = await server({ sharedKey: 'the-right-key' });
    const h = await makeSink({ port: s.port, shared_key: 'a-wrong-key-xyz', retry: { initial_backoff: '10ms', max_backoff: '1h' } });
    for (let i = 1; i <= 3; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.sink.counters.deadLettered === 3, 'dead-letters');
    expect(s.authFailures).toBe(1);
    expect(h.sink.healthy).toBe(false);
    expect(h.sink.counters.lastError).toBe('auth');
    const errors = h.logs.filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(String(errors[0]!.message)).toMatch(/refused the credentials/);
    const everything = JSON.stringify(h.logs) + JSON.stringify(h.deadLetter.records);
    expect(everything).not.toContain('a-wrong-key-xyz');
    expect(everything).not.toContain('the-right-key');
  });

  it('connects over a unix socket', async () => {
    const socketPath = path.join(tmpDir('audit-router-sock-'), 'fluent.sock');
    const s = await server({ path: socketPath });
    const h = await makeSink({ path: socketPath });
    h.sink.write(auditEvent(1));
    await waitFor(() => h.sink.counters.delivered === 1, 'delivery over the unix socket');
    expect(tools(s)).toEqual(['tool_1']);
  });

  it('with require_ack = false counts an event delivered once written to the socket', async () => {
    const s = await server();
    const h = await makeSink({ port: s.port, require_ack: false });
    h.sink.write(auditEvent(1));
    await waitFor(() => h.sink.counters.delivered === 1, 'delivery');
    await waitFor(() => s.events.length === 1, 'the event at the server');
    expect(s.chunks[0]!.chunk).toBeUndefined();
  });

  it('closes by the deadline while the server withholds acks, keeping the events', async () => {
    const s = await server();
    s.fault({ withholdAck: true, count: 100 });
    const h = await makeSink({ port: s.port, ack_timeout: '1h' });
    h.sink.write(auditEvent(1));
    await waitFor(() => s.events.length === 1, 'the unacknowledged chunk');
    await h.sink.close(Date.now() + 100);
    expect(h.sink.counters).toMatchObject({ accepted: 1, delivered: 0, deadLettered: 1 });
  });
});

describe('fluentd disk buffer across a crash', () => {
  let outDir: string;

  beforeAll(() => {
    // The child runs the compiled sink, so build our sources into a scratch directory.
    outDir = tmpDir('audit-router-build-');
    spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(ROOT, 'tsconfig.json'), '--outDir', outDir], { stdio: 'ignore' });
    if (!fs.existsSync(path.join(outDir, 'sinks', 'fluentd', 'index.js'))) throw new Error('could not build sinks/fluentd/index.ts for the child process');
  }, 120_000);

  it('replays every event accepted before a SIGKILL', async () => {
    const s = await server();
    await s.stop(); // nothing gets through while the child runs
    const bufferDir = tmpDir('audit-router-buffer-');
    const script = path.join(tmpDir('audit-router-child-'), 'child.js');
    fs.writeFileSync(
      script,
      `
      const { createSink } = require(${JSON.stringify(path.join(outDir, 'sinks', 'fluentd', 'index.js'))});
      const { silentLogger } = require(${JSON.stringify(path.join(outDir, 'src', 'util', 'log.js'))});
      (async () => {
        const deadLetter = { write: () => true, drain: async () => {} };
        const sink = await createSink(
          { port: ${s.port}, buffer: { type: 'disk', path: ${JSON.stringify(bufferDir)}, fsync: 'never' }, retry: { initial_backoff: '20ms', max_backoff: '50ms' } },
          { name: 'fd', logger: silentLogger, deadLetter, baseDir: process.cwd() },
        );
        for (let i = 1; i <= 50; i++) {
          const record = { timestamp: '2026-03-05T10:30:00.000001Z', level: 'INFO', fields: { event: 'tool_invocation', tool: 'tool_' + i }, target: 'audit' };
          sink.write({ record, json: JSON.stringify(record), fields: record.fields });
        }
        process.stdout.write('accepted ' + sink.counters.accepted + '\\n');
        setInterval(() => {}, 1000);
      })();
      `,
    );
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await waitFor(() => stdout.includes('accepted 50') || child.exitCode !== null, `the child (stderr: ${stderr})`, 20_000);
    expect(stdout).toContain('accepted 50');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    await s.restart();
    const h = await makeSink({ port: s.port, buffer: { type: 'disk', path: bufferDir } });
    expect(h.sink.bufferStats.replayed).toBe(50);
    await waitFor(() => h.sink.counters.delivered === 50, 'the replay');
    expect(distinct(tools(s))).toEqual(expected(50));
    await h.sink.close(Date.now() + 2000);
    expect(h.sink.counters).toMatchObject({ accepted: 50, delivered: 50, buffered: 0 });
  });
});

describe('EventTime from the timestamp text', () => {
  it('keeps every fractional digit and honours offsets', () => {
    expect(parseEventTime('2026-03-05T10:30:00.123456Z')).toEqual({ seconds: EPOCH_10_30_00, nanoseconds: 123456000 });
    expect(parseEventTime('2026-03-05T10:30:00.123456789Z')).toEqual({ seconds: EPOCH_10_30_00, nanoseconds: 123456789 });
    expect(parseEventTime('2026-03-05T10:30:00Z')).toEqual({ seconds: EPOCH_10_30_00, nanoseconds: 0 });
    expect(parseEventTime('2026-03-05T12:30:00.5+02:00')).toEqual({ seconds: EPOCH_10_30_00, nanoseconds: 500000000 });
    expect(parseEventTime('yesterday')).toBeNull();
    expect(parseEventTime('2026-13-05T10:30:00Z')).toBeNull();
  });
});

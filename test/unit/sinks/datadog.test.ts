/**
 * The Datadog sink against a real local intake (test/support/datadog-intake.ts, HTTP on 127.0.0.1).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSink, toLogItem, parseDatadogOptions } from '../../../sinks/datadog';
import type { DeliverySink } from '../../../src/delivery';
import { createLogger } from '../../../src/util/log';
import type { SinkContext, SinkEvent, SinkOptions } from '../../../src/api/sink';
import { undelivered } from '../../../src/api/sink';
import { startDatadogIntake, type DatadogIntake } from '../../support/datadog-intake';
import { CollectingDeadLetter } from '../../support/dead-letter';
import { waitFor } from '../../support/wait';

const API_KEY = 'dd-test-key-0123456789abcdef0123';

function auditEvent(i: number, event = 'tool_invocation', pad = 0): SinkEvent {
  const record = {
    timestamp: `2026-03-05T10:30:00.${String(i).padStart(6, '0')}Z`,
    level: 'INFO',
    fields: {
      event,
      tool: `tool_${i}`,
      toolset: 'enterprise',
      result: event === 'tool_denied' ? 'denied' : 'success',
      duration_ms: i * 10,
      arguments: JSON.stringify({ name: 'cache-db', password: '[REDACTED]', pad: 'x'.repeat(pad) }),
    },
    target: 'audit',
  };
  return { record, json: JSON.stringify(record), fields: record.fields };
}

interface Harness {
  sink: DeliverySink;
  deadLetter: CollectingDeadLetter;
  logs: string[];
}

let intake: DatadogIntake;
const sinks: DeliverySink[] = [];
const dirs: string[] = [];

beforeEach(async () => {
  intake = await startDatadogIntake({ apiKey: API_KEY });
});

afterEach(async () => {
  for (const sink of sinks.splice(0)) await sink.close(Date.now() + 1000);
  await intake.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function makeSink(options: SinkOptions): Promise<Harness> {
  const logs: string[] = [];
  const deadLetter = new CollectingDeadLetter();
  const context: SinkContext = {
    name: 'dd',
    logger: createLogger('debug', (line) => logs.push(line)),
    deadLetter,
    baseDir: os.tmpdir(),
  };
  const sink = (await createSink(
    { api_key: API_KEY, endpoint: intake.url, hostname: 'router-1', batch: { linger: '5ms' }, retry: { initial_backoff: '10ms', max_backoff: '50ms' }, ...options },
    context,
  )) as DeliverySink;
  sinks.push(sink);
  return { sink, deadLetter, logs };
}


describe('datadog sink', () => {
  it('sends each event as a log with its fields as attributes, gzip, the API key in the header only', async () => {
    const h = await makeSink({ service: 'redis-mcp', tags: ['env:test', 'team:data'] });
    h.sink.write(auditEvent(1));
    h.sink.write(auditEvent(2, 'tool_denied'));
    h.sink.write(auditEvent(3, 'tool_error'));
    await intake.waitForLogs(3);
    await waitFor(() => h.sink.counters.delivered === 3, 'acknowledged');
    expect(intake.logs).toEqual([1, 2, 3].map((i) => {
      const e = auditEvent(i, i === 2 ? 'tool_denied' : i === 3 ? 'tool_error' : 'tool_invocation');
      return {
        message: `${e.fields.event} tool_${i} ${e.fields.result} ${i * 10}ms`,
        ddsource: 'redisctl-mcp',
        ddtags: 'env:test,team:data',
        hostname: 'router-1',
        service: 'redis-mcp',
        ...e.fields,
        status: ['info', 'warn', 'error'][i - 1],
        date: e.record.timestamp,
      };
    }));
    const request = intake.requests[0]!;
    expect(request.encoding).toBe('gzip');
    expect(request.headers['dd-api-key']).toBe(API_KEY);
    expect(request.headers['content-type']).toMatch(/^application\/json/);
    expect(h.sink.counters).toMatchObject({ accepted: 3, delivered: 3, retried: 0, deadLettered: 0 });
    expect(h.sink.healthy).toBe(true);
  });

  it('sends uncompressed with compression = "none" and takes tags as a "k:v,k:v" string', async () => {
    const h = await makeSink({ compression: 'none', tags: 'env:test, zone:a' });
    h.sink.write(auditEvent(1));
    await intake.waitForLogs(1);
    expect(intake.requests[0]!.encoding).toBeNull();
    expect(intake.logs[0]!.ddtags).toBe('env:test,zone:a');
  });

  it('delivers everything written while the intake was down once it is back', async () => {
    const h = await makeSink({});
    await intake.goAway();
    for (let i = 1; i <= 20; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.sink.counters.retried > 0, 'a failed attempt');
    expect(h.sink.healthy).toBe(false);
    expect(h.sink.counters.lastError).toBe('network');
    await intake.comeBack();
    await intake.waitForLogs(20);
    await waitFor(() => h.sink.counters.delivered === 20, 'all delivered');
    expect(intake.logs.map((l) => l.tool)).toEqual(Array.from({ length: 20 }, (_, i) => `tool_${i + 1}`));
    expect(h.sink.healthy).toBe(true);
  });

  it('waits as long as a 429 says (x-ratelimit-reset), then delivers', async () => {
    const h = await makeSink({ retry: { initial_backoff: '10ms', max_backoff: '5s' } });
    intake.fault({ status: 429 }); // the intake adds x-ratelimit-reset: 1
    h.sink.write(auditEvent(1));
    await intake.waitForLogs(1);
    const retry = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'delivery failed, retrying');
    expect(retry).toMatchObject({ error_class: 'http_429', retry_in_ms: 1000 });
    expect(intake.requests.map((r) => r.status)).toEqual([429, 202]);
  });

  it('splits a batch the intake refuses with 413', async () => {
    const h = await makeSink({ batch: { max_events: 4, linger: '1h' } });
    intake.fault({ status: 413 });
    for (let i = 1; i <= 4; i++) h.sink.write(auditEvent(i));
    await intake.waitForLogs(4);
    expect(intake.requests.map((r) => [r.status, r.entries])).toEqual([[413, 4], [202, 2], [202, 2]]);
    expect(intake.logs.map((l) => l.tool)).toEqual(['tool_1', 'tool_2', 'tool_3', 'tool_4']);
  });

  it('dead-letters a single log over 1 MB as event_too_large without sending it', async () => {
    const h = await makeSink({});
    h.sink.write(auditEvent(1, 'tool_invocation', 1_000_001));
    h.sink.write(auditEvent(2));
    await intake.waitForLogs(1);
    await waitFor(() => h.sink.counters.delivered === 1, 'acknowledged');
    expect(h.deadLetter.records).toHaveLength(1);
    expect(h.deadLetter.records[0]).toMatchObject({ reason: 'event_too_large', sink: 'dd' });
    expect(intake.logs.map((l) => l.tool)).toEqual(['tool_2']);
    expect(undelivered(h.sink.counters)).toBe(0);
  });

  it('on a refused API key: one clear error, unhealthy, events kept in the dead-letter, the key nowhere', async () => {
    const wrongKey = 'dd-wrong-key-aaaaaaaaaaaaaaaaaaaaaaaa';
    const h = await makeSink({ api_key: wrongKey, retry: { initial_backoff: '10ms', max_backoff: '1h' } });
    for (let i = 1; i <= 3; i++) h.sink.write(auditEvent(i));
    await waitFor(() => h.sink.counters.deadLettered === 3, 'dead-letters');
    h.sink.write(auditEvent(4));
    await waitFor(() => h.sink.counters.deadLettered === 4, 'dead-letter without a request');
    expect(intake.requests.map((r) => r.status)).toEqual([403]);
    expect(h.sink.healthy).toBe(false);
    expect(h.sink.counters.lastError).toBe('auth');
    const errors = h.logs.filter((l) => l.includes('"level":"ERROR"'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/refused the credentials/);
    expect(h.deadLetter.records.map((r) => r.reason)).toEqual(Array(4).fill('undeliverable'));
    await h.sink.close(Date.now() + 1000);
    const everything = h.logs.join('\n') + JSON.stringify(h.deadLetter.records) + JSON.stringify(h.sink.counters);
    expect(everything).not.toContain(wrongKey);
    expect(everything).not.toContain(API_KEY);
  });

  it('abandons a request the intake never answers after `timeout`, and retries it', async () => {
    // Long enough that the retried request's answer is never itself cut off on a loaded machine.
    const h = await makeSink({ timeout: '2s' });
    intake.fault({ hang: true });
    h.sink.write(auditEvent(1));
    await intake.waitForLogs(1);
    await waitFor(() => h.sink.counters.delivered === 1, 'acknowledged');
    expect(intake.requests.map((r) => r.fault ?? r.status)).toEqual(['hang', 202]);
    expect(h.sink.counters).toMatchObject({ delivered: 1, retried: 1, lastError: 'timeout' });
  });

  it('retries a connection destroyed mid-request and 5xx answers', async () => {
    const h = await makeSink({});
    intake.fault({ destroy: true }, { status: 503 }, { status: 500 });
    h.sink.write(auditEvent(1));
    await intake.waitForLogs(1);
    await waitFor(() => h.sink.counters.delivered === 1, 'acknowledged');
    expect(intake.requests.map((r) => r.fault ?? r.status)).toEqual(['destroy', 'status', 'status', 202]);
    expect(h.sink.counters).toMatchObject({ delivered: 1, retried: 3 });
  });

  it('keeps undelivered events in its disk buffer across a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-router-dd-'));
    dirs.push(dir);
    await intake.goAway();
    const a = await makeSink({ buffer: { type: 'disk', path: dir } });
    for (let i = 1; i <= 5; i++) a.sink.write(auditEvent(i));
    await waitFor(() => a.sink.counters.retried > 0, 'a failed attempt');
    await a.sink.close(Date.now() + 100);
    expect(a.sink.counters).toMatchObject({ accepted: 5, delivered: 0, buffered: 5 });
    await intake.comeBack();
    const b = await makeSink({ buffer: { type: 'disk', path: dir } });
    await intake.waitForLogs(5);
    await b.sink.close(Date.now() + 2000);
    expect(b.sink.counters).toMatchObject({ accepted: 5, delivered: 5, buffered: 0 });
    expect(intake.logs.map((l) => l.tool)).toEqual(['tool_1', 'tool_2', 'tool_3', 'tool_4', 'tool_5']);
  });

  it('closes by the deadline even with a request in flight', async () => {
    const h = await makeSink({ timeout: '1h' });
    intake.fault({ hang: true, count: 100 });
    h.sink.write(auditEvent(1));
    await waitFor(() => intake.requests.length === 1, 'the hung request');
    await h.sink.close(Date.now() + 100);
    expect(h.sink.counters).toMatchObject({ accepted: 1, delivered: 0, deadLettered: 1 });
  });
});

describe('datadog options', () => {
  const context = { name: 'dd', baseDir: os.tmpdir() };
  it('reads the key from api_key_file or DD_API_KEY, and never echoes it in errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-router-ddkey-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'key'), `${API_KEY}\n`);
    expect(parseDatadogOptions({ api_key_file: 'key' }, { name: 'dd', baseDir: dir }).apiKey).toBe(API_KEY);
    const saved = process.env.DD_API_KEY;
    try {
      process.env.DD_API_KEY = 'from-env';
      expect(parseDatadogOptions({}, context).apiKey).toBe('from-env');
      delete process.env.DD_API_KEY;
      expect(() => parseDatadogOptions({}, context)).toThrow(/sinks\.dd\.api_key: an API key is required/);
    } finally {
      if (saved === undefined) delete process.env.DD_API_KEY;
      else process.env.DD_API_KEY = saved;
    }
    expect(() => parseDatadogOptions({ api_key: API_KEY, endpoint: 'ftp://x' }, context)).toThrow(/endpoint/);
    try {
      parseDatadogOptions({ api_key: API_KEY, endpoint: 'not a url' }, context);
    } catch (error) {
      expect(String(error)).not.toContain(API_KEY);
    }
  });

  it('targets the site intake unless an endpoint is given', () => {
    expect(parseDatadogOptions({ api_key: 'k', site: 'datadoghq.eu' }, context).baseUrl).toBe('https://http-intake.logs.datadoghq.eu');
    expect(parseDatadogOptions({ api_key: 'k', endpoint: 'http://127.0.0.1:8080/' }, context).baseUrl).toBe('http://127.0.0.1:8080');
  });

  it('keeps fields named like reserved log keys under audit_<key>', () => {
    const settings = parseDatadogOptions({ api_key: 'k', hostname: 'h' }, context);
    const record = { event: 'tool_invocation', message: 'hi', service: 'x' };
    const item = toLogItem({ record, json: JSON.stringify(record), fields: record }, settings);
    expect(item.message).toBe('tool_invocation');
    expect(item).toMatchObject({ audit_message: 'hi', audit_service: 'x', status: 'info' });
    expect(item.service).toBeUndefined();
  });
});

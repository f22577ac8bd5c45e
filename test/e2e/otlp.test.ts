/**
 * The otlp sink end to end through bin/audit-router, against the strict local OTLP/HTTP receiver
 * (test/support/otlp-receiver.ts, which decodes with the official .proto files, independently of
 * the exporter): the exact LogRecord of every event type in both tracing layouts, the standard
 * environment variables, TLS with client certificates, outages, Retry-After, 400s and partial
 * success, and SIGTERM with a disk buffer. Every wait is a poll with a deadline or an event.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../scripts/generate-stream.js';
import { collect, finished, runRouter, start, tempDir } from '../support/cli';
import { makeTestCertificates } from '../support/fluentd-server';
import { startOtlpReceiver, type OtlpRecord, type OtlpValue } from '../support/otlp-receiver';
import { waitFor } from '../support/wait';

const dir = tempDir('ar-otlp-');
afterAll(() => dir.cleanup());

const TYPE = 'otlp';
const FAST = 'retry = { initial_backoff = "50ms", max_backoff = "300ms" }\nbatch = { linger = "20ms" }\n';
const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

let configs = 0;
function config(text: string): string {
  const file = join(dir.path, `otlp-${++configs}.toml`);
  writeFileSync(file, text);
  return file;
}

interface Generated { line: string; truth: { kind: string; secrets: string[] } }
function audit(n: number, seed: number): { lines: string[]; secrets: string[] } {
  const items = [...(generate({ seed, lines: n, scenario: 'audit', flatRatio: 0.3 }) as Iterable<Generated>)];
  return { lines: items.map((g) => g.line), secrets: items.flatMap((g) => g.truth.secrets) };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Event = { [key: string]: Json };
const fieldsOf = (event: Event): Event => (event.fields && typeof event.fields === 'object' && !Array.isArray(event.fields) ? event.fields : event);
const seqOf = (record: OtlpRecord): number => record.attributes['audit.duration_ms'] as number;

/** Exact nanoseconds of an RFC 3339 timestamp, computed here with BigInt (never a JS number). */
function nanosOf(text: string): string {
  const m = /^(.{19})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) throw new Error(`test: not a timestamp: ${text}`);
  const seconds = BigInt(Date.parse(`${m[1]}${m[3]}`)) / 1000n;
  return (seconds * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))).toString();
}

/** A JSON value as the receiver decodes an AnyValue made from it: null members are left out. */
function asAny(value: Json): OtlpValue {
  if (value === null) return '';
  if (Array.isArray(value)) return value.map(asAny);
  if (typeof value === 'object') {
    const out: Record<string, OtlpValue> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = asAny(v);
    return out;
  }
  return value;
}

/** The attributes the README's mapping table gives for one (redacted) event. */
function expectedAttributes(event: Event, includeArguments: boolean): Record<string, OtlpValue> {
  const f = fieldsOf(event);
  const spans = [...(Array.isArray(event.spans) ? event.spans : []), ...(event.span ? [event.span] : [])] as Event[];
  let method = 'tools/call';
  let id: string | undefined;
  let session: string | undefined;
  for (const span of spans) {
    if (typeof span.session_id === 'string') session = span.session_id;
    if (typeof span.method === 'string') {
      method = span.method;
      if (span.id !== undefined) id = String(span.id);
    }
  }
  const out: Record<string, OtlpValue> = { 'mcp.method.name': method, 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': f.tool as string };
  if (f.event === 'tool_error' || f.event === 'tool_denied') out['error.type'] = f.event;
  if (session) out['mcp.session.id'] = session;
  if (id) out['jsonrpc.request.id'] = id;
  out['network.transport'] = 'pipe';
  out['audit.event'] = f.event as string;
  if (f.toolset) out['audit.toolset'] = f.toolset as string;
  out['audit.result'] = f.result as string;
  out['audit.duration_ms'] = f.duration_ms as number;
  if (f.message) out['audit.message'] = f.message as string;
  if (f.error) out['audit.error'] = f.error as string;
  if (typeof f.error_code === 'number') out['audit.error_code'] = f.error_code;
  if (includeArguments && typeof f.arguments === 'string') out['gen_ai.tool.call.arguments'] = asAny(JSON.parse(f.arguments) as Json);
  return out;
}

const SEVERITY: Record<string, number> = { INFO: 9, WARN: 13, ERROR: 17 };

/** Hand-made events the generator does not make: other levels, offsets, precisions, error fields. */
const HANDMADE = [
  '{"timestamp":"2026-03-05T12:30:00.123456789+02:00","level":"WARN","fields":{"event":"tool_error","tool":"redis_command","toolset":"database","result":"error","duration_ms":100000,"arguments":"{\\"command\\":\\"AUTH\\",\\"password\\":\\"hunter2-planted-secret\\"}","message":"upstream API returned 503","error":"connection reset","error_code":-32603},"target":"audit","span":{"id":"req-7","method":"tools/call","name":"call_tool"}}',
  '{"timestamp":"2026-03-05T10:30:01Z","level":"ERROR","event":"tool_denied","tool":"flush_database","toolset":"cloud","result":"denied","duration_ms":100001,"target":"audit","spans":[{"session_id":"191c4850af6c49e08843a3f6c80e5046","name":"mcp_session"},{"id":42,"method":"tools/call","name":"request"}]}',
  '{"timestamp":"2026-03-05T10:30:02.5-05:30","level":"INFO","event":"tool_invocation","tool":"list_subscriptions","toolset":"cloud","result":"success","duration_ms":100002,"arguments":"{\\"api_key\\":\\"sk-planted-in-flat-layout\\",\\"limit\\":3}","target":"audit"}',
];
const HANDMADE_SECRETS = ['hunter2-planted-secret', 'sk-planted-in-flat-layout'];

describe('otlp sink, end to end', () => {
  it('every event type, both layouts: exact attributes, times, severity, resource, scope and body; no secret leaves', async () => {
    const receiver = await startOtlpReceiver({ requiredHeaders: { authorization: 'Bearer otlp-test-token-123' } });
    try {
      const { lines, secrets } = audit(400, 51);
      const input = [...lines, ...HANDMADE];
      const copy = join(dir.path, 'otlp-exact.jsonl');
      const c = config(`[sinks.otel]\ntype = "${TYPE}"\nendpoint = "${receiver.url}"\nheaders = { authorization = "Bearer \${OTLP_TOKEN_FOR_TEST}" }\ninclude_arguments = true\nservice_version = "0.9.2"\nresource = { "deployment.environment.name" = "test" }\n${FAST}[sinks.copy]\ntype = "file"\npath = "${copy}"\n`);
      const r = await runRouter(['-c', c], { input: `${input.join('\n')}\n`, env: { OTLP_TOKEN_FOR_TEST: 'otlp-test-token-123' } });
      expect(r.code).toBe(0);
      const written = readFileSync(copy, 'utf8').trim().split('\n');
      expect(receiver.records.length).toBe(input.length);
      expect(written.length).toBe(input.length);
      const kinds = new Set<string>();
      receiver.records.forEach((record, i) => {
        const event = JSON.parse(written[i]!) as Event;
        const f = fieldsOf(event);
        kinds.add(`${f.event}:${event.fields ? 'nested' : 'flat'}`);
        expect(record.attributes).toEqual(expectedAttributes(event, true));
        expect(record.timeUnixNano).toBe(nanosOf(event.timestamp as string));
        expect(record.severityNumber).toBe(SEVERITY[event.level as string]);
        expect(record.severityText).toBe(event.level);
        // The body is the redacted event exactly as the file sink wrote it.
        expect(record.body).toBe(written[i]);
        expect(record.resource).toEqual({ 'service.name': 'redisctl-mcp', 'service.version': '0.9.2', 'deployment.environment.name': 'test' });
        expect(record.scope).toEqual({ name: 'audit-router', version: VERSION });
      });
      for (const kind of ['tool_invocation', 'tool_denied', 'tool_error']) {
        expect(kinds).toContain(`${kind}:nested`);
        expect(kinds).toContain(`${kind}:flat`);
      }
      // observedTimeUnixNano: when the router sent it, after the event happened (generator times are in 2026-03).
      for (const record of receiver.records) expect(BigInt(record.observedTimeUnixNano) > BigInt(record.timeUnixNano)).toBe(true);
      expect(receiver.records.at(-3)!.timeUnixNano).toBe('1772706600123456789');
      expect(receiver.requests.every((q) => q.contentType === 'application/x-protobuf' && q.encoding === 'gzip')).toBe(true);
      for (const text of [JSON.stringify(receiver.records), r.stderr, r.stdout]) {
        expect([...secrets, ...HANDMADE_SECRETS].filter((s) => text.includes(s))).toEqual([]);
        expect(text).not.toContain('otlp-test-token-123');
      }
      // The header went where it belongs: on every request.
      expect(receiver.requests.every((q) => q.headers.authorization === 'Bearer otlp-test-token-123')).toBe(true);
      expect(finished(r)['sinks']).toMatchObject({ otel: { accepted: input.length, delivered: input.length, deadLettered: 0, rejected: 0 } });
    } finally {
      await receiver.close();
    }
  });

  it('configured by the standard environment variables alone: LOGS_ENDPOINT over ENDPOINT, http/json, headers, compression none', async () => {
    const receiver = await startOtlpReceiver({ requiredHeaders: { 'x-tenant': 'acme corp', authorization: 'Bearer a=b' } });
    try {
      const { lines } = audit(60, 52);
      const c = config(`[sinks.otel]\ntype = "${TYPE}"\nbody = "message"\n${FAST}`);
      const r = await runRouter(['-c', c], {
        input: `${lines.join('\n')}\n`,
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', // discard port: must lose to the logs endpoint
          OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${receiver.url}/v1/logs`,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme%20corp,authorization=Bearer%20a%3Db',
          OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none',
          OTEL_SERVICE_NAME: 'mcp-prod',
        },
      });
      expect(r.code).toBe(0);
      expect(receiver.records.map(seqOf)).toEqual(lines.map((_, i) => i));
      expect(receiver.requests.every((q) => q.contentType === 'application/json' && q.encoding === null && q.status === 200)).toBe(true);
      const first = fieldsOf(JSON.parse(lines[0]!) as Event);
      expect(receiver.records[0]!.body).toBe(`${first.event} ${first.tool} ${first.result} 0ms`);
      expect(receiver.records[0]!.resource['service.name']).toBe('mcp-prod');
      // Arguments are opt-in.
      expect(receiver.records.some((q) => 'gen_ai.tool.call.arguments' in q.attributes)).toBe(false);
    } finally {
      await receiver.close();
    }
  });

  it('TLS with the CA file and a client certificate (mutual TLS)', async () => {
    const certs = makeTestCertificates(join(dir.path, 'certs'));
    const receiver = await startOtlpReceiver({ tls: { key: certs.key, cert: certs.cert, ca: certs.ca } });
    try {
      const { lines } = audit(50, 53);
      const c = config(`[sinks.otel]\ntype = "${TYPE}"\nendpoint = "${receiver.url}"\ntls = { ca = "${certs.caPath}", cert = "${certs.clientCertPath}", key = "${certs.clientKeyPath}" }\n${FAST}`);
      const r = await runRouter(['-c', c], { input: `${lines.join('\n')}\n` });
      expect(r.code).toBe(0);
      expect(receiver.records.map(seqOf)).toEqual(lines.map((_, i) => i));
    } finally {
      await receiver.close();
    }
  });

  it('an outage, a hung request, 429 with Retry-After and 503s: everything delivered once, in order', async () => {
    const receiver = await startOtlpReceiver();
    try {
      // The request timeout leaves room for a loaded machine: a request answered after it would be sent again (a duplicate).
      receiver.fault({ hang: true }, { status: 429, headers: { 'retry-after': '0' }, count: 2 }, { status: 503, count: 2 });
      const { lines } = audit(300, 54);
      const c = config(`[sinks.otel]\ntype = "${TYPE}"\nendpoint = "${receiver.url}"\ntimeout = "1500ms"\n${FAST}`);
      const child = start(['-c', c, '--log-level', 'debug']);
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const done = collect(child);
      child.stdin!.write(`${lines.slice(0, 150).join('\n')}\n`);
      await waitFor(() => receiver.requests.filter((q) => q.status === 503).length >= 2, 'the injected faults answered');
      await receiver.goAway();
      child.stdin!.write(`${lines.slice(150).join('\n')}\n`);
      await waitFor(() => stderr.split('delivery failed, retrying').length > 7, 'attempts while the receiver is away');
      await receiver.comeBack();
      child.stdin!.end();
      const r = await done;
      expect(r.code).toBe(0);
      expect(receiver.records.map(seqOf)).toEqual(lines.map((_, i) => i));
      const otel = (finished(r)['sinks'] as Record<string, Record<string, unknown>>)['otel']!;
      expect(otel).toMatchObject({ accepted: 300, delivered: 300, deadLettered: 0 });
      expect(otel['retried']).toBeGreaterThan(0);
      expect(receiver.requests.filter((q) => q.status === 429).length).toBe(2);
    } finally {
      await receiver.close();
    }
  });

  it('400 is never retried and a partial success is never retried: both batches dead-lettered with the receiver\'s message', async () => {
    const receiver = await startOtlpReceiver();
    try {
      receiver.fault({ status: 400, message: 'invalid log record: body too deep' }, { partial: { rejected: 2, message: 'quota exceeded for tenant' } });
      const { lines, secrets } = audit(40, 55);
      const dead = join(dir.path, 'otlp-dead.jsonl');
      const c = config(`[sinks.otel]\ntype = "${TYPE}"\nendpoint = "${receiver.url}"\nbatch = { max_events = 5, linger = "20ms" }\nretry = { initial_backoff = "50ms", max_backoff = "300ms" }\n`);
      const r = await runRouter(['-c', c, '--dead-letter', dead], { input: `${lines.join('\n')}\n` });
      expect(r.code).toBe(0); // nothing lost: what was not delivered is in the dead letter
      const [first, second] = receiver.requests;
      expect(first!.status).toBe(400);
      expect(second!.fault).toBe('partial');
      expect(receiver.requests.filter((q) => q.status === 400).length).toBe(1);
      const records = readFileSync(dead, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reason: string; sink: string; detail: string; event: Event });
      expect(records.length).toBe(first!.records + second!.records);
      expect(records.slice(0, first!.records).every((d) => d.detail === 'receiver answered HTTP 400: invalid log record: body too deep')).toBe(true);
      expect(records.slice(first!.records).every((d) => d.detail === `receiver rejected 2 of ${second!.records} log records: quota exceeded for tenant`)).toBe(true);
      expect(records.every((d) => d.reason === 'undeliverable' && d.sink === 'otel')).toBe(true);
      // What the dead letter holds and what the receiver kept (or rejected) add up to the input, in order.
      const deadSeqs = records.map((d) => fieldsOf(d.event).duration_ms as number);
      expect(deadSeqs).toEqual(lines.slice(0, deadSeqs.length).map((_, i) => i));
      expect(receiver.records.map(seqOf)).toEqual(lines.map((_, i) => i).filter((i) => i >= first!.records + second!.records || (i >= first!.records && i < first!.records + second!.records - 2)));
      const otel = (finished(r)['sinks'] as Record<string, Record<string, number>>)['otel']!;
      expect(otel).toMatchObject({ accepted: 40, delivered: 40 - records.length, deadLettered: records.length, rejected: 2, retried: 0 });
      expect(secrets.filter((s) => readFileSync(dead, 'utf8').includes(s))).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('SIGTERM during an outage with a disk buffer, then a restart that delivers everything', async () => {
    const receiver = await startOtlpReceiver();
    try {
      await receiver.goAway();
      const buffer = join(dir.path, 'otlp-buffer');
      const { lines } = audit(300, 56);
      const sink = `[sinks.otel]\ntype = "${TYPE}"\nendpoint = "${receiver.url}"\nbuffer = { type = "disk", path = "${buffer}", max_bytes = "16M" }\n${FAST}`;
      const c = config(`shutdown_timeout = "500ms"\n${sink}`);
      const child = start(['-c', c, '--log-level', 'debug']);
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const done = collect(child);
      child.stdin!.write(`${lines.join('\n')}\n`);
      await waitFor(() => stderr.includes('delivery failed, retrying') && existsSync(buffer), 'a failed attempt and the disk buffer');
      child.kill('SIGTERM');
      const first = await done;
      expect(first.code).toBe(0);
      const f = finished(first);
      expect(f['reason']).toBe('SIGTERM');
      const accepted = f['audit'] as number;
      expect(accepted).toBeGreaterThan(0);
      expect((f['sinks'] as Record<string, Record<string, number>>)['otel']!['buffered']).toBe(accepted);

      await receiver.comeBack();
      // The restart replays the buffer; its shutdown (right after the empty input) waits for that
      // delivery, so give it room on a loaded machine (it ends as soon as the buffer is empty).
      const second = await runRouter(['-c', config(`shutdown_timeout = "30s"\n${sink}`)], { input: '' });
      expect(second.code).toBe(0);
      expect(receiver.records.map(seqOf)).toEqual(lines.slice(0, accepted).map((_, i) => i));
    } finally {
      await receiver.close();
    }
  });
});

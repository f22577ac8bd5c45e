/**
 * The otlp sink's parts on their own: the OTLP exporter configuration rules (precedence of config
 * over OTEL_EXPORTER_OTLP_LOGS_* over OTEL_EXPORTER_OTLP_*, the v1/logs path rule, the headers
 * format), exact timestamps, the attribute mapping's edge cases, the answer classification of
 * the OTLP/HTTP spec, and partial success in the delivery layer.
 */
import { describe, expect, it } from 'vitest';
import { createDeliverySink, parseDeliveryOptions, type Transport } from '../../../src/delivery';
import { ConfigError } from '../../../src/util/errors';
import type { SinkEvent } from '../../../src/api/sink';
import { silentLogger } from '../../../src/util/log';
import { argumentsValue, attributesOf, hrTimeOf, toLogRecord } from '../../../sinks/otlp/mapping';
import { logsUrlFromBase, parseHeaderList, parseOtlpOptions } from '../../../sinks/otlp/settings';
import { errorMessageOf, OtlpHttpTransport, otlpStatusError } from '../../../sinks/otlp/transport';
import { loadWire } from '../../../sinks/otlp/index';
import { CollectingDeadLetter } from '../../support/dead-letter';
import { decodeRequest, encodeStatus, startOtlpReceiver } from '../../support/otlp-receiver';

const ctx = { name: 'otel', baseDir: '/tmp' };
const parse = (options: Record<string, unknown>, env: Record<string, string> = {}) => parseOtlpOptions(options, ctx, env);

describe('otlp settings: the OTLP exporter configuration rules', () => {
  it('endpoint precedence: logs_endpoint, endpoint, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT (as is), OTEL_EXPORTER_OTLP_ENDPOINT (+ v1/logs), default', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318/otlp', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs:9999/custom/path' };
    expect(parse({ logs_endpoint: 'https://c:1/x' }, env).url.href).toBe('https://c:1/x');
    expect(parse({ endpoint: 'https://c:1' }, env).url.href).toBe('https://c:1/v1/logs');
    expect(parse({}, env).url.href).toBe('http://logs:9999/custom/path');
    expect(parse({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318/otlp' }).url.href).toBe('http://base:4318/otlp/v1/logs');
    expect(parse({}, { OTEL_EXPORTER_OTLP_ENDPOINT: '  ', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: '' }).url.href).toBe('http://localhost:4318/v1/logs');
    expect(() => parse({ endpoint: 'http://a', logs_endpoint: 'http://b' })).toThrow(ConfigError);
    expect(() => parse({ endpoint: 'http://user:pw@a' })).toThrow(/credentials/);
    expect(() => parse({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('the v1/logs path rule: one slash between the base path and v1/logs', () => {
    for (const [base, url] of [
      ['http://h:4318', 'http://h:4318/v1/logs'],
      ['http://h:4318/', 'http://h:4318/v1/logs'],
      ['http://h/otlp', 'http://h/otlp/v1/logs'],
      ['http://h/otlp/', 'http://h/otlp/v1/logs'],
    ] as const) {
      expect(logsUrlFromBase(new URL(base)).href).toBe(url);
    }
  });

  it('headers: generic env < logs env < config, percent-decoded, names lower-cased; errors never quote a value', () => {
    const s = parse(
      { headers: { 'X-Scope': 'config' } },
      { OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s3cr%3Dt,x-scope=generic,x-a=1', OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'X-A=logs' },
    );
    expect(s.headers).toEqual({ 'api-key': 's3cr=t', 'x-scope': 'config', 'x-a': 'logs' });
    expect(parseHeaderList(' a = b ,, c=d%20e ', 'V')).toEqual({ a: 'b', c: 'd e' });
    let message = '';
    try {
      parseHeaderList('good=1,novalue-secret-xyz', 'OTEL_EXPORTER_OTLP_HEADERS');
    } catch (error) {
      message = String(error);
    }
    expect(message).toContain('entry 2');
    expect(message).not.toContain('secret-xyz');
    expect(() => parseHeaderList('a=%E0%A4%A', 'V')).toThrow(/percent/);
    expect(() => parse({ headers: { 'content-type': 'text/plain' } })).toThrow(/itself/);
  });

  it('protocol, compression and timeout from config, else the logs variables, else the generic ones', () => {
    expect(parse({}).protocol).toBe('http/protobuf');
    expect(parse({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).protocol).toBe('http/json');
    expect(parse({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' }).protocol).toBe('http/protobuf');
    expect(parse({ protocol: 'http/json' }, { OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' }).protocol).toBe('http/json');
    expect(() => parse({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/gRPC is not supported/);
    expect(parse({}).compression).toBe('gzip');
    expect(parse({}, { OTEL_EXPORTER_OTLP_COMPRESSION: 'none' }).compression).toBe('none');
    expect(parse({}).timeoutMs).toBe(10_000);
    expect(parse({}, { OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }).timeoutMs).toBe(2500);
    expect(parse({ timeout: '1s' }, { OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '2500' }).timeoutMs).toBe(1000);
    expect(() => parse({}, { OTEL_EXPORTER_OTLP_TIMEOUT: '10s' })).toThrow(/milliseconds/);
  });

  it('resource: OTEL_RESOURCE_ATTRIBUTES < resource table < OTEL_SERVICE_NAME < service_name', () => {
    const env = { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,team=sre%2Fplatform', OTEL_SERVICE_NAME: 'from-env' };
    expect(parse({}, {}).resource.attributes).toEqual({ 'service.name': 'redisctl-mcp' });
    expect(parse({ resource: { team: 'x', tier: 2 } }, env).resource.attributes).toEqual({ 'service.name': 'from-env', team: 'x', tier: 2 });
    expect(parse({ service_name: 'cfg', service_version: '1.0' }, env).resource.attributes).toMatchObject({ 'service.name': 'cfg', 'service.version': '1.0', team: 'sre/platform' });
  });

  it('Kubernetes metadata in the sink context becomes k8s.* resource attributes', () => {
    const s = parseOtlpOptions({}, { ...ctx, kubernetes: { namespace: 'mcp', pod: 'mcp-0', node: 'n1', container: 'redisctl', pod_uid: '' } }, {});
    expect(s.resource.attributes).toEqual({ 'service.name': 'redisctl-mcp', 'k8s.namespace.name': 'mcp', 'k8s.pod.name': 'mcp-0', 'k8s.node.name': 'n1', 'k8s.container.name': 'redisctl' });
  });

  it('TLS options need https and come in pairs; files that cannot be read are named', () => {
    expect(() => parse({ endpoint: 'http://h', tls: { verify: false } })).toThrow(/https/);
    expect(() => parse({ endpoint: 'https://h', tls: { cert: '/nonexistent/cert.pem' } })).toThrow(/cannot read \/nonexistent\/cert.pem/);
    expect(() => parse({ endpoint: 'https://h' }, { OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: '/nonexistent/ca.pem' })).toThrow(/OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE/);
    // For an http endpoint the certificate variables do not apply.
    expect(parse({ endpoint: 'http://h' }, { OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem' }).tls).toEqual({ verify: true });
  });
});

const event = (record: Record<string, unknown>): SinkEvent => {
  const r = record as SinkEvent['record'];
  const fields = (r.fields && typeof r.fields === 'object' && !Array.isArray(r.fields) ? r.fields : r) as SinkEvent['fields'];
  return { record: r, json: JSON.stringify(r), fields };
};

describe('otlp mapping', () => {
  it('timestamps keep every digit and apply the offset; before the epoch or malformed gives null', () => {
    expect(hrTimeOf('2026-03-05T10:30:00.123456789Z')).toEqual([1772706600, 123456789]);
    expect(hrTimeOf('2026-03-05T12:30:00.1+02:00')).toEqual([1772706600, 100000000]);
    expect(hrTimeOf('2026-03-05T05:00:00-05:30')).toEqual([1772706600, 0]);
    expect(hrTimeOf('1969-12-31T23:59:59Z')).toBeNull();
    expect(hrTimeOf('Mar 05 10:30:00.123')).toBeNull();
    const record = toLogRecord(event({ timestamp: 'garbage', level: 'INFO', event: 'tool_invocation', tool: 't', result: 'success', duration_ms: 1 }), {
      body: 'json', includeArguments: false, networkTransport: 'pipe', resource: { attributes: {} }, scope: { name: 'x' },
    }, [5, 6]);
    expect(record.hrTime).toEqual([0, 0]); // unknown: the receiver uses the observed time
    expect(record.hrTimeObserved).toEqual([5, 6]);
  });

  it('arguments: an object when the text parses to one with exact numbers, the text otherwise', () => {
    expect(argumentsValue('{"a":1,"b":[1,null],"c":null}')).toEqual({ a: 1, b: [1, ''] });
    expect(argumentsValue('[REDACTED]')).toBe('[REDACTED]');
    expect(argumentsValue('"a string"')).toBe('"a string"');
    expect(argumentsValue('{"id":12345678901234567890}')).toBe('{"id":12345678901234567890}');
  });

  it('request id and session from the innermost span that has them; a denial is an error.type', () => {
    const attributes = attributesOf(
      event({ fields: { event: 'tool_denied', tool: 't', toolset: 's', result: 'denied', duration_ms: 3 }, spans: [{ session_id: 'outer', name: 'mcp_session' }, { id: 1, method: 'tools/call' }], span: { id: 2, method: 'tools/call', session_id: 'inner' } }),
      { includeArguments: true, networkTransport: 'tcp' },
    );
    expect(attributes).toMatchObject({ 'jsonrpc.request.id': '2', 'mcp.session.id': 'inner', 'error.type': 'tool_denied', 'network.transport': 'tcp' });
    expect(attributes).not.toHaveProperty('gen_ai.tool.call.arguments');
  });

  it('the official serializer writes what the receiver decodes (protobuf and JSON)', () => {
    const settings = { body: 'structured' as const, includeArguments: true, networkTransport: 'pipe', resource: { attributes: { 'service.name': 's' } }, scope: { name: 'audit-router', version: '1' } };
    const e = event({ timestamp: '2026-03-05T10:30:00.000000001Z', level: 'ERROR', fields: { event: 'tool_error', tool: 't', toolset: 's', result: 'error', duration_ms: 9, arguments: '{"k":[true,1.5]}' }, target: 'audit' });
    for (const protocol of ['http/protobuf', 'http/json'] as const) {
      const bytes = loadWire(protocol).serializer.serializeRequest([toLogRecord(e, settings, [1, 2])])!;
      const [record] = decodeRequest(Buffer.from(bytes), protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
      expect(record).toMatchObject({ timeUnixNano: '1772706600000000001', observedTimeUnixNano: '1000000002', severityNumber: 17, severityText: 'ERROR' });
      expect(record!.attributes['gen_ai.tool.call.arguments']).toEqual({ k: [true, 1.5] });
      expect(record!.body).toMatchObject({ level: 'ERROR', fields: { tool: 't', duration_ms: 9 } });
    }
  });
});

describe('otlp answers, per the OTLP/HTTP specification', () => {
  it('retryable only 429, 502, 503, 504 (Retry-After honoured); 400 and 500 never; 401/403 auth; 413 split', () => {
    const none = (): null => null;
    expect(otlpStatusError(429, (n) => (n === 'retry-after' ? '3' : null), null)).toMatchObject({ kind: 'retryable', retryAfterMs: 3000 });
    for (const s of [502, 503, 504]) expect(otlpStatusError(s, none, null).kind).toBe('retryable');
    for (const s of [400, 404, 500, 501]) expect(otlpStatusError(s, none, null).kind).toBe('permanent');
    expect(otlpStatusError(403, none, null).kind).toBe('auth');
    expect(otlpStatusError(413, none, null).kind).toBe('too_large');
    // Datadog's rate-limit header means nothing here.
    expect(otlpStatusError(429, (n) => (n === 'x-ratelimit-reset' ? '5' : null), null).retryAfterMs).toBeNull();
  });

  it("the receiver's message from a google.rpc.Status in protobuf or JSON, bounded and printable", () => {
    const wire = loadWire('http/protobuf');
    expect(errorMessageOf(encodeStatus('application/x-protobuf', 3, 'bad\nrecord'), 'application/x-protobuf', wire)).toBe('bad record');
    expect(errorMessageOf(encodeStatus('application/json', 3, 'x'.repeat(1000)), 'application/json; charset=utf-8', wire)!.length).toBeLessThan(320);
    expect(errorMessageOf(Buffer.from([0xff, 0x01]), 'application/x-protobuf', wire)).toBeNull();
    expect(errorMessageOf(Buffer.from('<html>'), 'text/html', wire)).toBe('<html>');
  });
});

describe('the transport against the receiver, in OTLP/JSON', () => {
  it('reads a JSON partial success (int64 as a string) and a JSON Status; sends the configured headers', async () => {
    const receiver = await startOtlpReceiver({ requiredHeaders: { 'x-tenant': 'acme' } });
    try {
      const settings = parse({ endpoint: receiver.url, protocol: 'http/json', compression: 'none', headers: { 'x-tenant': 'acme' } });
      const transport = new OtlpHttpTransport(settings, () => loadWire('http/json'), () => {}, '9.9.9');
      const batch = [0, 1, 2].map((n) => event({ timestamp: '2026-03-05T10:30:00Z', level: 'INFO', event: 'tool_invocation', tool: 't', result: 'success', duration_ms: n }));
      receiver.fault({ partial: { rejected: 1, message: 'one too many' } }, { status: 400, message: 'schema says no' });
      await expect(transport.send(batch, new AbortController().signal)).resolves.toEqual({ rejected: 1, detail: 'receiver rejected 1 of 3 log records: one too many' });
      await expect(transport.send(batch, new AbortController().signal)).rejects.toMatchObject({ kind: 'permanent', message: 'receiver answered HTTP 400: schema says no' });
      await expect(transport.send(batch, new AbortController().signal)).resolves.toBeUndefined();
      expect(receiver.requests.map((q) => [q.contentType, q.encoding, q.headers['user-agent']])).toEqual(Array(3).fill(['application/json', null, 'audit-router/9.9.9']));
      expect(receiver.records.map((r) => r.attributes['audit.duration_ms'])).toEqual([0, 1, 0, 1, 2]);
      await transport.close();
    } finally {
      await receiver.close();
    }
  });
});

describe('partial success in the delivery layer', () => {
  it('a batch the receiver partly rejected is dead-lettered whole, counted, and never sent again', async () => {
    const deadLetter = new CollectingDeadLetter();
    const sent: number[] = [];
    const transport: Transport = {
      maxEventBytes: 1_000_000,
      size: (e) => e.json.length,
      async send(batch) {
        sent.push(batch.length);
        return sent.length === 1 ? { rejected: 1, detail: 'receiver rejected 1 of 3 log records: nope' } : undefined;
      },
      async close() {},
    };
    const config = parseDeliveryOptions({ batch: { max_events: 3, linger: 1 } }, 'p', '/tmp', { attemptTimeoutMs: 1000 });
    const sink = createDeliverySink({ type: 'test', config, transport, context: { name: 'p', logger: silentLogger, deadLetter, baseDir: '/tmp' } });
    for (let i = 0; i < 5; i++) sink.write(event({ n: i }));
    await sink.close(Date.now() + 2000);
    expect(sent).toEqual([3, 2]);
    expect(deadLetter.records.map((r) => [r.reason, r.detail, r.event?.n])).toEqual([
      ['undeliverable', 'receiver rejected 1 of 3 log records: nope', 0],
      ['undeliverable', 'receiver rejected 1 of 3 log records: nope', 1],
      ['undeliverable', 'receiver rejected 1 of 3 log records: nope', 2],
    ]);
    expect(sink.counters).toMatchObject({ accepted: 5, delivered: 2, deadLettered: 3, rejected: 1, retried: 0 });
    expect(sink.healthy).toBe(true);
  });
});

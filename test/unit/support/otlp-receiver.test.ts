/**
 * The local OTLP/HTTP receiver (test/support/otlp-receiver.ts) against the OTLP specification:
 * requests are built here byte by byte (protobuf tags and lengths written out, from the field
 * numbers of opentelemetry-proto's logs.proto and logs_service.proto), answers decoded here, so
 * the receiver the sink is tested against is itself tested independently of the sink.
 */
import { join } from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, type TestCertificates } from '../../support/fluentd-server';
import { tempDir } from '../../support/cli';
import { ResponseType, StatusType, startOtlpReceiver, type OtlpReceiver } from '../../support/otlp-receiver';

// ---- a hand-written protobuf encoder (wire types 0, 1, 2) ----
const varint = (n: bigint | number): Buffer => {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
};
const tag = (field: number, wire: number): Buffer => varint((field << 3) | wire);
const len = (field: number, payload: Buffer | string): Buffer => {
  const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([tag(field, 2), varint(b.length), b]);
};
const fixed64 = (field: number, value: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return Buffer.concat([tag(field, 1), b]);
};
const uvarintField = (field: number, value: number | bigint): Buffer => Buffer.concat([tag(field, 0), varint(value)]);

// AnyValue: string_value = 1, bool_value = 2, int_value = 3, kvlist_value = 6; KeyValue: key = 1, value = 2.
const anyString = (s: string): Buffer => len(1, s);
const anyInt = (n: bigint | number): Buffer => uvarintField(3, n);
const kv = (key: string, value: Buffer): Buffer => Buffer.concat([len(1, key), len(2, value)]);

/** ExportLogsServiceRequest with one ResourceLogs / ScopeLogs and the given LogRecords. */
function request(records: Buffer[], resource: Buffer[] = [len(1, kv('service.name', anyString('svc')))]): Buffer {
  const scope = Buffer.concat([len(1, 'test-scope'), len(2, '1.2.3')]);
  const scopeLogs = Buffer.concat([len(1, scope), ...records.map((r) => len(2, r))]);
  const resourceLogs = Buffer.concat([len(1, Buffer.concat(resource)), len(2, scopeLogs)]);
  return len(1, resourceLogs);
}

/** LogRecord: time_unix_nano = 1 (fixed64), severity_number = 2, severity_text = 3, body = 5, attributes = 6, observed = 11. */
function logRecord(time: bigint, attrs: Buffer[] = [], body = 'hello'): Buffer {
  return Buffer.concat([
    fixed64(1, time),
    uvarintField(2, 9),
    len(3, 'INFO'),
    len(5, anyString(body)),
    ...attrs.map((a) => len(6, a)),
    fixed64(11, time + 5n),
  ]);
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function post(url: string, body: Buffer, headers: Record<string, string>, agentOptions?: https.RequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(target, { method: 'POST', headers: { 'content-length': String(body.length), ...headers }, ...agentOptions }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (p: Buffer) => parts.push(p));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const PB = { 'content-type': 'application/x-protobuf' };
const status = (reply: Reply): { code?: number; message?: string } =>
  StatusType().toObject(StatusType().decode(reply.body)) as { code?: number; message?: string };

describe('OTLP/HTTP receiver (test support) against the specification', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver({ requiredHeaders: { 'x-tenant': 'acme' } });
  });
  afterAll(() => receiver.close());
  const logs = (): string => `${receiver.url}/v1/logs`;
  const h = (extra: Record<string, string> = {}): Record<string, string> => ({ ...PB, 'x-tenant': 'acme', ...extra });

  it('decodes a hand-built protobuf request exactly: times above 2^53, int64 attributes, resource and scope', async () => {
    const time = 1_772_706_600_123_456_789n;
    const big = 9_007_199_254_740_993n; // 2^53 + 1: not a safe JS number
    const body = request([logRecord(time, [kv('a.str', anyString('x')), kv('a.int', anyInt(42)), kv('a.big', anyInt(big)), kv('a.neg', anyInt(-3))])]);
    const before = receiver.records.length;
    const reply = await post(logs(), body, h());
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/x-protobuf');
    // An empty ExportLogsServiceResponse: no partial_success.
    expect(reply.body.length).toBe(0);
    const record = receiver.records[before]!;
    expect(record).toMatchObject({
      resource: { 'service.name': 'svc' },
      scope: { name: 'test-scope', version: '1.2.3' },
      timeUnixNano: time.toString(),
      observedTimeUnixNano: (time + 5n).toString(),
      severityNumber: 9,
      severityText: 'INFO',
      body: 'hello',
      attributes: { 'a.str': 'x', 'a.int': 42, 'a.big': big.toString(), 'a.neg': -3 },
    });
    expect(record.attributeKeys).toEqual(['a.str', 'a.int', 'a.big', 'a.neg']);
  });

  it('takes gzip (Content-Encoding) and refuses bad gzip data with a 400 Status in protobuf', async () => {
    const body = request([logRecord(1n), logRecord(2n)]);
    const ok = await post(logs(), gzipSync(body), h({ 'content-encoding': 'gzip' }));
    expect(ok.status).toBe(200);
    const bad = await post(logs(), body, h({ 'content-encoding': 'gzip' }));
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('application/x-protobuf');
    expect(status(bad)).toMatchObject({ code: 3, message: 'body is not valid gzip data' });
  });

  it('refuses what the spec does not allow: wrong content type or encoding (415), path (404), method (405), missing header (401), bytes that are not a request (400)', async () => {
    const body = request([logRecord(1n)]);
    expect((await post(logs(), body, h({ 'content-type': 'text/plain' }))).status).toBe(415);
    expect((await post(logs(), body, h({ 'content-encoding': 'br' }))).status).toBe(415);
    expect((await post(`${receiver.url}/v1/traces`, body, h())).status).toBe(404);
    const get = await new Promise<number>((resolve) => http.get(logs(), (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }));
    expect(get).toBe(405);
    expect((await post(logs(), body, PB)).status).toBe(401);
    expect((await post(logs(), Buffer.from([0x0a, 0x05, 0x01]), h())).status).toBe(400);
    // A record with neither time: refused (a LogRecord needs one of them).
    expect((await post(logs(), request([Buffer.concat([len(5, anyString('x'))])]), h())).status).toBe(400);
  });

  it('OTLP/JSON: lowerCamelCase fields, int64 as decimal strings; snake_case field names are refused', async () => {
    const json = {
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeLogs: [{ scope: { name: 's' }, logRecords: [{ timeUnixNano: '1772706600123456789', observedTimeUnixNano: '1772706600123456790', severityNumber: 13, severityText: 'WARN', body: { stringValue: '{"a_b":1}' }, attributes: [{ key: 'n', value: { intValue: '7' } }] }] }],
      }],
    };
    const before = receiver.records.length;
    const reply = await post(logs(), Buffer.from(JSON.stringify(json)), h({ 'content-type': 'application/json' }));
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body.toString())).toEqual({});
    expect(receiver.records[before]).toMatchObject({ timeUnixNano: '1772706600123456789', severityNumber: 13, body: '{"a_b":1}', attributes: { n: 7 } });
    const snake = JSON.stringify(json).replace('"timeUnixNano"', '"time_unix_nano"');
    const bad = await post(logs(), Buffer.from(snake), h({ 'content-type': 'application/json' }));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString())).toMatchObject({ code: 3 });
  });

  it('faults: partial success keeps the head and answers rejected_log_records; 429 carries Retry-After; 503 and 400 carry a Status', async () => {
    receiver.fault({ partial: { rejected: 2, message: 'quota: 2 records dropped' } });
    const before = receiver.records.length;
    const partial = await post(logs(), request([logRecord(10n), logRecord(11n), logRecord(12n)]), h());
    expect(partial.status).toBe(200);
    const decoded = ResponseType().toObject(ResponseType().decode(partial.body), { longs: String }) as { partialSuccess?: { rejectedLogRecords?: string; errorMessage?: string } };
    expect(decoded.partialSuccess).toEqual({ rejectedLogRecords: '2', errorMessage: 'quota: 2 records dropped' });
    expect(receiver.records.slice(before).map((r) => r.timeUnixNano)).toEqual(['10']);
    expect(receiver.rejected.slice(-2).map((r) => r.timeUnixNano)).toEqual(['11', '12']);

    receiver.fault({ status: 429, headers: { 'retry-after': '2' } }, { status: 503 }, { status: 400, message: 'bad record' });
    const r429 = await post(logs(), request([logRecord(1n)]), h());
    expect(r429.status).toBe(429);
    expect(r429.headers['retry-after']).toBe('2');
    expect(status(r429).code).toBe(8);
    const r503 = await post(logs(), request([logRecord(1n)]), h());
    expect(r503.status).toBe(503);
    const r400 = await post(logs(), request([logRecord(1n)]), h());
    expect(r400.status).toBe(400);
    expect(status(r400).message).toBe('bad record');
    expect(receiver.records.length).toBe(before + 1);
  });

  it('hang: the request is read and never answered until the client gives up', async () => {
    receiver.fault({ hang: true });
    const before = receiver.requests.length;
    const outcome = await new Promise<string>((resolve) => {
      const body = request([logRecord(1n)]);
      const req = http.request(logs(), { method: 'POST', headers: { ...h(), 'content-length': String(body.length) } }, () => resolve('answered'));
      req.setTimeout(300, () => {
        req.destroy();
        resolve('timed out');
      });
      req.on('error', () => {});
      req.end(body);
    });
    expect(outcome).toBe('timed out');
    expect(receiver.requests[before]!.fault).toBe('hang');
  });
});

describe('OTLP/HTTP receiver over mutual TLS', () => {
  const dir = tempDir('ar-otlp-recv-');
  let certs: TestCertificates;
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    certs = makeTestCertificates(join(dir.path, 'certs'));
    receiver = await startOtlpReceiver({ tls: { key: certs.key, cert: certs.cert, ca: certs.ca } });
  });
  afterAll(async () => {
    await receiver.close();
    dir.cleanup();
  });

  it('takes a client with a certificate from its CA, refuses one without', async () => {
    const body = request([logRecord(1n)]);
    const ok = await post(`${receiver.url}/v1/logs`, body, PB, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
    expect(ok.status).toBe(200);
    await expect(post(`${receiver.url}/v1/logs`, body, PB, { ca: certs.ca })).rejects.toThrow();
  });
});

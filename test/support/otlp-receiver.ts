/**
 * A strict local OTLP/HTTP logs receiver, `POST /v1/logs`, for tests only: a real HTTP(S) server on
 * 127.0.0.1 that follows the OTLP/HTTP specification
 * (https://opentelemetry.io/docs/specs/otlp/#otlphttp) and decodes requests with the official
 * opentelemetry-proto definitions (the .proto files shipped by @elastic/mockotlpserver, loaded with
 * protobufjs), independently of the exporter under test.
 *
 * Behaviour, in the order the checks are made:
 * - 404 for any path but /v1/logs; 405 (`Allow: POST`) for any method but POST.
 * - 415 for a Content-Type other than application/x-protobuf or application/json, or a
 *   Content-Encoding other than gzip/identity.
 * - 401 when `requiredHeaders` are set and one is missing or different.
 * - 400 (a google.rpc.Status in the request's encoding) for bad gzip data, a body that does not
 *   decode as an ExportLogsServiceRequest, JSON that is not OTLP/JSON (lowerCamelCase keys,
 *   integers as numbers or decimal strings), a LogRecord without time, or an empty request.
 * - A queued fault, if any, answers instead (see OtlpFault); a faulted request adds nothing to
 *   `records` (a partial-success fault keeps the records it did not reject).
 * - 200 with an empty ExportLogsServiceResponse in the request's encoding otherwise.
 *
 * Decoded records are flattened: each carries its resource and scope, times as decimal strings of
 * nanoseconds (never a JS number: they exceed 2^53), AnyValues as plain JS values (int64 as a
 * number when safe, else a decimal string; kvlists as objects, in wire order).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as protobuf from 'protobufjs';
import { CountWaiters, FaultQueue, type QueueableFault, type ReceiverControl, Rejection, RestartableListener, readBody } from './fake-server';

const PROTO_DIR = path.dirname(require.resolve('@elastic/mockotlpserver/package.json'));
/** The largest uncompressed body taken (the Collector's default max_request_body_size is 20 MiB). */
export const OTLP_MAX_BODY_BYTES = 20 * 1024 * 1024;

let root: protobuf.Root | undefined;
function protoRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
  r.loadSync('opentelemetry/proto/collector/logs/v1/logs_service.proto');
  // google.rpc.Status, the body of OTLP/HTTP error answers (googleapis google/rpc/status.proto).
  r.add(
    new protobuf.Type('GoogleRpcStatus')
      .add(new protobuf.Field('code', 1, 'int32'))
      .add(new protobuf.Field('message', 2, 'string')),
  );
  r.resolveAll();
  return (root = r);
}
const type = (name: string): protobuf.Type => protoRoot().lookupType(name);
export const RequestType = (): protobuf.Type => type('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
export const ResponseType = (): protobuf.Type => type('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
export const StatusType = (): protobuf.Type => type('GoogleRpcStatus');

export type OtlpValue = string | number | boolean | null | Buffer | OtlpValue[] | { [key: string]: OtlpValue };

/** One LogRecord as received, with its resource and scope. */
export interface OtlpRecord {
  resource: Record<string, OtlpValue>;
  scope: { name: string; version: string };
  /** Nanoseconds since the epoch, as a decimal string. */
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: OtlpValue | undefined;
  attributes: Record<string, OtlpValue>;
  /** Attribute keys in wire order (duplicates would show here). */
  attributeKeys: string[];
}

export interface OtlpFault extends QueueableFault {
  /** Answer with this status; the body is a google.rpc.Status with `message`. */
  status?: number;
  headers?: Record<string, string>;
  message?: string;
  /** 200 with partial_success: the last `rejected` records of the request are rejected. */
  partial?: { rejected: number; message: string };
  /** Read the request, never answer (until the client gives up, or goAway/close). */
  hang?: boolean;
  /** Read the request, then destroy the socket without answering. */
  destroy?: boolean;
}

export interface OtlpRequest {
  headers: IncomingHttpHeaders;
  contentType: string | null;
  encoding: string | null;
  rawBytes: number;
  /** Body bytes after decompression. */
  bytes: number;
  /** Records in the request (0 when it did not decode). */
  records: number;
  status: number;
  fault?: 'status' | 'partial' | 'hang' | 'destroy';
  /** Why the request was refused, for 4xx answers of the receiver's own. */
  error?: string;
}

export interface OtlpReceiverOptions {
  port?: number;
  /** Headers every request must carry (names lower-case). */
  requiredHeaders?: Record<string, string>;
  /** Serve HTTPS; with `ca`, client certificates signed by it are required (mutual TLS). */
  tls?: { key: string; cert: string; ca?: string };
}

export interface OtlpReceiver extends ReceiverControl<OtlpFault> {
  /** http(s)://127.0.0.1:<port>, the base endpoint (the sink appends /v1/logs). */
  readonly url: string;
  readonly port: number;
  /** Every accepted record, in arrival order. */
  readonly records: OtlpRecord[];
  /** Records refused by a partial-success fault. */
  readonly rejected: OtlpRecord[];
  readonly requests: OtlpRequest[];
  waitForRecords(n: number, timeoutMs?: number): Promise<void>;
}

function mediaType(value: string | undefined): string | null {
  return value ? value.split(';')[0]!.trim().toLowerCase() : null;
}

/** A protobufjs Long/number/string of an int64 as a JS value: a number when safe, else a string. */
function int64(value: unknown): number | string {
  const text = String(value);
  if (!/^-?\d+$/.test(text)) throw new Rejection(400, `not an integer: ${text.slice(0, 40)}`);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

function uint64Text(value: unknown): string {
  const text = String(value ?? '0');
  if (!/^\d+$/.test(text)) throw new Rejection(400, `not an unsigned integer: ${text.slice(0, 40)}`);
  return BigInt(text).toString();
}

interface AnyValueObject {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: unknown;
  doubleValue?: number;
  arrayValue?: { values?: AnyValueObject[] };
  kvlistValue?: { values?: KeyValueObject[] };
  bytesValue?: Uint8Array | string;
}
interface KeyValueObject {
  key?: string;
  value?: AnyValueObject;
}

function anyValue(v: AnyValueObject | undefined | null): OtlpValue {
  if (!v) return null;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  if (v.intValue !== undefined && v.intValue !== null) return int64(v.intValue);
  if (v.doubleValue !== undefined && v.doubleValue !== null) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue) return keyValues(v.kvlistValue.values ?? []).object;
  if (v.bytesValue !== undefined && v.bytesValue !== null) {
    return Buffer.from(typeof v.bytesValue === 'string' ? Buffer.from(v.bytesValue, 'base64') : v.bytesValue);
  }
  return null;
}

function keyValues(list: KeyValueObject[]): { object: Record<string, OtlpValue>; keys: string[] } {
  const object: Record<string, OtlpValue> = {};
  const keys: string[] = [];
  for (const kv of list) {
    if (typeof kv.key !== 'string' || kv.key === '') throw new Rejection(400, 'attribute without a key');
    keys.push(kv.key);
    object[kv.key] = anyValue(kv.value);
  }
  return { object, keys };
}

interface RequestObject {
  resourceLogs?: Array<{
    resource?: { attributes?: KeyValueObject[] };
    scopeLogs?: Array<{
      scope?: { name?: string; version?: string };
      logRecords?: Array<{
        timeUnixNano?: unknown;
        observedTimeUnixNano?: unknown;
        severityNumber?: number;
        severityText?: string;
        body?: AnyValueObject;
        attributes?: KeyValueObject[];
      }>;
    }>;
  }>;
}

/** Flattens a decoded ExportLogsServiceRequest (protobufjs message object form). */
function flatten(request: RequestObject): OtlpRecord[] {
  const out: OtlpRecord[] = [];
  for (const rl of request.resourceLogs ?? []) {
    const resource = keyValues(rl.resource?.attributes ?? []).object;
    for (const sl of rl.scopeLogs ?? []) {
      const scope = { name: sl.scope?.name ?? '', version: sl.scope?.version ?? '' };
      for (const lr of sl.logRecords ?? []) {
        const attrs = keyValues(lr.attributes ?? []);
        const timeUnixNano = uint64Text(lr.timeUnixNano);
        const observedTimeUnixNano = uint64Text(lr.observedTimeUnixNano);
        if (timeUnixNano === '0' && observedTimeUnixNano === '0') throw new Rejection(400, 'log record without a time');
        out.push({
          resource,
          scope,
          timeUnixNano,
          observedTimeUnixNano,
          severityNumber: lr.severityNumber ?? 0,
          severityText: lr.severityText ?? '',
          body: lr.body ? anyValue(lr.body) : undefined,
          attributes: attrs.object,
          attributeKeys: attrs.keys,
        });
      }
    }
  }
  return out;
}

const INTEGER_KEYS = new Set(['timeUnixNano', 'observedTimeUnixNano', 'intValue', 'severityNumber', 'droppedAttributesCount', 'flags']);

/**
 * OTLP/JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): field names in
 * lowerCamelCase (attribute keys are values, never names, so every name is a field's); integers
 * as a JSON number or a decimal string (64-bit ones are usually strings).
 */
function checkJsonFields(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) checkJsonFields(item);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, member] of Object.entries(value)) {
    if (key.includes('_')) throw new Rejection(400, `OTLP/JSON field names are lowerCamelCase, not "${key.slice(0, 40)}"`);
    if (INTEGER_KEYS.has(key)) {
      const ok = (typeof member === 'number' && Number.isInteger(member)) || (typeof member === 'string' && /^-?\d+$/.test(member));
      if (!ok) throw new Rejection(400, `${key} must be an integer or a decimal string`);
    } else checkJsonFields(member);
  }
}

/** Decodes a request body (already decompressed) in the given media type. Throws Rejection. */
export function decodeRequest(body: Buffer, media: 'application/x-protobuf' | 'application/json'): OtlpRecord[] {
  let message: protobuf.Message;
  if (media === 'application/x-protobuf') {
    try {
      message = RequestType().decode(body);
    } catch (error) {
      throw new Rejection(400, `not an ExportLogsServiceRequest: ${(error as Error).message}`);
    }
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
    } catch {
      throw new Rejection(400, 'malformed JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Rejection(400, 'not a JSON object');
    checkJsonFields(parsed);
    try {
      message = RequestType().fromObject(parsed);
    } catch (error) {
      throw new Rejection(400, `not an ExportLogsServiceRequest: ${(error as Error).message}`);
    }
  }
  const object = RequestType().toObject(message, { longs: String, bytes: Buffer as unknown as StringConstructor, defaults: false }) as RequestObject;
  const records = flatten(object);
  if (records.length === 0) throw new Rejection(400, 'no log records');
  return records;
}

/** Encodes an ExportLogsServiceResponse (optionally with partial_success) in the request's media type. */
export function encodeResponse(media: string, partial?: { rejected: number; message: string }): Buffer {
  if (media === 'application/json') {
    return Buffer.from(
      JSON.stringify(partial ? { partialSuccess: { rejectedLogRecords: String(partial.rejected), errorMessage: partial.message } } : {}),
    );
  }
  const value = partial ? { partialSuccess: { rejectedLogRecords: partial.rejected, errorMessage: partial.message } } : {};
  return Buffer.from(ResponseType().encode(ResponseType().fromObject(value)).finish());
}

/** Encodes a google.rpc.Status in the request's media type (protobuf when unknown). */
export function encodeStatus(media: string | null, code: number, message: string): Buffer {
  if (media === 'application/json') return Buffer.from(JSON.stringify({ code, message }));
  return Buffer.from(StatusType().encode(StatusType().fromObject({ code, message })).finish());
}

/** The gRPC code that goes with an HTTP status in a Status body (INVALID_ARGUMENT for 400, ...). */
function grpcCode(status: number): number {
  if (status === 400) return 3;
  if (status === 401) return 16;
  if (status === 403) return 7;
  if (status === 404) return 5;
  if (status === 429) return 8;
  if (status === 503 || status === 502 || status === 504) return 14;
  return 2;
}

export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  protoRoot();
  const records: OtlpRecord[] = [];
  const rejected: OtlpRecord[] = [];
  const requests: OtlpRequest[] = [];
  const faults = new FaultQueue<OtlpFault>();
  const waiters = new CountWaiters('OtlpReceiver', 'records', () => records.length, () => `(statuses [${requests.map((r) => r.status).join(',')}])`);
  let closed = false;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const media = mediaType(req.headers['content-type']);
    const answerStatus = (status: number, message: string, headers: Record<string, string> = {}): void => {
      const type = media === 'application/json' ? 'application/json' : 'application/x-protobuf';
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(encodeStatus(media, grpcCode(status), message));
    };
    const url = new URL(req.url ?? '/', 'http://receiver');
    if (url.pathname !== '/v1/logs') {
      req.resume();
      answerStatus(404, `unknown path ${url.pathname}`);
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      answerStatus(405, 'only POST is allowed', { allow: 'POST' });
      return;
    }
    void readBody(req, OTLP_MAX_BODY_BYTES).then(({ body: raw, rawBytes, overflow }) => {
      const encodingHeader = req.headers['content-encoding'];
      const encoding = encodingHeader ? encodingHeader.trim().toLowerCase() : null;
      const record: OtlpRequest = { headers: req.headers, contentType: media, encoding, rawBytes, bytes: 0, records: 0, status: 0 };
      requests.push(record);
      let decoded: OtlpRecord[] = [];
      try {
        if (media !== 'application/x-protobuf' && media !== 'application/json') {
          throw new Rejection(415, 'Content-Type must be application/x-protobuf or application/json');
        }
        if (encoding !== null && encoding !== 'identity' && encoding !== 'gzip') {
          throw new Rejection(415, `unsupported Content-Encoding "${encoding}"`);
        }
        for (const [name, value] of Object.entries(options.requiredHeaders ?? {})) {
          if (req.headers[name] !== value) throw new Rejection(401, `missing or wrong ${name} header`);
        }
        if (overflow) throw new Rejection(413, `body over ${OTLP_MAX_BODY_BYTES} bytes`);
        let body = raw;
        if (encoding === 'gzip') {
          try {
            body = gunzipSync(body, { maxOutputLength: OTLP_MAX_BODY_BYTES });
          } catch {
            throw new Rejection(400, 'body is not valid gzip data');
          }
        }
        record.bytes = body.length;
        decoded = decodeRequest(body, media);
        record.records = decoded.length;
      } catch (error) {
        if (!(error instanceof Rejection)) throw error;
        record.status = error.status;
        record.error = error.message;
        answerStatus(error.status, error.message);
        return;
      }

      const fault = faults.take();
      if (fault?.hang) {
        record.fault = 'hang';
        return;
      }
      if (fault?.destroy) {
        record.fault = 'destroy';
        req.socket.destroy();
        return;
      }
      if (fault && fault.partial === undefined) {
        const status = fault.status ?? 503;
        record.fault = 'status';
        record.status = status;
        answerStatus(status, fault.message ?? 'injected fault', fault.headers);
        return;
      }
      let partial: { rejected: number; message: string } | undefined;
      if (fault?.partial) {
        record.fault = 'partial';
        partial = fault.partial;
        const keep = Math.max(0, decoded.length - partial.rejected);
        rejected.push(...decoded.slice(keep));
        decoded = decoded.slice(0, keep);
      }
      record.status = 200;
      records.push(...decoded);
      res.writeHead(200, { 'content-type': media!, ...(fault?.headers ?? {}) });
      res.end(encodeResponse(media!, partial));
      waiters.notify();
    });
  };

  const server = options.tls
    ? https.createServer(
        {
          key: options.tls.key,
          cert: options.tls.cert,
          ...(options.tls.ca ? { ca: options.tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
        },
        handler,
      )
    : http.createServer(handler);
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (_error, socket) => socket.destroy());
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  // An https server's 'connection' events are its TCP sockets too: the listener drops them all on stop.
  const listener = new RestartableListener(server, { port: options.port ?? 0 });
  await listener.listen();

  return {
    get url() {
      return `${options.tls ? 'https' : 'http'}://127.0.0.1:${listener.boundPort}`;
    },
    get port() {
      return listener.boundPort;
    },
    records,
    rejected,
    requests,
    fault(...add: OtlpFault[]) {
      faults.push(...add);
    },
    goAway: () => listener.stop(),
    async comeBack() {
      if (closed) throw new Error('OtlpReceiver: comeBack after close');
      await listener.listen();
    },
    waitForRecords: (n: number, timeoutMs = 10_000) => waiters.wait(n, timeoutMs),
    async close() {
      if (closed) return;
      closed = true;
      await listener.stop();
      waiters.close();
    },
  };
}

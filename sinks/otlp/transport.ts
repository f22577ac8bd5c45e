/**
 * OTLP/HTTP for the delivery layer: one batch of events → one ExportLogsServiceRequest, POSTed to
 * …/v1/logs, and the answer read as the OTLP specification says
 * (https://opentelemetry.io/docs/specs/otlp/#otlphttp-response):
 * - 2xx: an ExportLogsServiceResponse in the request's encoding; a `partial_success` with
 *   `rejected_log_records` > 0 is returned to the delivery layer (never retried: the spec forbids
 *   it), one with only an `error_message` is a warning;
 * - 429, 502, 503, 504: retryable, after `Retry-After` when the receiver sent one;
 * - 401/403: credentials refused (the delivery layer keeps the events and probes rarely);
 * - 413: the batch is split;
 * - any other 4xx or 5xx (400 first of all): never retried, dead-lettered with the receiver's
 *   google.rpc.Status message.
 *
 * The wire format is written by the official serializers of @opentelemetry/otlp-transformer,
 * loaded by the sink's factory only (see index.ts). Requests go through node:http(s) with a
 * keep-alive agent of ours: fetch cannot take a CA file or a client certificate.
 */
import * as http from 'node:http';
import type * as https from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { DeliveryError, type DeliveryOutcome, retryAfterFromHeaders, type SinkEvent, tlsVerifyError, toDeliveryError, type Transport } from '../../src/sdk';
import { hrNow, type MappingSettings, type OtlpLogRecord, toLogRecord } from './mapping';
import type { OtlpSettings } from './settings';

const gzip = promisify(gzipCallback);

/** The part of @opentelemetry/otlp-transformer's ISerializer the transport uses. */
export interface LogsSerializer {
  serializeRequest(records: OtlpLogRecord[]): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): { partialSuccess?: { rejectedLogRecords?: number | string; errorMessage?: string } };
}

/** The wire format, from the transformer: the serializer of the configured encoding, and a protobuf reader. */
export interface OtlpWire {
  readonly serializer: LogsSerializer;
  /** The `message` (field 2) of a protobuf google.rpc.Status, or null. */
  readonly statusMessage: (bytes: Uint8Array) => string | null;
}

/** Most bytes of an answer read: a Status or an ExportLogsServiceResponse is small. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** How much of a receiver's message goes into logs and dead-letter details. */
const MAX_MESSAGE_CHARS = 300;

/** Printable, bounded: a receiver's message goes into our logs and the dead letter. */
function clean(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_CHARS ? `${flat.slice(0, MAX_MESSAGE_CHARS)}…` : flat;
}

/** The receiver's own words from an error answer, if it sent a Status (or plain text). */
export function errorMessageOf(body: Buffer, contentType: string | undefined, wire: Pick<OtlpWire, 'statusMessage'>): string | null {
  if (body.length === 0) return null;
  const media = contentType?.split(';')[0]?.trim().toLowerCase();
  if (media === 'application/x-protobuf' || media === 'application/protobuf') {
    const message = wire.statusMessage(body);
    return message ? clean(message) : null;
  }
  const text = body.toString('utf8');
  if (media === 'application/json') {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') return clean(parsed.message);
    } catch {
      // fall through to the text
    }
  }
  return media?.startsWith('text/') ? clean(text) : null;
}

/** Maps an answer's status to what the delivery layer does, per the OTLP/HTTP specification. */
export function otlpStatusError(status: number, header: (name: string) => string | null | undefined, message: string | null): DeliveryError {
  const detail = `receiver answered HTTP ${status}${message ? `: ${message}` : ''}`;
  if (status === 429 || status === 502 || status === 503 || status === 504) {
    // Only Retry-After: x-ratelimit-reset is a Datadog header, not OTLP.
    const retryAfterMs = retryAfterFromHeaders((name) => (name === 'retry-after' ? header(name) : null));
    return new DeliveryError(detail, 'retryable', status === 429 ? 'http_429' : 'http_5xx', retryAfterMs);
  }
  if (status === 401 || status === 403) return new DeliveryError(detail, 'auth', 'auth');
  if (status === 413) return new DeliveryError(detail, 'too_large', 'http_413');
  if (status >= 400) return new DeliveryError(detail, 'permanent', `http_${status}`);
  // 1xx/3xx: the request may not have been processed (a redirect is not followed): retry.
  return new DeliveryError(detail, 'retryable', `http_${status}`);
}

function classify(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  return tlsVerifyError(error) ?? toDeliveryError(error);
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class OtlpHttpTransport implements Transport {
  readonly maxEventBytes = 4 * 1024 * 1024;
  private readonly client: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly mapping: MappingSettings;
  private readonly contentType: string;
  private readonly requestHeaders: Record<string, string>;
  /** Bytes a record adds around its event JSON (attributes, times), generously. */
  private readonly overhead: number;
  private warnedPartial = false;
  private loaded: OtlpWire | undefined;

  constructor(
    private readonly settings: OtlpSettings,
    private readonly loadWire: () => OtlpWire,
    private readonly onWarning: (message: string) => void,
    version: string,
  ) {
    const secure = settings.url.protocol === 'https:';
    const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: 1, keepAliveMsecs: 30_000 };
    if (secure) {
      agentOptions.rejectUnauthorized = settings.tls.verify;
      if (settings.tls.ca) agentOptions.ca = settings.tls.ca;
      if (settings.tls.cert) agentOptions.cert = settings.tls.cert;
      if (settings.tls.key) agentOptions.key = settings.tls.key;
      if (settings.tls.serverName) agentOptions.servername = settings.tls.serverName;
    }
    // node:https (and tls) only for an https endpoint: a few ms of start-up otherwise.
    this.client = secure ? (require('node:https') as typeof https) : http;
    this.agent = new this.client.Agent(agentOptions);
    this.mapping = {
      body: settings.body,
      includeArguments: settings.includeArguments,
      networkTransport: settings.networkTransport,
      resource: settings.resource,
      scope: { name: 'audit-router', version },
    };
    this.contentType = settings.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
    this.requestHeaders = {
      ...settings.headers,
      'user-agent': `audit-router/${version}`,
      'content-type': this.contentType,
      ...(settings.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    };
    this.overhead = 400 + settings.networkTransport.length;
  }

  /** The serializers, loaded with the first batch. */
  private get wire(): OtlpWire {
    this.loaded ??= this.loadWire();
    return this.loaded;
  }

  size(event: SinkEvent): number {
    const json = Buffer.byteLength(event.json);
    // The body carries the event once; the arguments may be carried a second time.
    return json + (this.settings.includeArguments ? json : 0) + this.overhead;
  }

  async send(batch: readonly SinkEvent[], signal: AbortSignal): Promise<DeliveryOutcome | undefined> {
    const observed = hrNow();
    const records = batch.map((event) => toLogRecord(event, this.mapping, observed));
    let serialized: Uint8Array | undefined;
    try {
      serialized = this.wire.serializer.serializeRequest(records);
    } catch (error) {
      // A serializer that cannot load or throws would fail the same way forever: dead-letter the batch instead.
      throw new DeliveryError(`the batch could not be serialized: ${(error as Error).message.slice(0, 200)}`, 'permanent', 'serialize', null, { cause: error });
    }
    if (!serialized) throw new DeliveryError('the serializer produced no request', 'permanent', 'serialize');
    const payload = this.settings.compression === 'gzip' ? await gzip(serialized) : Buffer.from(serialized.buffer, serialized.byteOffset, serialized.byteLength);
    let answer: Answer;
    try {
      answer = await this.post(payload, signal);
    } catch (error) {
      throw classify(error);
    }
    const header = (name: string): string | null => {
      const value = answer.headers[name];
      return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
    };
    if (answer.status < 200 || answer.status > 299) {
      throw otlpStatusError(answer.status, header, errorMessageOf(answer.body, header('content-type') ?? undefined, this.wire));
    }
    return this.readSuccess(answer.body, batch.length);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  /** A 2xx answer: an ExportLogsServiceResponse, maybe with a partial success. */
  private readSuccess(body: Buffer, sent: number): DeliveryOutcome | undefined {
    if (body.length === 0) return undefined;
    let response: ReturnType<LogsSerializer['deserializeResponse']>;
    try {
      response = this.wire.serializer.deserializeResponse(body);
    } catch {
      // A 2xx is an acknowledgement; an unreadable body only loses the partial-success detail.
      this.onWarning('the receiver acknowledged with a body that is not an ExportLogsServiceResponse');
      return undefined;
    }
    const partial = response.partialSuccess;
    if (!partial) return undefined;
    const rejected = Number(partial.rejectedLogRecords ?? 0);
    const message = clean(typeof partial.errorMessage === 'string' ? partial.errorMessage : '');
    if (Number.isFinite(rejected) && rejected > 0) {
      return { rejected: Math.min(rejected, sent), detail: `receiver rejected ${rejected} of ${sent} log records${message ? `: ${message}` : ''}` };
    }
    if (message && !this.warnedPartial) {
      this.warnedPartial = true;
      this.onWarning(`the receiver accepted everything with a warning: ${message}`);
    }
    return undefined;
  }

  private post(payload: Buffer, signal: AbortSignal): Promise<Answer> {
    const { url } = this.settings;
    return new Promise<Answer>((resolve, reject) => {
      const request = this.client.request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.requestHeaders, 'content-length': String(payload.length) },
          signal,
        },
        (response) => {
          const parts: Buffer[] = [];
          let size = 0;
          response.on('data', (part: Buffer) => {
            size += part.length;
            if (size <= MAX_ANSWER_BYTES) parts.push(part);
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(parts) }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  }
}

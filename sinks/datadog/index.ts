/**
 * The Datadog sink: audit events to the Datadog Logs intake (v2 `POST /api/v2/logs`, what the
 * official client's `LogsApi.submitLog` sends), through the shared delivery layer (queue,
 * batches, retries, disk buffer).
 *
 * The request is built here, not by `@datadog/datadog-api-client`: importing that client takes
 * 2–4 s and ~130 MB (its serializer pulls in every model), for a body that is a JSON array of log
 * items. `toLogItem` and `intakeBody` produce the same items, keys and serialisation as
 * `LogsApi.submitLog` (ObjectSerializer of `Array<HTTPLogItem>`: ddsource, ddtags, hostname,
 * message, service, then the additional properties, then JSON.stringify); a test sends the same
 * events through both to the local intake and compares the bodies (the client is a dev
 * dependency for that test only). The body is gzipped off the event loop, the request aborts on
 * the delivery layer's signal (timeout, shutdown deadline), and a non-2xx answer becomes a
 * DeliveryError that keeps the Retry-After / x-ratelimit-reset headers.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { createDeliverySink, httpStatusError, parseDeliveryOptions, ConfigError, parseDuration } from '../../src/sdk';
import type { Transport, JsonObject, JsonValue, KubernetesMetadata, SinkContext, SinkEvent, SinkFactory, SinkOptions } from '../../src/sdk';
import OPTIONS_SCHEMA from './options.schema.json';

const gzip = promisify(gzipCallback);

/** Intake limits (https://docs.datadoghq.com/api/latest/logs/#send-logs). */
export const MAX_ENTRIES_PER_REQUEST = 1000;
export const MAX_REQUEST_BYTES = 5_000_000;
export const MAX_LOG_BYTES = 1_000_000;

/** Keys the log item sets itself; event fields with these names are kept under `audit_<key>`. */
const RESERVED = new Set(['message', 'ddsource', 'ddtags', 'hostname', 'service', 'status', 'date']);

export interface DatadogSettings {
  readonly apiKey: string;
  /** Base URL of the intake, without path. */
  readonly baseUrl: string;
  readonly service: string | undefined;
  readonly source: string;
  readonly ddtags: string | undefined;
  readonly hostname: string;
  readonly compression: 'gzip' | 'none';
  readonly timeoutMs: number;
}

function optionalString(options: SinkOptions, key: string, where: string): string | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ConfigError('must be a non-empty string', undefined, `${where}.${key}`);
  return value;
}

/** Reads the Datadog options (the delivery keys are read by the delivery layer). */
export function parseDatadogOptions(options: SinkOptions, context: Pick<SinkContext, 'name' | 'baseDir'>): DatadogSettings {
  const where = `sinks.${context.name}`;
  let apiKey = optionalString(options, 'api_key', where);
  const keyFile = optionalString(options, 'api_key_file', where);
  if (apiKey !== undefined && keyFile !== undefined) {
    throw new ConfigError('give either api_key or api_key_file, not both', undefined, `${where}.api_key_file`);
  }
  if (keyFile !== undefined) {
    const file = path.resolve(context.baseDir, keyFile);
    try {
      apiKey = fs.readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(`cannot read ${file}: ${(error as { code?: string }).code ?? 'error'}`, undefined, `${where}.api_key_file`);
    }
    if (apiKey === '') throw new ConfigError(`${file} is empty`, undefined, `${where}.api_key_file`);
  }
  apiKey ??= process.env.DD_API_KEY?.trim() || undefined;
  if (apiKey === undefined) {
    throw new ConfigError('an API key is required: api_key, api_key_file or the DD_API_KEY environment variable', undefined, `${where}.api_key`);
  }

  const site = optionalString(options, 'site', where) ?? (process.env.DD_SITE?.trim() || 'datadoghq.com');
  if (!/^[a-z0-9.-]+$/i.test(site)) throw new ConfigError('must be a Datadog site like "datadoghq.eu"', undefined, `${where}.site`);
  let baseUrl = `https://http-intake.logs.${site}`;
  const endpoint = optionalString(options, 'endpoint', where);
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new ConfigError('must be a URL like "https://intake.example:443"', undefined, `${where}.endpoint`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError('must be an http:// or https:// URL', undefined, `${where}.endpoint`);
    }
    if (url.username || url.password) throw new ConfigError('must not contain credentials', undefined, `${where}.endpoint`);
    baseUrl = endpoint.replace(/\/+$/, '');
  }

  let ddtags: string | undefined;
  const tags = options.tags;
  if (Array.isArray(tags)) {
    if (!tags.every((t): t is string => typeof t === 'string' && t !== '' && !t.includes(','))) {
      throw new ConfigError('must be strings like "env:prod" (no commas)', undefined, `${where}.tags`);
    }
    ddtags = tags.join(',') || undefined;
  } else if (typeof tags === 'string') {
    ddtags = tags.split(',').map((t) => t.trim()).filter(Boolean).join(',') || undefined;
  } else if (tags !== undefined) {
    throw new ConfigError('must be an array of "k:v" strings or a "k:v,k:v" string', undefined, `${where}.tags`);
  }

  const compression = options.compression ?? 'gzip';
  if (compression !== 'gzip' && compression !== 'none') {
    throw new ConfigError('must be "gzip" or "none"', undefined, `${where}.compression`);
  }
  const timeout = options.timeout ?? '30s';
  const timeoutMs = typeof timeout === 'string' || typeof timeout === 'number' ? parseDuration(timeout) : null;
  if (timeoutMs === null || timeoutMs < 1) throw new ConfigError('must be a duration like "30s"', undefined, `${where}.timeout`);

  return {
    apiKey,
    baseUrl,
    service: optionalString(options, 'service', where),
    source: optionalString(options, 'source', where) ?? 'redisctl-mcp',
    ddtags,
    hostname: optionalString(options, 'hostname', where) ?? os.hostname(),
    compression,
    timeoutMs,
  };
}

function statusOf(event: JsonValue | undefined): string {
  if (event === 'tool_error') return 'error';
  if (event === 'tool_denied') return 'warn';
  return 'info';
}

/** The short human line Datadog shows: "tool_denied flush_database denied 0ms". */
export function messageOf(fields: JsonObject): string {
  const parts: string[] = [];
  for (const key of ['event', 'tool', 'result'] as const) {
    const value = fields[key];
    if (typeof value === 'string' && value !== '') parts.push(value);
  }
  if (typeof fields.duration_ms === 'number') parts.push(`${fields.duration_ms}ms`);
  return parts.length > 0 ? parts.join(' ') : 'audit event';
}

/** A log item as the intake receives it: the event's fields are top-level attributes (facets). */
export type LogItem = Record<string, JsonValue>;

/**
 * One event as a Datadog log item, keys in the order `LogsApi.submitLog` serialises an
 * HTTPLogItem: ddsource, ddtags, hostname, message, service (those set), then the attributes:
 * the event's fields (reserved names under `audit_<key>`), status, date. The object has no
 * prototype, so a field named `__proto__` stays a field.
 */
export function toLogItem(event: SinkEvent, settings: DatadogSettings): LogItem {
  const item = Object.create(null) as LogItem;
  item.ddsource = settings.source;
  if (settings.ddtags !== undefined) item.ddtags = settings.ddtags;
  item.hostname = settings.hostname;
  item.message = messageOf(event.fields);
  if (settings.service !== undefined) item.service = settings.service;
  const fields = event.fields;
  for (const key of Object.keys(fields)) item[RESERVED.has(key) ? `audit_${key}` : key] = fields[key]!;
  item.status = statusOf(fields.event);
  const timestamp = event.record.timestamp ?? fields.timestamp;
  if (typeof timestamp === 'string') item.date = timestamp;
  return item;
}

/** The request body for a batch: the JSON array of its log items. */
export function intakeBody(batch: readonly SinkEvent[], settings: DatadogSettings): string {
  const items: LogItem[] = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) items[i] = toLogItem(batch[i]!, settings);
  return JSON.stringify(items);
}

/** The request headers, as `LogsApi.submitLog` sets them (plus our User-Agent). */
export function intakeHeaders(settings: DatadogSettings, bodyBytes: number): Record<string, string> {
  const headers: Record<string, string> = {
    'User-Agent': 'audit-router',
    Accept: 'application/json',
    'Content-Type': 'application/json',
    'Content-Length': String(bodyBytes),
    'DD-API-KEY': settings.apiKey,
  };
  if (settings.compression === 'gzip') headers['Content-Encoding'] = 'gzip';
  return headers;
}

type HttpModule = typeof import('node:http');

/**
 * One POST per batch over a keep-alive connection (node:http/https; loaded at the first request,
 * so start-up does not pay for TLS). Resolves on 2xx; otherwise rejects with a DeliveryError.
 */
class DatadogTransport implements Transport {
  readonly maxEventBytes = MAX_LOG_BYTES;
  /** Bytes a log item adds around the event's fields (message, ddsource, tags...), generously. */
  private readonly overhead: number;
  private readonly url: URL;
  private client: { module: HttpModule; agent: http.Agent } | null = null;

  constructor(private readonly settings: DatadogSettings) {
    this.url = new URL('/api/v2/logs', settings.baseUrl + '/');
    this.overhead =
      200 + settings.source.length + settings.hostname.length + (settings.service?.length ?? 0) + (settings.ddtags?.length ?? 0);
  }

  size(event: SinkEvent): number {
    return Buffer.byteLength(event.json) + this.overhead;
  }

  async send(batch: readonly SinkEvent[], signal: AbortSignal): Promise<void> {
    const json = intakeBody(batch, this.settings);
    const body = this.settings.compression === 'gzip' ? await gzip(json) : Buffer.from(json);
    signal.throwIfAborted();
    const { module, agent } = this.connect();
    await new Promise<void>((resolve, reject) => {
      const request = module.request(
        this.url,
        { method: 'POST', headers: intakeHeaders(this.settings, body.length), agent, signal },
        (response) => {
          // The answer is read to its end (so the connection can be reused) and otherwise ignored.
          response.on('data', () => {});
          response.on('error', reject);
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status >= 200 && status <= 299) resolve();
            else reject(httpStatusError(status, (name) => headerValue(response.headers[name])));
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  async close(): Promise<void> {
    this.client?.agent.destroy();
    this.client = null;
  }

  private connect(): { module: HttpModule; agent: http.Agent } {
    if (this.client === null) {
      const module = (this.url.protocol === 'https:' ? require('node:https') : require('node:http')) as HttpModule;
      // One connection (one batch is in flight at a time), kept alive between batches; closed after
      // 4 s idle, before the 5 s keep-alive timeout of many servers, so a stale one is rarely reused
      // (if it is, the reset is retried like any network error).
      this.client = { module, agent: new module.Agent({ keepAlive: true, maxSockets: 1, timeout: 4_000 }) };
    }
    return this.client;
  }
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** The options schema (validated by the core before anything starts); the delivery keys come from schemas/delivery.schema.json. */
export const optionsSchema: object = OPTIONS_SCHEMA;

/**
 * `[kubernetes]` where Datadog has a place for it: the standard tags (kube_namespace, pod_name,
 * kube_container_name) joined to `tags`, and the node as `hostname` unless one is configured.
 */
function withKubernetes(settings: DatadogSettings, options: SinkOptions, meta: KubernetesMetadata | null | undefined): DatadogSettings {
  if (!meta) return settings;
  const tags = [
    ...(settings.ddtags ? [settings.ddtags] : []),
    ...(meta.namespace ? [`kube_namespace:${meta.namespace}`] : []),
    ...(meta.pod ? [`pod_name:${meta.pod}`] : []),
    ...(meta.container ? [`kube_container_name:${meta.container}`] : []),
  ];
  const hostname = options['hostname'] === undefined && meta.node ? meta.node : settings.hostname;
  return { ...settings, ddtags: tags.join(',') || undefined, hostname };
}

export const createSink: SinkFactory = (options, context) => {
  const settings = withKubernetes(parseDatadogOptions(options, context), options, context.kubernetes);
  const config = parseDeliveryOptions(options, context.name, context.baseDir, {
    batchMaxEvents: MAX_ENTRIES_PER_REQUEST,
    batchMaxEventsLimit: MAX_ENTRIES_PER_REQUEST,
    // ~1 MB keeps the event-loop stall of serialising a request near 10 ms (5 MB: ~35 ms).
    batchMaxBytes: 1_000_000,
    batchMaxBytesLimit: MAX_REQUEST_BYTES - MAX_ENTRIES_PER_REQUEST - 2,
    attemptTimeoutMs: settings.timeoutMs,
  });
  return createDeliverySink({ type: 'datadog', config, transport: new DatadogTransport(settings), context });
};

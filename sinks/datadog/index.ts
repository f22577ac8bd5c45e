/**
 * The Datadog sink: audit events to the Datadog Logs intake (v2 `LogsApi.submitLog`), through the
 * shared delivery layer (queue, batches, retries, disk buffer).
 *
 * The client library is imported lazily in createSink: it takes about a second and thousands of
 * modules to load, which only configs with a Datadog sink should pay. Its own retry is disabled
 * (the delivery layer retries, with jitter and Retry-After) and its HTTP layer is replaced by a
 * small one of ours (`IntakeHttp`): it gzips off the event loop (the client's pako gzip blocks it
 * ~100 ms per 5 MB), aborts on the delivery layer's signal (timeout, shutdown deadline), and turns
 * a non-2xx answer into a DeliveryError that keeps the Retry-After / x-ratelimit-reset headers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type * as DatadogClient from '@datadog/datadog-api-client';
import { createDeliverySink, httpStatusError, parseDeliveryOptions, ConfigError, parseDuration } from '../../src/sdk';
import type { Transport, JsonObject, JsonValue, KubernetesMetadata, SinkContext, SinkEvent, SinkFactory, SinkOptions } from '../../src/sdk';
import OPTIONS_SCHEMA from './options.schema.json';

type Datadog = typeof DatadogClient;
type RequestContext = DatadogClient.client.RequestContext;
type ResponseContext = DatadogClient.client.ResponseContext;
type HTTPLogItem = DatadogClient.v2.HTTPLogItem;

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

/** One event as a Datadog log: the event's fields become attributes (facets). */
export function toLogItem(event: SinkEvent, settings: DatadogSettings): HTTPLogItem {
  const attributes: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(event.fields)) {
    attributes[RESERVED.has(key) ? `audit_${key}` : key] = value;
  }
  attributes.status = statusOf(event.fields.event);
  const timestamp = event.record.timestamp ?? event.fields.timestamp;
  if (typeof timestamp === 'string') attributes.date = timestamp;
  const item: HTTPLogItem = { message: messageOf(event.fields), ddsource: settings.source, hostname: settings.hostname, additionalProperties: attributes };
  if (settings.service !== undefined) item.service = settings.service;
  if (settings.ddtags !== undefined) item.ddtags = settings.ddtags;
  return item;
}

/**
 * The client's HttpLibrary, replaced: Node's fetch, async gzip, the request's abort signal, and
 * a DeliveryError for any non-2xx answer (the client's ApiException drops the headers).
 */
class IntakeHttp {
  enableRetry = false;
  maxRetries = 0;
  debug = false;

  constructor(private readonly dd: Datadog) {}

  async send(request: RequestContext): Promise<ResponseContext> {
    const headers = request.getHeaders();
    const raw = request.getBody() as string | undefined;
    const body: string | Uint8Array<ArrayBuffer> | undefined =
      typeof raw === 'string' && headers['Content-Encoding'] === 'gzip' ? new Uint8Array(await gzip(raw)) : raw;
    const signal = request.getHttpConfig().signal as AbortSignal | undefined;
    const response = await fetch(request.getUrl(), {
      method: request.getHttpMethod(),
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(signal ? { signal } : {}),
    });
    const text = await response.text();
    if (response.status < 200 || response.status > 299) {
      throw httpStatusError(response.status, (name) => response.headers.get(name));
    }
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    return new this.dd.client.ResponseContext(response.status, responseHeaders, {
      text: async () => text,
      binary: async () => Buffer.from(text),
    });
  }
}

class DatadogTransport implements Transport {
  readonly maxEventBytes = MAX_LOG_BYTES;
  private readonly api: DatadogClient.v2.LogsApi;
  private readonly configParams: Parameters<Datadog['client']['createConfiguration']>[0] & object;
  /** Bytes a log item adds around the event's fields (message, ddsource, tags...), generously. */
  private readonly overhead: number;

  constructor(
    private readonly dd: Datadog,
    private readonly settings: DatadogSettings,
  ) {
    this.configParams = {
      baseServer: new dd.client.BaseServerConfiguration(settings.baseUrl, {}),
      authMethods: { apiKeyAuth: settings.apiKey },
      httpApi: new IntakeHttp(dd),
      enableRetry: false,
      debug: false,
    };
    this.api = new dd.v2.LogsApi(dd.client.createConfiguration(this.configParams));
    this.overhead =
      200 + settings.source.length + settings.hostname.length + (settings.service?.length ?? 0) + (settings.ddtags?.length ?? 0);
  }

  size(event: SinkEvent): number {
    return Buffer.byteLength(event.json) + this.overhead;
  }

  async send(batch: readonly SinkEvent[], signal: AbortSignal): Promise<void> {
    const body = batch.map((event) => toLogItem(event, this.settings));
    // Per-call configuration: the only way to hand this request its abort signal.
    const config = this.dd.client.createConfiguration({ ...this.configParams, httpConfig: { signal } });
    await this.api.submitLog(
      this.settings.compression === 'gzip' ? { body, contentEncoding: 'gzip' } : { body },
      config,
    );
  }

  async close(): Promise<void> {
    // fetch's connection pool needs no closing: idle sockets do not keep the process alive.
  }
}

let loaded: Datadog | undefined;

/**
 * Loads the client once (a plain require: this package is CommonJS, and so is the client),
 * silencing its logger: with DEBUG set it would print to stdout, which the stdout sink owns.
 */
function loadClient(): Datadog {
  if (!loaded) {
    loaded = require('@datadog/datadog-api-client') as Datadog;
    loaded.logger.setLevel('silent');
  }
  return loaded;
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
  const dd = loadClient();
  return createDeliverySink({ type: 'datadog', config, transport: new DatadogTransport(dd, settings), context });
};

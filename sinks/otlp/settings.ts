/**
 * The otlp sink's options, merged with the standard OTEL_EXPORTER_OTLP_* environment variables as
 * the OpenTelemetry specification defines them (protocol/exporter.md): a signal-specific variable
 * (OTEL_EXPORTER_OTLP_LOGS_*) overrides the generic one, and the sink's own config overrides both.
 * OTEL_EXPORTER_OTLP_ENDPOINT is a base URL to which `v1/logs` is appended;
 * OTEL_EXPORTER_OTLP_LOGS_ENDPOINT (and `logs_endpoint`) is used as it is. An empty variable counts
 * as unset. Errors name the key or variable, never a header value (they hold credentials).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, parseDuration, type SinkContext, type SinkOptions } from '../../src/sdk';
import type { AnyValue, BodyMode, OtlpResource } from './mapping';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpSettings {
  /** The full URL requests go to (…/v1/logs). */
  readonly url: URL;
  /** Where the URL came from, for the start-up log: a config key or an environment variable. */
  readonly urlSource: string;
  readonly protocol: OtlpProtocol;
  readonly compression: 'gzip' | 'none';
  readonly timeoutMs: number;
  /** Extra request headers (credentials included): never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly tls: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer; readonly verify: boolean; readonly serverName?: string };
  readonly body: BodyMode;
  readonly includeArguments: boolean;
  readonly networkTransport: string;
  readonly resource: OtlpResource;
}

export const DEFAULT_ENDPOINT = 'http://localhost:4318';
const LOGS_PATH = 'v1/logs';

type Env = Readonly<Record<string, string | undefined>>;
type Table = Record<string, unknown>;

function envValue(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** The logs variable if set, else the generic one: [value, variable name]. */
function envPair(env: Env, suffix: string): [string, string] | undefined {
  for (const name of [`OTEL_EXPORTER_OTLP_LOGS_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
    const value = envValue(env, name);
    if (value !== undefined) return [value, name];
  }
  return undefined;
}

function str(options: Table, key: string, where: string): string | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ConfigError('must be a non-empty string', undefined, `${where}.${key}`);
  return value;
}

function bool(options: Table, key: string, where: string, fallback: boolean): boolean {
  const value = options[key] ?? fallback;
  if (typeof value !== 'boolean') throw new ConfigError('must be true or false', undefined, `${where}.${key}`);
  return value;
}

function parseUrl(text: string, where: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('must be a URL like "http://otel-collector:4318"', undefined, where);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('must be an http:// or https:// URL', undefined, where);
  if (url.username || url.password) throw new ConfigError('must not contain credentials (use headers)', undefined, where);
  return url;
}

/** The per-signal URL from a base endpoint: `v1/logs` appended to its path (spec: "Endpoint URLs for OTLP/HTTP"). */
export function logsUrlFromBase(base: URL): URL {
  const url = new URL(base.href);
  url.pathname = (url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`) + LOGS_PATH;
  return url;
}

/** The endpoint, by precedence: logs_endpoint, endpoint, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, default. */
export function resolveEndpoint(options: Table, where: string, env: Env): { url: URL; source: string } {
  const logsEndpoint = str(options, 'logs_endpoint', where);
  const endpoint = str(options, 'endpoint', where);
  if (logsEndpoint !== undefined && endpoint !== undefined) {
    throw new ConfigError('give either endpoint (a base URL) or logs_endpoint (the full URL), not both', undefined, `${where}.logs_endpoint`);
  }
  if (logsEndpoint !== undefined) return { url: parseUrl(logsEndpoint, `${where}.logs_endpoint`), source: `${where}.logs_endpoint` };
  if (endpoint !== undefined) return { url: logsUrlFromBase(parseUrl(endpoint, `${where}.endpoint`)), source: `${where}.endpoint` };
  const logs = envValue(env, 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT');
  if (logs !== undefined) return { url: parseUrl(logs, 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'), source: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT' };
  const base = envValue(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base !== undefined) return { url: logsUrlFromBase(parseUrl(base, 'OTEL_EXPORTER_OTLP_ENDPOINT')), source: 'OTEL_EXPORTER_OTLP_ENDPOINT' };
  return { url: logsUrlFromBase(new URL(DEFAULT_ENDPOINT)), source: 'default' };
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * OTEL_EXPORTER_OTLP_HEADERS: `key=value` pairs separated by commas, values percent-decoded (the
 * W3C Baggage format without properties). Keys are lower-cased (HTTP header names are not
 * case-sensitive). Throws naming the variable and the entry's position, never its value.
 */
export function parseHeaderList(text: string, variable: string): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = text.split(',');
  entries.forEach((entry, i) => {
    if (entry.trim() === '') return;
    const eq = entry.indexOf('=');
    const key = eq < 0 ? '' : entry.slice(0, eq).trim();
    if (!TOKEN.test(key)) throw new ConfigError(`entry ${i + 1} is not "name=value" with a valid header name`, undefined, variable);
    let value: string;
    try {
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`entry ${i + 1} ("${key}") has a malformed percent-encoding`, undefined, variable);
    }
    if (/[\r\n\0]/.test(value)) throw new ConfigError(`entry ${i + 1} ("${key}") holds a control character`, undefined, variable);
    out[key.toLowerCase()] = value;
  });
  return out;
}

const RESERVED_HEADERS = new Set(['content-type', 'content-encoding', 'content-length', 'host', 'transfer-encoding', 'connection']);

function resolveHeaders(options: Table, where: string, env: Env): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_LOGS_HEADERS']) {
    const value = envValue(env, name);
    if (value !== undefined) Object.assign(headers, parseHeaderList(value, name));
  }
  const table = options.headers;
  if (table !== undefined) {
    if (typeof table !== 'object' || table === null || Array.isArray(table)) throw new ConfigError('must be a table of header = "value"', undefined, `${where}.headers`);
    for (const [key, value] of Object.entries(table as Table)) {
      if (!TOKEN.test(key)) throw new ConfigError('is not a valid header name', undefined, `${where}.headers.${key}`);
      if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw new ConfigError('must be a string without control characters', undefined, `${where}.headers.${key}`);
      headers[key.toLowerCase()] = value;
    }
  }
  for (const key of Object.keys(headers)) {
    if (RESERVED_HEADERS.has(key)) throw new ConfigError(`the sink sets "${key}" itself`, undefined, `${where}.headers`);
  }
  return headers;
}

function readFile(file: string, baseDir: string, where: string): Buffer {
  const resolved = path.resolve(baseDir, file);
  try {
    return fs.readFileSync(resolved);
  } catch (error) {
    throw new ConfigError(`cannot read ${resolved}: ${(error as { code?: string }).code ?? 'error'}`, undefined, where);
  }
}

/** The TLS files: `tls.{ca,cert,key}`, else OTEL_EXPORTER_OTLP_[LOGS_]{CERTIFICATE,CLIENT_CERTIFICATE,CLIENT_KEY}. */
function resolveTls(options: Table, where: string, env: Env, baseDir: string, url: URL): OtlpSettings['tls'] {
  const value = options.tls ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('must be a table { ca, cert, key, verify, server_name }', undefined, `${where}.tls`);
  }
  const t = value as Table;
  const configured = Object.keys(t).length > 0;
  if (url.protocol !== 'https:') {
    if (configured) throw new ConfigError('TLS options need an https:// endpoint', undefined, `${where}.tls`);
    // The certificate variables concern https endpoints only.
    return { verify: true };
  }
  const pick = (key: string, suffix: string): Buffer | undefined => {
    const file = str(t, key, `${where}.tls`);
    if (file !== undefined) return readFile(file, baseDir, `${where}.tls.${key}`);
    const fromEnv = envPair(env, suffix);
    // Relative paths in the environment resolve against the working directory, as for any program.
    return fromEnv ? readFile(fromEnv[0], process.cwd(), fromEnv[1]) : undefined;
  };
  const ca = pick('ca', 'CERTIFICATE');
  const cert = pick('cert', 'CLIENT_CERTIFICATE');
  const key = pick('key', 'CLIENT_KEY');
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError('a client certificate and its key go together', undefined, `${where}.tls`);
  const verify = bool(t, 'verify', `${where}.tls`, true);
  const serverName = str(t, 'server_name', `${where}.tls`);
  return {
    verify,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(serverName ? { serverName } : {}),
  };
}

/** OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs, percent-decoded (the SDK configuration spec). */
function envResourceAttributes(env: Env): Record<string, string> {
  const text = envValue(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (text === undefined) return {};
  const out: Record<string, string> = {};
  text.split(',').forEach((entry, i) => {
    if (entry.trim() === '') return;
    const eq = entry.indexOf('=');
    const key = eq < 0 ? '' : entry.slice(0, eq).trim();
    if (key === '') throw new ConfigError(`entry ${i + 1} is not "key=value"`, undefined, 'OTEL_RESOURCE_ATTRIBUTES');
    try {
      out[key] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`entry ${i + 1} ("${key}") has a malformed percent-encoding`, undefined, 'OTEL_RESOURCE_ATTRIBUTES');
    }
  });
  return out;
}

/** Kubernetes metadata (the `[kubernetes]` values of the downward API) as it may reach a sink. */
export interface KubernetesMetadata {
  readonly namespace?: string;
  readonly pod?: string;
  readonly pod_uid?: string;
  readonly node?: string;
  readonly container?: string;
}

/** The k8s.* resource attributes of the resource semantic conventions, for what is set. */
export function kubernetesResource(meta: unknown): Record<string, string> {
  if (typeof meta !== 'object' || meta === null) return {};
  const m = meta as Record<string, unknown>;
  const out: Record<string, string> = {};
  const names: [keyof KubernetesMetadata, string][] = [
    ['namespace', 'k8s.namespace.name'],
    ['pod', 'k8s.pod.name'],
    ['pod_uid', 'k8s.pod.uid'],
    ['node', 'k8s.node.name'],
    ['container', 'k8s.container.name'],
  ];
  for (const [key, attribute] of names) {
    const value = m[key];
    if (typeof value === 'string' && value !== '') out[attribute] = value;
  }
  return out;
}

/**
 * Resource attributes, lowest precedence first: OTEL_RESOURCE_ATTRIBUTES, the `resource` table,
 * the Kubernetes metadata, OTEL_SERVICE_NAME, `service_name` / `service_version`. service.name
 * defaults to "redisctl-mcp".
 */
function resolveResource(options: Table, where: string, env: Env, kubernetes: unknown): OtlpResource {
  const attributes: Record<string, AnyValue> = { 'service.name': 'redisctl-mcp', ...envResourceAttributes(env) };
  const table = options.resource;
  if (table !== undefined) {
    if (typeof table !== 'object' || table === null || Array.isArray(table)) throw new ConfigError('must be a table of attribute = value', undefined, `${where}.resource`);
    for (const [key, value] of Object.entries(table as Table)) {
      if (typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value))) {
        throw new ConfigError('must be a string, number or boolean', undefined, `${where}.resource.${key}`);
      }
      attributes[key] = value;
    }
  }
  Object.assign(attributes, kubernetesResource(kubernetes));
  const envService = envValue(env, 'OTEL_SERVICE_NAME');
  if (envService !== undefined) attributes['service.name'] = envService;
  const service = str(options, 'service_name', where);
  if (service !== undefined) attributes['service.name'] = service;
  const version = str(options, 'service_version', where);
  if (version !== undefined) attributes['service.version'] = version;
  return { attributes };
}

function resolveProtocol(options: Table, where: string, env: Env): OtlpProtocol {
  const configured = str(options, 'protocol', where);
  const [value, source] = configured !== undefined ? [configured, `${where}.protocol`] : (envPair(env, 'PROTOCOL') ?? ['http/protobuf', 'default']);
  if (value === 'http/protobuf' || value === 'http/json') return value;
  if (value === 'grpc') throw new ConfigError('OTLP/gRPC is not supported: use "http/protobuf" (port 4318)', undefined, source);
  throw new ConfigError('must be "http/protobuf" or "http/json"', undefined, source);
}

function resolveCompression(options: Table, where: string, env: Env): 'gzip' | 'none' {
  const configured = str(options, 'compression', where);
  const [value, source] = configured !== undefined ? [configured, `${where}.compression`] : (envPair(env, 'COMPRESSION') ?? ['gzip', 'default']);
  if (value === 'gzip' || value === 'none') return value;
  throw new ConfigError('must be "gzip" or "none"', undefined, source);
}

function resolveTimeout(options: Table, where: string, env: Env): number {
  const configured = options.timeout;
  if (configured !== undefined) {
    const ms = typeof configured === 'string' || typeof configured === 'number' ? parseDuration(configured) : null;
    if (ms === null || ms < 1) throw new ConfigError('must be a duration like "10s"', undefined, `${where}.timeout`);
    return ms;
  }
  const fromEnv = envPair(env, 'TIMEOUT');
  if (fromEnv) {
    // The variables are in milliseconds.
    if (!/^\d+$/.test(fromEnv[0]) || Number(fromEnv[0]) < 1) throw new ConfigError('must be a number of milliseconds', undefined, fromEnv[1]);
    return Number(fromEnv[0]);
  }
  return 10_000;
}

/**
 * `context.kubernetes`, when the core hands the sink the `[kubernetes]` metadata (the Kubernetes
 * issue), becomes k8s.* resource attributes; until then it is absent and nothing is added.
 */
export function parseOtlpOptions(
  options: SinkOptions,
  context: Pick<SinkContext, 'name' | 'baseDir'> & { readonly kubernetes?: unknown },
  env: Env = process.env,
): OtlpSettings {
  const where = `sinks.${context.name}`;
  const { url, source } = resolveEndpoint(options, where, env);
  const body = options.body ?? 'json';
  if (body !== 'json' && body !== 'structured' && body !== 'message') {
    throw new ConfigError('must be "json", "structured" or "message"', undefined, `${where}.body`);
  }
  return {
    url,
    urlSource: source,
    protocol: resolveProtocol(options, where, env),
    compression: resolveCompression(options, where, env),
    timeoutMs: resolveTimeout(options, where, env),
    headers: resolveHeaders(options, where, env),
    tls: resolveTls(options, where, env, context.baseDir, url),
    body,
    includeArguments: bool(options, 'include_arguments', where, false),
    networkTransport: str(options, 'network_transport', where) ?? 'pipe',
    resource: resolveResource(options, where, env, context.kubernetes),
  };
}

/**
 * One redacted audit event → one OpenTelemetry LogRecord, speaking the MCP semantic conventions
 * (open-telemetry/semantic-conventions-genai, docs/gen-ai/mcp.md, status Development) plus
 * `audit.*` attributes for what the conventions do not cover. The mapping table is in README.md
 * beside this file; a test checks every row.
 *
 * The record is shaped as the OpenTelemetry JS SDK's ReadableLogRecord, the input of the official
 * serializers in @opentelemetry/otlp-transformer: those write the wire format, not us.
 */
import { type JsonObject, type JsonValue, parseTimestamp, type SinkEvent } from '../../src/sdk';

/** An attribute or body value, as the serializers take it (AnyValue). */
export type AnyValue = string | number | boolean | AnyValue[] | { [key: string]: AnyValue };

/** [seconds, nanoseconds] since the epoch. */
export type HrTime = [number, number];

/** What the serializers read of a ReadableLogRecord (the SDK type, structurally). */
export interface OtlpLogRecord {
  readonly hrTime: HrTime;
  readonly hrTimeObserved: HrTime;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: AnyValue;
  readonly attributes: Record<string, AnyValue>;
  readonly droppedAttributesCount: number;
  readonly resource: OtlpResource;
  readonly instrumentationScope: { readonly name: string; readonly version?: string };
}

export interface OtlpResource {
  readonly attributes: Record<string, AnyValue>;
  readonly schemaUrl?: string;
}

export type BodyMode = 'json' | 'structured' | 'message';

export interface MappingSettings {
  readonly body: BodyMode;
  /** `gen_ai.tool.call.arguments`: opt-in (the conventions mark it sensitive). */
  readonly includeArguments: boolean;
  /** `network.transport`: "pipe" for stdio (the default), "tcp" for Streamable HTTP. */
  readonly networkTransport: string;
  /** One object for all records: the serializers group records by resource identity. */
  readonly resource: OtlpResource;
  readonly scope: { readonly name: string; readonly version?: string };
}

/** Severity numbers of the OpenTelemetry logs data model, by tracing level. */
const SEVERITY: Readonly<Record<string, number>> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, WARNING: 13, ERROR: 17, FATAL: 21 };

/**
 * [seconds, nanoseconds] of an RFC 3339 timestamp, exact from its text and the offset applied
 * (the SDK's parseTimestamp). Null when it is not such a timestamp or lies before the epoch (OTLP
 * times are unsigned).
 */
export function hrTimeOf(text: string): HrTime | null {
  const time = parseTimestamp(text);
  return time ? [time.seconds, time.nanoseconds] : null;
}

/** Now, with the sub-millisecond part the clock offers. */
export function hrNow(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6))];
}

/** A JSON value as an AnyValue; null members are left out (OTLP has no null), arrays keep them as "". */
export function toAnyValue(value: JsonValue): AnyValue {
  if (value === null) return '';
  if (Array.isArray(value)) return value.map(toAnyValue);
  if (typeof value === 'object') {
    const out: Record<string, AnyValue> = {};
    for (const [key, member] of Object.entries(value)) if (member !== null) out[key] = toAnyValue(member);
    return out;
  }
  return value;
}

/** True when every number inside is exact as a JS number (integers within 2^53). */
function exactNumbers(value: JsonValue): boolean {
  if (typeof value === 'number') return !Number.isInteger(value) || Number.isSafeInteger(value);
  if (Array.isArray(value)) return value.every(exactNumbers);
  if (value !== null && typeof value === 'object') return Object.values(value).every(exactNumbers);
  return true;
}

/**
 * `gen_ai.tool.call.arguments`: the conventions want an object, deserialised from the string
 * when one is available; the redacted JSON text is kept as a string when it is not an object or
 * holds integers a JS number would round.
 */
export function argumentsValue(args: JsonValue): AnyValue {
  if (typeof args !== 'string') return toAnyValue(args);
  try {
    const parsed = JSON.parse(args) as JsonValue;
    if (parsed !== null && typeof parsed === 'object' && exactNumbers(parsed)) return toAnyValue(parsed);
  } catch {
    // Not JSON (redacted whole, or a server that writes something else): the text as it is.
  }
  return args;
}

function str(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The JSON-RPC request the event belongs to, from tracing's current span or span list. */
function requestSpan(record: JsonObject): { method?: string; id?: string; session?: string } {
  const out: { method?: string; id?: string; session?: string } = {};
  const spans: JsonObject[] = [];
  if (Array.isArray(record.spans)) for (const s of record.spans) if (s && typeof s === 'object' && !Array.isArray(s)) spans.push(s);
  if (record.span && typeof record.span === 'object' && !Array.isArray(record.span)) spans.push(record.span);
  // Innermost last: the current span wins over its parents.
  for (const span of spans) {
    const session = str(span.session_id);
    if (session) out.session = session;
    if (typeof span.method === 'string' && span.method !== '') {
      out.method = span.method;
      const id = span.id;
      if (typeof id === 'string' || typeof id === 'number') out.id = String(id);
    }
  }
  return out;
}

/** "tool_denied flush_database denied 0ms": the short line for `body = "message"`. */
export function messageOf(fields: JsonObject): string {
  const parts: string[] = [];
  for (const key of ['event', 'tool', 'result'] as const) {
    const value = str(fields[key]);
    if (value) parts.push(value);
  }
  if (typeof fields.duration_ms === 'number') parts.push(`${fields.duration_ms}ms`);
  return parts.length > 0 ? parts.join(' ') : 'audit event';
}

/** The attributes of one event (see the table in README.md). */
export function attributesOf(event: SinkEvent, settings: Pick<MappingSettings, 'includeArguments' | 'networkTransport'>): Record<string, AnyValue> {
  const { fields, record } = event;
  const span = requestSpan(record);
  const attributes: Record<string, AnyValue> = {
    'mcp.method.name': span.method ?? 'tools/call',
    'gen_ai.operation.name': 'execute_tool',
  };
  const tool = str(fields.tool);
  if (tool) attributes['gen_ai.tool.name'] = tool;
  const kind = str(fields.event);
  if (kind === 'tool_error' || kind === 'tool_denied') attributes['error.type'] = kind;
  if (span.session) attributes['mcp.session.id'] = span.session;
  if (span.id !== undefined) attributes['jsonrpc.request.id'] = span.id;
  attributes['network.transport'] = settings.networkTransport;
  if (kind) attributes['audit.event'] = kind;
  const toolset = str(fields.toolset);
  if (toolset) attributes['audit.toolset'] = toolset;
  const result = str(fields.result);
  if (result) attributes['audit.result'] = result;
  if (typeof fields.duration_ms === 'number') attributes['audit.duration_ms'] = fields.duration_ms;
  const message = str(fields.message);
  if (message) attributes['audit.message'] = message;
  const error = str(fields.error);
  if (error) attributes['audit.error'] = error;
  if (typeof fields.error_code === 'number') attributes['audit.error_code'] = fields.error_code;
  if (settings.includeArguments && fields.arguments !== undefined && fields.arguments !== null) {
    attributes['gen_ai.tool.call.arguments'] = argumentsValue(fields.arguments);
  }
  return attributes;
}

/** One event as a LogRecord. `observed` is when audit-router handed it to the exporter. */
export function toLogRecord(event: SinkEvent, settings: MappingSettings, observed: HrTime): OtlpLogRecord {
  const { record, fields } = event;
  const stamp = record.timestamp ?? fields.timestamp;
  // 0 means "unknown" in OTLP: receivers then use the observed time.
  const time = (typeof stamp === 'string' ? hrTimeOf(stamp) : null) ?? [0, 0];
  const level = typeof record.level === 'string' ? record.level.toUpperCase() : 'INFO';
  let body: AnyValue;
  if (settings.body === 'json') body = event.json;
  else if (settings.body === 'structured') body = toAnyValue(record);
  else body = messageOf(fields);
  return {
    hrTime: time,
    hrTimeObserved: observed,
    severityNumber: SEVERITY[level] ?? 9,
    severityText: typeof record.level === 'string' ? record.level : 'INFO',
    body,
    attributes: attributesOf(event, settings),
    droppedAttributesCount: 0,
    resource: settings.resource,
    instrumentationScope: settings.scope,
  };
}

/**
 * A deterministic trail of redisctl-mcp audit events with known truth, for the report's tests:
 * the events themselves (so any expectation can be computed from them), their lines as
 * tracing-subscriber writes them (nested `fields` or flattened), a raw `redisctl-mcp 2>&1`
 * stream around them (ANSI text, JSON-RPC, schema-invalid audit lines: none of them events),
 * trail files named as the file sink names them (rotated, gzipped, with a .history index), and
 * `expectedReport`, an independent computation of what the report must say (plain loops and
 * sorts; it shares no code with src/report).
 *
 * Every event carries planted secrets (a password argument, a URL with credentials, a raw
 * command operand) and every text line one more: `secrets` lists them all, so a test can check
 * that none reaches any output of the report.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export type Safety = 'read-only' | 'write' | 'destructive' | 'unknown';
export type EventKind = 'tool_invocation' | 'tool_denied' | 'tool_error';

export interface TrailTool {
  name: string;
  toolset: string;
  /** As redisctl-mcp annotates it (written out here by hand, from upstream's catalog). */
  safety: Safety;
  weight: number;
  /** Durations drawn from 0..spread-1: a spread over 2048 makes the report sketch this tool. */
  spread: number;
  deniable: boolean;
}

export const TRAIL_TOOLS: readonly TrailTool[] = [
  { name: 'list_databases', toolset: 'cloud', safety: 'read-only', weight: 9, spread: 400, deniable: false },
  { name: 'get_database', toolset: 'cloud', safety: 'read-only', weight: 6, spread: 90, deniable: false },
  { name: 'create_database', toolset: 'cloud', safety: 'write', weight: 3, spread: 3000, deniable: false },
  { name: 'delete_database', toolset: 'cloud', safety: 'destructive', weight: 2, spread: 700, deniable: true },
  { name: 'cloud_raw_api', toolset: 'cloud', safety: 'destructive', weight: 1, spread: 50, deniable: true },
  { name: 'get_cluster', toolset: 'enterprise', safety: 'read-only', weight: 5, spread: 120, deniable: false },
  { name: 'update_enterprise_database', toolset: 'enterprise', safety: 'write', weight: 2, spread: 1500, deniable: false },
  { name: 'flush_enterprise_database', toolset: 'enterprise', safety: 'destructive', weight: 1, spread: 300, deniable: true },
  { name: 'redis_get', toolset: 'database', safety: 'read-only', weight: 10, spread: 30, deniable: false },
  { name: 'redis_set', toolset: 'database', safety: 'write', weight: 4, spread: 40, deniable: false },
  // Every duration distinct: exact percentiles would need them all, so the report sketches it.
  { name: 'redis_bulk_load', toolset: 'database', safety: 'write', weight: 6, spread: 1_000_000, deniable: false },
  { name: 'redis_command', toolset: 'database', safety: 'destructive', weight: 3, spread: 25, deniable: true },
  { name: 'show_policy', toolset: 'app', safety: 'read-only', weight: 1, spread: 5, deniable: false },
  { name: 'list_profiles', toolset: 'app', safety: 'unknown', weight: 1, spread: 5, deniable: false },
];

export interface TrailEvent {
  /** µs since the epoch. */
  us: number;
  timestamp: string;
  event: EventKind;
  tool: string;
  toolset: string;
  result: string;
  duration_ms: number;
  /** The `arguments` JSON string. */
  arguments: string;
  /** tracing-subscriber's flatten_event(true) layout. */
  flat: boolean;
}

export interface GeneratedTrail {
  events: TrailEvent[];
  /** Every planted secret; none may appear in any output of the report. */
  secrets: string[];
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isoUs(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().slice(0, 23) + String(us % 1000).padStart(3, '0') + 'Z';
}

export interface TrailOptions {
  seed?: number;
  events: number;
  /** Start, µs since the epoch (default 2026-03-05T10:30:00Z). */
  startUs?: number;
  /** Mean gap between events in µs (default 0.4 s: 1 000 events span ~7 minutes). */
  meanGapUs?: number;
  /** Every event for this one tool (e.g. to push one tool past the exact-percentile limit). */
  onlyTool?: string;
}

export function generateTrail(options: TrailOptions): GeneratedTrail {
  const rand = mulberry32(options.seed ?? 7);
  const int = (n: number): number => Math.floor(rand() * n);
  const tools = options.onlyTool === undefined ? TRAIL_TOOLS : TRAIL_TOOLS.filter((t) => t.name === options.onlyTool);
  const table: TrailTool[] = [];
  for (const t of tools) for (let i = 0; i < t.weight; i++) table.push(t);
  const deniable = tools.some((t) => t.deniable) ? tools.filter((t) => t.deniable) : tools;
  const secrets: string[] = [];
  const secret = (prefix: string): string => {
    const s = `${prefix}${int(0xffffffff).toString(16).padStart(8, '0')}${secrets.length.toString(16).padStart(6, '0')}`;
    secrets.push(s);
    return s;
  };
  let us = options.startUs ?? Date.UTC(2026, 2, 5, 10, 30, 0) * 1000;
  const gap = options.meanGapUs ?? 400_000;
  const events: TrailEvent[] = [];
  let bulk = 0;
  for (let i = 0; i < options.events; i++) {
    us += 1 + int(2 * gap);
    const r = rand();
    let tool: TrailTool;
    let event: EventKind;
    if (r < 0.82) {
      tool = table[int(table.length)]!;
      event = 'tool_invocation';
    } else if (r < 0.92) {
      tool = deniable[int(deniable.length)]!;
      event = 'tool_denied';
    } else {
      tool = table[int(table.length)]!;
      event = 'tool_error';
    }
    const result = event === 'tool_invocation' ? 'success' : event === 'tool_denied' ? 'denied' : 'error';
    // The sketched tool gets distinct, growing durations; the others a few hundred values at most.
    const duration = tool.spread > 100_000 ? 1000 + bulk++ * 7 + int(5) : int(tool.spread);
    let args: Record<string, unknown>;
    switch (i % 3) {
      case 0:
        args = { name: 'orders-v2', password: secret('pw-') };
        break;
      case 1:
        args = { url: `redis://default:${secret('tok_')}@10.0.3.17:6379/0` };
        break;
      default:
        args = tool.name === 'redis_command' ? { command: 'AUTH', args: ['default', secret('S3cr3t')] } : { config: { api_key: secret('sk-') } };
    }
    events.push({
      us,
      timestamp: isoUs(us),
      event,
      tool: tool.name,
      toolset: tool.toolset,
      result,
      duration_ms: duration,
      arguments: JSON.stringify(args),
      flat: i % 10 === 3,
    });
  }
  return { events, secrets };
}

/** One event as tracing-subscriber's JSON formatter writes it. */
export function auditLine(e: TrailEvent): string {
  const fields = `"event":"${e.event}","tool":${JSON.stringify(e.tool)},"toolset":${JSON.stringify(e.toolset)},"result":"${e.result}","duration_ms":${e.duration_ms},"arguments":${JSON.stringify(e.arguments)}`;
  return e.flat
    ? `{"timestamp":"${e.timestamp}","level":"INFO",${fields},"target":"audit"}`
    : `{"timestamp":"${e.timestamp}","level":"INFO","fields":{${fields}},"target":"audit"}`;
}

export interface RawStream {
  text: string;
  /** Lines that are not events: text, JSON-RPC, schema-invalid audit lines. */
  noise: { text: number; jsonrpc: number; invalid: number };
}

/**
 * A raw `redisctl-mcp 2>&1` stream: the events' lines, with tracing text (each with a planted
 * secret), JSON-RPC messages and schema-invalid audit events (negative duration, missing tool)
 * between them. The invalid ones are not events and must not be counted.
 */
export function rawStream(trail: GeneratedTrail, seed = 11): RawStream {
  const rand = mulberry32(seed);
  const out: string[] = [];
  const noise = { text: 0, jsonrpc: 0, invalid: 0 };
  let n = 0;
  for (const e of trail.events) {
    const r = rand();
    if (r < 0.3) {
      const s = `pw-${(n++).toString(16).padStart(8, '0')}deadbeef`;
      trail.secrets.push(s);
      out.push(`\x1b[2m${e.timestamp}\x1b[0m \x1b[34mDEBUG\x1b[0m \x1b[2mredis_enterprise::client\x1b[0m\x1b[2m:\x1b[0m authenticating \x1b[3mtoken\x1b[0m\x1b[2m=\x1b[0m${s}`);
      noise.text++;
    } else if (r < 0.4) {
      out.push(`{"jsonrpc":"2.0","id":${n++},"method":"tools/call","params":{"name":"${e.tool}","arguments":{}}}`);
      noise.jsonrpc++;
    } else if (r < 0.45) {
      out.push(
        r < 0.425
          ? `{"timestamp":"${e.timestamp}","level":"INFO","fields":{"event":"tool_invocation","tool":"${e.tool}","toolset":"${e.toolset}","result":"success","duration_ms":-5},"target":"audit"}`
          : `{"timestamp":"${e.timestamp}","level":"INFO","fields":{"event":"tool_invocation","toolset":"${e.toolset}","result":"success","duration_ms":5},"target":"audit"}`,
      );
      noise.invalid++;
    }
    out.push(auditLine(e));
  }
  return { text: out.join('\n') + '\n', noise };
}

/** `<base>.<UTC yyyymmddThhmmss.mmm>Z.<nnn>[.gz]`, as the file sink names rotated files. */
export function rotatedName(base: string, ms: number, index = 1, gzip = false): string {
  const iso = new Date(ms).toISOString();
  return `${base}.${iso.slice(0, 19).replace(/[-:]/g, '')}${iso.slice(19)}.${String(index).padStart(3, '0')}${gzip ? '.gz' : ''}`;
}

/**
 * Writes `events` as a rotated trail in `dir`: `parts` files, the first `gzipped` of the rotated
 * ones compressed, the last part as `<name>` (the current file), a `.history` listing the
 * rotated ones. Returns the files in rotation order.
 */
export function writeTrail(dir: string, name: string, events: readonly TrailEvent[], parts: number, gzipped: number): string[] {
  const files: string[] = [];
  const per = Math.ceil(events.length / parts);
  const rotated: string[] = [];
  for (let p = 0; p < parts; p++) {
    const chunk = events.slice(p * per, (p + 1) * per);
    const text = chunk.map(auditLine).join('\n') + (chunk.length > 0 ? '\n' : '');
    const last = p === parts - 1;
    const endMs = Math.floor((chunk.at(-1)?.us ?? 0) / 1000) + 1;
    const gzip = !last && p < gzipped;
    const path = last ? join(dir, name) : join(dir, rotatedName(name, endMs, 1, gzip));
    writeFileSync(path, gzip ? gzipSync(text) : text);
    if (!last) rotated.push(path);
    files.push(path);
  }
  writeFileSync(join(dir, `${name}.history`), rotated.join('\n') + '\n');
  return files;
}

// ---- the truth ----

export interface ExpectedTool {
  tool: string;
  toolset: string;
  safety: Safety;
  calls: number;
  invocations: number;
  denied: number;
  errors: number;
  /** Durations of the calls that ran (invocations and errors), sorted. */
  durations: number[];
  /** Nearest-rank percentiles over `durations`. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  distinct: number;
}

export interface Expected {
  events: number;
  first: string | null;
  last: string | null;
  byEvent: Record<EventKind, number>;
  byToolset: Record<string, number>;
  byResult: Record<string, number>;
  tools: Map<string, ExpectedTool>;
  denials: Map<string, { count: number; first: string; last: string }>;
  writeCalls: number;
  destructiveCalls: number;
  unknownCalls: number;
  busiest: Array<{ minute: string; count: number }>;
  interval: 'minute' | 'hour' | 'day';
  timeline: Array<{ start: string; tool_invocation: number; tool_denied: number; tool_error: number }>;
}

export function nearestRank(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** What the report must say about `events` (already filtered by the caller as the report filters). */
export function expectedReport(events: readonly TrailEvent[]): Expected {
  const byEvent: Record<EventKind, number> = { tool_invocation: 0, tool_denied: 0, tool_error: 0 };
  const byToolset: Record<string, number> = {};
  const byResult: Record<string, number> = {};
  const tools = new Map<string, ExpectedTool>();
  const denials = new Map<string, { count: number; first: string; last: string }>();
  const perMinute = new Map<number, number>();
  let writeCalls = 0;
  let destructiveCalls = 0;
  let unknownCalls = 0;
  const sorted = [...events].sort((a, b) => a.us - b.us);
  for (const e of sorted) {
    byEvent[e.event]++;
    byToolset[e.toolset] = (byToolset[e.toolset] ?? 0) + 1;
    byResult[e.result] = (byResult[e.result] ?? 0) + 1;
    const meta = TRAIL_TOOLS.find((t) => t.name === e.tool)!;
    let t = tools.get(e.tool);
    if (!t) {
      t = { tool: e.tool, toolset: e.toolset, safety: meta.safety, calls: 0, invocations: 0, denied: 0, errors: 0, durations: [], p50: null, p95: null, p99: null, max: null, distinct: 0 };
      tools.set(e.tool, t);
    }
    t.calls++;
    if (e.event === 'tool_invocation') t.invocations++;
    if (e.event === 'tool_error') t.errors++;
    if (e.event === 'tool_denied') {
      t.denied++;
      const d = denials.get(e.tool);
      if (d) {
        d.count++;
        d.last = e.timestamp;
      } else denials.set(e.tool, { count: 1, first: e.timestamp, last: e.timestamp });
    } else t.durations.push(e.duration_ms);
    if (meta.safety === 'write') writeCalls++;
    if (meta.safety === 'destructive') destructiveCalls++;
    if (meta.safety === 'unknown') unknownCalls++;
    const minute = Math.floor(e.us / 60_000_000);
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
  }
  for (const t of tools.values()) {
    t.durations.sort((a, b) => a - b);
    t.p50 = nearestRank(t.durations, 0.5);
    t.p95 = nearestRank(t.durations, 0.95);
    t.p99 = nearestRank(t.durations, 0.99);
    t.max = t.durations.length === 0 ? null : t.durations[t.durations.length - 1]!;
    t.distinct = new Set(t.durations).size;
  }
  const busiest = [...perMinute]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 10)
    .map(([m, count]) => ({ minute: new Date(m * 60_000).toISOString().slice(0, 16) + 'Z', count }));
  const first = sorted[0];
  const last = sorted.at(-1);
  const span = first && last ? last.us - first.us : 0;
  const interval = span <= 6 * 3600e6 ? 'minute' : span <= 14 * 86400e6 ? 'hour' : 'day';
  const size = { minute: 60e6, hour: 3600e6, day: 86400e6 }[interval];
  const timeline: Expected['timeline'] = [];
  if (first && last) {
    for (let b = Math.floor(first.us / size); b <= Math.floor(last.us / size); b++) {
      timeline.push({ start: new Date((b * size) / 1000).toISOString().replace('.000Z', 'Z'), tool_invocation: 0, tool_denied: 0, tool_error: 0 });
    }
    for (const e of sorted) timeline[Math.floor(e.us / size) - Math.floor(first.us / size)]![e.event]++;
  }
  return {
    events: sorted.length,
    first: first?.timestamp ?? null,
    last: last?.timestamp ?? null,
    byEvent,
    byToolset,
    byResult,
    tools,
    denials,
    writeCalls,
    destructiveCalls,
    unknownCalls,
    busiest,
    interval,
    timeline,
  };
}

// ---- the report's JSON, as the tests read it (schemas/report.schema.json has all of it) ----

export interface ToolJson {
  tool: string;
  toolset: string;
  safety: string;
  calls: number;
  invocations: number;
  denied: number;
  errors: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  durations: { count: number; method: string; relative_error: number; histogram: Array<{ le_ms: number; count: number }> };
  first_ts: string;
  last_ts: string;
}
export interface ReportJson {
  totals: { events: number; first_ts: string | null; last_ts: string | null; tools: number };
  by_event: Record<string, number>;
  by_toolset: Record<string, number>;
  by_result: Record<string, number>;
  tools: ToolJson[];
  denials: Array<{ tool: string; count: number; first_ts: string; last_ts: string }>;
  writes: { write_calls: number; destructive_calls: number; unknown_calls: number; unknown_tools: string[]; tools: Array<{ tool: string; safety: string; calls: number }> };
  busiest_minutes: Array<{ minute: string; count: number }>;
  timeline: { interval: string; buckets: Array<{ start: string; tool_invocation: number; tool_denied: number; tool_error: number }> };
  inputs: { sources: Array<{ path: string; kind: string; lines: number; events: number }>; audit_events: number; invalid: number; filtered_out: number; other_lines: number; notes: string[] };
  redaction: { masked_values: number; by_rule: unknown };
  chain: { status: string; detail: string };
}

/**
 * The report as data: what `audit-router report --json` prints and what the terminal and HTML
 * renderers draw. schemas/report.schema.json describes the same shape for other tools; the names
 * marked "stable" there (totals.events, by_event, by_toolset, tools[].tool/calls/denied/errors/
 * p50_ms/p95_ms/p99_ms/max_ms) are relied on by other tools and tests.
 */
import type { DurationSummary } from './sketch';
import type { ToolSafety } from './safety';

export const REPORT_VERSION = 1;

export type EventKind = 'tool_invocation' | 'tool_denied' | 'tool_error';
export const EVENT_KINDS: readonly EventKind[] = ['tool_invocation', 'tool_denied', 'tool_error'];

export interface SourceSummary {
  /** The path as given (or "-" for stdin). */
  path: string;
  /** "file" (plain text), "gzip" or "stdin". */
  kind: 'file' | 'gzip' | 'stdin';
  /** Bytes read from the file (compressed bytes for gzip). */
  bytes: number;
  lines: number;
  /** Valid audit events in this source, before --since/--until/--tool. */
  events: number;
}

export interface InputSummary {
  sources: SourceSummary[];
  lines: number;
  /** Valid audit events read, before filters. */
  audit_events: number;
  /** Audit events left out by --since, --until or --tool. */
  filtered_out: number;
  /** Lines that parse with target "audit" but fail the event schema (not counted as events). */
  invalid: number;
  /** Lines that look like audit events but are not valid JSON. */
  unparseable: number;
  /** Lines over the line-length limit (skipped whole). */
  oversize: number;
  /** Dead-letter records of audit-router (reason, detail, ...): not events. */
  dead_letter_records: number;
  /** Anything else: tracing text, JSON-RPC, other JSON, empty lines. */
  other_lines: number;
  /** What the reader noticed about the files (rotated files gone, out-of-order timestamps). */
  notes: string[];
}

export interface ToolRow {
  tool: string;
  toolset: string;
  safety: ToolSafety;
  /** Every event for the tool: invocations, denials and errors. */
  calls: number;
  invocations: number;
  denied: number;
  errors: number;
  /** errors / (calls − denied): of the calls that ran, the share that failed; null if none ran. */
  error_rate: number | null;
  /** Percentiles of duration_ms over the calls that ran (invocations and errors). */
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  durations: DurationSummary;
  first_ts: string;
  last_ts: string;
}

export interface DenialRow {
  tool: string;
  toolset: string;
  count: number;
  first_ts: string;
  last_ts: string;
}

export interface WriteRow {
  tool: string;
  toolset: string;
  safety: 'write' | 'destructive';
  calls: number;
  denied: number;
  errors: number;
  first_ts: string;
  last_ts: string;
}

export interface MinuteCount {
  /** Start of the UTC minute, "2026-03-05T10:30Z". */
  minute: string;
  count: number;
}

export interface TimelineBucket {
  /** Start of the bucket, RFC 3339 UTC. */
  start: string;
  tool_invocation: number;
  tool_denied: number;
  tool_error: number;
}

export type ChainStatus =
  | { status: 'not_chained'; detail: string }
  | { status: 'intact'; detail: string; records: number }
  | { status: 'broken'; detail: string; file: string; line: number }
  | { status: 'unavailable'; detail: string };

export interface Report {
  report_version: number;
  generated_at: string;
  filters: { since: string | null; until: string | null; tools: string[] };
  inputs: InputSummary;
  totals: { events: number; first_ts: string | null; last_ts: string | null; tools: number };
  by_event: Record<EventKind, number>;
  by_toolset: Record<string, number>;
  by_result: Record<string, number>;
  tools: ToolRow[];
  denials: DenialRow[];
  writes: {
    classification: string;
    write_calls: number;
    destructive_calls: number;
    /** Calls of tools the classification does not know. */
    unknown_calls: number;
    unknown_tools: string[];
    tools: WriteRow[];
    busiest_minutes: MinuteCount[];
  };
  busiest_minutes: MinuteCount[];
  timeline: { interval: 'minute' | 'hour' | 'day'; buckets: TimelineBucket[] };
  redaction: {
    /** "[REDACTED]" markers in the events counted (masked by the server, audit-router or both). */
    masked_values: number;
    by_rule: Record<string, number> | null;
    note: string;
  };
  chain: ChainStatus;
}

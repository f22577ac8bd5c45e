/**
 * Aggregation: audit events in, the report's numbers out, exactly (percentiles: see sketch.ts).
 *
 * Memory is flat in the number of events: per tool a few counters and its DurationStats, per
 * toolset and result one counter, and per UTC minute that has events four counters (the timeline
 * and the busiest minutes are built from them at the end). A month of trail is ~43 000 minutes.
 */
import type { JsonObject } from '../util/json';
import {
  EVENT_KINDS,
  REPORT_VERSION,
  type ChainStatus,
  type DenialRow,
  type EventKind,
  type InputSummary,
  type MinuteCount,
  type Report,
  type TimelineBucket,
  type ToolRow,
  type WriteRow,
} from './model';
import { SAFETY_SOURCE, toolSafety, type ToolSafety } from './safety';
import { DurationStats } from './sketch';
import { formatMinute, formatUs, TimestampParser, US_PER_DAY, US_PER_HOUR, US_PER_MINUTE } from './time';

/**
 * Bounds that keep memory flat on hostile input (a stream inventing a tool name per event):
 * names past these are counted together under OTHER, and minutes past MAX_MINUTES are left out
 * of the timeline and the busiest minutes; the report notes either. redisctl-mcp has ~375 tools;
 * 2 000 tools × (at most 2 048 exact duration counts or ~1 800 sketch bins) bounds the durations.
 */
export const MAX_TOOLS = 2_000;
export const MAX_NAMES = 1_000;
export const MAX_MINUTES = 1_000_000;
export const OTHER = '(other)';

/** How many busiest minutes are listed. */
export const BUSIEST_MINUTES = 10;
/** Spans up to this long get a per-minute timeline; up to TIMELINE_HOURLY_MAX per-hour; longer per-day. */
export const TIMELINE_MINUTE_MAX_US = 6 * US_PER_HOUR;
export const TIMELINE_HOURLY_MAX_US = 14 * US_PER_DAY;

export interface Filters {
  /** Inclusive lower bound, µs since the epoch. */
  sinceUs: number | null;
  /** Exclusive upper bound, µs since the epoch. */
  untilUs: number | null;
  /** null: every tool. */
  tool: ((name: string) => boolean) | null;
  /** As given on the command line, for the report. */
  sinceText: string | null;
  untilText: string | null;
  toolGlobs: string[];
}

const KIND_INDEX: Record<EventKind, number> = { tool_invocation: 0, tool_denied: 1, tool_error: 2 };
/** Per-minute counters: invocations, denials, errors, write/destructive calls. */
const WRITES = 3;

class Stamp {
  firstUs = Number.POSITIVE_INFINITY;
  lastUs = Number.NEGATIVE_INFINITY;
  first = '';
  last = '';

  see(us: number, ts: string): void {
    if (us < this.firstUs) {
      this.firstUs = us;
      this.first = ts;
    }
    if (us >= this.lastUs) {
      this.lastUs = us;
      this.last = ts;
    }
  }
}

class ToolStats {
  readonly toolsets = new Map<string, number>();
  calls = 0;
  invocations = 0;
  denied = 0;
  errors = 0;
  readonly durations = new DurationStats();
  readonly seen = new Stamp();
  readonly deniedSeen = new Stamp();
  readonly safety: ToolSafety;

  constructor(readonly tool: string) {
    this.safety = toolSafety(tool);
  }

  /** The toolset the tool was seen under most (a tool has one; a mixed trail may disagree). */
  toolset(): string {
    let best = '';
    let most = -1;
    for (const [name, n] of this.toolsets) {
      if (n > most) {
        best = name;
        most = n;
      }
    }
    return best;
  }
}

export class Aggregator {
  private readonly tools = new Map<string, ToolStats>();
  private readonly byToolset = new Map<string, number>();
  private readonly byResult = new Map<string, number>();
  private readonly byEvent = [0, 0, 0];
  private readonly minutes = new Map<number, number[]>();
  private readonly seen = new Stamp();
  private readonly times = new TimestampParser();
  private events = 0;
  private filtered = 0;
  private masked = 0;
  private badTimestamps = 0;
  private minutesDropped = 0;

  constructor(private readonly filters: Filters) {}

  /**
   * Counts one valid audit event (`fields`: its fields, nested or flat; `markers`: the
   * "[REDACTED]" markers in it). Returns false when the filters leave it out.
   */
  add(record: JsonObject, fields: JsonObject, markers: number): boolean {
    const tool = fields['tool'] as string;
    const ts = record['timestamp'] as string;
    const us = this.times.parse(ts);
    const { sinceUs, untilUs } = this.filters;
    if (
      (sinceUs !== null && !(us >= sinceUs)) ||
      (untilUs !== null && !(us < untilUs)) ||
      (this.filters.tool !== null && !this.filters.tool(tool))
    ) {
      this.filtered++;
      return false;
    }
    const kind = fields['event'] as EventKind;
    const k = KIND_INDEX[kind];
    const toolset = fields['toolset'] as string;
    const result = fields['result'] as string;
    this.events++;
    this.masked += markers;
    this.byEvent[k]!++;
    bump(this.byToolset, toolset, MAX_NAMES);
    bump(this.byResult, result, MAX_NAMES);

    let stats = this.tools.get(tool);
    if (stats === undefined) {
      if (this.tools.size >= MAX_TOOLS) {
        stats = this.tools.get(OTHER);
        if (stats === undefined) {
          stats = new ToolStats(OTHER);
          this.tools.set(OTHER, stats);
        }
      } else {
        stats = new ToolStats(tool);
        this.tools.set(tool, stats);
      }
    }
    stats.calls++;
    bump(stats.toolsets, toolset, 8);
    if (k === 0) stats.invocations++;
    else if (k === 1) stats.denied++;
    else stats.errors++;
    // Durations of calls that ran: a denial's duration is the policy check, not the tool.
    if (k !== 1) stats.durations.add(fields['duration_ms'] as number);

    if (Number.isNaN(us)) {
      this.badTimestamps++;
      return true;
    }
    this.seen.see(us, ts);
    stats.seen.see(us, ts);
    if (k === 1) stats.deniedSeen.see(us, ts);
    const minute = Math.floor(us / US_PER_MINUTE);
    let counts = this.minutes.get(minute);
    if (counts === undefined) {
      if (this.minutes.size >= MAX_MINUTES) {
        this.minutesDropped++;
        return true;
      }
      counts = [0, 0, 0, 0];
      this.minutes.set(minute, counts);
    }
    counts[k]!++;
    if (stats.safety === 'write' || stats.safety === 'destructive') counts[WRITES]!++;
    return true;
  }

  get filteredOut(): number {
    return this.filtered;
  }

  /**
   * The report. `display` makes a name safe to show (names come from the input: a hostile one is
   * redacted like free text); `inputs` and `chain` come from the reader.
   */
  finish(inputs: Omit<InputSummary, 'filtered_out'>, chain: ChainStatus, display: (name: string) => string): Report {
    const notes = [...inputs.notes];
    if (this.tools.has(OTHER)) {
      notes.push(`more than ${MAX_TOOLS} distinct tool names: the rest are counted together as "${OTHER}"`);
    }
    if (this.byToolset.has(OTHER) || this.byResult.has(OTHER)) {
      notes.push(`more than ${MAX_NAMES} distinct toolsets or results: the rest are counted together as "${OTHER}"`);
    }
    if (this.minutesDropped > 0) {
      notes.push(`${this.minutesDropped} events fall in minutes past the first ${MAX_MINUTES} distinct ones: left out of the timeline and busiest minutes`);
    }
    if (this.badTimestamps > 0) {
      notes.push(`${this.badTimestamps} events have a timestamp that is not a real date: counted, left out of the timeline`);
    }
    const tools: ToolRow[] = [];
    const denials: DenialRow[] = [];
    const writes: WriteRow[] = [];
    let writeCalls = 0;
    let destructiveCalls = 0;
    let unknownCalls = 0;
    const unknownTools: string[] = [];
    for (const s of this.tools.values()) {
      const tool = display(s.tool);
      const toolset = display(s.toolset());
      const d = s.durations.summary();
      const ran = s.calls - s.denied;
      tools.push({
        tool,
        toolset,
        safety: s.safety,
        calls: s.calls,
        invocations: s.invocations,
        denied: s.denied,
        errors: s.errors,
        error_rate: ran === 0 ? null : Math.round((s.errors / ran) * 1e6) / 1e6,
        p50_ms: d.p50_ms,
        p95_ms: d.p95_ms,
        p99_ms: d.p99_ms,
        max_ms: d.max_ms,
        durations: d,
        first_ts: s.seen.first,
        last_ts: s.seen.last,
      });
      if (s.denied > 0) {
        denials.push({ tool, toolset, count: s.denied, first_ts: s.deniedSeen.first, last_ts: s.deniedSeen.last });
      }
      if (s.safety === 'write' || s.safety === 'destructive') {
        if (s.safety === 'write') writeCalls += s.calls;
        else destructiveCalls += s.calls;
        writes.push({
          tool,
          toolset,
          safety: s.safety,
          calls: s.calls,
          denied: s.denied,
          errors: s.errors,
          first_ts: s.seen.first,
          last_ts: s.seen.last,
        });
      } else if (s.safety === 'unknown') {
        unknownCalls += s.calls;
        unknownTools.push(tool);
      }
    }
    const byCalls = (a: { calls: number; tool: string }, b: { calls: number; tool: string }): number =>
      b.calls - a.calls || (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0);
    tools.sort(byCalls);
    writes.sort(byCalls);
    unknownTools.sort();
    denials.sort((a, b) => b.count - a.count || (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0));

    const by_event = {} as Record<EventKind, number>;
    for (const kind of EVENT_KINDS) by_event[kind] = this.byEvent[KIND_INDEX[kind]]!;
    const empty = this.events === 0 || this.seen.first === '';
    return {
      report_version: REPORT_VERSION,
      generated_at: new Date().toISOString(),
      filters: { since: this.filters.sinceText, until: this.filters.untilText, tools: this.filters.toolGlobs },
      inputs: { ...inputs, filtered_out: this.filtered, notes },
      totals: {
        events: this.events,
        first_ts: empty ? null : this.seen.first,
        last_ts: empty ? null : this.seen.last,
        tools: this.tools.size,
      },
      by_event,
      by_toolset: sortedCounts(this.byToolset, display),
      by_result: sortedCounts(this.byResult, display),
      tools,
      denials,
      writes: {
        classification: SAFETY_SOURCE,
        write_calls: writeCalls,
        destructive_calls: destructiveCalls,
        unknown_calls: unknownCalls,
        unknown_tools: unknownTools,
        tools: writes,
        busiest_minutes: this.busiest(WRITES),
      },
      busiest_minutes: this.busiest(-1),
      timeline: this.timeline(),
      redaction: {
        masked_values: this.masked,
        by_rule: null,
        note:
          'masked values are the "[REDACTED]" markers in the events after the report\'s own redaction (what the server, audit-router and, for a raw stream, the report masked); counts by rule are not available: neither the events audit-router writes nor its "finished" summary record which rule masked a value',
      },
      chain,
    };
  }

  /** The BUSIEST_MINUTES minutes with most events (index −1) or most of counter `index`; ties: earlier first. */
  private busiest(index: number): MinuteCount[] {
    const top: Array<[number, number]> = [];
    for (const [minute, c] of this.minutes) {
      const n = index < 0 ? c[0]! + c[1]! + c[2]! : c[index]!;
      if (n === 0) continue;
      if (top.length === BUSIEST_MINUTES) {
        const worst = top[top.length - 1]!;
        if (n < worst[1] || (n === worst[1] && minute > worst[0])) continue;
        top.pop();
      }
      let i = top.length;
      while (i > 0 && (top[i - 1]![1] < n || (top[i - 1]![1] === n && top[i - 1]![0] > minute))) i--;
      top.splice(i, 0, [minute, n]);
    }
    return top.map(([minute, count]) => ({ minute: formatMinute(minute), count }));
  }

  private timeline(): Report['timeline'] {
    if (this.minutes.size === 0) return { interval: 'minute', buckets: [] };
    const span = this.seen.lastUs - this.seen.firstUs;
    const interval = span <= TIMELINE_MINUTE_MAX_US ? 'minute' : span <= TIMELINE_HOURLY_MAX_US ? 'hour' : 'day';
    const size = interval === 'minute' ? 1 : interval === 'hour' ? 60 : 1440;
    const firstMinute = Math.floor(this.seen.firstUs / US_PER_MINUTE);
    const lastMinute = Math.floor(this.seen.lastUs / US_PER_MINUTE);
    const first = Math.floor(firstMinute / size);
    const last = Math.floor(lastMinute / size);
    const buckets: TimelineBucket[] = [];
    for (let b = first; b <= last; b++) {
      buckets.push({ start: formatUs(b * size * US_PER_MINUTE), tool_invocation: 0, tool_denied: 0, tool_error: 0 });
    }
    for (const [minute, c] of this.minutes) {
      const bucket = buckets[Math.floor(minute / size) - first]!;
      bucket.tool_invocation += c[0]!;
      bucket.tool_denied += c[1]!;
      bucket.tool_error += c[2]!;
    }
    return { interval, buckets };
  }
}

/** counts[name]++, with names past `limit` distinct counted under OTHER. */
function bump(counts: Map<string, number>, name: string, limit: number): void {
  const n = counts.get(name);
  if (n !== undefined) counts.set(name, n + 1);
  else if (counts.size < limit) counts.set(name, 1);
  else counts.set(OTHER, (counts.get(OTHER) ?? 0) + 1);
}

function sortedCounts(counts: Map<string, number>, display: (name: string) => string): Record<string, number> {
  // No prototype: a toolset or result called "__proto__" is just a key.
  const out = Object.create(null) as Record<string, number>;
  const entries = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [name, n] of entries) {
    const key = display(name);
    out[key] = (out[key] ?? 0) + n;
  }
  return out;
}

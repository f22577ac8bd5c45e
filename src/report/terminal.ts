/**
 * The terminal summary: the report's numbers as aligned plain text that fits 100 columns (no
 * colour, no line longer than WIDTH), for a reviewer at a shell or a ticket pasted from one.
 * Long lists are cut to their top rows with a line saying how many were left out; --json and
 * --html have everything.
 */
import { EVENT_KINDS, type Report } from './model';

export const WIDTH = 100;
const TOP_TOOLS = 20;
const TOP_ROWS = 10;

const int = (n: number): string => n.toLocaleString('en-US');
const pct = (part: number, whole: number): string => (whole === 0 ? '0.0%' : `${((part / whole) * 100).toFixed(1)}%`);
const ms = (v: number | null): string => (v === null ? '-' : Number.isInteger(v) ? int(v) : v.toFixed(2));

/** Cuts `s` to `n` characters, marking the cut. */
function clip(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, Math.max(0, n - 1)) + '…';
}

/** `text` wrapped at WIDTH on spaces, continuation lines indented by `indent`. */
function wrap(text: string, indent = '  '): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`;
    if (next.length > WIDTH && line !== '' && line !== indent.trimEnd()) {
      out.push(line);
      line = indent + word;
    } else line = next;
  }
  out.push(line);
  return out.map((l) => clip(l, WIDTH));
}

interface Column {
  title: string;
  width: number;
  right?: boolean;
}

function table(columns: Column[], rows: string[][], gap = '  '): string[] {
  const cell = (text: string, c: Column): string => {
    const t = clip(text, c.width);
    return c.right ? t.padStart(c.width) : t.padEnd(c.width);
  };
  const line = (cells: string[]): string => cells.map((t, i) => cell(t, columns[i]!)).join(gap).trimEnd();
  return [line(columns.map((c) => c.title)), ...rows.map(line)];
}

/** `key value  key value ...` pairs wrapped at WIDTH under a label. */
function pairs(label: string, entries: Array<[string, number]>, total: number): string[] {
  const out: string[] = [];
  const pad = ' '.repeat(label.length);
  let line = label;
  for (const [key, n] of entries) {
    const item = `${clip(key, 40)} ${int(n)} (${pct(n, total)})`;
    if (line.length + 2 + item.length > WIDTH && line !== label) {
      out.push(line);
      line = pad;
    }
    line += (line === label || line === pad ? '' : '  ') + item;
  }
  out.push(entries.length === 0 ? `${label}-` : line);
  return out;
}

function more(shown: number, total: number, what: string): string[] {
  return total > shown ? [`  … ${int(total - shown)} more ${what} (see --json or --html)`] : [];
}

/** One bar per timeline bucket, scaled to the busiest, for each event type. */
function sparkline(values: number[]): string {
  const blocks = ' ▁▂▃▄▅▆▇█';
  const max = Math.max(0, ...values);
  return values.map((v) => (v === 0 ? blocks[0] : blocks[Math.max(1, Math.round((v / max) * 8))])).join('');
}

export function renderTerminal(report: Report): string {
  const out: string[] = [];
  const { totals, inputs } = report;
  const span = totals.first_ts === null ? 'no events' : `${totals.first_ts} → ${totals.last_ts}`;
  out.push(clip(`audit-router report: ${int(totals.events)} events, ${span}`, WIDTH));
  const files = inputs.sources.length;
  const gz = inputs.sources.filter((s) => s.kind === 'gzip').length;
  out.push(
    clip(
      `Read ${files} source${files === 1 ? '' : 's'}${gz > 0 ? ` (${gz} gzip)` : ''}: ${int(inputs.lines)} lines, ` +
        `${int(inputs.audit_events)} audit events, ${int(inputs.invalid)} invalid, ${int(inputs.unparseable)} unparseable, ` +
        `${int(inputs.other_lines)} other`,
      WIDTH,
    ),
  );
  const filters: string[] = [];
  if (report.filters.since) filters.push(`since ${report.filters.since}`);
  if (report.filters.until) filters.push(`until ${report.filters.until}`);
  if (report.filters.tools.length > 0) filters.push(`tool ${report.filters.tools.join(',')}`);
  if (filters.length > 0) out.push(clip(`Filters: ${filters.join('; ')} (${int(inputs.filtered_out)} events left out)`, WIDTH));
  for (const note of inputs.notes) out.push(...wrap(`Note: ${note}`));
  out.push('');

  out.push(...pairs('Events:   ', EVENT_KINDS.map((k) => [k, report.by_event[k]]), totals.events));
  out.push(...pairs('Toolsets: ', Object.entries(report.by_toolset), totals.events));
  out.push(...pairs('Results:  ', Object.entries(report.by_result), totals.events));
  out.push('');

  out.push(`Tools (${int(report.tools.length)}, by calls; durations of calls that ran, ms; ~ = sketched, within 1%)`);
  const toolRows = report.tools.slice(0, TOP_TOOLS).map((t) => {
    const approx = t.durations.method === 'ddsketch' ? '~' : '';
    return [
      t.tool,
      t.toolset,
      int(t.calls),
      int(t.denied),
      int(t.errors),
      t.error_rate === null ? '-' : `${(t.error_rate * 100).toFixed(1)}%`,
      approx + ms(t.p50_ms),
      approx + ms(t.p95_ms),
      approx + ms(t.p99_ms),
      ms(t.max_ms),
    ];
  });
  out.push(
    ...table(
      [
        { title: 'TOOL', width: 26 },
        { title: 'TOOLSET', width: 10 },
        { title: 'CALLS', width: 7, right: true },
        { title: 'DENIED', width: 6, right: true },
        { title: 'ERRORS', width: 6, right: true },
        { title: 'ERR%', width: 6, right: true },
        { title: 'P50', width: 7, right: true },
        { title: 'P95', width: 7, right: true },
        { title: 'P99', width: 7, right: true },
        { title: 'MAX', width: 7, right: true },
      ],
      toolRows,
      ' ',
    ),
  );
  out.push(...more(TOP_TOOLS, report.tools.length, 'tools'));
  out.push('');

  out.push(`Denials (${int(report.by_event.tool_denied)} denied calls: who tried what they may not)`);
  if (report.denials.length === 0) out.push('  none');
  else {
    out.push(
      ...table(
        [
          { title: 'TOOL', width: 30 },
          { title: 'COUNT', width: 7, right: true },
          { title: 'FIRST', width: 27 },
          { title: 'LAST', width: 27 },
        ],
        report.denials.slice(0, TOP_ROWS).map((d) => [d.tool, int(d.count), d.first_ts, d.last_ts]),
      ),
    );
    out.push(...more(TOP_ROWS, report.denials.length, 'denied tools'));
  }
  out.push('');

  const w = report.writes;
  out.push(clip(`Writes: ${int(w.write_calls)} write calls, ${int(w.destructive_calls)} destructive calls (as redisctl-mcp annotates its tools)`, WIDTH));
  if (w.tools.length > 0) {
    out.push(
      ...table(
        [
          { title: 'TOOL', width: 30 },
          { title: 'SAFETY', width: 11 },
          { title: 'CALLS', width: 8, right: true },
          { title: 'DENIED', width: 6, right: true },
          { title: 'ERRORS', width: 6, right: true },
          { title: 'LAST', width: 27 },
        ],
        w.tools.slice(0, TOP_ROWS).map((t) => [t.tool, t.safety, int(t.calls), int(t.denied), int(t.errors), t.last_ts]),
      ),
    );
    out.push(...more(TOP_ROWS, w.tools.length, 'write/destructive tools'));
  }
  if (w.unknown_calls > 0) {
    out.push(clip(`  ${int(w.unknown_calls)} calls of ${w.unknown_tools.length} tool${w.unknown_tools.length === 1 ? '' : 's'} redisctl-mcp does not list: ${w.unknown_tools.join(', ')}`, WIDTH));
  }
  if (w.busiest_minutes.length > 0) {
    out.push(clip(`  Busiest write minutes: ${w.busiest_minutes.slice(0, 5).map((m) => `${m.minute} (${int(m.count)})`).join(', ')}`, WIDTH));
  }
  out.push('');

  if (report.busiest_minutes.length > 0) {
    out.push('Busiest minutes:');
    const list = report.busiest_minutes.map((m) => `${m.minute} ${int(m.count)}`);
    for (let i = 0; i < list.length; i += 4) out.push(`  ${list.slice(i, i + 4).join('   ')}`);
  }
  const buckets = report.timeline.buckets;
  if (buckets.length > 0) {
    const width = WIDTH - 20;
    // Wider timelines are folded to fit: each column sums consecutive buckets.
    const per = Math.ceil(buckets.length / width);
    out.push(`Timeline (per ${report.timeline.interval}${per > 1 ? ` × ${per}` : ''}, from ${buckets[0]!.start}):`);
    for (const kind of EVENT_KINDS) {
      const values: number[] = [];
      for (let i = 0; i < buckets.length; i += per) {
        let n = 0;
        for (let j = i; j < Math.min(buckets.length, i + per); j++) n += buckets[j]![kind];
        values.push(n);
      }
      out.push(`  ${kind.padEnd(16)}${sparkline(values)}`);
    }
  }
  out.push('');
  out.push(clip(`Redaction: ${int(report.redaction.masked_values)} masked values in the events; by rule: not available (not recorded)`, WIDTH));
  out.push(...wrap(`Chain: ${report.chain.detail}`));
  return out.join('\n') + '\n';
}

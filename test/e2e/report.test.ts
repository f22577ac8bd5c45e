/**
 * `audit-router report` end to end through bin/audit-router: its numbers against an independent
 * computation over a generated trail with known truth (test/support/audit-trail.ts), read from
 * rotated and gzipped files in rotation order, from a raw redisctl-mcp stream on stdin, and from
 * a trail the router itself wrote with real rotation. No planted secret in any output.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runRouter, tempDir } from '../support/cli';
import { expectedReport, generateTrail, rawStream, TRAIL_TOOLS, writeTrail, type Expected, type ReportJson, type TrailEvent } from '../support/audit-trail';

const dir = tempDir('audit-router-report-');
afterAll(() => dir.cleanup());

/** Checks every number the report has against the independent computation. */
function expectMatches(report: ReportJson, truth: Expected): void {
  expect(report.totals.events).toBe(truth.events);
  expect(report.totals.first_ts).toBe(truth.first);
  expect(report.totals.last_ts).toBe(truth.last);
  expect(report.by_event).toEqual(truth.byEvent);
  expect(report.by_toolset).toEqual(truth.byToolset);
  expect(report.by_result).toEqual(truth.byResult);
  expect(report.tools.map((t) => t.tool).sort()).toEqual([...truth.tools.keys()].sort());
  for (const t of report.tools) {
    const e = truth.tools.get(t.tool)!;
    expect({ tool: t.tool, toolset: t.toolset, safety: t.safety, calls: t.calls, invocations: t.invocations, denied: t.denied, errors: t.errors, max: t.max_ms, count: t.durations.count }).toEqual({
      tool: e.tool,
      toolset: e.toolset,
      safety: e.safety,
      calls: e.calls,
      invocations: e.invocations,
      denied: e.denied,
      errors: e.errors,
      max: e.max,
      count: e.durations.length,
    });
    if (t.durations.method === 'exact') {
      expect(e.distinct).toBeLessThanOrEqual(2048);
      expect([t.p50_ms, t.p95_ms, t.p99_ms]).toEqual([e.p50, e.p95, e.p99]);
    } else {
      // Sketched: within the documented relative error (1 %, plus 0.005 ms of rounding).
      expect(e.distinct).toBeGreaterThan(2048);
      expect(t.durations.relative_error).toBe(0.01);
      for (const [got, want] of [[t.p50_ms, e.p50], [t.p95_ms, e.p95], [t.p99_ms, e.p99]] as const) {
        expect(Math.abs(got! - want!)).toBeLessThanOrEqual(0.01 * want! + 0.005);
      }
    }
    // The histogram's counts are exact whatever the method.
    const hist = t.durations.histogram;
    expect(hist.reduce((n, b) => n + b.count, 0)).toBe(e.durations.length);
    for (const b of hist) {
      const lo = b.le_ms === 0 ? 0 : (b.le_ms + 1) / 2;
      expect(b.count).toBe(e.durations.filter((d) => d >= lo && d <= b.le_ms).length);
    }
  }
  expect(report.denials.map((d) => [d.tool, d.count, d.first_ts, d.last_ts]).sort()).toEqual(
    [...truth.denials].map(([tool, d]) => [tool, d.count, d.first, d.last]).sort(),
  );
  expect(report.writes.write_calls).toBe(truth.writeCalls);
  expect(report.writes.destructive_calls).toBe(truth.destructiveCalls);
  expect(report.writes.unknown_calls).toBe(truth.unknownCalls);
  expect(report.busiest_minutes).toEqual(truth.busiest);
  expect(report.timeline.interval).toBe(truth.interval);
  expect(report.timeline.buckets).toEqual(truth.timeline);
}

function expectNoSecret(outputs: string[], secrets: string[]): void {
  expect(secrets.length).toBeGreaterThan(100);
  for (const out of outputs) for (const s of secrets) if (out.includes(s)) throw new Error(`planted secret ${s} in the report's output`);
}

describe('report: rotated + gzipped trail files and a raw stream on stdin', () => {
  // Two days of trail (hourly timeline) in four files, two of the rotated ones gzipped...
  const trail = generateTrail({ seed: 3, events: 3000, meanGapUs: 40_000_000 });
  // ...and a raw redisctl-mcp stream after it, on stdin.
  const later = generateTrail({ seed: 4, events: 600, startUs: trail.events.at(-1)!.us + 60_000_000, meanGapUs: 2_000_000 });
  const raw = rawStream(later);
  const secrets = [...trail.secrets, ...later.secrets];
  let files: string[];
  let report: ReportJson;
  let html: string;
  let stderr: string;

  beforeAll(async () => {
    mkdirSync(join(dir.path, 'trail'));
    files = writeTrail(join(dir.path, 'trail'), 'audit.jsonl', trail.events, 4, 2);
    const htmlPath = join(dir.path, 'report.html');
    const r = await runRouter(['report', join(dir.path, 'trail'), '-', '--json', '--html', htmlPath], { input: raw.text });
    expect(r.code, r.stderr).toBe(0);
    stderr = r.stderr;
    report = JSON.parse(r.stdout) as ReportJson;
    html = readFileSync(htmlPath, 'utf8');
  });

  it('every number equals the independent computation', () => {
    expectMatches(report, expectedReport([...trail.events, ...later.events]));
    expect(report.tools.every((t) => t.durations.method === 'exact')).toBe(true);
  });

  it('reads the files in rotation order, gunzips by content, and counts what is not an event', () => {
    expect(report.inputs.sources.map((s) => s.path)).toEqual([...files, '-']);
    expect(report.inputs.sources.map((s) => s.kind)).toEqual(['gzip', 'gzip', 'file', 'file', 'stdin']);
    expect(report.inputs.sources.map((s) => s.events)).toEqual([750, 750, 750, 750, 600]);
    expect(report.inputs.audit_events).toBe(3600);
    // Schema-invalid audit lines in the raw stream are not events, and are counted as such.
    expect(report.inputs.invalid).toBe(raw.noise.invalid);
    expect(report.inputs.other_lines).toBe(raw.noise.text + raw.noise.jsonrpc);
    expect(report.inputs.notes).toEqual([]);
  });

  it('write/destructive classification follows upstream annotations; unknown tools are shown as such', () => {
    expect(report.writes.unknown_tools).toEqual(['list_profiles']);
    for (const w of report.writes.tools) expect(w.safety).toBe(TRAIL_TOOLS.find((t) => t.name === w.tool)!.safety);
  });

  it('says the trail is not chained; redaction counts by rule are honestly not available', () => {
    expect(report.chain.status).toBe('not_chained');
    expect(report.redaction.by_rule).toBeNull();
    // Two events in three hold a secret the redactor replaces with the marker (the third's is
    // in a URL, masked as redacted:redacted@).
    expect(report.redaction.masked_values).toBeGreaterThanOrEqual(2400);
  });

  it('the JSON validates against schemas/report.schema.json', () => {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    const validate = ajv.compile(JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'report.schema.json'), 'utf8')));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  });

  it('no planted secret in the JSON, the HTML or stderr; no progress bar when stderr is not a terminal', () => {
    expectNoSecret([JSON.stringify(report), html, stderr], secrets);
    expect(stderr).toBe('');
  });
});

describe('report: durations past the exact limit', () => {
  it('a tool with more than 2048 distinct durations is sketched: percentiles within 1 %, count and max exact', async () => {
    const trail = generateTrail({ seed: 5, events: 3000, onlyTool: 'redis_bulk_load', meanGapUs: 100_000 });
    const path = join(dir.path, 'bulk.jsonl');
    writeFileSync(path, trail.events.map(lineOf).join('\n') + '\n');
    const r = await runRouter(['report', path, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ReportJson;
    expect(report.tools.map((t) => t.durations.method)).toEqual(['ddsketch']);
    expectMatches(report, expectedReport(trail.events));
  });
});

describe('report: filters and the terminal summary', () => {
  const trail = generateTrail({ seed: 9, events: 1500, meanGapUs: 1_000_000 });
  const path = join(dir.path, 'filters.jsonl');
  beforeAll(() => writeFileSync(path, trail.events.map(lineOf).join('\n') + '\n'));

  it('--since (inclusive), --until (exclusive) and --tool globs leave out exactly what they should', async () => {
    const since = trail.events[200]!.timestamp;
    const until = trail.events[1200]!.timestamp;
    const r = await runRouter(['report', path, '--json', '--since', since, '--until', until, '--tool', 'redis_*', '--tool', 'get_?????ase,show_policy']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ReportJson;
    const keep = (e: TrailEvent): boolean =>
      e.us >= trail.events[200]!.us && e.us < trail.events[1200]!.us && (e.tool.startsWith('redis_') || e.tool === 'get_database' || e.tool === 'show_policy');
    const kept = trail.events.filter(keep);
    expectMatches(report, expectedReport(kept));
    expect(report.inputs.filtered_out).toBe(trail.events.length - kept.length);
  });

  it('the summary fits 100 columns and has every section', async () => {
    const r = await runRouter(['report', path]);
    expect(r.code, r.stderr).toBe(0);
    for (const line of r.stdout.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(100);
    const truth = expectedReport(trail.events);
    expect(r.stdout).toContain(`audit-router report: ${truth.events.toLocaleString('en-US')} events, ${truth.first} → ${truth.last}`);
    for (const heading of ['Events:', 'Toolsets:', 'Tools (', 'Denials (', 'Writes:', 'Busiest minutes:', 'Timeline (per minute', 'Redaction:', 'Chain: not chained']) {
      expect(r.stdout).toContain(heading);
    }
    expectNoSecret([r.stdout, r.stderr], trail.secrets);
  });

  it('counts keyed-redaction tokens and plain markers as masked values; names are redacted before they are shown', async () => {
    const e = trail.events[0]!;
    const record = (tool: string, args: unknown) =>
      JSON.stringify({ timestamp: e.timestamp, level: 'INFO', fields: { event: 'tool_invocation', tool, toolset: 'cloud', result: 'success', duration_ms: 1, arguments: JSON.stringify(args) }, target: 'audit' });
    const file = join(dir.path, 'masks.jsonl');
    writeFileSync(
      file,
      [
        record('get_database', { password: '[REDACTED:hmac-sha256:0123456789abcdef01234567]', token: '[REDACTED]', note: '[REDACTED-ish]' }),
        record('get_database?password=hunter2-planted', {}),
      ].join('\n') + '\n',
    );
    const r = await runRouter(['report', file, '--json']);
    const report = JSON.parse(r.stdout) as ReportJson;
    // The two masks in the arguments, and the password in the second tool name: the text rules
    // apply to every string of an event (issue 8), so the report's own redaction masks it there too.
    expect(report.redaction.masked_values).toBe(3);
    expect(report.tools.map((t) => t.tool).sort()).toEqual(['get_database', 'get_database?password=[REDACTED]']);
    expect(r.stdout).not.toContain('hunter2-planted');
  });

  it('a missing file or a bad time is a usage error (exit 2) that names the problem', async () => {
    const missing = await runRouter(['report', join(dir.path, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.jsonl: ENOENT');
    const bad = await runRouter(['report', path, '--since', 'yesterday-ish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since');
  });
});

describe('report: a trail audit-router itself wrote, rotated and gzipped', () => {
  it('reads the whole trail from its directory, in order, and matches the truth', async () => {
    const trail = generateTrail({ seed: 21, events: 900, meanGapUs: 500_000 });
    const raw = rawStream(trail);
    const base = join(dir.path, 'routed', 'audit.jsonl');
    const config = join(dir.path, 'routed.toml');
    writeFileSync(config, `[sinks.archive]\ntype = "file"\npath = ${JSON.stringify(base)}\nsize = "64K"\ncompress = "gzip"\nmax_files = 100\n`);
    const routed = await runRouter(['-c', config], { input: raw.text });
    expect(routed.code, routed.stderr).toBe(0);
    const names = readdirSync(join(dir.path, 'routed'));
    expect(names.filter((n) => n.endsWith('.gz')).length).toBeGreaterThan(2);
    expect(names).toContain('audit.jsonl.history');

    const r = await runRouter(['report', join(dir.path, 'routed'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ReportJson;
    expectMatches(report, expectedReport(trail.events));
    // Rotated files by name, then the current file; the history index is not read as data.
    const paths = report.inputs.sources.map((s) => s.path.slice(join(dir.path, 'routed').length + 1));
    expect(paths.at(-1)).toBe('audit.jsonl');
    expect(paths.slice(0, -1)).toEqual([...paths.slice(0, -1)].sort());
    expect(paths).not.toContain('audit.jsonl.history');
    // Naming the current file reads the whole trail too.
    const same = await runRouter(['report', base, '--json']);
    expect((JSON.parse(same.stdout) as ReportJson).totals.events).toBe(900);
    expectNoSecret([r.stdout, r.stderr, same.stdout], trail.secrets);
  });
});

describe('report: hostile input and slow readers', () => {
  it('a stream inventing names: past 2 000 tools (1 000 toolsets) they count as "(other)"; a slow pipe gets all the JSON', () => {
    const lines: string[] = [];
    for (let i = 0; i < 10_500; i++) {
      const ts = new Date(Date.UTC(2026, 2, 5) + i * 1000).toISOString();
      lines.push(JSON.stringify({ timestamp: ts, level: 'INFO', fields: { event: 'tool_invocation', tool: `t${i}`, toolset: `ts${i % 1200}`, result: 'success', duration_ms: i }, target: 'audit' }));
    }
    const file = join(dir.path, 'hostile.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const out = join(dir.path, 'hostile.json');
    // The reader starts late: stdout must still deliver every byte before the process exits.
    execFileSync('sh', ['-c', `"${process.execPath}" "${BIN}" report "${file}" --json | (sleep 1; cat > "${out}")`]);
    const report = JSON.parse(readFileSync(out, 'utf8')) as ReportJson;
    expect(report.totals.events).toBe(10_500);
    expect(report.tools).toHaveLength(2001);
    expect(report.tools[0]).toMatchObject({ tool: '(other)', calls: 8500, safety: 'unknown' });
    expect(Object.keys(report.by_toolset)).toHaveLength(1001);
    // ts0..ts999 are the first 1 000 seen; every event of ts1000..ts1199 counts as "(other)".
    expect(report.by_toolset['(other)']).toBe(Array.from({ length: 10_500 }, (_, i) => i % 1200).filter((t) => t >= 1000).length);
    expect(report.inputs.notes.join(' ')).toContain('more than 2000 distinct tool names');
  });
});

describe('report: a chained trail (docs/integrity.md)', () => {
  it('with the key: verified intact; without: says what to pass; a changed record: broken at file:line', async () => {
    const trail = generateTrail({ seed: 31, events: 400 });
    const keyFile = join(dir.path, 'chain.key');
    writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    const base = join(dir.path, 'chained', 'audit.jsonl');
    const routed = await runRouter(['--file', base, '--chain-key', keyFile], { input: rawStream(trail).text });
    expect(routed.code, routed.stderr).toBe(0);

    const verified = await runRouter(['report', join(dir.path, 'chained'), '--json', '--key', keyFile]);
    expect(verified.code, verified.stderr).toBe(0);
    const report = JSON.parse(verified.stdout) as ReportJson;
    // The chain's own records are not events: the numbers are the events' alone.
    expectMatches(report, expectedReport(trail.events));
    expect(report.chain.status).toBe('intact');
    expect(report.chain.detail).toContain('HMAC chain');

    const keyless = JSON.parse((await runRouter(['report', base, '--json'])).stdout) as ReportJson;
    expect(keyless.chain.status).toBe('unavailable');
    expect(keyless.chain.detail).toContain('--key');

    // Change one event (a read becomes a write) in the middle of the file.
    const lines = readFileSync(base, 'utf8').split('\n');
    const at = lines.findIndex((l, i) => i > 100 && l.includes('"tool":"redis_get"'));
    lines[at] = lines[at]!.replace('"tool":"redis_get"', '"tool":"redis_set"');
    writeFileSync(base, lines.join('\n'));
    const broken = await runRouter(['report', join(dir.path, 'chained'), '--key', keyFile]);
    expect(broken.code, broken.stderr).toBe(0);
    expect(broken.stdout).toMatch(new RegExp(`Chain: broken at \\S*audit\\.jsonl:${at + 1}: `));
    const brokenJson = JSON.parse((await runRouter(['report', base, '--json', '--key', keyFile])).stdout) as ReportJson & { chain: { file: string; line: number } };
    expect(brokenJson.chain.status).toBe('broken');
    expect(brokenJson.chain.line).toBe(at + 1);
    expectNoSecret([verified.stdout, broken.stdout, JSON.stringify(brokenJson)], trail.secrets);
  });
});

function lineOf(e: TrailEvent): string {
  return JSON.stringify({ timestamp: e.timestamp, level: 'INFO', fields: { event: e.event, tool: e.tool, toolset: e.toolset, result: e.result, duration_ms: e.duration_ms, arguments: e.arguments }, target: 'audit' });
}

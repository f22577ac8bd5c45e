/**
 * The API server end to end through bin/audit-router: /healthz, /readyz, /metrics and /tap of
 * a running router, against what it writes and its final `finished` line; the tap CLI; a
 * receiver outage and refused credentials as the metrics and readiness show them; and the
 * server costing nothing when it is off (prom-client never loaded).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../scripts/generate-stream.js';
import { apiAddress, get, getUntil, scrape, scrapeUntil, sum, watchLogs } from '../support/api';
import { trackedStart } from '../support/children';
import { collect, finished, runRouter, tempDir } from '../support/cli';
import { startDatadogIntake } from '../support/datadog-intake';

const dir = tempDir('ar-observe-');
afterAll(() => dir.cleanup());
const start = trackedStart();

interface Generated { line: string; truth: { kind: string; secrets: string[] } }

function lines(n: number, seed: number, scenario: 'audit' | 'mixed'): { lines: string[]; secrets: string[]; audit: number } {
  const items = [...(generate({ seed, lines: n, scenario }) as Iterable<Generated>)];
  return {
    lines: items.map((g) => g.line),
    secrets: items.flatMap((g) => g.truth.secrets),
    audit: items.filter((g) => g.truth.kind === 'audit').length,
  };
}

let configs = 0;
function config(text: string): string {
  const path = join(dir.path, `observe-${++configs}.toml`);
  writeFileSync(path, text);
  return path;
}

const seq = (record: Record<string, unknown>): number =>
  ((record['fields'] as Record<string, unknown> | undefined) ?? record)['duration_ms'] as number;

type Counters = Record<string, number>;

describe('API server', () => {
  it('metrics scraped mid-run and at the end agree with the finished line; probes answer', async () => {
    const out = join(dir.path, 'metrics-out.jsonl');
    const dead = join(dir.path, 'metrics-dead.jsonl');
    const { lines: input, secrets } = lines(3_000, 51, 'mixed');
    // Outcomes the generator does not make: empty and oversize lines.
    const extra = ['', '', `{"target":"audit","fields":{"event":"tool_invocation","pad":"${'x'.repeat(5000)}"}}`];
    const c = config(`[input]\nmax_line_bytes = 4096\n[api]\naddress = "127.0.0.1:0"\n[sinks.audit]\ntype = "file"\npath = "${out}"\n[dead_letter]\npath = "${dead}"\n`);
    const child = start(['-c', c]);
    const logs = watchLogs(child);
    const done = collect(child);
    const address = await apiAddress(logs);

    expect(await get(address, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    const firstHalf = [...input.slice(0, 1500), ...extra];
    child.stdin!.write(firstHalf.join('\n') + '\n');
    const lineSum = (x: Awaited<ReturnType<typeof scrape>>): number => sum(x, 'audit_router_lines_total');
    const mid = await scrapeUntil(address, (x) => lineSum(x) === firstHalf.length, 'the first half counted');
    expect(lineSum(mid)).toBe(firstHalf.length);
    expect(mid.value('audit_router_lines_total', { outcome: 'empty' })).toBe(2);
    expect(mid.value('audit_router_lines_total', { outcome: 'oversize' })).toBe(1);
    expect(mid.value('audit_router_sink_events_total', { sink: 'audit', outcome: 'accepted' })).toBe(
      mid.value('audit_router_lines_total', { outcome: 'audit' }),
    );
    const ready = await get(address, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'ready', unhealthy: [] });
    expect((await get(address, '/tap')).status).toBe(404); // api.tap is off

    child.stdin!.write(input.slice(1500).join('\n') + '\n');
    const total = firstHalf.length + input.length - 1500;
    const end = await scrapeUntil(
      address,
      (x) =>
        lineSum(x) === total &&
        x.value('audit_router_sink_events_total', { sink: 'audit', outcome: 'delivered' }) ===
          x.value('audit_router_sink_events_total', { sink: 'audit', outcome: 'accepted' }),
      'every line counted and every event delivered',
    );
    child.stdin!.end();
    const r = await done;
    expect(r.code).toBe(0);
    const f = finished(r);
    for (const outcome of ['audit', 'invalid', 'unparseable', 'oversize', 'dropped', 'passthrough', 'empty']) {
      expect(end.value('audit_router_lines_total', { outcome }), outcome).toBe(f[outcome]);
    }
    expect(lineSum(end)).toBe(f['lines']);
    const sink = (f['sinks'] as Record<string, Counters>)['audit']!;
    for (const [outcome, key] of [['accepted', 'accepted'], ['delivered', 'delivered'], ['dead_lettered', 'deadLettered'], ['dropped', 'dropped'], ['failed', 'failed']]) {
      expect(end.value('audit_router_sink_events_total', { sink: 'audit', outcome: outcome! }), outcome).toBe(sink[key!]);
    }
    expect(end.value('audit_router_sink_events_total', { sink: 'dead_letter', outcome: 'accepted' })).toBe(f['dead_lettered']);
    expect(end.value('audit_router_sink_delivery_seconds_count', { sink: 'audit' })).toBe(sink['delivered']);
    expect(end.value('audit_router_sink_buffered_events', { sink: 'audit' })).toBe(0);
    expect(end.value('audit_router_sink_healthy', { sink: 'audit' })).toBe(1);
    expect(end.value('audit_router_sink_last_delivery_timestamp_seconds', { sink: 'audit' })).toBeGreaterThan(1.7e9);
    expect(end.value('audit_router_audit_failures_total')).toBe(0);
    expect(end.value('audit_router_redactions_total', { rule: 'sensitive_key' })).toBeGreaterThan(0);
    const redactions = end.all('audit_router_redactions_total').reduce((n, s) => n + s.value, 0);
    expect(redactions).toBe(Object.values(f['redactions'] as Counters).reduce((n, v) => n + v, 0));
    expect(end.maybe('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(end.maybe('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(end.types.get('audit_router_lines_total')).toBe('counter');
    expect(end.types.get('audit_router_sink_delivery_seconds')).toBe('histogram');
    // Labels and values never carry content.
    expect(secrets.filter((s) => end.text.includes(s))).toEqual([]);
    const written = readFileSync(out, 'utf8').trim().split('\n');
    expect(written.length).toBe(f['audit']);
  });

  it('the tap CLI prints the redacted events as routed; planted secrets are absent', async () => {
    const out = join(dir.path, 'tap-out.jsonl');
    const { lines: input, secrets } = lines(400, 52, 'audit');
    expect(secrets.length).toBeGreaterThan(20);
    const c = config(`[api]\naddress = "127.0.0.1:0"\ntap = true\n[sinks.audit]\ntype = "file"\npath = "${out}"\n`);
    const child = start(['-c', c]);
    const logs = watchLogs(child);
    const done = collect(child);
    const address = await apiAddress(logs);
    const tap = start(['tap', '--address', address, '--limit', String(input.length)]);
    const tapped = collect(tap);
    await scrapeUntil(address, (x) => x.value('audit_router_tap_clients') === 1, 'the tap client connected');
    child.stdin!.end(input.join('\n') + '\n');
    const [t, r] = await Promise.all([tapped, done]);
    expect(r.code).toBe(0);
    expect(t.code).toBe(0);
    const tapLines = t.stdout.trim().split('\n');
    expect(tapLines.length).toBe(input.length);
    expect(tapLines).toEqual(readFileSync(out, 'utf8').trim().split('\n'));
    expect(tapLines.map((l) => seq(JSON.parse(l)))).toEqual(input.map((_, i) => i));
    expect(secrets.filter((s) => t.stdout.includes(s))).toEqual([]);
    expect(t.stdout).toContain('[REDACTED]');
  });

  it('the tap CLI says so when the tap is off or nothing listens', async () => {
    const c = config(`[api]\naddress = "127.0.0.1:0"\n[sinks.audit]\ntype = "file"\npath = "${join(dir.path, 'tap-off.jsonl')}"\n`);
    const child = start(['-c', c]);
    const logs = watchLogs(child);
    const done = collect(child);
    const address = await apiAddress(logs);
    const off = await runRouter(['tap', '--address', address]);
    expect(off.code).toBe(1);
    expect(off.stderr).toContain('api.tap = true');
    child.stdin!.end();
    await done;
    const refused = await runRouter(['tap', '--address', address]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ECONNREFUSED');
  });

  it('a receiver outage: healthy 0, retries growing, buffered gauges rising and falling, then all delivered', async () => {
    const intake = await startDatadogIntake({ apiKey: 'dd-key-observe-0123456789' });
    try {
      await intake.goAway();
      const { lines: input } = lines(300, 53, 'audit');
      const c = config(`[api]\naddress = "127.0.0.1:0"\n[sinks.dd]\ntype = "datadog"\nendpoint = "${intake.url}"\napi_key = "dd-key-observe-0123456789"\nretry = { initial_backoff = "20ms", max_backoff = "100ms" }\nbatch = { linger = "10ms" }\n`);
      const child = start(['-c', c]);
      const logs = watchLogs(child);
      const done = collect(child);
      const address = await apiAddress(logs);
      child.stdin!.write(input.slice(0, 150).join('\n') + '\n');
      const retries = (x: Awaited<ReturnType<typeof scrape>>): number => sum(x, 'audit_router_sink_retries_total', { sink: 'dd' });
      const s = await scrapeUntil(
        address,
        (x) => x.value('audit_router_sink_healthy', { sink: 'dd' }) === 0 && retries(x) > 0 && x.value('audit_router_sink_events_total', { sink: 'dd', outcome: 'accepted' }) === 150,
        'the sink unhealthy and retrying',
      );
      expect(s.value('audit_router_sink_healthy', { sink: 'dd' })).toBe(0);
      expect(s.value('audit_router_sink_retries_total', { sink: 'dd', error: 'network' })).toBeGreaterThan(0);
      const firstBuffered = s.value('audit_router_sink_buffered_events', { sink: 'dd' });
      expect(firstBuffered).toBe(150);
      expect(s.value('audit_router_sink_buffered_bytes', { sink: 'dd' })).toBeGreaterThan(0);
      child.stdin!.write(input.slice(150).join('\n') + '\n');
      const later = await scrapeUntil(
        address,
        (x) => x.value('audit_router_sink_buffered_events', { sink: 'dd' }) === 300 && retries(x) > retries(s),
        'more events buffered, more retries',
      );
      expect(later.value('audit_router_sink_buffered_events', { sink: 'dd' })).toBe(300); // rising
      expect(retries(later)).toBeGreaterThan(retries(s)); // growing
      const readyz = await getUntil(address, '/readyz', (a) => a.status === 503, '/readyz 503 past the retry budget');
      expect(JSON.parse(readyz.body).unhealthy).toEqual([
        expect.objectContaining({ name: 'dd', type: 'datadog', reason: 'failing', last_error: 'network' }),
      ]);
      await intake.comeBack();
      const after = await scrapeUntil(
        address,
        (x) => x.value('audit_router_sink_buffered_events', { sink: 'dd' }) === 0 && x.value('audit_router_sink_healthy', { sink: 'dd' }) === 1,
        'the buffer emptied after the outage',
      );
      expect(after.value('audit_router_sink_buffered_events', { sink: 'dd' })).toBe(0); // falling
      expect(after.value('audit_router_sink_buffered_bytes', { sink: 'dd' })).toBe(0);
      expect(after.value('audit_router_sink_healthy', { sink: 'dd' })).toBe(1);
      expect((await get(address, '/readyz')).status).toBe(200);
      child.stdin!.end();
      const r = await done;
      expect(r.code).toBe(0);
      expect(intake.logs.length).toBe(300);
      const dd = (finished(r)['sinks'] as Record<string, Counters>)['dd']!;
      expect(retries(after)).toBe(dd['retried']);
      expect(after.value('audit_router_sink_delivery_seconds_count', { sink: 'dd' })).toBe(300);
    } finally {
      await intake.close();
    }
  });

  it('/readyz is 503 naming the sink while Datadog refuses the key (never the key), 200 after a restart with a good key', async () => {
    const goodKey = 'dd-good-key-0123456789abcdef';
    const badKey = 'dd-bad-key-fedcba9876543210';
    const intake = await startDatadogIntake({ apiKey: goodKey });
    try {
      const buffer = join(dir.path, 'readyz-buffer');
      const { lines: input } = lines(100, 54, 'audit');
      const cfg = (key: string): string =>
        config(`shutdown_timeout = "1s"\n[api]\naddress = "127.0.0.1:0"\n[sinks.dd]\ntype = "datadog"\nendpoint = "${intake.url}"\napi_key = "${key}"\nbuffer = { type = "disk", path = "${buffer}", max_bytes = "4M" }\nretry = { initial_backoff = "20ms", max_backoff = "200ms" }\nbatch = { linger = "10ms" }\n`);
      const bad = start(['-c', cfg(badKey)]);
      const badLogs = watchLogs(bad);
      const badDone = collect(bad);
      const badAddress = await apiAddress(badLogs);
      bad.stdin!.write(input.join('\n') + '\n');
      const readyz = await getUntil(badAddress, '/readyz', (a) => a.status === 503, '/readyz 503 while the key is refused');
      expect(readyz.status).toBe(503);
      expect(JSON.parse(readyz.body)).toMatchObject({
        status: 'not_ready',
        unhealthy: [{ name: 'dd', type: 'datadog', reason: 'auth_refused', last_error: 'auth' }],
      });
      expect(readyz.body).not.toContain(badKey);
      expect((await scrape(badAddress)).value('audit_router_sink_healthy', { sink: 'dd' })).toBe(0);
      bad.kill('SIGTERM');
      const first = await badDone;
      expect(first.stderr).not.toContain(badKey);
      expect(intake.logs.length).toBe(0);

      const good = start(['-c', cfg(goodKey)]);
      const goodLogs = watchLogs(good);
      const goodDone = collect(good);
      const goodAddress = await apiAddress(goodLogs);
      await intake.waitForLogs(100, 20_000);
      const ok = await getUntil(goodAddress, '/readyz', (a) => a.status === 200, '/readyz 200 with the good key');
      expect(ok.status).toBe(200);
      good.stdin!.end();
      expect((await goodDone).code).toBe(0);
      expect(intake.logs.map((l) => l['duration_ms'])).toEqual(input.map((_, i) => i));
    } finally {
      await intake.close();
    }
  });

  it('costs nothing when off: no listener, prom-client never loaded; loaded only with an address', async () => {
    const hook = join(dir.path, 'modules-hook.js');
    writeFileSync(
      hook,
      `process.on('exit', () => require('fs').writeFileSync(process.env.AR_MODULES_OUT, JSON.stringify(Object.keys(require.cache))));\n`,
    );
    const loaded = async (args: string[], name: string): Promise<string[]> => {
      const modules = join(dir.path, `${name}.json`);
      const r = await runRouter(args, {
        input: lines(20, 55, 'audit').lines.join('\n') + '\n',
        env: { NODE_OPTIONS: `--require ${hook}`, AR_MODULES_OUT: modules },
      });
      expect(r.code).toBe(0);
      return JSON.parse(readFileSync(modules, 'utf8')) as string[];
    };
    const off = await loaded(['--file', join(dir.path, 'off.jsonl')], 'off');
    expect(off.some((m) => m.includes(`${'/'}dist${'/'}`))).toBe(true);
    expect(off.filter((m) => m.includes('prom-client') || m.includes('/observe/'))).toEqual([]);
    const on = await loaded(['--file', join(dir.path, 'on.jsonl'), '--api-address', '127.0.0.1:0'], 'on');
    expect(on.some((m) => m.includes('prom-client'))).toBe(true);
  });
});

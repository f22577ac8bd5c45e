/**
 * deploy/grafana/audit-router.json against the metrics a real router serves: the dashboard
 * parses, its panels fit Grafana's 24-column grid with unique ids, and every metric any query
 * names (panel expressions and template variables) is one that /metrics actually exposes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { apiAddress, scrapeUntil, watchLogs } from '../support/api';
import { trackedStart } from '../support/children';
import { collect, tempDir } from '../support/cli';

const dir = tempDir('ar-grafana-');
afterAll(() => dir.cleanup());
const start = trackedStart();

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string }[];
}

/** Metric names in a PromQL expression: identifiers that are not functions, keywords or labels. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '[]');
  const names = withoutStrings.match(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\{|\[|\)|$|\s*[-+*/]))/g) ?? [];
  const notMetrics = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'time', 'instance', 'le', 'sink', 'outcome', 'rule', 'error', 'source']);
  return [...new Set(names.filter((n) => !notMetrics.has(n) && /_/.test(n)))];
}

it('the Grafana dashboard parses and every expression names a metric the router exposes', async () => {
  const dashboard = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'deploy', 'grafana', 'audit-router.json'), 'utf8')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; definition: string }[] };
  };
  expect(dashboard.uid).toBe('audit-router');

  const c = join(dir.path, 'grafana.toml');
  writeFileSync(c, `[api]\naddress = "127.0.0.1:0"\ntap = true\n[metrics]\ntool_labels = true\n[sinks.audit]\ntype = "file"\npath = "${join(dir.path, 'g.jsonl')}"\n`);
  const child = start(['-c', c]);
  const logs = watchLogs(child);
  const done = collect(child);
  const address = await apiAddress(logs);
  child.stdin!.write('{"timestamp":"2026-03-05T10:30:00.000001Z","level":"INFO","fields":{"event":"tool_invocation","tool":"list_databases","toolset":"cloud","result":"success","duration_ms":0},"target":"audit"}\n');
  const scrape = await scrapeUntil(address, (s) => s.maybe('audit_router_sink_delivery_seconds_count', { sink: 'audit' }) === 1, 'one event delivered');
  child.stdin!.end();
  await done;
  const exposed = new Set([...scrape.types.keys(), ...scrape.samples.map((s) => s.name)]);

  const ids = new Set<number>();
  const exprs: string[] = [];
  for (const panel of dashboard.panels) {
    expect(ids.has(panel.id), `duplicate panel id ${panel.id}`).toBe(false);
    ids.add(panel.id);
    expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    if (panel.type === 'row') continue;
    expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    for (const t of panel.targets ?? []) exprs.push(t.expr);
  }
  for (const v of dashboard.templating.list) exprs.push(v.definition.replace(/^label_values\((\w+),.*$/, '$1'));
  const missing: string[] = [];
  for (const expr of exprs) {
    const names = metricNames(expr);
    expect(names.length, expr).toBeGreaterThan(0);
    for (const name of names) if (!exposed.has(name)) missing.push(`${name} (in ${expr})`);
  }
  expect(missing).toEqual([]);
  // The metric names are all on the dashboard.
  const used = new Set(exprs.flatMap(metricNames).map((n) => n.replace(/_bucket$/, '')));
  for (const name of [
    'audit_router_lines_total', 'audit_router_sink_events_total', 'audit_router_sink_retries_total', 'audit_router_sink_buffered_events',
    'audit_router_sink_buffered_bytes', 'audit_router_sink_healthy', 'audit_router_sink_last_delivery_timestamp_seconds',
    'audit_router_sink_delivery_seconds', 'audit_router_redactions_total', 'audit_router_audit_failures_total', 'audit_router_source_files',
  ]) expect(used.has(name), name).toBe(true);
});

/**
 * RouterMetrics against a hand-made view: the families read the counters at scrape time,
 * tool labels are off unless asked and capped when on, and readiness names unhealthy sinks
 * by class only.
 */
import { expect, it } from 'vitest';
import type { Sink, SinkEvent, SinkHealth } from '../../../src/api/sink';
import { newCounters } from '../../../src/api/sink';
import { readiness } from '../../../src/observe/health';
import { RouterMetrics } from '../../../src/observe/metrics';
import type { RunView } from '../../../src/observe/view';
import { silentLogger } from '../../../src/util/log';
import { parseMetrics } from '../../support/api';

function sink(name: string, health: Partial<SinkHealth> = {}): Sink {
  const counters = newCounters();
  const full: SinkHealth = { healthy: true, accepting: true, failedAttempts: 0, authRefused: false, lastDeliveryMs: null, retries: {}, cause: null, ...health };
  return {
    name,
    type: 'file',
    counters,
    write: () => true,
    drain: async () => {},
    close: async () => {},
    health: () => full,
  };
}

function view(sinks: Sink[]): RunView {
  return {
    phase: () => 'running',
    lines: () => [],
    sinks: () => sinks,
    required: () => new Set(sinks.map((s) => s.name)),
    redactions: () => ({ key: 3 }),
    auditFailures: () => 0,
    blocked: () => false,
    blockedSeconds: () => 0,
    sourceFiles: () => [{ source: 'pods', files: 2 }],
  };
}

const event = (tool: string): SinkEvent => {
  const fields = { event: 'tool_invocation', tool };
  return { record: { fields }, json: JSON.stringify({ fields }), fields };
};

it('reads the counters at scrape time', async () => {
  const s = sink('audit');
  const metrics = new RouterMetrics(view([s]), { toolLabels: false, toolLabelsMax: 10, retryBudget: 3, logger: silentLogger });
  (s.counters as { accepted: number }).accepted = 7;
  const scrape = parseMetrics(await metrics.render());
  expect(scrape.value('audit_router_sink_events_total', { sink: 'audit', outcome: 'accepted' })).toBe(7);
  expect(scrape.value('audit_router_sink_buffered_events', { sink: 'audit' })).toBe(7);
  expect(scrape.value('audit_router_redactions_total', { rule: 'key' })).toBe(3);
  expect(scrape.value('audit_router_source_files', { source: 'pods' })).toBe(2);
  expect(scrape.all('audit_router_tool_events_total')).toEqual([]);
  expect(metrics.eventHook()).toBeNull();
});

it('tool labels: only when asked, capped, the rest as _other', async () => {
  const warnings: string[] = [];
  const logger = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
  const metrics = new RouterMetrics(view([]), { toolLabels: true, toolLabelsMax: 2, retryBudget: 3, logger });
  const hook = metrics.eventHook()!;
  for (const tool of ['a', 'b', 'a', 'c', 'd', 'c']) hook(event(tool));
  const scrape = parseMetrics(await metrics.render());
  expect(scrape.value('audit_router_tool_events_total', { tool: 'a', event: 'tool_invocation' })).toBe(2);
  expect(scrape.value('audit_router_tool_events_total', { tool: 'b', event: 'tool_invocation' })).toBe(1);
  expect(scrape.value('audit_router_tool_events_total', { tool: '_other', event: 'tool_invocation' })).toBe(3);
  expect(scrape.all('audit_router_tool_events_total').length).toBe(3);
  expect(warnings.length).toBe(1);
});

it('readiness: 503 naming the sink and the reason, within the retry budget still ready', () => {
  const flaky = sink('dd', { healthy: false, failedAttempts: 2 });
  expect(readiness(view([flaky]), 3).ready).toBe(true);
  const failing = sink('dd', { healthy: false, failedAttempts: 3 });
  const refused = sink('dd2', { healthy: false, authRefused: true });
  const r = readiness(view([failing, refused]), 3);
  expect(r.ready).toBe(false);
  expect(r.body.unhealthy.map((u) => [u.name, u.reason])).toEqual([
    ['dd', 'failing'],
    ['dd2', 'auth_refused'],
  ]);
});

/**
 * `GET /metrics`: the router's counters in the Prometheus text format, through prom-client.
 *
 * Almost everything is read at scrape time from the counters the router and the sinks keep
 * anyway (a collected metric per family), so an enabled API server adds nothing to the hot path
 * but the delivery-latency marks and, with `metrics.tool_labels`, one map lookup per event.
 * This module is loaded only when `api.address` is set: without it, prom-client is never imported.
 *
 * Labels are bounded: sink names and types come from the config, outcomes and rules are fixed
 * sets, error classes are the delivery layer's short names. Tool names appear only with
 * `metrics.tool_labels = true`, capped at `metrics.tool_labels_max` distinct values (the rest
 * count under `tool="_other"`, and that is logged once). No label ever carries event content.
 */
import * as client from 'prom-client';
import type { Logger } from '../util/log';
import type { SinkCounters, SinkEvent } from '../api/sink';
import { sinkProblem } from './health';
import type { TapHub } from './tap';
import type { RunView } from './view';

/** The line outcomes of audit_router_lines_total, in the router's counter names. */
export const LINE_OUTCOMES = ['audit', 'invalid', 'unparseable', 'oversize', 'dropped', 'passthrough', 'empty'] as const;
/** audit_router_sink_events_total outcomes → SinkCounters keys. */
const SINK_OUTCOMES = [
  ['accepted', 'accepted'],
  ['delivered', 'delivered'],
  ['dead_lettered', 'deadLettered'],
  ['dropped', 'dropped'],
  ['failed', 'failed'],
] as const;
/** Seconds from accepted to delivered: a file write takes ms, a network outage minutes. */
export const DELIVERY_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300];
export const DEFAULT_TOOL_LABELS_MAX = 100;
const OTHER_TOOL = '_other';

export interface MetricsOptions {
  readonly toolLabels: boolean;
  readonly toolLabelsMax: number;
  /** /readyz's budget, so audit_router_sink_healthy and /readyz agree. */
  readonly retryBudget: number;
  readonly logger: Logger;
  readonly tap?: TapHub | null;
}

type Labels = Record<string, string | number>;
type Sample = readonly [Labels, number];

/** What prom-client's registry reads from a metric (`get()`), for the families below. */
interface MetricData {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: { labels: Labels; value: number; metricName?: string }[];
}

/** A metric family whose samples are read from the router when scraped (prom-client's metric interface). */
class Collected {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    private readonly read: () => Iterable<Sample>,
  ) {}

  async get(): Promise<MetricData> {
    const values: MetricData['values'] = [];
    for (const [labels, value] of this.read()) values.push({ labels, value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}

/**
 * A histogram whose observations may carry a weight (a batch of events delivered together after
 * waiting the same time), which prom-client's Histogram cannot take.
 */
class WeightedHistogram {
  readonly aggregator = 'sum';
  readonly type = 'histogram';
  private readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(sink: string, seconds: number, count: number): void {
    let s = this.series.get(sink);
    if (!s) {
      s = { buckets: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.series.set(sink, s);
    }
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]!) {
        s.buckets[i]! += count;
        break;
      }
    }
    s.sum += seconds * count;
    s.count += count;
  }

  /** Makes the series exist (zero) before the first delivery, so dashboards see it. */
  ensure(sink: string): void {
    if (!this.series.has(sink)) this.observe(sink, 0, 0);
  }

  async get(): Promise<MetricData> {
    const values: MetricData['values'] = [];
    for (const [sink, s] of this.series) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.buckets[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { sink, le: this.bounds[i]! }, value: acc });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { sink, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { sink }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { sink }, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}

/** Records accepted → delivered times for one sink; handed to the sink through its context. */
export interface DeliveryLatencyRecorder {
  /** `events` delivered together, accepted `seconds` ago. */
  delivered(seconds: number, events: number): void;
}

export class RouterMetrics {
  readonly registry = new client.Registry();
  private readonly latency: WeightedHistogram;
  private readonly tools = new Map<string, Map<string, number>>();
  private toolsCapped = false;

  constructor(
    private readonly view: RunView,
    private readonly options: MetricsOptions,
  ) {
    const r = this.registry;
    client.collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 20 });
    const add = (name: string, help: string, type: 'counter' | 'gauge', read: () => Iterable<Sample>): void =>
      r.registerMetric(new Collected(name, help, type, read) as unknown as client.Metric);

    add('audit_router_lines_total', 'Input lines by outcome (and source, when there are several).', 'counter', () => this.lineSamples());
    add('audit_router_sink_events_total', 'Events by sink and outcome: accepted, delivered, dead_lettered, dropped, failed.', 'counter', () =>
      this.perSink((sink) => SINK_OUTCOMES.map(([outcome, key]) => [{ sink: sink.name, outcome }, sink.counters[key]] as const)),
    );
    add('audit_router_sink_retries_total', 'Events whose delivery was retried, by sink and error class.', 'counter', () =>
      this.perSink((sink) => {
        const byClass = sink.health?.().retries ?? {};
        const out: Sample[] = Object.entries(byClass).map(([error, n]) => [{ sink: sink.name, error }, n]);
        const known = out.reduce((n, [, v]) => n + v, 0);
        // A plugin that counts retries without classes still shows them.
        if (sink.counters.retried > known) out.push([{ sink: sink.name, error: 'unknown' }, sink.counters.retried - known]);
        return out;
      }),
    );
    add('audit_router_file_reopened_total', 'Times a file sink opened its file again because it was removed, replaced or renamed away under it (no SIGHUP).', 'counter', () =>
      this.perSink((sink) => (sink.counters.reopened === undefined ? [] : [[{ sink: sink.name }, sink.counters.reopened]])),
    );
    add('audit_router_sink_buffered_events', 'Events accepted and not yet delivered, dead-lettered or failed.', 'gauge', () =>
      this.perSink((sink) => [[{ sink: sink.name }, pendingEvents(sink.counters)]]),
    );
    add('audit_router_sink_buffered_bytes', 'Bytes waiting in memory or in a disk buffer.', 'gauge', () =>
      this.perSink((sink) => [[{ sink: sink.name }, sink.counters.bufferedBytes]]),
    );
    add('audit_router_sink_healthy', '1 when the sink delivers, 0 while it fails (see /readyz for the reason).', 'gauge', () =>
      this.perSink((sink) => {
        const health = sink.health?.();
        const ok = health ? health.healthy && sinkProblem(sink, this.options.retryBudget) === null : true;
        return [[{ sink: sink.name, type: sink.type }, ok ? 1 : 0]];
      }),
    );
    add('audit_router_sink_last_delivery_timestamp_seconds', 'When the sink last delivered an event (Unix seconds); absent before the first.', 'gauge', () =>
      this.perSink((sink) => {
        const at = sink.health?.().lastDeliveryMs;
        return at == null ? [] : [[{ sink: sink.name }, at / 1000]];
      }),
    );
    add('audit_router_sink_required', '1 for the sinks every event must reach (fail-closed), else 0.', 'gauge', () =>
      this.perSink((sink) => [[{ sink: sink.name }, this.view.required().has(sink.name) ? 1 : 0]]),
    );
    add('audit_router_redactions_total', 'Values masked, by the redaction rule that masked them.', 'counter', () =>
      Object.entries(this.view.redactions()).map(([rule, n]) => [{ rule }, n] as const),
    );
    add('audit_router_audit_failures_total', 'Times a required sink could not take an event (on_audit_failure applied).', 'counter', () => [
      [{}, this.view.auditFailures()],
    ]);
    add('audit_router_input_blocked', '1 while input reading is paused by on_audit_failure = "block".', 'gauge', () => [
      [{}, this.view.blocked() ? 1 : 0],
    ]);
    add('audit_router_input_blocked_seconds_total', 'Seconds input reading was paused by on_audit_failure = "block".', 'counter', () => [
      [{}, this.view.blockedSeconds()],
    ]);
    add('audit_router_source_files', 'Files each file source follows now.', 'gauge', () =>
      this.view.sourceFiles().map(({ source, files }) => [{ source }, files] as const),
    );
    if (options.tap) {
      const tap = options.tap;
      add('audit_router_tap_clients', 'Clients connected to /tap.', 'gauge', () => [[{}, tap.clientCount]]);
      add('audit_router_tap_dropped_events_total', 'Events not sent to a slow /tap client (its buffer was full).', 'counter', () => [
        [{}, tap.droppedEvents],
      ]);
    }
    if (options.toolLabels) {
      add('audit_router_tool_events_total', `Audit events by tool and event (metrics.tool_labels; at most ${options.toolLabelsMax} tools, the rest as "_other").`, 'counter', () =>
        this.toolSamples(),
      );
    }
    this.latency = new WeightedHistogram(
      'audit_router_sink_delivery_seconds',
      'Seconds from an event accepted by a sink to its delivery (written, acknowledged, or in a disk buffer).',
      DELIVERY_BUCKETS,
    );
    r.registerMetric(this.latency as unknown as client.Metric);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The latency recorder for one sink (its series exists from the start). */
  recorder(sink: string): DeliveryLatencyRecorder {
    this.latency.ensure(sink);
    return { delivered: (seconds, events) => this.latency.observe(sink, seconds, events) };
  }

  /** Per-event hook for metrics.tool_labels, or null when tool labels are off. */
  eventHook(): ((event: SinkEvent) => void) | null {
    if (!this.options.toolLabels) return null;
    return (event) => this.countTool(event);
  }

  private countTool(event: SinkEvent): void {
    const fields = event.fields;
    const tool = typeof fields['tool'] === 'string' ? fields['tool'] : '_none';
    const kind = fields['event'];
    const name = kind === 'tool_invocation' || kind === 'tool_denied' || kind === 'tool_error' ? kind : 'other';
    let key = tool;
    if (!this.tools.has(tool) && this.tools.size >= this.options.toolLabelsMax) {
      key = OTHER_TOOL;
      if (!this.toolsCapped) {
        this.toolsCapped = true;
        this.options.logger.warn('metrics.tool_labels: distinct tools over the cap; further tools count as "_other"', {
          cap: this.options.toolLabelsMax,
        });
      }
    }
    let byEvent = this.tools.get(key);
    if (!byEvent) {
      byEvent = new Map();
      this.tools.set(key, byEvent);
    }
    byEvent.set(name, (byEvent.get(name) ?? 0) + 1);
  }

  private *toolSamples(): Iterable<Sample> {
    for (const [tool, byEvent] of this.tools) for (const [event, n] of byEvent) yield [{ tool, event }, n];
  }

  private *lineSamples(): Iterable<Sample> {
    const sources = this.view.lines();
    for (const { source, counters } of sources) {
      const base: Labels = sources.length > 1 && source !== null ? { source } : {};
      for (const outcome of LINE_OUTCOMES) yield [{ ...base, outcome }, counters[outcome]];
    }
  }

  private *perSink(samples: (sink: ReturnType<RunView['sinks']>[number]) => Iterable<Sample>): Iterable<Sample> {
    for (const sink of this.view.sinks()) yield* samples(sink);
  }
}

/** Events a sink holds now: accepted, not yet delivered, dead-lettered or failed. */
export function pendingEvents(c: Readonly<SinkCounters>): number {
  return Math.max(0, c.accepted - c.delivered - c.deadLettered - c.failed);
}

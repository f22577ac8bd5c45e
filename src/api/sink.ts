/**
 * The one interface between the core and every sink (built-in or plugin).
 *
 * The core knows nothing else of a sink: it calls `write` for every redacted audit event,
 * waits on `drain()` when `write` returned false (backpressure, like a Node Writable),
 * calls `reopen()` on SIGHUP, and `close(deadline)` once at shutdown. It then reads the
 * counters to compute the exit status: every accepted event must be delivered or saved to
 * the dead-letter destination, otherwise audit-router exits 1.
 */
import type { Writable } from 'node:stream';
import type { JsonObject } from '../util/json';
import type { Logger } from '../util/log';

/** One redacted audit event, as every sink receives it. Never mutate it: sinks share it. */
export interface SinkEvent {
  /** The redacted event, in the layout it arrived in (nested `fields`, or flattened). */
  readonly record: JsonObject;
  /** `record` serialised once as compact JSON, without a trailing newline. */
  readonly json: string;
  /** The event's own fields wherever the layout put them (`record.fields`, or `record`). */
  readonly fields: JsonObject;
}

/** What a sink did with what it was given. All counts are of events. */
export interface SinkCounters {
  /** Events handed to `write`. */
  accepted: number;
  /** Events written (file: handed to the OS; network: acknowledged by the receiver). */
  delivered: number;
  /** Events given up on and handed to the dead-letter destination. */
  deadLettered: number;
  /** Events that were neither delivered nor dead-lettered (the dead-letter write failed too). */
  failed: number;
  /** Events dropped by policy (`when_full = "drop_newest"`); also dead-lettered. */
  dropped: number;
  /** Delivery attempts repeated after a retryable error. */
  retried: number;
  /**
   * Events the receiver said it rejected after taking the request (OTLP partial success). Their
   * whole batch is in `deadLettered`: the receiver does not say which ones it refused. Optional
   * so that plugins written before it still type-check.
   */
  rejected?: number;
  /**
   * Times the sink opened its destination again because it was removed, replaced or renamed
   * away under it without a SIGHUP (file sink). Optional: other sinks leave it out.
   */
  reopened?: number;
  /** Bytes waiting in memory or in a disk buffer. */
  bufferedBytes: number;
  /** Events kept in a disk buffer at close, to be delivered on the next start. */
  buffered: number;
  /** The class of the last error ("network", "timeout", "http_429", "auth", "io", ...), or null. */
  lastError: string | null;
}

export function newCounters(): SinkCounters {
  return {
    accepted: 0,
    delivered: 0,
    deadLettered: 0,
    failed: 0,
    dropped: 0,
    retried: 0,
    rejected: 0,
    bufferedBytes: 0,
    buffered: 0,
    lastError: null,
  };
}

/** Events accepted but neither delivered, dead-lettered nor kept in a disk buffer. */
export function undelivered(c: SinkCounters): number {
  return Math.max(0, c.accepted - c.delivered - c.deadLettered - c.buffered);
}

/**
 * How a sink is doing, for readiness, metrics and fail-closed (`on_audit_failure`). Optional:
 * a plugin without `health()` counts as healthy and always accepting.
 */
export interface SinkHealth {
  /** False from a failed attempt until the next success, and while credentials are refused. */
  readonly healthy: boolean;
  /**
   * False when the sink cannot take responsibility for the next event now: writes failing
   * (disk full), buffer full, receiver down past the buffer.
   */
  readonly accepting: boolean;
  /** Failed delivery attempts since the last success. */
  readonly failedAttempts: number;
  /** The receiver refuses the credentials. */
  readonly authRefused: boolean;
  /** When an event was last delivered (ms since the epoch), or null. */
  readonly lastDeliveryMs: number | null;
  /** Events retried, by error class; the values add up to `counters.retried`. */
  readonly retries: Readonly<Record<string, number>>;
  /** The errno code or error class of the current failure, for the log line naming the cause. */
  readonly cause: string | null;
}

/** Told when events are delivered, with how long ago they were accepted (metrics; optional). */
export interface DeliveryLatency {
  delivered(seconds: number, events: number): void;
}

export interface Sink {
  /** The config name (`[sinks.<name>]`), or the flag that made it (`file`, `stdout`). */
  readonly name: string;
  /** The sink type (`file`, `stdout`, `datadog`, `fluentd`, or a plugin's path). */
  readonly type: string;
  readonly counters: Readonly<SinkCounters>;
  /**
   * How many of the events accepted so far (in `counters.accepted` units, from the first) this
   * sink has taken responsibility for, in order: written (file), acknowledged by the receiver,
   * kept in a disk buffer, or handed to the dead letter. It counts a prefix — the n-th event only
   * once every earlier one is — never decreases, and stops growing at an event that was lost
   * (`failed`), so that event is read again after a restart. The core moves the checkpoints of
   * file sources from it. Optional for plugins: without it, `delivered + deadLettered` is used,
   * which is right for a sink that settles events in the order it accepted them.
   */
  readonly committed?: number;
  /**
   * Accept one event. Returns false when the caller must await `drain()` before writing more.
   * Never throws for delivery problems: they are counted and dead-lettered.
   */
  write(event: SinkEvent): boolean;
  /** Resolves once the sink can take more events. */
  drain(): Promise<void>;
  /** How the sink is doing (readiness, metrics, fail-closed). Optional. */
  health?(): SinkHealth;
  /** SIGHUP: reopen files so external rotation (logrotate) keeps working. Optional. */
  reopen?(): Promise<void>;
  /**
   * Flush what is pending and release everything. Resolves by `deadline` (ms since the epoch)
   * at the latest; what is still undelivered then is dead-lettered or kept in a disk buffer.
   */
  close(deadline: number): Promise<void>;
}

/** Why a line or event went to the dead-letter destination. */
export type DeadLetterReason =
  | 'oversize_line'
  | 'unparseable_audit'
  | 'schema_invalid'
  | 'undeliverable'
  | 'dropped_queue_full'
  | 'event_too_large'
  | 'malformed_framing';

/** One dead-letter record. `event`, when present, is already redacted. Never raw input. */
export interface DeadLetterRecord {
  reason: DeadLetterReason;
  /** Input line number (1-based), when the record comes from the input. */
  line?: number;
  /** The input the line came from, when there are several (a followed file's path). */
  source?: string;
  /** Size in bytes of the line or event. */
  size?: number;
  /** sha256 (hex) of the raw line, so an operator can match it against the source. */
  sha256?: string;
  /** The sink that gave up, for `undeliverable`, `dropped_queue_full`, `event_too_large`. */
  sink?: string;
  /** Human-readable detail: schema errors, the last delivery error (never content). */
  detail?: string | string[];
  /** The redacted event, when there is one. */
  event?: JsonObject;
}

/** Where rejected and undeliverable events go. Always present; counts even when not configured. */
export interface DeadLetter {
  /** Returns false when the caller should await `drain()`. */
  write(record: DeadLetterRecord): boolean;
  drain(): Promise<void>;
}

/**
 * What a sink is for. `dead_letter`: this sink *is* the dead-letter destination, so what it cannot
 * write is counted `failed` (it changes the exit status) instead of being handed to a dead letter.
 */
export type SinkRole = 'sink' | 'dead_letter';

/**
 * What the core hands a sink factory. Internal switches live here, never in the user's options
 * table: the options are exactly what the user wrote (and the options schema allows).
 */
export interface SinkContext {
  readonly name: string;
  readonly logger: Logger;
  readonly deadLetter: DeadLetter;
  /** The directory relative paths in the options are resolved against (the config file's). */
  readonly baseDir: string;
  /** Default `sink`. */
  readonly role?: SinkRole;
  /** Where a sink that writes to standard output writes (default `process.stdout`; tests pass another). */
  readonly stdout?: Writable;
  /** Present when metrics are on: report accepted → delivered times to it. */
  readonly latency?: DeliveryLatency;
  /** The pod the router runs in (`[kubernetes]`), for sinks that have a place for it; else absent. */
  readonly kubernetes?: KubernetesMetadata | null;
}

/**
 * Where the router runs in Kubernetes, from the downward API (`[kubernetes]`). Sinks attach it
 * where they have a place (Datadog tags and hostname, a Fluentd record's `kubernetes` object);
 * the event itself is never changed.
 */
export interface KubernetesMetadata {
  readonly pod?: string;
  readonly namespace?: string;
  readonly node?: string;
  readonly container?: string;
}

/** The metadata as the `kubernetes` object of a record (the names Fluentd's kubernetes filter uses). */
export function kubernetesRecord(meta: KubernetesMetadata): Record<string, string> {
  const out: Record<string, string> = {};
  if (meta.pod !== undefined) out['pod_name'] = meta.pod;
  if (meta.namespace !== undefined) out['namespace_name'] = meta.namespace;
  if (meta.container !== undefined) out['container_name'] = meta.container;
  if (meta.node !== undefined) out['host'] = meta.node;
  return out;
}

/** A sink's options: the `[sinks.<name>]` table minus `type`, already validated. */
export type SinkOptions = Record<string, unknown>;

export type SinkFactory = (options: SinkOptions, context: SinkContext) => Sink | Promise<Sink>;

/**
 * What a sink module (built-in under sinks/, or a plugin file or package) exports.
 * `optionsSchema` (a JSON Schema for the options, `type` excluded) is optional for plugins;
 * when present, the config is validated against it before anything starts.
 */
export interface SinkModule {
  createSink: SinkFactory;
  optionsSchema?: object;
}

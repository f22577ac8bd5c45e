/**
 * What the API server sees of a running router: a read-only view the core hands to
 * src/observe/, so metrics, health and the tap read the router's own counters at scrape time
 * instead of counting on the hot path. The core fills it in; nothing here reaches back.
 */
import type { RouterCounters } from '../core/router';
import type { Sink } from '../api/sink';

/** The input lines of one source (or of all, when `source` is null: a single source). */
export interface SourceLines {
  readonly source: string | null;
  readonly counters: Readonly<RouterCounters>;
}

/** Why the run is not ready, beyond the sinks: starting up, stopping, or input blocked (fail-closed). */
export type RunPhase = 'starting' | 'running' | 'stopping';

export interface RunView {
  /** Where the run is in its life: /readyz answers 503 unless `running`. */
  phase(): RunPhase;
  /** Line counters per source. */
  lines(): readonly SourceLines[];
  /** The sinks, the dead letter included (named `dead_letter`), once they are open. */
  sinks(): readonly Sink[];
  /** The names of the sinks marked required (fail-closed). */
  required(): ReadonlySet<string>;
  /** Masks made by each redaction rule so far. */
  redactions(): Readonly<Record<string, number>>;
  /** Times a required sink could not take an event (see docs/config.md, on_audit_failure). */
  auditFailures(): number;
  /** True while input reading is paused by on_audit_failure = "block". */
  blocked(): boolean;
  /** Seconds input reading has been paused by on_audit_failure = "block", in total. */
  blockedSeconds(): number;
  /** Files each file source follows now (empty for stdin and wrapper mode). */
  sourceFiles(): ReadonlyArray<{ readonly source: string; readonly files: number }>;
}

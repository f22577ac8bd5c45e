/**
 * Liveness and readiness, as `GET /healthz` and `GET /readyz` answer them.
 *
 * Liveness is the event loop answering: the server can only reply when it is not stuck.
 * Readiness is 200 once every sink is open and none is unhealthy past its retry budget
 * (`api.retry_budget` consecutive failed attempts), refusing credentials, or unable to take
 * events while input is blocked by `on_audit_failure = "block"`. The body names the sinks and
 * why, by error class only: never an address with credentials, a key, or event content.
 */
import type { Sink } from '../api/sink';
import type { RunView } from './view';

export const DEFAULT_RETRY_BUDGET = 3;

export type UnhealthyReason = 'auth_refused' | 'failing' | 'not_accepting';

export interface SinkStatus {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly reason: UnhealthyReason;
  /** The class of the last error ("network", "auth", "enospc", ...), or null. */
  readonly last_error: string | null;
  readonly failed_attempts: number;
}

export interface Readiness {
  readonly ready: boolean;
  readonly body: {
    readonly status: 'ready' | 'not_ready';
    readonly phase: string;
    readonly input_blocked: boolean;
    readonly unhealthy: readonly SinkStatus[];
  };
}

/** Why `sink` is not ready, or null when it is. */
export function sinkProblem(sink: Sink, retryBudget: number): UnhealthyReason | null {
  const health = sink.health?.();
  if (!health) return null; // a plugin without health(): only its counters speak for it
  if (health.authRefused) return 'auth_refused';
  if (!health.healthy && health.failedAttempts >= retryBudget) return 'failing';
  if (!health.accepting && !health.healthy) return 'not_accepting';
  return null;
}

export function readiness(view: RunView, retryBudget = DEFAULT_RETRY_BUDGET): Readiness {
  const phase = view.phase();
  const required = view.required();
  const unhealthy: SinkStatus[] = [];
  for (const sink of view.sinks()) {
    const reason = sinkProblem(sink, retryBudget);
    if (reason === null) continue;
    const health = sink.health?.();
    unhealthy.push({
      name: sink.name,
      type: sink.type,
      required: required.has(sink.name),
      reason,
      last_error: sink.counters.lastError,
      failed_attempts: health?.failedAttempts ?? 0,
    });
  }
  const blocked = view.blocked();
  const ready = phase === 'running' && unhealthy.length === 0 && !blocked;
  return { ready, body: { status: ready ? 'ready' : 'not_ready', phase, input_blocked: blocked, unhealthy } };
}

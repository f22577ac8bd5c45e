/**
 * Fail-closed (`on_audit_failure`): decides, from the required sinks' health, whether the run
 * may go on reading input. An event counts as recorded once every required sink has taken
 * responsibility for it (written to the OS, acknowledged, or in a disk buffer).
 *
 * - `continue`: nothing stops; what a required sink could not record is dead-lettered and
 *   counted as an audit failure (exit 1).
 * - `block`: after each chunk, while a required sink cannot take the next event, input is not
 *   read (a pipe or the wrapped server's stderr fills up, so the server stops at its next write);
 *   it resumes by itself once the sink accepts again.
 * - `exit`: the first time a required sink cannot take an event, the run stops its input
 *   (the wrapped server is terminated) and exits 3.
 *
 * Health is polled (every `pollMs`) only while blocked or, for `exit`, on a timer: nothing is
 * added to the per-event path.
 */
import type { OnAuditFailure } from './config';
import type { Logger } from '../util/log';
import type { Sink } from '../api/sink';

export const GUARD_POLL_MS = 20;

export interface Refusal {
  readonly sink: Sink;
  readonly cause: string;
}

export class AuditGuard {
  /** Block episodes and exit triggers (events not recorded are added from the sinks' counters). */
  private episodes = 0;
  private blockedSince: number | null = null;
  private blockedMs = 0;
  private watcher: NodeJS.Timeout | null = null;
  private triggered: Refusal | null = null;
  private onExit: ((refusal: Refusal) => void) | null = null;

  constructor(
    readonly mode: OnAuditFailure,
    private readonly required: readonly Sink[],
    private readonly logger: Logger,
    private readonly pollMs = GUARD_POLL_MS,
  ) {}

  /** The first required sink that cannot take the next event now, or null. */
  refusal(): Refusal | null {
    for (const sink of this.required) {
      const health = sink.health?.();
      if (health && !health.accepting) return { sink, cause: health.cause ?? sink.counters.lastError ?? 'unknown' };
    }
    return null;
  }

  /** Audit failures so far: block episodes and the exit trigger, plus events not recorded. */
  get failures(): number {
    return this.episodes + this.unrecorded;
  }

  /** Events a required sink dead-lettered or failed: accepted, but not recorded where required. */
  get unrecorded(): number {
    let n = 0;
    for (const sink of this.required) n += sink.counters.deadLettered + sink.counters.failed;
    return n;
  }

  get blocked(): boolean {
    return this.blockedSince !== null;
  }

  get blockedSeconds(): number {
    return (this.blockedMs + (this.blockedSince !== null ? Date.now() - this.blockedSince : 0)) / 1000;
  }

  /** The refusal that triggered `exit`, once it did. */
  get exitCause(): Refusal | null {
    return this.triggered;
  }

  /**
   * `exit`: watches the required sinks from now on and calls `onExit` once, the first time one
   * cannot take events. Also checked after each chunk by `afterChunk`.
   */
  watch(onExit: (refusal: Refusal) => void): void {
    if (this.mode !== 'exit' || this.required.length === 0) return;
    const check = (): void => {
      const refusal = this.refusal();
      if (refusal) this.trigger(refusal, onExit);
    };
    this.watcher = setInterval(check, this.pollMs);
    this.watcher.unref();
    this.onExit = onExit;
  }

  /** Called after each chunk was routed: `block` waits here while a required sink refuses. */
  async afterChunk(stopping: () => boolean): Promise<void> {
    if (this.mode === 'continue' || this.required.length === 0) return;
    let refusal = this.refusal();
    if (refusal === null) return;
    if (this.mode === 'exit') {
      if (this.onExit) this.trigger(refusal, this.onExit);
      return;
    }
    this.episodes++;
    this.blockedSince = Date.now();
    this.logger.error('input blocked: a required sink cannot take events', {
      sink: refusal.sink.name,
      cause: refusal.cause,
      on_audit_failure: 'block',
    });
    while (refusal !== null && !stopping()) {
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      refusal = this.refusal();
    }
    const ms = Date.now() - this.blockedSince;
    this.blockedMs += ms;
    this.blockedSince = null;
    this.logger.info('input resumed', { blocked_ms: ms, stopping: stopping() });
  }

  stop(): void {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = null;
  }

  private trigger(refusal: Refusal, onExit: (refusal: Refusal) => void): void {
    if (this.triggered) return;
    this.triggered = refusal;
    this.episodes++;
    this.stop();
    this.logger.error('audit failure: stopping (on_audit_failure = "exit")', {
      sink: refusal.sink.name,
      cause: refusal.cause,
    });
    onExit(refusal);
  }
}

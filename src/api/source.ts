/**
 * The contract between an input and the core. A source produces raw byte chunks — it knows
 * nothing of lines, JSON or audit events — and the router never knows where they came from
 * (a pipe, the stderr of a wrapped command, later a followed file or a FIFO).
 *
 * The core reads `chunks` until it ends, and calls `stop()` once on SIGTERM/SIGINT: the source
 * then stops producing (a wrapper forwards the signal to its command and keeps reading until the
 * command's stderr closes).
 */
import type { EventEmitter } from 'node:events';

export interface Source {
  /** The source's name in logs and counters (`stdin`, `wrapper`, ...). */
  readonly name: string;
  /** The input, chunk by chunk. Ends at EOF; throws on a read error (its code is logged, never its message). */
  readonly chunks: AsyncIterable<Buffer>;
  /**
   * Ask the source to stop producing. Idempotent. After it, `chunks` ends (possibly with an
   * error, which the core ignores because it asked for the stop).
   */
  stop(): void;
  /**
   * Where the core listens for SIGTERM, SIGINT and SIGHUP. Defaults to the process; a wrapper
   * keeps SIGTERM/SIGINT for its command and passes only SIGHUP on.
   */
  readonly signals?: EventEmitter;
  /**
   * on_audit_failure = "exit": make the producer stop (a wrapper: SIGTERM to its command, SIGKILL
   * after `graceMs`) while the core reads on to the end. Optional: without it the core calls `stop()`.
   */
  terminate?(graceMs: number): void;
}

/**
 * The line writer: what the sinks that write JSON lines to a Node Writable (file, stdout) share: batching,
 * backpressure, and the accounting of every event (delivered, dead-lettered or failed).
 *
 * Events are joined into batches of whole lines (at most ~64 KiB, or what arrived since the
 * previous write completed) and exactly one batch is handed to the stream at a time. One write
 * in flight means its callback tells exactly which events reached the OS: a stream that fails
 * in the middle of a multi-chunk `_writev` would report every chunk failed, written or not.
 *
 * A write failing with an error the destination may recover from (`retryable`: disk full, I/O
 * error) does not lose the batch: it goes back to the head of the queue and is written again
 * after a backoff, in order, while the sink reports itself unhealthy and not accepting. New
 * events still queue in memory up to `queue` (events, bytes); beyond that they are handed to the
 * dead letter at once, so a full disk never stalls the input unless the core decides to
 * (`on_audit_failure = "block"`).
 */
import type { Writable } from 'node:stream';
import type { JsonObject } from '../util/json';
import type { Logger, LogFields } from '../util/log';
import { kubernetesRecord, newCounters } from '../api/sink';
import type { DeadLetter, DeliveryLatency, KubernetesMetadata, Sink, SinkCounters, SinkEvent, SinkHealth } from '../api/sink';
import { AcceptClock } from './accept-clock';
import { backoffDelay } from './backoff';
import { untilDeadline, Waiters } from './waiters';

/** A batch is sealed once it reaches this many UTF-16 units (about bytes for JSON). */
export const MAX_BATCH_CHARS = 64 * 1024;
/**
 * `write()` returns false once this much is waiting; `drain()` resolves at half of it. Two
 * batches: one being written, one filling. More would only let the input run ahead, and every
 * line waiting across writes outlives V8's young generation and is promoted to the old one,
 * which then grows until a full collection (1 MiB here measured ~12 MB more peak RSS, no less
 * CPU: docs/performance.md).
 */
export const HIGH_WATER_CHARS = 2 * MAX_BATCH_CHARS;
const LOW_WATER_CHARS = HIGH_WATER_CHARS / 2;

/** How failed writes are retried and how much waits meanwhile (file sink `queue`, `retry`). */
export interface LineSinkOptions {
  readonly queue?: { readonly maxEvents: number; readonly maxBytes: number };
  readonly retry?: { readonly initialBackoffMs: number; readonly maxBackoffMs: number };
  readonly latency?: DeliveryLatency;
}

export const LINE_SINK_DEFAULTS = {
  queue: { maxEvents: 10_000, maxBytes: 16 * 1024 * 1024 },
  retry: { initialBackoffMs: 100, maxBackoffMs: 5_000 },
} as const;

interface Batch {
  readonly data: string;
  readonly count: number;
  readonly chars: number;
  settled: boolean;
}

/**
 * The stream to write to now: a Writable, `null` to wait (the subclass calls `pump()` once it
 * has one), or `false` to give up on what is pending (it is failed or dead-lettered).
 */
export type Target = Writable | null | false;

export abstract class LineSink implements Sink {
  readonly counters: SinkCounters = newCounters();

  private open = '';
  private openCount = 0;
  private openChars = 0;
  private readonly queue: Batch[] = [];
  private inFlight: Batch | null = null;
  private pendingChars = 0;
  private scheduled = false;
  private readonly drainWaiters = new Waiters();
  private readonly idleWaiters = new Waiters();
  private errorLogged = false;
  private closing: Promise<void> | null = null;
  private enrichSuffix: string | null = null;
  /** Events settled in order (see `committed`); frozen once one was lost. */
  private committedCount = 0;
  private lostOne = false;
  /** Set by `close()`: later writes are failed at once. */
  protected closed = false;
  /** Events waiting (queued, open, in flight). */
  private pendingCount = 0;
  /** Set from a retryable write failure until a write succeeds. */
  private failing = false;
  private failedAttempts = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private cause: string | null = null;
  private lastDeliveryMs: number | null = null;
  private readonly retries: Record<string, number> = {};
  private readonly clock: AcceptClock | null;
  private readonly queueLimit: { readonly maxEvents: number; readonly maxBytes: number };
  private readonly retry: { readonly initialBackoffMs: number; readonly maxBackoffMs: number };

  constructor(
    readonly name: string,
    readonly type: string,
    protected readonly logger: Logger,
    /** Where failed events go; null when this sink is itself the dead-letter destination. */
    private readonly deadLetter: DeadLetter | null,
    options: LineSinkOptions = {},
  ) {
    this.clock = options.latency ? new AcceptClock(options.latency) : null;
    this.queueLimit = options.queue ?? LINE_SINK_DEFAULTS.queue;
    this.retry = options.retry ?? LINE_SINK_DEFAULTS.retry;
  }

  /** Whether a failed write is worth retrying (the batch is kept) rather than dead-lettered. */
  protected retryable(_error: Error): boolean {
    return false;
  }

  health(): SinkHealth {
    return {
      healthy: !this.failing,
      accepting: !this.failing && !this.closed,
      failedAttempts: this.failedAttempts,
      authRefused: false,
      lastDeliveryMs: this.lastDeliveryMs,
      retries: this.retries,
      cause: this.cause,
    };
  }

  /** The stream to write the next batch to (see `Target`). May throw: treated as `false`. */
  protected abstract target(): Target;
  /** A write on `stream` failed with `error` (already counted and logged). */
  protected abstract writeFailed(stream: Writable, error: Error): void;
  /** Called by `close()` once everything pending is written: release the stream. */
  protected abstract release(): Promise<void>;
  /** Called by `close()` at the deadline when `release()` did not finish: let go of everything. */
  protected abstract abandon(): void;
  /** What to add to the error log line (the path, ...). Never content. */
  protected abstract describe(): LogFields;

  /**
   * `enrich = true` (file, stdout): every line gets a `kubernetes` object after the event's own
   * keys. The event's keys and values are written as they are; only the line has more.
   */
  enrichWith(meta: KubernetesMetadata | null | undefined): void {
    if (!meta) return;
    this.enrichSuffix = `,"kubernetes":${JSON.stringify(kubernetesRecord(meta))}}`;
  }

  write(source: SinkEvent): boolean {
    // An event that has a `kubernetes` key of its own keeps it alone: no key is ever written twice.
    const event =
      this.enrichSuffix === null || !source.json.endsWith('}') || 'kubernetes' in source.record
        ? source
        : { ...source, json: source.json.slice(0, -1) + this.enrichSuffix };
    this.counters.accepted++;
    if (this.closed) {
      this.fail(
        { data: event.json + '\n', count: 1, chars: 0, settled: true },
        'sink closed',
      );
      return true;
    }
    const chars = event.json.length + 1;
    if (this.failing && (this.pendingCount >= this.queueLimit.maxEvents || this.pendingChars + chars > this.queueLimit.maxBytes)) {
      // The destination fails and the queue is full: this event cannot wait in order.
      this.fail({ data: event.json + '\n', count: 1, chars: 0, settled: true }, `queue full while writes fail (${this.cause ?? 'error'})`);
      return true;
    }
    this.clock?.accepted();
    this.pendingCount++;
    this.open = this.open + event.json + '\n';
    this.openCount++;
    this.openChars += chars;
    this.pendingChars += chars;
    this.counters.bufferedBytes = this.pendingChars;
    if (this.openChars >= MAX_BATCH_CHARS) this.seal();
    if (this.inFlight === null && !this.scheduled) {
      // Whatever else arrives in this turn of the event loop joins the same batch.
      this.scheduled = true;
      setImmediate(this.onTick);
    }
    return this.failing || this.pendingChars < HIGH_WATER_CHARS;
  }

  drain(): Promise<void> {
    // While writes fail, waiting would stall the input: events queue (up to `queue`) instead.
    if (this.failing || this.pendingChars < HIGH_WATER_CHARS) return Promise.resolve();
    return this.drainWaiters.wait();
  }

  close(deadline: number): Promise<void> {
    this.closing ??= this.shutDown(deadline);
    return this.closing;
  }

  private async shutDown(deadline: number): Promise<void> {
    this.closed = true;
    const done = (async (): Promise<void> => {
      await this.whenIdle();
      await this.release();
    })();
    if ((await untilDeadline(done, deadline)) === 'expired') {
      this.stopRetrying();
      this.failPending(this.failing ? `close deadline reached while writes fail (${this.cause ?? 'error'})` : 'close deadline reached');
      this.abandon();
    }
  }

  /** Writes the next batch when none is in flight. Subclasses call it when a stream appears. */
  protected pump(): void {
    if (this.inFlight !== null || this.retryTimer !== null) return;
    if (this.queue.length === 0) {
      if (this.openCount === 0) {
        this.settleIdle();
        return;
      }
      this.seal();
    }
    let target: Target;
    try {
      target = this.target();
    } catch (error) {
      this.report(asError(error));
      target = false;
    }
    if (target === null) return;
    if (target === false) {
      this.failPending('destination unavailable');
      return;
    }
    const batch = this.queue.shift()!;
    const stream = target;
    this.inFlight = batch;
    stream.write(batch.data, (error) => this.written(stream, batch, error ?? null));
  }

  /** Logs an I/O error once per outage (until a write succeeds again) and counts it. */
  protected report(error: Error): void {
    this.counters.lastError = 'io';
    if (this.errorLogged) return;
    this.errorLogged = true;
    this.logger.error('sink write failed', {
      sink: this.name,
      type: this.type,
      ...this.describe(),
      code: ioErrorCode(error),
    });
  }

  private readonly onTick = (): void => {
    this.scheduled = false;
    this.pump();
  };

  private seal(): void {
    this.queue.push({
      data: this.open,
      count: this.openCount,
      chars: this.openChars,
      settled: false,
    });
    this.open = '';
    this.openCount = 0;
    this.openChars = 0;
  }

  /** Sink contract: events settled in order (batches settle in order, one in flight at a time). */
  get committed(): number {
    return this.committedCount;
  }

  private settle(events: number): void {
    if (!this.lostOne) this.committedCount += events;
  }

  private written(stream: Writable, batch: Batch, error: Error | null): void {
    if (batch.settled) return; // already given up on at the close deadline
    batch.settled = true;
    if (this.inFlight === batch) this.inFlight = null;
    this.forget(batch);
    if (error && this.retryable(error)) {
      this.report(error);
      this.writeFailed(stream, error);
      this.retryLater(batch, error);
      return;
    }
    if (error) {
      this.report(error);
      this.clock?.discarded(batch.count);
      this.fail(batch, ioErrorCode(error));
      this.writeFailed(stream, error);
    } else {
      this.counters.delivered += batch.count;
      this.clock?.delivered(batch.count);
      this.lastDeliveryMs = Date.now();
      if (this.failing) {
        this.failing = false;
        this.failedAttempts = 0;
        this.cause = null;
      }
      this.settle(batch.count);
      if (this.errorLogged) {
        this.errorLogged = false;
        this.logger.info('sink writes succeed again', { sink: this.name, type: this.type, ...this.describe() });
      }
    }
    // Only a partial batch left: it waits for the end of this turn of the event loop, as in
    // write(), since the input this completion unblocks may still add to it. Sealing it now would
    // cut the batches short whenever the writes keep up (more, smaller writes).
    if (this.queue.length === 0 && this.openCount > 0) {
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.onTick);
      }
      return;
    }
    this.pump();
  }

  /**
   * A retryable failure: the batch goes back to the head of the queue, unchanged, and the next
   * attempt waits a backoff (full jitter, src/delivery/backoff.ts).
   */
  private retryLater(batch: Batch, error: Error): void {
    const code = ioErrorCode(error);
    const errorClass = code.toLowerCase();
    this.retries[errorClass] = (this.retries[errorClass] ?? 0) + batch.count;
    this.counters.retried += batch.count;
    this.cause = code;
    const delay = backoffDelay(this.failedAttempts, this.retry.initialBackoffMs, this.retry.maxBackoffMs);
    this.failedAttempts++;
    // Back in the queue, in front: it still counts as pending, in memory.
    this.pendingChars += batch.chars;
    this.counters.bufferedBytes = this.pendingChars;
    this.pendingCount += batch.count;
    this.queue.unshift({ data: batch.data, count: batch.count, chars: batch.chars, settled: false });
    if (!this.failing) {
      this.failing = true;
      this.logger.warn('sink writes fail; events are kept in memory and retried', {
        sink: this.name,
        type: this.type,
        ...this.describe(),
        code,
        queue_max_events: this.queueLimit.maxEvents,
      });
    }
    // Callers waiting for room must not wait on a destination that is down (events queue instead).
    this.drainWaiters.release();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, delay);
  }

  private stopRetrying(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Fails every batch not yet written: queued, open and in flight. */
  private failPending(reason: string): void {
    if (this.openCount > 0) this.seal();
    const batches = this.queue.splice(0);
    if (this.inFlight !== null) {
      batches.unshift(this.inFlight);
      this.inFlight = null;
    }
    for (const batch of batches) {
      if (batch.settled) continue;
      batch.settled = true;
      this.forget(batch);
      this.clock?.discarded(batch.count);
      this.fail(batch, reason);
    }
    this.settleIdle();
  }

  /** A batch left memory (written or failed): wake `drain()` callers once below the low mark. */
  private forget(batch: Batch): void {
    this.pendingChars -= batch.chars;
    this.pendingCount -= batch.count;
    this.counters.bufferedBytes = this.pendingChars;
    this.wakeDrainers();
  }

  private wakeDrainers(): void {
    if (this.pendingChars > LOW_WATER_CHARS) return;
    this.drainWaiters.release();
  }

  /**
   * Hands the events of a batch that could not be written to the dead letter. The batch keeps only
   * its text, not the event objects: holding thousands of parsed events while writes are in flight
   * would promote them all to the old generation. Failure is rare, so the lines are parsed again.
   */
  private fail(batch: Batch, detail: string): void {
    const deadLetter = this.deadLetter;
    if (deadLetter === null) {
      this.counters.failed += batch.count;
      this.lostOne = true;
      return;
    }
    let start = 0;
    for (let i = 0; i < batch.count; i++) {
      const end = batch.data.indexOf('\n', start);
      const line = batch.data.slice(start, end < 0 ? undefined : end);
      start = end + 1;
      try {
        deadLetter.write({ reason: 'undeliverable', sink: this.name, detail, event: JSON.parse(line) as JsonObject });
        this.counters.deadLettered++;
        this.settle(1);
      } catch {
        this.counters.failed++;
        this.lostOne = true;
      }
    }
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight === null && this.queue.length === 0 && this.openCount === 0) return Promise.resolve();
    const idle = this.idleWaiters.wait();
    this.pump();
    return idle;
  }

  private settleIdle(): void {
    this.wakeDrainers();
    if (this.idleWaiters.size === 0) return;
    if (this.inFlight !== null || this.queue.length > 0 || this.openCount > 0) return;
    this.idleWaiters.release();
  }
}

/** The errno code ("EACCES", "EPIPE", ...) or the error's name: never its message (it may hold paths or data). */
export function ioErrorCode(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : error.name;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

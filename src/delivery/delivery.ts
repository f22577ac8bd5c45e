/**
 * The delivery layer: turns a Transport (one request per batch) into a Sink with a bounded
 * queue, batching, retries with backoff, an optional disk buffer, backpressure and a bounded
 * shutdown. Every network sink is this plus a Transport.
 *
 * One batch is in flight at a time, always the oldest events: order is kept, acknowledgements
 * are a moving cursor, and a retry never overtakes newer events.
 */
import type { DeadLetterReason, Sink, SinkContext, SinkCounters, SinkEvent, SinkHealth } from '../api/sink';
import { newCounters } from '../api/sink';
import { AcceptClock } from './accept-clock';
import { backoffDelay } from './backoff';
import { DiskStore } from './disk-store';
import { DeliveryError, timeoutError, toDeliveryError } from './errors';
import type { DeliveryConfig } from './options';
import { type Entry, MemoryStore, type Store } from './store';
import { untilDeadline, Waiters } from './waiters';

/**
 * What a receiver said when it took a request but refused part of it (OTLP partial success):
 * `rejected` of the batch's events were not kept. The receiver does not say which, so the whole
 * batch goes to the dead letter with `detail` (the events it did keep are then duplicates there,
 * never losses), `rejected` is added to the sink's `rejected` counter, and the batch is not retried.
 */
export interface DeliveryOutcome {
  readonly rejected: number;
  readonly detail: string;
}

/** What a network sink supplies: how to send one batch. */
export interface Transport {
  /** Largest event (in `size` units) the receiver takes; larger ones are dead-lettered as event_too_large. */
  readonly maxEventBytes: number;
  /** Size of the event in a request, for `batch.max_bytes` and `maxEventBytes`. */
  size(event: SinkEvent): number;
  /**
   * Sends one batch; resolves once the receiver acknowledged all of it, or with a
   * DeliveryOutcome when it acknowledged the request but rejected some of the events. Rejects
   * with a DeliveryError (other errors count as network errors). Must stop when `signal` aborts.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: most transports have no outcome and return Promise<void>
  send(batch: readonly SinkEvent[], signal: AbortSignal): Promise<void | DeliveryOutcome | undefined>;
  /** Releases connections; must be done by `deadline` (ms since the epoch). */
  close(deadline: number): Promise<void>;
}

/** A Sink backed by the delivery layer, with its health for the core's status output. */
export interface DeliverySink extends Sink {
  /** False after a failed attempt until the next success; false while credentials are refused. */
  readonly healthy: boolean;
  /** Disk buffer facts: events replayed at start, torn records skipped. Zero for memory buffers. */
  readonly bufferStats: { readonly replayed: number; readonly tornRecords: number };
}

export interface DeliverySinkParams {
  readonly type: string;
  readonly config: DeliveryConfig;
  readonly transport: Transport;
  readonly context: SinkContext;
  /** Jitter source, for tests. */
  readonly random?: () => number;
}

export function createDeliverySink(params: DeliverySinkParams): DeliverySink {
  return new DeliveryPipeline(params);
}

class DeliveryPipeline implements DeliverySink {
  readonly name: string;
  readonly type: string;
  readonly counters: SinkCounters = newCounters();
  /**
   * The `counters.accepted` number of each event in a memory store, oldest first: every event
   * not in the store is settled, so the prefix settled is everything before the store's head.
   */
  private readonly pendingSeqs: number[] = [];
  private pendingHead = 0;
  private lostOne = false;
  private lostAt = 0;
  healthy = true;

  private readonly config: DeliveryConfig;
  private readonly transport: Transport;
  private readonly context: SinkContext;
  private readonly random: () => number;
  private readonly store: Store;
  private readonly measure: (event: SinkEvent) => number;

  private pumping: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Set once the close deadline passed: nothing more is attempted. */
  private stopped = false;
  private inFlight: AbortController | null = null;
  private wakeLinger: (() => void) | null = null;
  private wakeSleep: (() => void) | null = null;
  private readonly drainWaiters = new Waiters();
  /** Resolves when stopped, to cut short waits on others (the dead-letter's drain). */
  private readonly stoppedPromise: Promise<void>;
  private resolveStopped!: () => void;
  private failedAttempts = 0;
  /** While credentials are refused: no request before this time (ms since the epoch). */
  private authRetryAt = 0;
  private authDetail = '';
  private lastDeliveryMs: number | null = null;
  private readonly retries: Record<string, number> = {};
  private readonly clock: AcceptClock | null;

  constructor(params: DeliverySinkParams) {
    this.name = params.context.name;
    this.type = params.type;
    this.config = params.config;
    this.transport = params.transport;
    this.context = params.context;
    this.random = params.random ?? Math.random;
    this.measure = (event) => this.transport.size(event);
    this.stoppedPromise = new Promise((resolve) => (this.resolveStopped = resolve));
    this.clock = params.context.latency ? new AcceptClock(params.context.latency) : null;
    const buffer = params.config.buffer;
    if (buffer.type === 'disk') {
      const disk = new DiskStore({
        dir: buffer.path,
        maxBytes: buffer.maxBytes,
        fsync: buffer.fsync,
        sink: this.name,
        logger: params.context.logger,
      });
      this.store = disk;
      // Events a previous run accepted count as accepted here: they must be delivered too.
      this.counters.accepted = disk.replayed;
      if (disk.replayed > 0) this.clock?.accepted(disk.replayed);
      if (disk.replayed > 0) {
        params.context.logger.info('disk buffer: replaying events from a previous run', {
          sink: this.name,
          events: disk.replayed,
          bytes: disk.bytes,
        });
        this.kick(false);
      }
    } else {
      this.store = new MemoryStore();
    }
    this.counters.bufferedBytes = this.store.bytes;
  }

  get bufferStats(): { replayed: number; tornRecords: number } {
    const store = this.store;
    return store instanceof DiskStore
      ? { replayed: store.replayed, tornRecords: store.tornRecords }
      : { replayed: 0, tornRecords: 0 };
  }

  health(): SinkHealth {
    const appendFailing = this.counters.lastError === 'io' && !this.healthy;
    return {
      healthy: this.healthy,
      accepting: !this.closing && !this.full() && !appendFailing,
      failedAttempts: this.failedAttempts,
      authRefused: this.authRetryAt > 0,
      lastDeliveryMs: this.lastDeliveryMs,
      retries: this.retries,
      cause: this.counters.lastError,
    };
  }

  write(event: SinkEvent): boolean {
    const counters = this.counters;
    counters.accepted++;
    if (this.closing) {
      this.deadLetter(event, 'undeliverable', 'the sink was already closing');
      return true;
    }
    const size = this.transport.size(event);
    if (size > this.transport.maxEventBytes) {
      this.deadLetter(event, 'event_too_large', `${size} bytes, the receiver takes at most ${this.transport.maxEventBytes}`);
      return true;
    }
    if (this.full()) {
      if (this.config.whenFull === 'drop_newest') {
        counters.dropped++;
        this.deadLetter(event, 'dropped_queue_full', 'queue full (when_full = "drop_newest")');
        return true;
      }
      // "block": a Writable accepts what it is given and asks the caller to wait.
    }
    try {
      this.store.append(event, size);
      if (this.config.buffer.type === 'memory') this.pendingSeqs.push(counters.accepted);
    } catch (error) {
      counters.lastError = 'io';
      this.healthy = false;
      const detail = `disk buffer append failed: ${(error as { code?: string }).code ?? String(error)}`;
      this.context.logger.error(detail, { sink: this.name });
      this.deadLetter(event, 'undeliverable', detail);
      return true;
    }
    counters.bufferedBytes = this.store.bytes;
    this.clock?.accepted();
    this.kick(true);
    return this.config.whenFull === 'drop_newest' || !this.full();
  }

  drain(): Promise<void> {
    if (!this.full() || this.closing) return Promise.resolve();
    return this.drainWaiters.wait();
  }

  close(deadline: number): Promise<void> {
    this.closing ??= this.shutdown(deadline);
    return this.closing;
  }

  /**
   * Sink contract: events settled in order. A disk buffer takes responsibility at `write` (the
   * append is synchronous); a memory queue once an event leaves it (acknowledged or dead-lettered).
   */
  get committed(): number {
    const settled =
      this.pendingHead < this.pendingSeqs.length ? this.pendingSeqs[this.pendingHead]! - 1 : this.counters.accepted;
    return this.lostOne ? Math.min(settled, this.lostAt) : settled;
  }

  // ---- internals ----

  /** An event was lost: the committed prefix stops before it (it is read again after a restart). */
  private lost(): void {
    if (this.lostOne) return;
    this.lostAt = Math.min(this.committed, this.counters.accepted - 1);
    this.lostOne = true;
  }

  private forgetSeqs(n: number): void {
    if (this.config.buffer.type !== 'memory') return;
    this.pendingHead += n;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pendingSeqs.length) {
      this.pendingSeqs.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
  }

  private full(): boolean {
    const { store, config } = this;
    if (config.buffer.type === 'disk') return store.bytes >= config.buffer.maxBytes;
    return store.events >= config.queue.maxEvents || store.bytes >= config.queue.maxBytes;
  }

  private batchReady(): boolean {
    return this.store.events >= this.config.batch.maxEvents || this.store.bytes >= this.config.batch.maxBytes;
  }

  /** Starts the pump when it is idle; wakes a lingering pump once a batch is full. */
  private kick(linger: boolean): void {
    if (this.pumping) {
      if (this.wakeLinger && this.batchReady()) this.wakeLinger();
      return;
    }
    this.pumping = this.pump(linger).finally(() => {
      this.pumping = null;
    });
  }

  private async pump(linger: boolean): Promise<void> {
    while (this.store.events > 0 && !this.stopped) {
      if (linger && !this.closing && !this.batchReady()) await this.linger();
      linger = false;
      if (this.stopped) break;
      const entries = this.store.next(this.config.batch.maxEvents, this.config.batch.maxBytes, this.measure);
      if (entries.length === 0) break;
      const settled = await this.deliver(entries);
      this.counters.bufferedBytes = this.store.bytes;
      this.releaseDrainWaiters();
      if (!settled) break;
    }
  }

  private linger(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(wake, this.config.batch.lingerMs);
      const self = this;
      function wake(): void {
        clearTimeout(timer);
        self.wakeLinger = null;
        resolve();
      }
      this.wakeLinger = wake;
    });
  }

  /**
   * Delivers `entries` (the head of the store) or gives up on them. Returns false when it left
   * them in the store: stopped at the deadline, or closing while the credentials are refused.
   */
  private async deliver(entries: Entry[]): Promise<boolean> {
    const events = entries.flatMap((entry) => (entry.event ? [entry.event] : []));
    if (events.length < entries.length) {
      // Disk records that no longer parse: say so rather than lose them silently.
      for (const entry of entries) {
        if (!entry.event) this.deadLetterRecord('undeliverable', 'unreadable disk buffer record', entry.stored - 1); // without its newline
      }
      if (events.length === 0) {
        this.ack(entries, 0);
        return true;
      }
    }
    for (let attempt = 0; !this.stopped; ) {
      if (this.authRetryAt > Date.now()) {
        if (this.config.buffer.type === 'memory') {
          await this.giveUp(entries, 'undeliverable', this.authDetail);
          return true;
        }
        if (this.closing) return false; // they stay in the disk buffer
        await this.sleep(this.authRetryAt - Date.now());
        continue;
      }
      let failure: DeliveryError;
      try {
        const outcome = await this.attempt(events);
        if (outcome && outcome.rejected > 0) {
          await this.partlyRejected(entries, outcome);
          return true;
        }
        this.succeeded(entries, events.length);
        return true;
      } catch (error) {
        if (this.stopped) return false;
        failure = toDeliveryError(error);
      }
      this.counters.lastError = failure.errorClass;
      this.healthy = false;
      switch (failure.kind) {
        case 'too_large': {
          if (entries.length > 1) {
            const half = Math.ceil(entries.length / 2);
            this.context.logger.debug('receiver refused the request size, splitting the batch', {
              sink: this.name,
              events: entries.length,
            });
            return (await this.deliver(entries.slice(0, half))) && this.deliver(entries.slice(half));
          }
          await this.giveUp(entries, 'event_too_large', failure.message);
          return true;
        }
        case 'permanent':
          this.context.logger.error('receiver refused a batch; dead-lettering it', {
            sink: this.name,
            error_class: failure.errorClass,
            detail: failure.message,
            events: entries.length,
          });
          await this.giveUp(entries, 'undeliverable', failure.message);
          return true;
        case 'auth': {
          if (this.authRetryAt === 0) {
            this.context.logger.error(
              'receiver refused the credentials: fix the configuration; events are kept ' +
                (this.config.buffer.type === 'disk' ? 'in the disk buffer' : 'in the dead-letter destination'),
              { sink: this.name, error_class: failure.errorClass, detail: failure.message, retry_in_ms: this.config.retry.maxBackoffMs },
            );
          }
          this.authDetail = `credentials refused: ${failure.message}`;
          this.authRetryAt = Date.now() + this.config.retry.maxBackoffMs;
          continue;
        }
        case 'retryable': {
          this.counters.retried += entries.length;
          this.retries[failure.errorClass] = (this.retries[failure.errorClass] ?? 0) + entries.length;
          const delay = backoffDelay(
            attempt,
            this.config.retry.initialBackoffMs,
            this.config.retry.maxBackoffMs,
            failure.retryAfterMs,
            this.random,
          );
          this.failedAttempts++;
          const fields = {
            sink: this.name,
            error_class: failure.errorClass,
            detail: failure.message,
            attempt: attempt + 1,
            retry_in_ms: delay,
            events: entries.length,
          };
          if (this.failedAttempts === 1) this.context.logger.warn('delivery failed, retrying', fields);
          else this.context.logger.debug('delivery failed, retrying', fields);
          attempt++;
          await this.sleep(delay);
          continue;
        }
      }
    }
    return false;
  }

  /** One attempt, bounded by the attempt timeout and the close deadline whatever the transport does. */
  private async attempt(events: readonly SinkEvent[]): Promise<DeliveryOutcome | undefined> {
    const controller = new AbortController();
    this.inFlight = controller;
    const timeoutMs = this.config.attemptTimeoutMs;
    const timer = setTimeout(() => controller.abort(timeoutError(timeoutMs)), timeoutMs);
    try {
      return await new Promise<DeliveryOutcome | undefined>((resolve, reject) => {
        const onAbort = (): void => reject(controller.signal.reason);
        controller.signal.addEventListener('abort', onAbort, { once: true });
        this.transport.send(events, controller.signal).then(
          (outcome) => {
            controller.signal.removeEventListener('abort', onAbort);
            resolve(outcome ?? undefined);
          },
          (error: unknown) => {
            controller.signal.removeEventListener('abort', onAbort);
            reject(controller.signal.aborted ? controller.signal.reason : error);
          },
        );
      });
    } finally {
      clearTimeout(timer);
      this.inFlight = null;
    }
  }

  private succeeded(entries: Entry[], delivered: number): void {
    this.ack(entries, delivered);
    this.succeededAttempt();
  }

  private succeededAttempt(): void {
    if (this.failedAttempts > 0 || this.authRetryAt > 0) {
      this.context.logger.info('delivery resumed', { sink: this.name, failed_attempts: this.failedAttempts });
    }
    this.failedAttempts = 0;
    this.authRetryAt = 0;
    this.healthy = true;
  }

  /** The receiver took the request but rejected part of it: the batch to the dead letter, not retried. */
  private async partlyRejected(entries: Entry[], outcome: DeliveryOutcome): Promise<void> {
    this.counters.rejected = (this.counters.rejected ?? 0) + outcome.rejected;
    this.context.logger.error('receiver rejected part of a batch; dead-lettering the batch', {
      sink: this.name,
      rejected: outcome.rejected,
      events: entries.length,
      detail: outcome.detail,
    });
    // The receiver answered: the connection is healthy, whatever it thought of the content.
    this.succeededAttempt();
    await this.giveUp(entries, 'undeliverable', outcome.detail);
  }

  private ack(entries: Entry[], delivered: number): void {
    if (delivered > 0) {
      this.clock?.delivered(delivered);
      this.lastDeliveryMs = Date.now();
    }
    if (entries.length > delivered) this.clock?.discarded(entries.length - delivered);
    try {
      this.store.ack(entries);
      this.forgetSeqs(entries.length);
    } catch (error) {
      // The events are delivered; a failed cursor write only means they may be sent again.
      this.counters.lastError = 'io';
      this.context.logger.error('disk buffer: could not record the delivery (duplicates possible after a restart)', {
        sink: this.name,
        detail: (error as { code?: string }).code ?? String(error),
      });
    }
    this.counters.delivered += delivered;
    this.counters.bufferedBytes = this.store.bytes;
  }

  private async giveUp(entries: Entry[], reason: DeadLetterReason, detail: string): Promise<void> {
    let wait = false;
    for (const entry of entries) {
      if (entry.event && !this.deadLetter(entry.event, reason, detail)) wait = true;
    }
    this.ack(entries, 0);
    if (wait && !this.stopped) await Promise.race([this.context.deadLetter.drain(), this.stoppedPromise]);
  }

  /** Hands one event to the dead-letter destination; returns false when it asks us to wait. */
  private deadLetter(event: SinkEvent, reason: DeadLetterReason, detail: string): boolean {
    try {
      const ok = this.context.deadLetter.write({ reason, sink: this.name, detail, size: event.json.length, event: event.record });
      this.counters.deadLettered++;
      return ok;
    } catch (error) {
      this.counters.failed++;
      this.lost();
      this.context.logger.error('dead-letter write failed', { sink: this.name, detail: String(error) });
      return true;
    }
  }

  private deadLetterRecord(reason: DeadLetterReason, detail: string, size: number): void {
    try {
      this.context.deadLetter.write({ reason, sink: this.name, detail, size });
      this.counters.deadLettered++;
    } catch {
      this.counters.failed++;
      this.lost();
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(wake, ms);
      const self = this;
      function wake(): void {
        clearTimeout(timer);
        self.wakeSleep = null;
        resolve();
      }
      this.wakeSleep = wake;
    });
  }

  private releaseDrainWaiters(): void {
    if (this.full() && !this.closing) return;
    this.drainWaiters.release();
  }

  /** Stops everything at the deadline: aborts the request in flight, ends waits. */
  private stop(): void {
    this.stopped = true;
    this.resolveStopped();
    this.inFlight?.abort(new DeliveryError('abandoned at the shutdown deadline', 'retryable', 'shutdown'));
    this.wakeLinger?.();
    this.wakeSleep?.();
  }

  private async shutdown(deadline: number): Promise<void> {
    this.releaseDrainWaiters();
    // Send what is pending now rather than after the linger.
    this.wakeLinger?.();
    if (!this.pumping && this.store.events > 0) this.kick(false);
    // While credentials are refused, waiting for the next probe would only hold the shutdown.
    if (this.authRetryAt > 0) this.wakeSleep?.();
    const timer = setTimeout(() => this.stop(), Math.max(0, deadline - Date.now()));
    try {
      await this.pumping;
    } finally {
      clearTimeout(timer);
      this.stop();
    }
    const left = this.store.events;
    if (left > 0) {
      if (this.store instanceof DiskStore) {
        this.counters.buffered = left;
        this.context.logger.warn('undelivered events kept in the disk buffer for the next start', {
          sink: this.name,
          events: left,
          bytes: this.store.bytes,
          last_error: this.counters.lastError,
        });
      } else {
        const entries = this.store.next(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, this.measure);
        const detail = `not delivered by the shutdown deadline (last error: ${this.counters.lastError ?? 'none'})`;
        for (const entry of entries) if (entry.event) this.deadLetter(entry.event, 'undeliverable', detail);
        this.store.ack(entries);
        this.forgetSeqs(entries.length);
        this.context.logger.warn('undelivered events dead-lettered at shutdown', { sink: this.name, events: entries.length });
      }
    }
    this.counters.bufferedBytes = this.store.bytes;
    try {
      this.store.close();
    } catch (error) {
      this.counters.lastError = 'io';
      this.context.logger.error('disk buffer: close failed', { sink: this.name, detail: String(error) });
    }
    await closeBy(this.transport, deadline, this.context);
  }
}

/** Closes the transport, giving up waiting at the deadline. */
async function closeBy(transport: Transport, deadline: number, context: SinkContext): Promise<void> {
  const closed = transport.close(deadline).catch((error: unknown) => {
    context.logger.debug('transport close failed', { sink: context.name, detail: String(error) });
  });
  await untilDeadline(closed, deadline);
}

/**
 * The dead-letter destination: where rejected lines and undeliverable events go, redacted.
 * It is a file sink underneath (same rotation and durability guarantees); without one configured,
 * records are only counted, and an accepted event that reaches it is counted as lost (exit 1).
 *
 * The re-redaction rule: `write()` — the DeadLetter every sink receives in its context — redacts
 * the record's event again, because a plugin may hand in what it was given in any shape (or
 * something it built). The router's own records (schema-invalid events, events of a sink that
 * threw) are redacted by the router already and come in through `writeRedacted()`: they are not
 * redacted twice.
 */
import { cloneJson, stringifyJson } from '../util/exact-json';
import type { JsonObject } from '../util/json';
import type { Logger } from '../util/log';
import type { Redactor } from '../transforms/redact';
import type { DeadLetter, DeadLetterReason, DeadLetterRecord, Sink } from '../api/sink';

/** Reasons that concern events audit-router had accepted (so losing them changes the exit status). */
const ACCEPTED_REASONS: ReadonlySet<DeadLetterReason> = new Set(['undeliverable', 'dropped_queue_full', 'event_too_large']);

export class DeadLetterRouter implements DeadLetter {
  /** Records by reason. */
  readonly counts: Partial<Record<DeadLetterReason, number>> = {};
  /** Accepted events that reached the dead letter with no destination to keep them. */
  lostEvents = 0;
  private warned = new Set<DeadLetterReason>();

  constructor(
    private readonly sink: Sink | null,
    private readonly redactor: Redactor,
    private readonly logger: Logger,
  ) {}

  /** The public path (sinks, plugins): the event is redacted again before it is kept. */
  write(record: DeadLetterRecord): boolean {
    return this.keep(record, true);
  }

  /** The core's path: `record.event` was redacted by the router itself. */
  writeRedacted(record: DeadLetterRecord): boolean {
    return this.keep(record, false);
  }

  private keep(record: DeadLetterRecord, redact: boolean): boolean {
    this.counts[record.reason] = (this.counts[record.reason] ?? 0) + 1;
    if (!this.sink) {
      if (ACCEPTED_REASONS.has(record.reason)) this.lostEvents++;
      if (!this.warned.has(record.reason)) {
        this.warned.add(record.reason);
        this.logger.warn('no dead-letter destination configured: record counted, not kept', {
          reason: record.reason,
          hint: 'set [dead_letter] path or --dead-letter',
        });
      }
      return true;
    }
    const entry: JsonObject = { time: new Date().toISOString(), reason: record.reason };
    if (record.source !== undefined) entry['source'] = record.source;
    if (record.line !== undefined) entry['line'] = record.line;
    if (record.size !== undefined) entry['size'] = record.size;
    if (record.sha256 !== undefined) entry['sha256'] = record.sha256;
    if (record.sink !== undefined) entry['sink'] = record.sink;
    if (record.detail !== undefined) entry['detail'] = record.detail;
    if (record.event !== undefined) entry['event'] = redact ? this.redactor.redactEvent(cloneJson(record.event) as JsonObject) : record.event;
    return this.sink.write({ record: entry, json: stringifyJson(entry), fields: entry });
  }

  drain(): Promise<void> {
    return this.sink ? this.sink.drain() : Promise.resolve();
  }

  get total(): number {
    let n = 0;
    for (const v of Object.values(this.counts)) n += v ?? 0;
    return n;
  }

  /** Records that could not be written to the dead-letter file. */
  get failed(): number {
    return this.sink ? this.sink.counters.failed : 0;
  }
}

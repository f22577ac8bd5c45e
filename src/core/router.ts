/**
 * The router: line → parse/select → redact → route → sinks, one way.
 *
 * It is handed complete lines by the framing stage (src/framing/), never raw input and never
 * knowing where it came from; it classifies each line (src/transforms/select.ts), redacts what
 * leaves (src/transforms/redact/) and writes each audit event to every sink.
 * Backpressure: after each chunk the core awaits `settle()`, which waits until every sink that
 * asked for it has drained, so the reader never runs ahead of the slowest sink by one chunk.
 */
import { hasExactNumber, stringifyJson } from '../util/exact-json';
import type { JsonObject } from '../util/json';
import type { FramedHandler, MalformedLine } from '../framing/decoder';
import type { OversizeLine } from '../framing/lines';
import type { Logger } from '../util/log';
import { REDACTED, type Redactor } from '../transforms/redact';
import { eventFields, isJsonArrayLine, isJsonObjectLine, mayBeAudit, type Selector } from '../transforms/select';
import { escapeForTerminal, escapeJsonForTerminal } from '../util/terminal';
import type { DeadLetterRecord, Sink, SinkEvent } from '../api/sink';
import type { DeadLetterRouter } from './dead-letter';

export interface RouterCounters {
  /** Input lines, empty ones included. */
  lines: number;
  empty: number;
  /** Valid audit events handed to the sinks. */
  audit: number;
  /** Audit events that failed the schema (dead-lettered, redacted). */
  invalid: number;
  /** Lines that looked like audit events but did not parse (dead-lettered without content). */
  unparseable: number;
  /** Lines over max_line_bytes (dead-lettered without content). */
  oversize: number;
  /** Non-audit lines dropped. */
  dropped: number;
  /** Non-audit lines written to stderr, redacted. */
  passthrough: number;
  /** Container log lines (CRI, Docker) whose framing could not be read (dead-lettered as size + hash). */
  malformed: number;
}

export interface RouterOptions {
  selector: Selector;
  redactor: Redactor;
  sinks: readonly Sink[];
  deadLetter: Pick<DeadLetterRouter, 'writeRedacted' | 'drain'>;
  /** Where passthrough lines go (already redacted, newline-terminated), or null to drop them. */
  passthrough: ((text: string) => void) | null;
  logger: Logger;
  /** Sees every redacted event after the sinks (the tap, tool labels); absent unless the API server wants it. */
  onEvent?: ((event: SinkEvent) => void) | null;
}

export class Router implements FramedHandler {
  readonly counters: RouterCounters = {
    lines: 0,
    empty: 0,
    audit: 0,
    invalid: 0,
    unparseable: 0,
    oversize: 0,
    dropped: 0,
    passthrough: 0,
    malformed: 0,
  };
  /** Set by the core before each chunk when there are several inputs: names it in dead-letter records. */
  source: string | undefined = undefined;
  private readonly sinks: readonly Sink[];
  private readonly blocked = new Set<Sink>();
  private deadLetterBlocked = false;
  private readonly throwing = new Set<Sink>();
  private passthroughBuffer = '';
  private readonly onEvent: ((event: SinkEvent) => void) | null;

  constructor(private readonly options: RouterOptions) {
    this.sinks = options.sinks;
    this.onEvent = options.onEvent ?? null;
  }

  /** Flushes passthrough and resolves once every sink can take more (call after each chunk). */
  async settle(): Promise<void> {
    if (this.passthroughBuffer !== '') {
      this.options.passthrough!(this.passthroughBuffer);
      this.passthroughBuffer = '';
    }
    if (this.blocked.size === 0 && !this.deadLetterBlocked) return;
    const waits: Promise<void>[] = [];
    for (const sink of this.blocked) waits.push(sink.drain());
    if (this.deadLetterBlocked) waits.push(this.options.deadLetter.drain());
    this.blocked.clear();
    this.deadLetterBlocked = false;
    await Promise.all(waits);
  }

  /** LineHandler: one complete line (without its ending). */
  line(raw: Buffer, lineNumber: number): void {
    this.counters.lines++;
    // A UTF-8 byte order mark is not part of the line: left on, it would make an audit event a
    // text line (dropped, or passed through without the tool rules).
    const bytes = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? raw.subarray(3) : raw;
    if (bytes.length === 0) {
      this.counters.empty++;
      return;
    }
    const passthrough = this.options.passthrough !== null;
    // An array is never an audit event, but passed through it may be a JSON-RPC batch.
    if (!isJsonObjectLine(bytes) && !(passthrough && isJsonArrayLine(bytes))) {
      if (passthrough) this.passText(bytes.toString('utf8'));
      else this.counters.dropped++;
      return;
    }
    // Lines nobody will see are not even decoded: they cannot be audit events nor look like one.
    if (!passthrough && !mayBeAudit(bytes)) {
      this.counters.dropped++;
      return;
    }
    const text = bytes.toString('utf8');
    const selection = this.options.selector.selectJson(text);
    switch (selection.kind) {
      case 'audit':
        this.counters.audit++;
        this.deliver(this.options.redactor.redactEvent(selection.record), selection.exact);
        return;
      case 'invalid':
        this.counters.invalid++;
        this.deadLetter({
          reason: 'schema_invalid',
          line: lineNumber,
          size: raw.length,
          detail: selection.errors,
          event: this.options.redactor.redactEvent(selection.record),
        });
        return;
      case 'unparseable':
        this.counters.unparseable++;
        this.deadLetter({ reason: 'unparseable_audit', line: lineNumber, size: raw.length, sha256: sha256(raw), detail: selection.reason });
        return;
      case 'withheld':
        // A JSON-RPC message cut short is a tool's output without the structure that says so:
        // none of it is written, not even text-redacted.
        if (passthrough) this.passWithheld(lineNumber, selection.reason);
        else this.counters.dropped++;
        return;
      case 'json':
        if (passthrough) {
          // An object gets the event rules: a tool event under another target (a server set up
          // differently) still has its raw-command operands redacted; so does each message of a
          // JSON-RPC batch.
          this.passJson(stringifyJson(this.options.redactor.redactMessage(selection.value)));
        } else this.counters.dropped++;
        return;
      case 'text':
        if (passthrough) this.passText(text);
        else this.counters.dropped++;
        return;
    }
  }

  /** LineHandler: a line over the limit, already discarded. */
  oversize(info: OversizeLine): void {
    this.counters.lines++;
    this.counters.oversize++;
    this.options.logger.debug('line over max_line_bytes discarded', { line: info.line, size: info.size });
    this.deadLetter({ reason: 'oversize_line', line: info.line, size: info.size, sha256: info.sha256 });
  }

  /** FramedHandler: a container log line whose framing could not be read. */
  malformed(info: MalformedLine): void {
    this.counters.malformed++;
    this.deadLetter({ reason: 'malformed_framing', line: info.line, size: info.size, sha256: info.sha256, detail: `not a ${info.format} log line` });
  }

  /** `exact`: the line had a run of 16 digits, so the record may hold an ExactNumber. */
  private deliver(record: JsonObject, exact: boolean): void {
    const json = stringifyJson(record);
    // Sinks that encode the record themselves get plain numbers; the JSON text keeps every
    // integer exact (the record is the same object unless the line held one beyond 2^53).
    const plain = exact && hasExactNumber(record) ? (JSON.parse(json) as JsonObject) : record;
    const event: SinkEvent = { record: plain, json, fields: eventFields(plain) };
    for (let i = 0; i < this.sinks.length; i++) {
      const sink = this.sinks[i]!;
      try {
        if (!sink.write(event)) this.blocked.add(sink);
      } catch (err) {
        this.sinkThrew(sink, err, record);
      }
    }
    if (this.onEvent !== null) this.onEvent(event);
  }

  /**
   * A sink's write() must not throw (src/sink.ts); a plugin's may. The event is kept in the dead
   * letter, the other sinks and the input go on, and it is said once per sink (the error's name
   * only: its message could quote the event).
   */
  private sinkThrew(sink: Sink, err: unknown, record: JsonObject): void {
    const name = err instanceof Error ? err.name : typeof err;
    if (!this.throwing.has(sink)) {
      this.throwing.add(sink);
      this.options.logger.error('sink write threw; its events go to the dead letter', { sink: sink.name, error: name });
    }
    this.deadLetter({ reason: 'undeliverable', sink: sink.name, detail: `the sink threw ${name}`, event: record });
  }

  /** Every record the router makes carries an event it redacted itself (or none). */
  private deadLetter(record: DeadLetterRecord): void {
    if (this.source !== undefined) record.source = this.source;
    if (!this.options.deadLetter.writeRedacted(record)) this.deadLetterBlocked = true;
  }

  /** A text line: redacted, then made safe for a terminal (control characters escaped). */
  private passText(text: string): void {
    this.counters.passthrough++;
    this.passthroughBuffer += escapeForTerminal(this.options.redactor.redactText(text)) + '\n';
  }

  private passWithheld(lineNumber: number, reason: string): void {
    this.counters.passthrough++;
    this.options.logger.debug('passthrough line withheld: starts like a JSON-RPC message but does not parse', { line: lineNumber, reason });
    this.passthroughBuffer += REDACTED + '\n';
  }

  private passJson(json: string): void {
    this.counters.passthrough++;
    this.passthroughBuffer += escapeJsonForTerminal(json) + '\n';
  }
}

function sha256(bytes: Buffer): string {
  return (require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
}

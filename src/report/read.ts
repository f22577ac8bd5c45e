/**
 * Reading for the report: every source streamed (plain or gzip, told apart by the gzip magic
 * bytes, not the name), cut into lines on bytes (the router's LineSplitter), and every line
 * judged by the router's own Selector and redacted by its Redactor before anything is counted,
 * so a raw `redisctl-mcp 2>&1` stream and a trail the file sink wrote go through the same
 * pipeline. Memory: one chunk plus the longest line (MAX_LINE_BYTES), whatever the input size.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json';
import { LineSplitter, type LineHandler } from '../framing/lines';
import type { Redactor } from '../transforms/redact';
import { eventFields, isJsonObjectLine, mayBeAudit, type Selector } from '../transforms/select';
import type { Aggregator } from './aggregate';
import type { ChainProbe } from './chain';
import type { InputSummary, SourceSummary } from './model';
import type { Progress } from './progress';
import type { Source } from './sources';

/** Lines longer than this are skipped whole and counted (the file sink's records are far smaller). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
/** A mask: `[REDACTED]`, or a keyed token `[REDACTED:hmac-sha256:…]` ([redact] mode = "hmac"). */
const MARKER = '[REDACTED';

export interface ReadContext {
  selector: Selector;
  redactor: Redactor;
  aggregator: Aggregator;
  chain: ChainProbe;
  progress: Progress;
  stdin: Readable;
}

export interface ReadResult {
  inputs: Omit<InputSummary, 'filtered_out'>;
  /** Some source could not be read to its end (missing, unreadable, corrupt gzip). */
  incomplete: boolean;
}

class LineCounter implements LineHandler {
  lines = 0;
  events = 0;
  invalid = 0;
  unparseable = 0;
  oversized = 0;
  deadLetters = 0;
  other = 0;

  constructor(private readonly ctx: ReadContext) {}

  line(raw: Buffer): void {
    this.lines++;
    const bytes = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? raw.subarray(3) : raw;
    if (bytes.length === 0 || !isJsonObjectLine(bytes)) {
      this.other++;
      return;
    }
    if (!mayBeAudit(bytes)) {
      // Not an event; maybe one of audit-router's own records (dead letter, chain), which are
      // counted apart. Both start with a key no event has, so the bytes tell.
      if (startsWith(bytes, DEAD_LETTER_HEAD) || startsWith(bytes, CHAIN_HEAD)) this.ownRecord(bytes.toString('utf8'));
      else this.other++;
      return;
    }
    const text = bytes.toString('utf8');
    const selection = this.ctx.selector.selectJson(text);
    switch (selection.kind) {
      case 'audit': {
        this.events++;
        const record = this.ctx.redactor.redactEvent(selection.record);
        this.ctx.chain.event(record);
        if (this.ctx.aggregator.add(record, eventFields(record), countMarkers(record))) this.ctx.progress.event();
        return;
      }
      case 'invalid':
        this.invalid++;
        return;
      case 'unparseable':
        this.unparseable++;
        return;
      case 'json':
        if (isJsonObject(selection.value) && this.classifyOwn(selection.value)) return;
        this.other++;
        return;
      case 'text':
        this.other++;
        return;
    }
  }

  oversize(): void {
    this.lines++;
    this.oversized++;
  }

  private ownRecord(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.other++;
      return;
    }
    if (!isJsonObject(value) || !this.classifyOwn(value)) this.other++;
  }

  /** audit-router's dead-letter records (`time`, `reason`, ...) and chain records. */
  private classifyOwn(value: JsonObject): boolean {
    if (this.ctx.chain.control(value)) return true;
    if (typeof value['time'] === 'string' && typeof value['reason'] === 'string' && !('target' in value)) {
      this.deadLetters++;
      return true;
    }
    return false;
  }
}

const DEAD_LETTER_HEAD = Buffer.from('{"time":');
const CHAIN_HEAD = Buffer.from('{"audit_router":');

function startsWith(bytes: Buffer, head: Buffer): boolean {
  return bytes.length >= head.length && bytes.compare(head, 0, head.length, 0, head.length) === 0;
}

/**
 * Masks in a (redacted) event's string values, embedded JSON strings included (`arguments`):
 * what the server, the router and this report's own redaction masked.
 */
function countMarkers(value: JsonValue): number {
  if (typeof value === 'string') {
    let n = 0;
    for (let at = value.indexOf(MARKER); at !== -1; at = value.indexOf(MARKER, at + MARKER.length)) {
      const next = value.charCodeAt(at + MARKER.length);
      if (next === 0x5d /* ] */ || next === 0x3a /* : */) n++;
    }
    return n;
  }
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  if (Array.isArray(value)) for (const item of value) n += countMarkers(item);
  else for (const key in value) if (Object.hasOwn(value, key)) n += countMarkers(value[key]!);
  return n;
}

/**
 * The chunks of `raw`, gunzipped when they start with the gzip magic bytes (1f 8b). `onRaw` sees
 * each raw chunk's size, for the progress bar.
 */
async function* decoded(raw: Readable, onRaw: (bytes: number) => void, gzip: { seen: boolean }): AsyncGenerator<Buffer> {
  const it = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done) return;
  const head = first.value;
  onRaw(head.length);
  if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
    yield head;
    for (let next = await it.next(); !next.done; next = await it.next()) {
      onRaw(next.value.length);
      yield next.value;
    }
    return;
  }
  gzip.seen = true;
  const gunzip = createGunzip();
  const feed = (async () => {
    try {
      let chunk: Buffer | null = head;
      while (chunk !== null) {
        if (!gunzip.write(chunk)) await new Promise<void>((r) => gunzip.once('drain', () => r()));
        const next = await it.next();
        if (next.done) chunk = null;
        else {
          onRaw(next.value.length);
          chunk = next.value;
        }
      }
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err as Error);
    }
  })();
  for await (const out of gunzip) yield out as Buffer;
  await feed;
}

/** Reads every source in order; a source that fails is noted and the others still read. */
export async function readSources(sources: readonly Source[], ctx: ReadContext, planNotes: string[]): Promise<ReadResult> {
  const summaries: SourceSummary[] = [];
  const notes = [...planNotes];
  const totals = { lines: 0, events: 0, invalid: 0, unparseable: 0, oversize: 0, deadLetters: 0, other: 0 };
  let incomplete = false;
  for (const source of sources) {
    const counter = new LineCounter(ctx);
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    const gzip = { seen: false };
    let bytes = 0;
    const raw = source.file === null ? ctx.stdin : createReadStream(source.file, { highWaterMark: CHUNK_BYTES });
    try {
      for await (const chunk of decoded(raw, (n) => {
        bytes += n;
        ctx.progress.read(n);
      }, gzip)) {
        splitter.push(chunk, counter);
      }
      splitter.end(counter);
    } catch (err) {
      splitter.end(counter);
      incomplete = true;
      // The error's code or name only: a message could quote what was read.
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name ?? 'error';
      notes.push(`${source.path}: read stopped after ${counter.lines} lines (${code}); the report covers what was read`);
    }
    summaries.push({
      path: source.path,
      kind: source.file === null ? 'stdin' : gzip.seen ? 'gzip' : 'file',
      bytes,
      lines: counter.lines,
      events: counter.events,
    });
    totals.lines += counter.lines;
    totals.events += counter.events;
    totals.invalid += counter.invalid;
    totals.unparseable += counter.unparseable;
    totals.oversize += counter.oversized;
    totals.deadLetters += counter.deadLetters;
    totals.other += counter.other;
  }
  if (ctx.chain.controlRecords > 0) notes.push(`${ctx.chain.controlRecords} chain records (open, checkpoint) are audit-router's own, not events`);
  return {
    inputs: {
      sources: summaries,
      lines: totals.lines,
      audit_events: totals.events,
      invalid: totals.invalid,
      unparseable: totals.unparseable,
      oversize: totals.oversize,
      dead_letter_records: totals.deadLetters,
      other_lines: totals.other,
      notes,
    },
    incomplete,
  };
}

/**
 * Splits a byte stream into lines, on Buffers, with an exact per-line byte limit.
 *
 * Why not split2: its `maxLength` bounds the buffered partial line in *characters* (after decoding),
 * not each line in bytes, and with `skipOverflow` it emits the truncated tail of an oversize line at
 * EOF, which would forward part of a line. It also decodes every byte to a string, while most lines
 * of a redisctl-mcp stream are ruled out from their bytes. So lines are cut here, on Buffers:
 * - `\n` ends a line; a `\r` before it is dropped;
 * - a line longer than `maxLineBytes` is discarded whole (its bytes are hashed for the dead letter,
 *   never kept), however many chunks it spans, and reported once through `onOversize`;
 * - a last line without a newline is emitted by `end()`.
 * Memory held is at most `maxLineBytes` plus one input chunk.
 */
import type { Hash } from 'node:crypto';

export interface OversizeLine {
  /** 1-based line number. */
  line: number;
  /** Total bytes of the line, without its line ending. */
  size: number;
  /** sha256 of the whole line, hex: lets an operator find it in the source. */
  sha256: string;
}

export interface LineHandler {
  /** `bytes` is only valid during the call (it may view a buffer that is reused). */
  line(bytes: Buffer, lineNumber: number): void;
  oversize(info: OversizeLine): void;
}

const NL = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Set while discarding an oversize line until its newline. */
  private overflowHash: Hash | null = null;
  private overflowBytes = 0;
  /** A "\r" that ended the last chunk of an oversize line, not yet hashed (see holdBackCR). */
  private overflowCR = false;
  private lineNumber = 0;

  constructor(private readonly maxLineBytes: number) {}

  get lines(): number {
    return this.lineNumber;
  }

  /**
   * Cuts `chunk` into lines and hands each complete one to `handler`, synchronously. The caller
   * applies backpressure between chunks, so at most one chunk's events are in flight past a limit.
   */
  push(chunk: Buffer, handler: LineHandler): void {
    let start = 0;
    let nl = chunk.indexOf(NL);
    while (nl !== -1) {
      this.finishLine(chunk, start, nl, handler);
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) this.keep(chunk, start, chunk.length);
  }

  /** End of input: emit a last line that had no newline. */
  end(handler: LineHandler): void {
    if (this.overflowHash !== null || this.partialBytes > 0) this.finishLine(EMPTY, 0, 0, handler);
  }

  private finishLine(chunk: Buffer, start: number, end: number, handler: LineHandler): void {
    this.lineNumber++;
    if (this.overflowHash !== null) {
      // A "\r" held back from the previous chunk is content unless the newline follows it at once.
      if (this.overflowCR && end > start) this.hashOverflow(CR_BYTE, 0, 1);
      this.overflowCR = false;
      this.emitOversize(chunk, start, stripCR(chunk, start, end), handler);
      return;
    }
    if (this.partialBytes === 0) {
      const stop = stripCR(chunk, start, end);
      if (stop - start > this.maxLineBytes) {
        this.startOverflow();
        this.emitOversize(chunk, start, stop, handler);
        return;
      }
      handler.line(chunk.subarray(start, stop), this.lineNumber);
      return;
    }
    // The line began in an earlier chunk.
    const total = this.partialBytes + (end - start);
    const joined = Buffer.concat([...this.partial, chunk.subarray(start, end)], total);
    this.partial = [];
    this.partialBytes = 0;
    const stop = stripCR(joined, 0, joined.length);
    if (stop > this.maxLineBytes) {
      this.startOverflow();
      this.emitOversize(joined, 0, stop, handler);
      return;
    }
    handler.line(joined.subarray(0, stop), this.lineNumber);
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    if (this.overflowHash !== null) {
      this.holdBackCR(chunk, start, end);
      return;
    }
    // A line ending "\r" at the chunk's end may still be followed by "\n": the byte is kept and
    // only dropped when the line completes, so the limit allows one extra byte for it.
    if (this.partialBytes + (end - start) > this.maxLineBytes + 1) {
      this.startOverflow();
      for (const part of this.partial) this.overflowHash!.update(part);
      this.overflowBytes = this.partialBytes;
      this.partial = [];
      this.partialBytes = 0;
      this.holdBackCR(chunk, start, end);
      return;
    }
    // Copy: the input chunk may be reused by the producer once we return.
    this.partial.push(Buffer.from(chunk.subarray(start, end)));
    this.partialBytes += end - start;
  }

  /**
   * Hashes a piece of an oversize line, except a last "\r": it may be half of a "\r\n" split
   * across chunks, so it waits for the next byte. Size and hash then never depend on where the
   * producer's writes happened to split the line.
   */
  private holdBackCR(chunk: Buffer, start: number, end: number): void {
    if (this.overflowCR) this.hashOverflow(CR_BYTE, 0, 1);
    this.overflowCR = chunk[end - 1] === CR;
    this.hashOverflow(chunk, start, this.overflowCR ? end - 1 : end);
  }

  private hashOverflow(chunk: Buffer, start: number, end: number): void {
    this.overflowHash!.update(chunk.subarray(start, end));
    this.overflowBytes += end - start;
  }

  private startOverflow(): void {
    // node:crypto loads on the first oversize line only: start-up does not pay for it.
    this.overflowHash = (require('node:crypto') as typeof import('node:crypto')).createHash('sha256');
    this.overflowBytes = 0;
  }

  private emitOversize(chunk: Buffer, start: number, stop: number, handler: LineHandler): void {
    const hash = this.overflowHash!;
    hash.update(chunk.subarray(start, stop));
    const size = this.overflowBytes + (stop - start);
    this.overflowHash = null;
    this.overflowBytes = 0;
    handler.oversize({ line: this.lineNumber, size, sha256: hash.digest('hex') });
  }
}

const EMPTY = Buffer.alloc(0);
const CR_BYTE = Buffer.from([CR]);

/** The end of the line without a trailing "\r". */
function stripCR(chunk: Buffer, start: number, end: number): number {
  return end > start && chunk[end - 1] === CR ? end - 1 : end;
}

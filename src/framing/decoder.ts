/**
 * What the container log framings (CRI, Docker json-file) share: the handler that receives the
 * lines they unwrap, and the contract every decoder follows.
 *
 * A decoder sits between the byte-exact splitter (lines.ts) and the router. It receives each raw
 * line of one byte stream (one file) with the offset it starts at, and hands on the payload lines:
 * parts joined, framing removed, bytes otherwise untouched. It never parses the payload. Because
 * it may hold parts of a line that is not complete yet, it says where the earliest held raw line
 * starts (`heldFrom`): a checkpoint must not move past it.
 */
import type { LineHandler } from './lines';

/** A raw line whose framing could not be read: only its size and hash travel on. */
export interface MalformedLine {
  format: 'cri' | 'docker';
  /** 1-based raw line number in its stream. */
  line: number;
  /** Bytes of the raw line. */
  size: number;
  /** sha256 of the raw line, hex. */
  sha256: string;
}

/** Receives payload lines (and their failures) from a decoder. */
export interface FramedHandler extends LineHandler {
  malformed(info: MalformedLine): void;
}

/** What a decoder counts, besides the lines it hands on. */
export interface DecoderCounters {
  /** Raw lines whose framing could not be read (dead-lettered as size + hash). */
  malformed: number;
  /** Parts joined into longer lines (CRI `P` parts, Docker lines without a newline). */
  partsJoined: number;
  /** Lines of a stream not kept (`streams = [...]`). */
  otherStream: number;
  /** Joined lines still incomplete when their stream ended, handed on as they were. */
  incomplete: number;
}

export function newDecoderCounters(): DecoderCounters {
  return { malformed: 0, partsJoined: 0, otherStream: 0, incomplete: 0 };
}

export interface Decoder {
  /** One raw line without its ending; `start` is the offset of its first byte in the stream. */
  line(bytes: Buffer, lineNumber: number, start: number, out: FramedHandler): void;
  /** The stream ended: hand on what is held (an incomplete joined line), counted. */
  end(out: FramedHandler): void;
  /** Offset of the first byte of the earliest raw line still held, or -1 when nothing is. */
  readonly heldFrom: number;
}

/** Which container streams a decoder keeps. */
export type StreamName = 'stdout' | 'stderr';

export function sha256Hex(bytes: Buffer): string {
  return (require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
}

/**
 * Joins the parts of one stream's line (CRI `P` parts, Docker lines without a newline) until the
 * last part arrives, with the byte limit on the joined line: past `maxLineBytes` the parts are
 * hashed, not kept, and the whole line is reported once as oversize. Memory held is at most
 * `maxLineBytes` plus one part.
 */
export class PartJoiner {
  private parts: Buffer[] = [];
  private bytes = 0;
  private overflow: import('node:crypto').Hash | null = null;
  /** Offset of the first part's raw line, -1 when nothing is held. */
  start = -1;
  private firstLine = 0;

  constructor(private readonly maxLineBytes: number) {}

  get holding(): boolean {
    return this.start >= 0;
  }

  /** Adds a part that is not the last one. `content` is copied (it may view a reused buffer). */
  add(content: Buffer, lineNumber: number, start: number): void {
    if (this.start < 0) {
      this.start = start;
      this.firstLine = lineNumber;
    }
    this.append(content, true);
  }

  /** Adds the last part (possibly the only one) and hands the line on. */
  finish(content: Buffer, lineNumber: number, out: FramedHandler): void {
    if (this.start < 0) {
      // A line in one part: no copy, no join.
      if (content.length > this.maxLineBytes) {
        out.oversize({ line: lineNumber, size: content.length, sha256: sha256Hex(content) });
      } else out.line(content, lineNumber);
      return;
    }
    this.append(content, false);
    this.emit(out);
  }

  /** The stream ended with a line incomplete: hand on what there is. Returns whether there was one. */
  flush(out: FramedHandler): boolean {
    if (this.start < 0) return false;
    this.emit(out);
    return true;
  }

  private append(content: Buffer, copy: boolean): void {
    this.bytes += content.length;
    if (this.overflow === null && this.bytes > this.maxLineBytes) {
      this.overflow = (require('node:crypto') as typeof import('node:crypto')).createHash('sha256');
      for (const part of this.parts) this.overflow.update(part);
      this.parts = [];
    }
    if (this.overflow !== null) this.overflow.update(content);
    else this.parts.push(copy ? Buffer.from(content) : content);
  }

  private emit(out: FramedHandler): void {
    const line = this.firstLine;
    if (this.overflow !== null) {
      out.oversize({ line, size: this.bytes, sha256: this.overflow.digest('hex') });
    } else {
      out.line(this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes), line);
    }
    this.parts = [];
    this.bytes = 0;
    this.overflow = null;
    this.start = -1;
  }
}

/** One raw line's framing, read: which stream, whether more parts follow, the content bytes. */
export interface FramedPart {
  stream: StreamName;
  /** True for a part: more of the line follows. */
  partial: boolean;
  content: Buffer;
}

export interface FramingOptions {
  /** Longest joined line, in bytes. */
  maxLineBytes: number;
  /** Streams to keep; null keeps both. */
  streams: ReadonlySet<StreamName> | null;
}

/**
 * A decoder for a framing that wraps each line with its stream and a "more follows" flag (CRI,
 * Docker): parts are joined per stream, since stdout and stderr interleave.
 */
export class JoiningDecoder implements Decoder {
  private readonly stdout: PartJoiner;
  private readonly stderr: PartJoiner;

  constructor(
    private readonly format: MalformedLine['format'],
    private readonly parse: (bytes: Buffer) => FramedPart | null,
    private readonly options: FramingOptions,
    private readonly counters: DecoderCounters,
  ) {
    this.stdout = new PartJoiner(options.maxLineBytes);
    this.stderr = new PartJoiner(options.maxLineBytes);
  }

  get heldFrom(): number {
    const a = this.stdout.start;
    const b = this.stderr.start;
    return a < 0 ? b : b < 0 ? a : Math.min(a, b);
  }

  line(bytes: Buffer, lineNumber: number, start: number, out: FramedHandler): void {
    const parsed = this.parse(bytes);
    if (parsed === null) {
      this.counters.malformed++;
      out.malformed({ format: this.format, line: lineNumber, size: bytes.length, sha256: sha256Hex(bytes) });
      return;
    }
    if (this.options.streams !== null && !this.options.streams.has(parsed.stream)) {
      this.counters.otherStream++;
      return;
    }
    const joiner = parsed.stream === 'stdout' ? this.stdout : this.stderr;
    if (parsed.partial) {
      this.counters.partsJoined++;
      joiner.add(parsed.content, lineNumber, start);
    } else {
      joiner.finish(parsed.content, lineNumber, out);
    }
  }

  end(out: FramedHandler): void {
    // The line that started first goes first, so lines keep their order.
    const joiners = [this.stdout, this.stderr].filter((j) => j.holding).sort((a, b) => a.start - b.start);
    for (const joiner of joiners) if (joiner.flush(out)) this.counters.incomplete++;
  }
}

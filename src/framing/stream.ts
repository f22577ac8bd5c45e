/**
 * One byte stream (a file, a pipe) cut into payload lines: the byte-exact splitter, then the
 * container log framing chosen by `format` (`auto` decides from the stream's first line), then
 * the handler. Each stream has its own framer: a partial line of one file never joins another's.
 *
 * With `track` on, the framer knows the offset just past the last raw line it has handed on in
 * full (`committable`): a checkpoint may move there and no further, since what follows is a
 * partial line or a part of a joined line still being held.
 */
import { type Decoder, type DecoderCounters, type FramedHandler, type StreamName, sha256Hex } from './decoder';
import { criDecoder, parseCriLine } from './cri';
import { dockerDecoder, parseDockerLine } from './docker';
import { LineSplitter, type LineHandler, type OversizeLine } from './lines';

export type InputFormat = 'raw' | 'cri' | 'docker' | 'auto';
export const INPUT_FORMATS: readonly InputFormat[] = ['raw', 'cri', 'docker', 'auto'];

export interface FramerOptions {
  format: InputFormat;
  maxLineBytes: number;
  streams: ReadonlySet<StreamName> | null;
  /** Called once when `auto` decided (for a log line). */
  onDetect?: (format: Exclude<InputFormat, 'auto'>) => void;
}

/** Room for a CRI header or Docker's JSON escapes around the content of one raw line. */
function rawLimit(format: InputFormat, maxLineBytes: number): number {
  switch (format) {
    case 'raw':
      return maxLineBytes;
    case 'cri':
      return maxLineBytes + 1024;
    default:
      return 2 * maxLineBytes + 1024;
  }
}

const NL = 0x0a;

export class StreamFramer implements LineHandler {
  private readonly splitter: LineSplitter;
  private decoder: Decoder | null = null;
  private format: InputFormat;
  /** Offset (in the stream) of the first byte of the current chunk. */
  private base = 0;
  private chunk: Buffer | null = null;
  private scan = 0;
  /** Offset just past the last complete raw line. */
  private lineStart = 0;
  private pushed = 0;

  constructor(
    private readonly options: FramerOptions,
    private readonly out: FramedHandler,
    private readonly counters: DecoderCounters,
  ) {
    this.format = options.format;
    this.splitter = new LineSplitter(rawLimit(options.format, options.maxLineBytes));
    if (this.format === 'cri' || this.format === 'docker') this.decoder = this.decoderFor(this.format);
  }

  /** The stream's offset of the first byte pushed (a file resumed from a checkpoint). Before any push. */
  startAt(offset: number): void {
    this.pushed = offset;
    this.lineStart = offset;
  }

  /** Where a checkpoint may point: past every raw line handed on in full. */
  get committable(): number {
    const held = this.decoder?.heldFrom ?? -1;
    return held >= 0 ? held : this.lineStart;
  }

  /** Bytes after the last newline: a line still waiting for its end. */
  get partialBytes(): number {
    return this.pushed - this.lineStart;
  }

  /** Cuts `chunk` (the stream's next bytes) into lines and hands them on, synchronously. */
  push(chunk: Buffer): void {
    this.chunk = chunk;
    this.base = this.pushed;
    this.scan = 0;
    this.splitter.push(chunk, this);
    this.pushed += chunk.length;
    this.chunk = null;
  }

  /** The stream ended: a last line without a newline and held parts are handed on. Returns whether there were any. */
  end(): boolean {
    const partial = this.partialBytes > 0;
    this.splitter.end(this);
    const held = this.decoder?.heldFrom ?? -1;
    this.decoder?.end(this.out);
    return partial || held >= 0;
  }

  /** LineHandler (from the splitter): one raw line. */
  line(bytes: Buffer, lineNumber: number): void {
    const start = this.advance();
    if (this.decoder === null && this.format === 'auto' && bytes.length > 0) this.decide(bytes);
    if (this.decoder !== null) {
      this.decoder.line(bytes, lineNumber, start, this.out);
    } else if (bytes.length > this.options.maxLineBytes) {
      // `auto` cut raw lines with room for framing: the limit of a raw line applies here.
      this.out.oversize({ line: lineNumber, size: bytes.length, sha256: sha256Hex(bytes) });
    } else {
      this.out.line(bytes, lineNumber);
    }
  }

  oversize(info: OversizeLine): void {
    this.advance();
    this.out.oversize(info);
  }

  /** The offset where the line just cut starts; moves past its newline. */
  private advance(): number {
    const start = this.lineStart;
    const chunk = this.chunk;
    if (chunk === null) {
      this.lineStart = this.pushed; // end(): the last line had no newline
      return start;
    }
    const nl = chunk.indexOf(NL, this.scan);
    this.scan = nl + 1;
    this.lineStart = this.base + nl + 1;
    return start;
  }

  private decide(first: Buffer): void {
    const format: 'raw' | 'cri' | 'docker' = parseDockerLine(first) !== null ? 'docker' : parseCriLine(first) !== null ? 'cri' : 'raw';
    this.format = format;
    if (format !== 'raw') this.decoder = this.decoderFor(format);
    this.options.onDetect?.(format);
  }

  private decoderFor(format: 'cri' | 'docker'): Decoder {
    const options = { maxLineBytes: this.options.maxLineBytes, streams: this.options.streams };
    return format === 'cri' ? criDecoder(options, this.counters) : dockerDecoder(options, this.counters);
  }
}

/**
 * The disk buffer: a directory of append-only segment files plus an acknowledgement cursor.
 *
 *   <dir>/00000000000000000007.jsonl   one event per line: its compact JSON + "\n"
 *   <dir>/ack.json                     {"segment":7,"offset":4096}: everything before is delivered
 *   <dir>/lock                         the pid of the process using the directory
 *
 * An event is accepted once its line is written (writeSync: in the kernel, so a kill -9 cannot
 * lose it; `fsync` decides when it also reaches the disk, for power loss). A process never appends
 * to a segment it did not create: a crash can only leave a torn line at the end of an old segment,
 * which is never followed by anything, so it is detected (no trailing newline), skipped and
 * counted. The cursor moves only after the receiver acknowledged a batch; `ack.json` is replaced
 * atomically (write + rename), so a crash replays at most the batch in flight (at-least-once).
 * JSON lines keep the buffer inspectable with ordinary tools.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SinkError } from '../util/errors';
import type { Logger } from '../util/log';
import type { SinkEvent } from '../api/sink';
import type { FsyncPolicy } from './options';
import { type Entry, type Store, sinkEventFromJson } from './store';

interface DiskEntry extends Entry {
  readonly segment: number;
  /** Offset just past the entry's newline. */
  readonly end: number;
}

export interface DiskStoreOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly fsync: FsyncPolicy;
  /** Segment size at which a new segment starts (default: max_bytes / 8, 4 KiB to 16 MiB). */
  readonly segmentBytes?: number;
  readonly sink: string;
  readonly logger: Logger;
}

const SEGMENT = /^(\d{20})\.jsonl$/;
const READ_CHUNK = 1024 * 1024;
const NEWLINE = 0x0a;

const segmentName = (seq: number): string => `${String(seq).padStart(20, '0')}.jsonl`;

function code(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
}

export class DiskStore implements Store {
  events = 0;
  bytes = 0;
  /** Events found in the buffer when it was opened (replayed first). */
  readonly replayed: number;
  /** Torn records (a crash in the middle of an append) found and skipped. */
  tornRecords = 0;

  private readonly dir: string;
  private readonly fsync: FsyncPolicy;
  private readonly segmentBytes: number;
  private readonly lockFile: string;
  /** Existing segments in order; the last one is the writer's. */
  private readonly seqs: number[] = [];
  /** Bytes of complete records per segment. */
  private readonly complete = new Map<number, number>();
  private cursor: { segment: number; offset: number };
  private writerSeq: number;
  private writerFd = -1;
  private reader: { seq: number; fd: number } | null = null;
  private syncScheduled = false;
  private closed = false;

  constructor(private readonly options: DiskStoreOptions) {
    this.dir = options.dir;
    this.fsync = options.fsync;
    this.segmentBytes =
      options.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.max(4096, Math.floor(options.maxBytes / 8)));
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.lockFile = this.lock();
    try {
      const found = fs
        .readdirSync(this.dir)
        .map((name) => SEGMENT.exec(name))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b);
      const ack = this.readAck();
      this.cursor = ack ?? { segment: found[0] ?? 0, offset: 0 };
      for (const seq of found) {
        if (seq < this.cursor.segment) {
          fs.rmSync(this.segmentPath(seq), { force: true });
          continue;
        }
        if (seq > this.cursor.segment && this.seqs.length === 0) this.cursor = { segment: seq, offset: 0 };
        this.seqs.push(seq);
        this.scan(seq, seq === this.cursor.segment ? this.cursor.offset : 0);
      }
      this.writerSeq = Math.max(this.cursor.segment, (found[found.length - 1] ?? -1) + 1);
      this.openWriter();
      if (this.seqs[0] === this.writerSeq) this.cursor = { segment: this.writerSeq, offset: 0 };
      this.advanceCursor();
      this.replayed = this.events;
    } catch (error) {
      fs.rmSync(this.lockFile, { force: true });
      throw error;
    }
  }

  append(event: SinkEvent, _size: number): void {
    if (this.closed) throw new Error('disk buffer is closed');
    if (this.writerFd < 0) this.openWriter();
    // Compact JSON never holds a raw newline; re-serialise defensively rather than split a record.
    const json = event.json.includes('\n') ? JSON.stringify(event.record) : event.json;
    const line = Buffer.from(json + '\n', 'utf8');
    let written = 0;
    try {
      while (written < line.length) written += fs.writeSync(this.writerFd, line, written, line.length - written);
    } catch (error) {
      // A partial line is now the segment's tail: leave the segment so nothing follows it.
      this.rotate();
      throw error;
    }
    const total = (this.complete.get(this.writerSeq) ?? 0) + line.length;
    this.complete.set(this.writerSeq, total);
    this.events++;
    this.bytes += line.length;
    if (this.fsync === 'always') fs.fdatasyncSync(this.writerFd);
    else if (this.fsync === 'batch') this.scheduleSync();
    if (total >= this.segmentBytes) this.rotate();
  }

  next(maxEvents: number, maxBytes: number, measure: (event: SinkEvent) => number): Entry[] {
    const out: DiskEntry[] = [];
    let bytes = 0;
    let { segment, offset } = this.cursor;
    while (out.length < maxEvents) {
      const limit = this.complete.get(segment) ?? 0;
      if (offset >= limit) {
        const i = this.seqs.indexOf(segment);
        if (i < 0 || i + 1 >= this.seqs.length) break;
        segment = this.seqs[i + 1]!;
        offset = 0;
        continue;
      }
      const chunk = this.read(segment, offset, limit);
      let pos = 0;
      while (out.length < maxEvents) {
        const nl = chunk.indexOf(NEWLINE, pos);
        if (nl < 0) break;
        const event = sinkEventFromJson(chunk.toString('utf8', pos, nl));
        const size = event ? measure(event) : nl - pos;
        if (out.length > 0 && bytes + size > maxBytes) return out;
        out.push({ event, size, stored: nl + 1 - pos, segment, end: offset + nl + 1 });
        bytes += size;
        pos = nl + 1;
      }
      if (pos === 0) break; // cannot happen: `complete` always ends on a newline
      offset += pos;
    }
    return out;
  }

  ack(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    for (const entry of entries) {
      this.events--;
      this.bytes -= entry.stored;
    }
    const last = entries[entries.length - 1] as DiskEntry;
    this.cursor = { segment: last.segment, offset: last.end };
    this.writeAck();
    this.advanceCursor();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReader();
    if (this.writerFd >= 0) {
      if (this.fsync !== 'never') fs.fdatasyncSync(this.writerFd);
      fs.closeSync(this.writerFd);
      this.writerFd = -1;
      // Empty, or everything in it acknowledged: nothing to keep.
      if ((this.complete.get(this.writerSeq) ?? 0) === 0 || this.events === 0) {
        fs.rmSync(this.segmentPath(this.writerSeq), { force: true });
      }
    }
    fs.rmSync(this.lockFile, { force: true });
  }

  private segmentPath(seq: number): string {
    return path.join(this.dir, segmentName(seq));
  }

  /** Takes the directory's lock file; a lock left by a dead process is taken over. */
  private lock(): string {
    const file = path.join(this.dir, 'lock');
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
        return file;
      } catch (error) {
        if (code(error) !== 'EEXIST' || attempt > 0) throw error;
      }
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new SinkError(`disk buffer ${this.dir} is in use by process ${pid}`, this.options.sink);
      }
      fs.rmSync(file, { force: true });
    }
  }

  private readAck(): { segment: number; offset: number } | null {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir, 'ack.json'), 'utf8');
    } catch (error) {
      if (code(error) === 'ENOENT') return null;
      throw error;
    }
    try {
      const value = JSON.parse(text) as { segment?: unknown; offset?: unknown };
      if (Number.isSafeInteger(value.segment) && Number.isSafeInteger(value.offset)) {
        return { segment: value.segment as number, offset: value.offset as number };
      }
    } catch {
      // fall through: replay everything rather than lose anything
    }
    this.options.logger.warn('disk buffer: unreadable ack.json, replaying every segment (duplicates possible)', {
      sink: this.options.sink,
      path: this.dir,
    });
    return null;
  }

  /** Counts the complete records of a segment from `from`; notes a torn tail. */
  private scan(seq: number, from: number): void {
    const fd = fs.openSync(this.segmentPath(seq), 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(1, size)));
      let lastEnd = Math.min(from, size);
      let records = 0;
      for (let offset = lastEnd; offset < size; ) {
        const n = fs.readSync(fd, buffer, 0, Math.min(buffer.length, size - offset), offset);
        if (n <= 0) break;
        for (let i = buffer.indexOf(NEWLINE, 0); i >= 0 && i < n; i = buffer.indexOf(NEWLINE, i + 1)) {
          records++;
          lastEnd = offset + i + 1;
        }
        offset += n;
      }
      this.complete.set(seq, lastEnd);
      this.events += records;
      this.bytes += lastEnd - Math.min(from, size);
      if (size > lastEnd) {
        this.tornRecords++;
        this.options.logger.warn('disk buffer: skipped a torn record (the process stopped in the middle of an append)', {
          sink: this.options.sink,
          segment: segmentName(seq),
          offset: lastEnd,
          size: size - lastEnd,
        });
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private openWriter(): void {
    this.writerFd = fs.openSync(this.segmentPath(this.writerSeq), 'wx', 0o600);
    this.seqs.push(this.writerSeq);
    this.complete.set(this.writerSeq, 0);
  }

  private rotate(): void {
    if (this.writerFd >= 0) {
      try {
        if (this.fsync !== 'never') fs.fdatasyncSync(this.writerFd);
      } finally {
        fs.closeSync(this.writerFd);
        this.writerFd = -1;
      }
    }
    this.writerSeq++;
    // Opened lazily by the next append if this fails (e.g. ENOSPC); the append then reports it.
    try {
      this.openWriter();
    } catch {
      this.writerFd = -1;
    }
  }

  private scheduleSync(): void {
    if (this.syncScheduled) return;
    this.syncScheduled = true;
    // One fdatasync per burst of appends, off the event loop.
    setImmediate(() => {
      this.syncScheduled = false;
      if (!this.closed && this.writerFd >= 0) fs.fdatasync(this.writerFd, () => {});
    });
  }

  /** Reads from `offset` up to `limit`, at least through the first complete record. */
  private read(seq: number, offset: number, limit: number): Buffer {
    if (this.reader?.seq !== seq) {
      this.closeReader();
      this.reader = { seq, fd: fs.openSync(this.segmentPath(seq), 'r') };
    }
    for (let length = Math.min(limit - offset, READ_CHUNK); ; length = Math.min(limit - offset, length * 2)) {
      const buffer = Buffer.allocUnsafe(length);
      const n = fs.readSync(this.reader.fd, buffer, 0, length, offset);
      const chunk = buffer.subarray(0, n);
      if (chunk.includes(NEWLINE) || length >= limit - offset || n < length) return chunk;
    }
  }

  private closeReader(): void {
    if (this.reader) fs.closeSync(this.reader.fd);
    this.reader = null;
  }

  /** Deletes the segments the cursor has passed completely (never the writer's). */
  private advanceCursor(): void {
    // Segments a batch read through completely.
    while (this.seqs.length > 0 && this.seqs[0]! < this.cursor.segment) this.removeSegment(this.seqs[0]!);
    while (this.cursor.segment !== this.writerSeq && this.cursor.offset >= (this.complete.get(this.cursor.segment) ?? 0)) {
      const done = this.cursor.segment;
      const i = this.seqs.indexOf(done);
      const following = i >= 0 ? this.seqs[i + 1] : this.seqs.find((s) => s > done);
      this.removeSegment(done);
      this.cursor = { segment: following ?? this.writerSeq, offset: 0 };
    }
  }

  private removeSegment(seq: number): void {
    if (this.reader?.seq === seq) this.closeReader();
    fs.rmSync(this.segmentPath(seq), { force: true });
    const i = this.seqs.indexOf(seq);
    if (i >= 0) this.seqs.splice(i, 1);
    this.complete.delete(seq);
  }

  private writeAck(): void {
    const file = path.join(this.dir, 'ack.json');
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(this.cursor));
      if (this.fsync !== 'never') fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return code(error) === 'EPERM';
  }
}

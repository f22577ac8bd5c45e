/**
 * The chain in a file sink: seals every line written with its sequence number and chain value,
 * opens every file with an `open` record and closes segments with checkpoints (at rotation, at
 * shutdown, every interval), continuing the chain of the newest file on disk after a restart.
 *
 * It hooks in at the file handle the file sink's rotating file writes through (as the sink's hardening
 * does), so it sees exactly the bytes that reach each file, in order, and the moment a file is
 * closed for rotation. Every operation on a handle is queued: a checkpoint from the interval timer
 * never interleaves with a batch. A failed write rolls the chain back, so what is on disk always
 * chains (the batch's events go to the dead letter, as without a chain).
 */
import { createHash, type Hash, type KeyObject } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { basename } from 'node:path';
import type { EventEmitter } from 'node:events';
import type { Logger } from '../util/log';
import { chainValue, GENESIS, parseRecord, recordBody, sealedLine, signedPart, type RecordKind } from './chain';
import { parseControl, signCheckpoint, type CheckpointFields, type CheckpointReason, type OpenFields, type OpenReason } from './checkpoint';
import { DEFAULT_CHECKPOINT_INTERVAL_MS } from './options';
import { readLines } from './trail';


export interface ChainOptions {
  /** The sink's file (absolute). */
  path: string;
  /** Its rotated files, oldest first (the sink's listRotated). */
  rotated: string[];
  key: Buffer;
  signingKey?: KeyObject | null;
  checkpointIntervalMs?: number;
  logger: Logger;
  sink: string;
}

/** The part of a FileHandle the chain wraps (the rotating file's `file`). */
interface ChainedHandle {
  write(buffer: Buffer): Promise<unknown>;
  close(): Promise<void>;
  fd: number;
}

/** What is known of the file being written. */
interface FileState {
  firstSeq: number | null;
  events: number;
  bytes: number;
  sha: Hash;
  prevFileChain: Buffer | null;
}

/** What a restart takes over from the newest file. */
interface Recovered {
  /** A chain existed before this run. */
  restart: boolean;
  seq: number;
  chain: Buffer;
  /** The previous run ended with a shutdown checkpoint. */
  clean: boolean;
  /** The newest file's name, when the chain continues from a rotated one. */
  from: string | null;
  /** The current file's state when it is appended to. */
  current: (FileState & { needsNewline: boolean }) | null;
}

const WATCHED = Symbol('audit-router.chain');

export class ChainWriter {
  private seq: number;
  private chain: Buffer;
  private file: FileState;
  private handle: ChainedHandle | null = null;
  /** The current handle's own write (the hardened one), which the chain's wraps. */
  private rawWrite: ((b: Buffer) => Promise<unknown>) | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private attached = 0;
  /** The reason of the first `open` record of this run (start or restart). */
  private readonly firstOpen: OpenReason;
  /** A rotation happened since the last file was attached: the next one opens with reason `rotation`. */
  private rotatedSinceAttach = false;
  private prevFile: string | null;
  private needsNewline: boolean;
  private nextCloseReason: CheckpointReason = 'close';
  private timer: NodeJS.Timeout | null = null;
  private readonly name: string;
  private readonly intervalMs: number;
  /** Whether the previous run ended with a shutdown checkpoint (recorded in the restart's open record). */
  private readonly clean: boolean;

  private constructor(
    private readonly options: ChainOptions,
    recovered: Recovered | null,
  ) {
    this.name = basename(options.path);
    this.intervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.seq = recovered?.seq ?? 0;
    this.chain = recovered?.chain ?? GENESIS;
    this.firstOpen = recovered?.restart ? 'restart' : 'start';
    this.prevFile = recovered?.from ?? null;
    this.needsNewline = recovered?.current?.needsNewline ?? false;
    this.file = recovered?.current ?? freshFile(recovered && !recovered.current ? recovered.chain : null);
    this.clean = recovered?.clean ?? true;
  }

  /** Recovers the chain from the newest file on disk (or starts one) and starts the checkpoint timer. */
  static async open(options: ChainOptions): Promise<ChainWriter> {
    const recovered = await recover(options);
    const writer = new ChainWriter(options, recovered);
    if (recovered?.restart && !recovered.clean) {
      options.logger.warn('chain: the previous run did not end with a shutdown checkpoint; the restart is recorded as unclean', {
        sink: options.sink,
        seq: recovered.seq,
      });
    }
    writer.timer = setInterval(() => writer.checkpoint('interval'), writer.intervalMs);
    writer.timer.unref();
    return writer;
  }

  /**
   * Follows one rotating file (sinks/file/rotating-file.ts): must be called right after it is created and after
   * the sink's own 'open' listener (the chain wraps the hardened handle, never the other way).
   */
  watch(stream: EventEmitter): void {
    const marked = stream as EventEmitter & { [WATCHED]?: true };
    if (marked[WATCHED]) return;
    marked[WATCHED] = true;
    stream.on('rotation', () => {
      this.nextCloseReason = 'rotation';
    });
    stream.on('rotated', (rotated: string) => {
      // The file just closed (with its checkpoint) is now `rotated`; the next one chains from it.
      this.prevFile = basename(rotated);
      this.file = freshFile(this.chain);
      this.needsNewline = false;
      this.rotatedSinceAttach = true;
    });
    stream.on('open', () => {
      const fh = (stream as unknown as { file?: ChainedHandle }).file;
      if (fh) this.attach(fh);
    });
  }

  /** The reason the next close of the file gets in its checkpoint (the sink knows why it closes). */
  closing(reason: CheckpointReason): void {
    this.nextCloseReason = reason;
  }

  /** Stops the interval checkpoints (the closing checkpoint is written when the file closes). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private attach(fh: ChainedHandle): void {
    const reason: OpenReason = this.attached === 0 ? this.firstOpen : this.rotatedSinceAttach ? 'rotation' : 'reopen';
    this.rotatedSinceAttach = false;
    if (reason === 'reopen') {
      // Opened again after SIGHUP or a write error: a new (empty) file, or the same one again.
      let size = -1;
      try {
        size = fstatSync(fh.fd).size;
      } catch {
        size = -1;
      }
      if (size === 0 && this.file.bytes > 0) {
        this.prevFile = this.name;
        this.file = freshFile(this.chain);
      } else if (size !== this.file.bytes) {
        this.options.logger.warn('chain: the reopened file is not the one last written; its checkpoints will not match', {
          sink: this.options.sink,
        });
      }
    }
    this.attached++;
    const write = fh.write.bind(fh);
    const close = fh.close.bind(fh);
    this.handle = fh;
    this.rawWrite = write;
    this.enqueue(() => this.writeOpen(write, reason)).catch(() => {});
    fh.write = (buffer: Buffer) => this.enqueue(() => this.writeBatch(write, buffer));
    fh.close = () =>
      this.enqueue(async () => {
        if (this.handle === fh) {
          this.handle = null;
          this.rawWrite = null;
          const why = this.nextCloseReason;
          this.nextCloseReason = 'close';
          await this.writeCheckpoint(write, why).catch(() => {});
        }
      }).then(close, close);
  }

  /** An interval checkpoint, queued behind what is in flight, when a file is open. */
  private checkpoint(reason: CheckpointReason): void {
    const fh = this.handle;
    const write = this.rawWrite;
    if (!fh || !write) return;
    this.enqueue(async () => {
      if (this.handle === fh) await this.writeCheckpoint(write, reason);
    }).catch((err: unknown) =>
      this.options.logger.warn('chain: checkpoint not written', { sink: this.options.sink, code: codeOf(err) }),
    );
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => {});
    return next;
  }

  private async writeBatch(write: (b: Buffer) => Promise<unknown>, buffer: Buffer): Promise<{ bytesWritten: number }> {
    const text = buffer.toString('utf8');
    const seq0 = this.seq;
    const chain0 = this.chain;
    let seq = seq0;
    let chain = chain0;
    let out = '';
    let start = 0;
    let events = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const json = text.slice(start, end);
      start = end + 1;
      if (json.length === 0) continue;
      seq++;
      const body = recordBody(json, seq);
      chain = chainValue(this.options.key, chain, body);
      out += sealedLine(body, chain);
      events++;
    }
    const bytes = Buffer.from(out, 'utf8');
    await write(bytes);
    this.seq = seq;
    this.chain = chain;
    this.noteWritten(bytes, seq0 + 1);
    this.file.events += events;
    return { bytesWritten: buffer.length };
  }

  private async writeOpen(write: (b: Buffer) => Promise<unknown>, reason: OpenReason): Promise<void> {
    const fields: OpenFields = {
      audit_router: 'open',
      reason,
      file: this.name,
      prev_file: this.prevFile,
      prev_seq: this.seq,
      prev_chain: this.chain.toString('hex'),
      time: new Date().toISOString(),
    };
    if (reason === 'restart') fields.clean = this.clean;
    const prefix = this.needsNewline ? '\n' : '';
    await this.writeControl(write, JSON.stringify(fields), 'open', prefix);
    this.needsNewline = false;
  }

  private async writeCheckpoint(write: (b: Buffer) => Promise<unknown>, reason: CheckpointReason): Promise<void> {
    const fields: CheckpointFields = {
      audit_router: 'checkpoint',
      reason,
      file: this.name,
      first_seq: this.file.firstSeq ?? this.seq + 1,
      last_seq: this.seq,
      count: this.file.events,
      chain: this.chain.toString('hex'),
      file_sha256: this.file.sha.copy().digest('hex'),
      prev_file_chain: this.file.prevFileChain ? this.file.prevFileChain.toString('hex') : null,
      interval_ms: this.intervalMs,
      time: new Date().toISOString(),
    };
    await this.writeControl(write, JSON.stringify(fields), 'checkpoint', '');
  }

  private async writeControl(write: (b: Buffer) => Promise<unknown>, json: string, kind: RecordKind, prefix: string): Promise<void> {
    const seq = this.seq + 1;
    const body = recordBody(json, seq, kind);
    const chain = chainValue(this.options.key, this.chain, body);
    const signingKey = kind === 'checkpoint' ? this.options.signingKey : null;
    const signature = signingKey ? signCheckpoint(signingKey, signedPart(body, chain)) : undefined;
    const bytes = Buffer.from(prefix + sealedLine(body, chain, signature), 'utf8');
    await write(bytes);
    this.seq = seq;
    this.chain = chain;
    this.noteWritten(bytes, seq);
  }

  private noteWritten(bytes: Buffer, firstSeq: number): void {
    this.file.sha.update(bytes);
    this.file.bytes += bytes.length;
    if (this.file.firstSeq === null && bytes.length > 0) this.file.firstSeq = firstSeq;
  }
}

function freshFile(prevFileChain: Buffer | null): FileState {
  return { firstSeq: null, events: 0, bytes: 0, sha: createHash('sha256'), prevFileChain };
}

function codeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'error';
}

/**
 * Reads the newest file of the trail: the current file when it has content (it will be appended
 * to: its hash, first sequence number and event count are needed), else the newest rotated file.
 * Returns null when there is no chain yet.
 */
async function recover(options: ChainOptions): Promise<Recovered | null> {
  const current = await scan(options.path, options.key).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  const appended = (s: Scan, prevFileChain: Buffer | null): Recovered['current'] => ({
    firstSeq: s.firstSeq,
    events: s.events,
    bytes: s.bytes,
    sha: s.sha,
    prevFileChain,
    needsNewline: !s.endsWithNewline,
  });
  if (current?.last) {
    return { restart: true, seq: current.last.seq, chain: current.last.chain, clean: current.clean, from: null, current: appended(current, current.prevFileChain) };
  }
  let base: { seq: number; chain: Buffer; clean: boolean; from: string } | null = null;
  for (const rotated of [...options.rotated].reverse()) {
    const found = await scan(rotated, options.key).catch(() => null);
    if (found?.last) {
      base = { seq: found.last.seq, chain: found.last.chain, clean: found.clean, from: basename(rotated) };
      break;
    }
  }
  const unchained = current !== null && current.bytes > 0;
  if (unchained) {
    options.logger.warn('chain: the current file holds lines without chain fields; the chain starts after them', { sink: options.sink });
  }
  if (!base && !unchained) return null;
  return {
    restart: base !== null,
    seq: base?.seq ?? 0,
    chain: base?.chain ?? GENESIS,
    clean: base?.clean ?? true,
    from: base?.from ?? null,
    current: unchained ? appended(current, base?.chain ?? null) : null,
  };
}

interface Scan {
  last: { seq: number; chain: Buffer } | null;
  clean: boolean;
  firstSeq: number | null;
  events: number;
  bytes: number;
  sha: Hash;
  prevFileChain: Buffer | null;
  endsWithNewline: boolean;
}

/**
 * One pass over a file: its last chained record (and whether it verifies against the one before
 * it), whether that is a shutdown checkpoint, and, for appending, the file's running hash, first
 * sequence number, event count and the previous file's chain value.
 */
async function scan(path: string, key: Buffer): Promise<Scan> {
  let last: { seq: number; chain: Buffer } | null = null;
  /** The last record's body and the chain value it must follow: checked once, at the end. */
  let lastLink: { prev: Buffer; body: Buffer } | null = null;
  let clean = false;
  let firstSeq: number | null = null;
  let events = 0;
  let prevFileChain: Buffer | null = null;
  const summary = await readLines(path, {
    line(bytes) {
      if (bytes === null) return;
      const record = parseRecord(bytes);
      if (!record) return;
      let prev = last?.chain ?? null;
      clean = false;
      if (record.kind === 'event') events++;
      else {
        const control = parseControl(bytes);
        if (control?.audit_router === 'open') {
          prev = Buffer.from(control.prev_chain, 'hex');
          if (firstSeq === null && control.prev_seq > 0) prevFileChain = prev;
        } else if (control?.audit_router === 'checkpoint') {
          clean = control.reason === 'shutdown';
          if (prevFileChain === null && control.prev_file_chain) prevFileChain = Buffer.from(control.prev_file_chain, 'hex');
        }
      }
      if (firstSeq === null) firstSeq = record.seq;
      lastLink = prev === null ? null : { prev, body: Buffer.from(record.body) };
      last = { seq: record.seq, chain: Buffer.from(record.chain) };
    },
  });
  // A last record that does not verify against the one before it: continue, but not as a clean restart.
  const end = last as { seq: number; chain: Buffer } | null;
  const link = lastLink as { prev: Buffer; body: Buffer } | null;
  if (end && link && !chainValue(key, link.prev, link.body).equals(end.chain)) clean = false;
  return {
    last,
    clean,
    firstSeq,
    events,
    bytes: summary.bytes,
    sha: summary.hash,
    prevFileChain,
    endsWithNewline: summary.endsWithNewline,
  };
}

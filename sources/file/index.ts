/**
 * The `file` source: follows files named by paths or patterns as they grow, through every way
 * they get rotated, and keeps checkpoints so that a restart (even after kill -9) resumes where
 * the sinks had taken responsibility, and never skips a line.
 *
 * - Rename + create (kubelet `0.log` → `0.log.<time>`, logrotate `create`, Docker): the old file
 *   is read to its end before it is let go, then the new one is read from its start.
 * - Copytruncate: the size falls below the read offset; reading restarts at 0 (counted).
 * - Delete + recreate, and inode reuse: a file is known by device, inode and a fingerprint of its
 *   first bytes; the same inode with other first bytes is another file, read from its start.
 * - Files appearing later under a pattern are found every `glob_interval` and read from the start.
 * - fs.watch wakes the reader at once where inotify works; a poll every `poll_interval` covers
 *   the volumes where it does not (NFS, some overlay and FUSE mounts).
 *
 * Each opening of a file is its own stream (SourceChunk.stream): the core frames it apart from
 * the others and acknowledges offsets in it (`commit`). The source knows nothing of lines or
 * JSON: only bytes and offsets, and whether the last byte read was a newline (a writer may be in
 * the middle of a line at shutdown: it is given `partial_line_timeout` to finish it).
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { type Logger, parseDuration, type Source, type SourceChunk, type SourceFactory, type StreamFraming } from '../../src/sdk';
import { CheckpointStore, type FileCheckpoint, identityKey } from './checkpoints';
import { PathPattern } from './glob';
import OPTIONS_SCHEMA from './options.schema.json';

export interface FileSourceOptions {
  /** The source's name (logs, checkpoint file). */
  name: string;
  /** Paths or patterns, absolute. */
  paths: string[];
  exclude: string[];
  readFrom: 'beginning' | 'end';
  globIntervalMs: number;
  pollIntervalMs: number;
  checkpointIntervalMs: number;
  partialLineTimeoutMs: number;
  /** Where checkpoints are kept, or null (a restart then reads again from `readFrom`). */
  stateDir: string | null;
  framing?: StreamFraming;
  logger: Logger;
}

export type FileSourceCounters = {
  /** Files opened (each opening of a path counts once). */
  files_opened: number;
  /** Files let go after a rename or delete, read to their end. */
  rotations: number;
  /** Files that shrank under the reader (copytruncate): read again from 0. */
  truncations: number;
  /** Files at a known inode whose first bytes changed (replaced in place, inode reused). */
  replaced: number;
  /** Files resumed from a checkpoint. */
  resumed: number;
  /** Bytes read. */
  bytes: number;
  /** Checkpoint files written. */
  checkpoints_written: number;
  /** Checkpoint writes that failed (retried at the next interval). */
  checkpoint_errors: number;
};

const CHUNK_BYTES = 64 * 1024;
/** Bytes the fingerprint covers once a file has them. */
const FINGERPRINT_BYTES = 256;
const NL = 0x0a;
/** Finished (rotated, fully read) files whose checkpoints are kept. */
const MAX_FINISHED = 64;
/** Rotated files are compressed under these suffixes: their bytes are not the log's any more. */
const COMPRESSED = /\.(gz|bz2|xz|zst|zip)$/;

interface Tailer {
  readonly stream: string;
  /** The path it was opened at. */
  readonly path: string;
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  fingerprint: string;
  fingerprintBytes: number;
  /** Next byte to read. */
  offset: number;
  /** The path no longer names this file: read to the end, then let go. */
  rotated: boolean;
  /** At shutdown: read up to here, no further. */
  stopAt: number;
  lastByte: number;
  lastGrowth: number;
}

interface StreamState {
  readonly dev: number;
  readonly ino: number;
  readonly path: string;
  fingerprint: string;
  fingerprintBytes: number;
  /** The file is no longer read (rotated away or truncated): drop its checkpoint once committed to `endOffset`. */
  closedAt: number | null;
  committed: number;
}

function fingerprintOf(fd: number, bytes: number): string {
  const buffer = Buffer.alloc(bytes);
  const n = bytes === 0 ? 0 : fs.readSync(fd, buffer, 0, bytes, 0);
  return createHash('sha256').update(buffer.subarray(0, n)).digest('hex');
}

export class FileSource implements Source {
  readonly name: string;
  readonly counters: FileSourceCounters = {
    files_opened: 0,
    rotations: 0,
    truncations: 0,
    replaced: 0,
    resumed: 0,
    bytes: 0,
    checkpoints_written: 0,
    checkpoint_errors: 0,
  };
  readonly chunks: AsyncIterable<SourceChunk>;

  private readonly patterns: PathPattern[];
  private readonly excludes: PathPattern[];
  private readonly tailers: Tailer[] = [];
  private readonly streams = new Map<string, StreamState>();
  private readonly store: CheckpointStore | null;
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private watchFailed = false;
  private streamSeq = 0;
  private lastGlob = 0;
  private stopping = false;
  private wake: (() => void) | null = null;
  private dirty = false;
  private lastSave = 0;
  private saveTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly finished: string[] = [];

  constructor(private readonly options: FileSourceOptions) {
    this.name = options.name;
    this.patterns = options.paths.map((p) => new PathPattern(p, '/'));
    this.excludes = options.exclude.map((p) => new PathPattern(p, '/'));
    this.store = options.stateDir ? new CheckpointStore(options.stateDir, options.name) : null;
    const log = options.logger;
    if (this.store === null) {
      log.warn('no state directory: a restart reads the files again from read_from', {
        source: this.name,
        read_from: options.readFrom,
        hint: 'set --state-dir or data_dir to resume where the sinks left off',
      });
    } else if (this.store.loadProblem) {
      log.error('checkpoints could not be read; files are read from read_from', { source: this.name, path: this.store.path, error: this.store.loadProblem });
    }
    this.start();
    this.chunks = { [Symbol.asyncIterator]: () => this.iterate() };
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    // Everything written before the signal is read: a rotation not noticed yet is noticed now,
    // and files that appeared under a pattern since the last look are opened.
    for (const t of this.tailers) {
      if (t.rotated) continue;
      try {
        const st = fs.statSync(t.path);
        if (st.dev !== t.dev || st.ino !== t.ino) t.rotated = true;
      } catch {
        t.rotated = true;
      }
    }
    this.rescan();
    // Read what is there now, no further: a busy writer must not hold the shutdown.
    for (const t of this.tailers) {
      try {
        t.stopAt = fs.fstatSync(t.fd).size;
      } catch {
        t.stopAt = t.offset;
      }
    }
    this.wakeUp();
  }

  commit(stream: string, offset: number): void {
    const state = this.streams.get(stream);
    if (state === undefined || offset <= state.committed) return;
    state.committed = offset;
    if (this.store === null) return;
    this.store.set({
      path: state.path,
      dev: state.dev,
      ino: state.ino,
      fingerprint: state.fingerprint,
      fingerprintBytes: state.fingerprintBytes,
      offset,
    });
    if (state.closedAt !== null && offset >= state.closedAt) this.streams.delete(stream);
    this.dirty = true;
    this.scheduleSave();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    if (this.saveTimer) clearTimeout(this.saveTimer);
    if (this.store) {
      if (this.dirty) this.save();
      this.store.release();
    }
    for (const t of this.tailers.splice(0)) fs.closeSync(t.fd);
  }

  // ---- start-up ----

  private start(): void {
    const seen = new Set<string>();
    for (const path of this.expand()) {
      const t = this.open(path, 'start');
      if (t) seen.add(identityKey(t.dev, t.ino));
    }
    // Files rotated while the router was down: the rest of those it was reading (found by
    // identity near their old path), and rotated files it never saw (newer than the checkpoints).
    if (this.store) {
      const rotatedNow: Array<{ path: string; cp?: FileCheckpoint; mtime: number }> = [];
      for (const cp of this.store.all()) {
        if (seen.has(identityKey(cp.dev, cp.ino))) continue;
        const found = this.findByIdentity(cp);
        if (found === null) {
          this.store.delete(cp.dev, cp.ino);
          this.dirty = true;
        } else if (found.size > cp.offset) rotatedNow.push({ path: found.path, cp, mtime: found.mtime });
        else this.finished.push(identityKey(cp.dev, cp.ino)); // read to its end before
        seen.add(identityKey(cp.dev, cp.ino));
      }
      if (this.store.savedAt !== null) rotatedNow.push(...this.unseenRotated(seen, this.store.savedAt));
      // Oldest first, ahead of the files under their names now: the log's order.
      rotatedNow.sort((a, b) => a.mtime - b.mtime);
      const current = this.tailers.splice(0);
      for (const r of rotatedNow) {
        const t = this.open(r.path, 'rotated', r.cp);
        if (t === null) continue;
        t.rotated = true;
        this.options.logger.info('reading a file rotated while stopped', { source: this.name, path: r.path, offset: t.offset });
      }
      this.tailers.push(...current);
    }
    this.lastGlob = Date.now();
    for (const pattern of this.patterns) this.watch(pattern.base);
  }

  private expand(): string[] {
    const out = new Set<string>();
    for (const pattern of this.patterns) {
      for (const path of pattern.expand()) if (!this.excludes.some((e) => e.matches(path))) out.add(path);
    }
    return [...out];
  }

  /** The file with the checkpoint's identity in its old directory (under a rotated name), or null. */
  private findByIdentity(cp: FileCheckpoint): { path: string; size: number; mtime: number } | null {
    for (const { path, st } of this.siblings(cp.path)) {
      if (st.dev === cp.dev && st.ino === cp.ino) return { path, size: st.size, mtime: st.mtimeMs };
    }
    return null;
  }

  /**
   * Rotated files (`<followed path>.<suffix>`, uncompressed) that no checkpoint knows and that were
   * written after the previous run's last checkpoint (with a margin of two intervals): rotated
   * away entirely while the router was down. Read from their start.
   */
  private unseenRotated(known: Set<string>, savedAt: number): Array<{ path: string; mtime: number }> {
    const since = savedAt - 2 * this.options.checkpointIntervalMs - 1000;
    const out: Array<{ path: string; mtime: number }> = [];
    const followed = new Set(this.store!.all().map((c) => c.path));
    for (const t of this.tailers) followed.add(t.path);
    for (const path of followed) {
      for (const s of this.siblings(path)) {
        if (s.path === path || COMPRESSED.test(s.path) || s.st.mtimeMs < since) continue;
        const key = identityKey(s.st.dev, s.st.ino);
        if (known.has(key) || this.tailers.some((t) => t.path === s.path)) continue;
        if (this.excludes.some((e) => e.matches(s.path))) continue;
        known.add(key);
        out.push({ path: s.path, mtime: s.st.mtimeMs });
      }
    }
    return out;
  }

  /** Regular files in `path`'s directory whose names start with its name (its rotated versions, itself). */
  private siblings(path: string): Array<{ path: string; st: fs.Stats }> {
    const dir = dirname(path);
    const prefix = basename(path);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const out: Array<{ path: string; st: fs.Stats }> = [];
    for (const name of names.sort()) {
      if (name !== prefix && !name.startsWith(prefix + '.')) continue;
      try {
        const st = fs.statSync(join(dir, name));
        if (st.isFile()) out.push({ path: join(dir, name), st });
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }

  /**
   * Opens `path` and decides where to read from: a matching checkpoint's offset; else the start
   * (a file found after start-up, or read_from = beginning) or the end (read_from = end).
   */
  private open(path: string, why: 'start' | 'found' | 'rotated', known?: FileCheckpoint): Tailer | null {
    let fd: number;
    let st: fs.Stats;
    try {
      fd = fs.openSync(path, 'r');
      st = fs.fstatSync(fd);
    } catch (error) {
      this.options.logger.debug('cannot open a followed file yet', { source: this.name, path, error: (error as { code?: string }).code ?? 'error' });
      return null;
    }
    if (!st.isFile()) {
      fs.closeSync(fd);
      return null;
    }
    const fingerprintBytes = Math.min(st.size, FINGERPRINT_BYTES);
    const fingerprint = fingerprintOf(fd, fingerprintBytes);
    let offset = why === 'start' && this.options.readFrom === 'end' ? st.size : 0;
    const cp = known ?? this.store?.get(st.dev, st.ino);
    if (cp && cp.fingerprintBytes <= st.size && fingerprintOf(fd, cp.fingerprintBytes) === cp.fingerprint) {
      offset = Math.min(cp.offset, st.size);
      this.counters.resumed++;
    } else if (cp) {
      // Same inode, other content: a new file that reused the inode.
      this.counters.replaced++;
      this.store?.delete(cp.dev, cp.ino);
      offset = 0;
      this.options.logger.info('inode reused by another file: reading it from the start', { source: this.name, path });
    }
    const t: Tailer = {
      stream: `${this.name}#${++this.streamSeq}`,
      path,
      fd,
      dev: st.dev,
      ino: st.ino,
      fingerprint,
      fingerprintBytes,
      offset,
      rotated: false,
      stopAt: Number.POSITIVE_INFINITY,
      lastByte: NL,
      lastGrowth: Date.now(),
    };
    this.tailers.push(t);
    this.streams.set(t.stream, {
      dev: t.dev,
      ino: t.ino,
      path,
      fingerprint,
      fingerprintBytes,
      closedAt: null,
      committed: offset,
    });
    this.counters.files_opened++;
    this.watch(dirname(path));
    this.options.logger.info('following file', { source: this.name, path, offset });
    return t;
  }

  // ---- the read loop ----

  private async *iterate(): AsyncGenerator<SourceChunk> {
    while (true) {
      let progress = false;
      for (let i = 0; i < this.tailers.length; i++) {
        const t = this.tailers[i]!;
        const limit = Math.min(CHUNK_BYTES, t.stopAt - t.offset);
        const data = limit > 0 ? await this.read(t, limit) : Buffer.alloc(0);
        if (data.length > 0) {
          progress = true;
          const chunk: SourceChunk = { stream: t.stream, data, offset: t.offset, label: t.path, framing: this.options.framing };
          t.offset += data.length;
          t.lastByte = data[data.length - 1]!;
          t.lastGrowth = Date.now();
          this.counters.bytes += data.length;
          yield chunk;
          // A rotated file is read to its end before the others: the log's order is kept.
          if (t.rotated) break;
          continue;
        }
        if (t.rotated) {
          // Read to its end: let it go.
          this.tailers.splice(i--, 1);
          yield* this.finish(t, 'rotated');
        }
      }
      if (progress) continue;
      if (this.stopping) {
        if (this.waitingForLineEnd()) {
          await this.sleep(Math.min(this.options.pollIntervalMs, 50));
          continue;
        }
        return;
      }
      yield* this.checkFiles();
      if (this.tailers.some((t) => t.rotated)) continue;
      if (Date.now() - this.lastGlob >= this.options.globIntervalMs) this.rescan();
      await this.sleep(this.options.pollIntervalMs);
    }
  }

  /** At shutdown: a file whose last byte is not a newline gets `partial_line_timeout` of quiet to finish its line. */
  private waitingForLineEnd(): boolean {
    const now = Date.now();
    let waiting = false;
    for (const t of this.tailers) {
      if (t.lastByte === NL || now - t.lastGrowth >= this.options.partialLineTimeoutMs) continue;
      // The writer may still finish the line: look a little past the stop mark for it.
      try {
        const size = fs.fstatSync(t.fd).size;
        if (size > t.stopAt) t.stopAt = Math.min(size, t.stopAt + CHUNK_BYTES);
      } catch {
        continue;
      }
      waiting = true;
    }
    return waiting;
  }

  private async read(t: Tailer, limit: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(limit);
    try {
      const n = await new Promise<number>((resolve, reject) =>
        fs.read(t.fd, buffer, 0, limit, t.offset, (error, bytes) => (error ? reject(error) : resolve(bytes))),
      );
      return buffer.subarray(0, n);
    } catch (error) {
      this.options.logger.error('read failed on a followed file', { source: this.name, path: t.path, error: (error as { code?: string }).code ?? 'error' });
      t.rotated = true; // let it go; the path is opened again if it still exists
      return Buffer.alloc(0);
    }
  }

  /** The end of a file's stream: the core flushes its partial line; its checkpoint goes once committed. */
  private *finish(t: Tailer, why: 'rotated' | 'truncated' | 'replaced'): Generator<SourceChunk> {
    try {
      fs.closeSync(t.fd);
    } catch {
      // already closed
    }
    const state = this.streams.get(t.stream);
    if (state) {
      state.closedAt = t.offset;
      if (why !== 'rotated') {
        // Truncated or replaced: the offsets of the old content mean nothing any more.
        this.streams.delete(t.stream);
        this.store?.delete(state.dev, state.ino);
        this.dirty = true;
      } else {
        if (state.committed >= t.offset) this.streams.delete(t.stream);
        this.finished.push(identityKey(state.dev, state.ino));
        this.pruneFinished();
      }
    }
    if (why === 'rotated') this.counters.rotations++;
    this.options.logger.info(why === 'rotated' ? 'rotated file read to its end' : `followed file ${why}: reading it from the start`, {
      source: this.name,
      path: t.path,
      offset: t.offset,
    });
    yield { stream: t.stream, data: Buffer.alloc(0), offset: t.offset, end: true, label: t.path, framing: this.options.framing };
  }

  /**
   * Files read to their end keep their checkpoint (offset = their size), so a restart knows them
   * as done; only the newest MAX_FINISHED are kept (and start-up drops those whose file is gone).
   */
  private pruneFinished(): void {
    while (this.finished.length > MAX_FINISHED) {
      const key = this.finished.shift()!;
      const [dev, ino] = key.split(':').map(Number) as [number, number];
      if (this.tailers.some((t) => t.dev === dev && t.ino === ino)) continue;
      this.store?.delete(dev, ino);
      this.dirty = true;
    }
  }

  /** For each file at its end: truncated? replaced? renamed or deleted (then open what the path names now)? */
  private *checkFiles(): Generator<SourceChunk> {
    for (let i = 0; i < this.tailers.length; i++) {
      const t = this.tailers[i]!;
      if (t.rotated) continue;
      let st: fs.Stats;
      try {
        st = fs.fstatSync(t.fd);
      } catch {
        t.rotated = true;
        continue;
      }
      const shrank = st.size < t.offset;
      const changed = !shrank && t.fingerprintBytes > 0 && st.size >= t.fingerprintBytes && fingerprintOf(t.fd, t.fingerprintBytes) !== t.fingerprint;
      if (shrank || changed) {
        if (shrank) this.counters.truncations++;
        else this.counters.replaced++;
        this.tailers.splice(i--, 1);
        yield* this.finish(t, shrank ? 'truncated' : 'replaced');
        this.open(t.path, 'found');
        continue;
      }
      if (t.fingerprintBytes < FINGERPRINT_BYTES && st.size > t.fingerprintBytes) this.extendFingerprint(t, st.size);
      let now: fs.Stats | null = null;
      try {
        now = fs.statSync(t.path);
      } catch {
        now = null;
      }
      if (now === null || now.dev !== t.dev || now.ino !== t.ino) {
        t.rotated = true;
        if (now !== null && !this.tailers.some((o) => o.path === t.path && o !== t && !o.rotated)) this.open(t.path, 'found');
      }
    }
  }

  /** A file first seen short: its fingerprint grows with it (the bytes seen so far did not change). */
  private extendFingerprint(t: Tailer, size: number): void {
    const bytes = Math.min(size, FINGERPRINT_BYTES);
    t.fingerprint = fingerprintOf(t.fd, bytes);
    t.fingerprintBytes = bytes;
    const state = this.streams.get(t.stream);
    if (state) {
      state.fingerprint = t.fingerprint;
      state.fingerprintBytes = bytes;
    }
  }

  /** Files that appeared under a pattern since the last look. */
  private rescan(): void {
    this.lastGlob = Date.now();
    for (const path of this.expand()) {
      if (this.tailers.some((t) => t.path === path && !t.rotated)) continue;
      let st: fs.Stats;
      try {
        st = fs.statSync(path);
      } catch {
        continue;
      }
      // The same file under a second name (a rename into the pattern) is already being read.
      if (this.tailers.some((t) => t.dev === st.dev && t.ino === st.ino)) continue;
      this.open(path, 'found');
    }
  }

  // ---- waking up ----

  private watch(dir: string): void {
    if (this.watchFailed || this.watchers.has(dir)) return;
    try {
      const watcher = fs.watch(dir, { persistent: false }, () => this.wakeUp());
      watcher.on('error', () => {
        watcher.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, watcher);
    } catch (error) {
      // inotify limits, a volume without it: polling alone still works.
      this.watchFailed = true;
      this.options.logger.debug('fs.watch unavailable; polling only', { source: this.name, dir, error: (error as { code?: string }).code ?? 'error' });
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        if (self.wake === done) self.wake = null;
        resolve();
      }
      this.wake = done;
      if (this.stopping && ms > 50) done();
    });
  }

  // ---- checkpoints ----

  private scheduleSave(): void {
    if (this.saveTimer !== null || this.closed) return;
    const wait = Math.max(0, this.lastSave + this.options.checkpointIntervalMs - Date.now());
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save();
    }, wait);
    this.saveTimer.unref();
  }

  private save(): void {
    if (!this.store || !this.dirty) return;
    this.lastSave = Date.now();
    try {
      this.store.save();
      this.dirty = false;
      this.counters.checkpoints_written++;
    } catch (error) {
      this.counters.checkpoint_errors++;
      this.options.logger.error('checkpoint write failed; retrying', { source: this.name, path: this.store.path, error: (error as { code?: string }).code ?? 'error' });
      this.scheduleSave();
    }
  }
}

export function fileSource(options: FileSourceOptions): FileSource {
  return new FileSource(options);
}


/** The options a [[sources]] table of type "file" takes (validated against it before start). */
export const optionsSchema: object = OPTIONS_SCHEMA;

const ms = (value: unknown, fallback: number): number =>
  value === undefined ? fallback : (parseDuration(value as string | number) ?? fallback);

export const createSource: SourceFactory = (options, context) => {
  const paths = (options['paths'] as string[]).map((p) => resolve(context.baseDir, p));
  return new FileSource({
    name: context.name,
    paths,
    exclude: ((options['exclude'] as string[] | undefined) ?? []).map((p) => resolve(context.baseDir, p)),
    readFrom: (options['read_from'] as 'beginning' | 'end' | undefined) ?? 'beginning',
    globIntervalMs: ms(options['glob_interval'], 1000),
    pollIntervalMs: Math.max(10, ms(options['poll_interval'], 250)),
    checkpointIntervalMs: ms(options['checkpoint_interval'], 1000),
    partialLineTimeoutMs: ms(options['partial_line_timeout'], 1000),
    stateDir: context.stateDir,
    framing: context.framing,
    logger: context.logger,
  });
};

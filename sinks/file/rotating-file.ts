/**
 * The file the `file` sink writes: a Writable that appends each batch to `path`, rotates it by
 * size and/or interval, gzips rotated files if asked to, keeps retention and its `.history`
 * index, and notices when the file was renamed away, deleted or replaced under it.
 *
 * Why not rotating-file-stream (used up to 0.1): it rotates inside the write callback, so a
 * rotation that failed after the batch was written (the file renamed away by someone else just
 * then) failed the batch too: its events went to the dead letter while they were on disk
 * (twice), and the rotated file never entered `.history`. Here a batch and the rotation after it
 * are one step, and what the step reports is only where the batch is:
 *
 * 1. write the batch to the open file (through the sink's hardening and the integrity chain);
 * 2. when the file reached `size`, claim it with one `rename(path → rotated name)` while it is
 *    still open (atomic: an outside `mv` of the same path either happened before, and the
 *    rename fails, or fails itself), check that the name now holds our inode, close the file,
 *    gzip it, add it to `.history`, apply retention, open `path` again;
 * 3. otherwise compare `stat(path)` with the open file (dev, inode): still ours, or moved away
 *    (renamed: the open inode still has a link, the batch is on disk there), or removed (deleted
 *    or replaced: no link left). Removed: the batch is cut off the unlinked inode and written to
 *    the file opened again at `path`, so nothing accepted goes into a file nobody can read.
 *
 * Only step 1's errors fail the batch (the caller dead-letters or retries it). A failure of the
 * rotation itself is a `warning` (the file keeps growing and the next batch tries again); a
 * failure to open the next file fails the *next* batch, which was not written.
 *
 * Events: `open` (the file is open, `file` is its handle), `rotation` (claimed, about to be
 * closed), `rotated` (final name), `removed` (a rotated file deleted by retention), `moved`
 * (`{ how: 'renamed' | 'removed', rewritten }`: reopened after an outside rename or removal),
 * `warning` (an error that lost nothing).
 */
import { mkdir, open, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipFile } from './gzip';
import { listRotated, rotatedNamer } from './rotated-names';

export interface RotatingFileOptions {
  /** The file (absolute). */
  readonly path: string;
  /** Rotate once the events written to the file reach this many bytes; null: never by size. */
  readonly size: number | null;
  /** Rotate on every UTC boundary of this period (ms); null: never by time. */
  readonly intervalMs: number | null;
  /** Compress rotated files to `<name>.gz`. */
  readonly gzip: boolean;
  /** Keep at most this many rotated files; null: no limit. */
  readonly maxFiles: number | null;
  /** Keep rotated files up to this total size (bytes); null: no limit. */
  readonly maxSize: number | null;
  /** Mode of the files created (the current one and gzipped rotated ones). */
  readonly mode: number;
}

/** Where the open file is now, by the path: still there, renamed away, or unlinked (deleted or replaced). */
export type Whereabouts = 'here' | 'renamed' | 'removed';

export interface MovedEvent {
  readonly how: Exclude<Whereabouts, 'here'>;
  /** The batch being written when it was noticed was written again to the new file. */
  readonly rewritten: boolean;
}

/** How often a batch is written again when the file keeps disappearing under it. */
const MAX_REWRITES = 3;
/** setTimeout's ceiling; a longer wait is done in steps. */
const MAX_TIMER_MS = 2_147_483_000;
const DAY_MS = 86_400_000;

interface Identity {
  readonly dev: number;
  readonly ino: number;
}

export class RotatingFile extends Writable {
  /** The open file, or null. The sink hardens its `write` and `close`, the chain wraps them. */
  file: FileHandle | null = null;
  private identity: Identity | null = null;
  /** Event bytes written to the current file: what `size` compares with. */
  private size = 0;
  /** Bytes in the current file (events and chain records), to cut a batch off again. */
  private fileBytes = 0;
  /** Every operation on the file, in order: batches, interval rotations, the close. */
  private busy: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  /** Set by end() or destroy(): no more interval rotations. */
  private ended = false;
  private readonly nameFor: (time: number) => string;
  private readonly history: string | null;

  constructor(private readonly options: RotatingFileOptions) {
    super({ decodeStrings: true });
    this.nameFor = rotatedNamer(options.path);
    this.history = options.maxFiles !== null || options.maxSize !== null ? `${options.path}.history` : null;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.serial(async () => {
      if (this.options.gzip) await this.tidyCompressed();
      const existing = await stat(this.options.path).catch(() => null);
      if (existing?.isFile() && this.options.size !== null && existing.size >= this.options.size) {
        // Full from an earlier run: rotated before anything is appended, as at a size rotation.
        const name = await this.freeName();
        await rename(this.options.path, name);
        this.emit('rotation');
        this.emit('rotated', await this.retire(name));
      }
      await this.openFile();
      this.scheduleInterval();
    }).then(
      () => callback(),
      (error: unknown) => callback(asError(error)),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.serial(() => this.writeBatch(chunk)).then(
      () => callback(),
      (error: unknown) => callback(asError(error)),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.ended = true;
    this.serial(async () => {
      this.stopInterval();
      await this.closeFile();
    }).then(
      () => callback(),
      (error: unknown) => callback(asError(error)),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.ended = true;
    this.stopInterval();
    const fh = this.file;
    this.file = null;
    this.identity = null;
    if (!fh) {
      callback(error);
      return;
    }
    fh.close().then(
      () => callback(error),
      () => callback(error),
    );
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.busy.then(op);
    this.busy = run.catch(() => {});
    return run;
  }

  /** One batch: written, then the rotation or the whereabouts check that tells where it is. */
  private async writeBatch(chunk: Buffer): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (!this.file) await this.openFile();
      const fh = this.file!;
      const before = this.fileBytes;
      await fh.write(chunk);
      this.size += chunk.length;
      let where: Whereabouts | 'rotated' = 'here';
      if (this.options.size !== null && this.size >= this.options.size) where = await this.rotate();
      if (where === 'here') where = await this.whereabouts();
      if (where === 'here' || where === 'rotated') return;
      if (where === 'removed') {
        // Nobody can read the unlinked inode: the batch is cut off it and written to the new file.
        await fh.truncate(before).catch(() => {});
      }
      const again = where === 'removed' && attempt < MAX_REWRITES;
      this.emit('moved', { how: where, rewritten: again } satisfies MovedEvent);
      await this.closeFile();
      if (where === 'renamed') {
        // The batch is on disk in the renamed file; the next one goes to `path` (or fails, if it cannot be opened).
        await this.openFile().catch((error: unknown) => this.emit('warning', asError(error)));
        return;
      }
      if (!again) throw Object.assign(new Error('the file was removed again and again while being written'), { code: 'ENOENT' });
    }
  }

  /** Where the open file is, compared with what `path` names now. */
  private async whereabouts(): Promise<Whereabouts> {
    const fh = this.file;
    const id = this.identity;
    if (!fh || !id) return 'here';
    let current: Identity | null;
    try {
      current = await stat(this.options.path);
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') return 'here'; // cannot tell (EACCES on the directory...): keep writing
      current = null;
    }
    if (current && current.dev === id.dev && current.ino === id.ino) return 'here';
    const own = await fh.stat().catch(() => null);
    return own && own.nlink > 0 ? 'renamed' : 'removed';
  }

  /**
   * Rotates the open file: claims it by renaming it while open, then closes, compresses and
   * indexes it and opens `path` again. Returns `rotated`, or where the file was instead when
   * `path` no longer named it (`renamed`/`removed`, for the caller), or `here` when the rename
   * failed for another reason (a warning; the next batch tries again).
   */
  private async rotate(): Promise<Whereabouts | 'rotated'> {
    const fh = this.file;
    const id = this.identity;
    if (!fh || !id) return 'here';
    let name: string;
    try {
      name = await this.freeName();
      await rename(this.options.path, name);
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return this.whereabouts();
      this.size = 0; // try again once another `size` is written, not at every batch
      this.emit('warning', asError(error));
      return 'here';
    }
    const claimed = await stat(name).catch(() => null);
    if (!claimed || claimed.dev !== id.dev || claimed.ino !== id.ino) {
      // `path` named another file when it was renamed (ours had been moved or replaced just
      // before): that file is a rotated one now; ours is dealt with as moved.
      this.emit('rotated', await this.retire(name));
      const own = await fh.stat().catch(() => null);
      return own && own.nlink > 0 ? 'renamed' : 'removed';
    }
    this.emit('rotation');
    await this.closeFile();
    this.emit('rotated', await this.retire(name));
    await this.openFile().catch((error: unknown) => {
      // The batch is safe in the rotated file; the next batch opens the file again, or fails.
      this.emit('warning', asError(error));
    });
    return 'rotated';
  }

  /** An interval rotation: between batches; an empty file rotates too (logrotate's `ifempty`). */
  private async rotateOnInterval(): Promise<void> {
    if (!this.file || this.destroyed) return;
    const where = await this.rotate();
    if (where === 'renamed' || where === 'removed') {
      this.emit('moved', { how: where, rewritten: false } satisfies MovedEvent);
      await this.closeFile();
      await this.openFile().catch((error: unknown) => this.emit('warning', asError(error)));
    }
  }

  /** After the rename: compressed, indexed, and retention applied. Returns the file's final name. */
  private async retire(name: string): Promise<string> {
    let final = name;
    if (this.options.gzip) {
      const gz = `${name}.gz`;
      const partial = `${gz}.tmp`; // not a rotated name: readers never see a half-written .gz
      try {
        await gzipFile(name, partial, { mode: this.options.mode });
        await syncPath(partial);
        await rename(partial, gz);
        await unlink(name);
        final = gz;
      } catch (error) {
        await unlink(partial).catch(() => {});
        this.emit('warning', asError(error));
        final = (await exists(gz)) && !(await exists(name)) ? gz : name;
      }
    }
    await this.keep().catch((error: unknown) => this.emit('warning', asError(error)));
    return final;
  }

  /**
   * Retention over every rotated file on disk (not only those an earlier index listed: a file
   * whose rotation was cut short by a crash is still deleted in turn), oldest first, then the
   * `.history` index written again (atomically) with what is kept.
   */
  private async keep(): Promise<void> {
    if (this.history === null) return;
    const { maxFiles, maxSize } = this.options;
    const files = listRotated(this.options.path);
    const remove = async (file: string): Promise<void> => {
      await unlink(file).catch((error: unknown) => {
        if (codeOf(error) !== 'ENOENT') throw error;
      });
      this.emit('removed', file);
    };
    if (maxFiles !== null) while (files.length > maxFiles) await remove(files.shift()!);
    if (maxSize !== null) {
      const sizes = await Promise.all(files.map((f) => stat(f).then((s) => s.size, () => 0)));
      let total = sizes.reduce((a, b) => a + b, 0);
      while (files.length > 0 && total > maxSize) {
        total -= sizes.shift()!;
        await remove(files.shift()!);
      }
    }
    const partial = `${this.history}.tmp`;
    await writeFile(partial, files.map((f) => `${f}\n`).join(''), { mode: this.options.mode });
    await rename(partial, this.history);
  }

  /** A rotated name not in use, plain or gzipped. */
  private async freeName(): Promise<string> {
    for (;;) {
      const name = this.nameFor(Date.now());
      if (!(await exists(name)) && !(await exists(`${name}.gz`))) return name;
    }
  }

  /** Opens `path` for appending (creating it and its directory), and learns which inode it is. */
  private async openFile(): Promise<void> {
    const { path, mode } = this.options;
    let fh: FileHandle;
    try {
      fh = await open(path, 'a', mode);
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw error;
      await mkdir(dirname(path), { recursive: true });
      fh = await open(path, 'a', mode);
    }
    const st = await fh.stat().catch(async (error: unknown) => {
      await fh.close().catch(() => {});
      throw error;
    });
    if (!st.isFile() || this.destroyed) {
      await fh.close().catch(() => {});
      if (this.destroyed) throw Object.assign(new Error('stream destroyed'), { code: 'ERR_STREAM_DESTROYED' });
      throw Object.assign(new Error('not a regular file'), { code: 'EINVAL' });
    }
    countBytes(fh, (n) => {
      this.fileBytes += n;
    });
    this.file = fh;
    this.identity = { dev: st.dev, ino: st.ino };
    this.size = st.size;
    this.fileBytes = st.size;
    this.emit('open', path);
  }

  /** Closes the open file (the sink's hardened close fsyncs it; the chain writes its checkpoint first). */
  private async closeFile(): Promise<void> {
    const fh = this.file;
    this.file = null;
    this.identity = null;
    if (fh) await fh.close();
  }

  private scheduleInterval(): void {
    const period = this.options.intervalMs;
    if (period === null || this.ended) return;
    const now = Date.now();
    const next = period >= DAY_MS ? now - (now % DAY_MS) + period : now - (now % period) + period;
    const wait = (): void => {
      const left = next - Date.now();
      if (left > 0) {
        this.timer = setTimeout(wait, Math.min(left, MAX_TIMER_MS));
        this.timer.unref();
        return;
      }
      this.timer = null;
      void this.serial(() => this.rotateOnInterval())
        .catch((error: unknown) => this.emit('warning', asError(error)))
        .finally(() => this.scheduleInterval());
    };
    wait();
  }

  private stopInterval(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * A crash during an earlier run's gzip leaves a `.gz.tmp` (removed: the plain file is still
   * there) or, between the rename and the unlink, both a file and its complete `.gz` (the plain
   * one is removed), so the trail never holds an event twice.
   */
  private async tidyCompressed(): Promise<void> {
    const dir = dirname(this.options.path);
    const prefix = `${basename(this.options.path)}.`;
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (name.startsWith(prefix) && name.endsWith('.gz.tmp')) await unlink(join(dir, name)).catch(() => {});
    }
    const rotated = new Set(listRotated(this.options.path));
    for (const file of rotated) {
      if (!file.endsWith('.gz') && rotated.has(`${file}.gz`)) await unlink(file).catch(() => {});
    }
  }
}

/** The part of a FileHandle whose writes are counted. */
interface CountedHandle {
  write(buffer: Buffer, offset?: number, length?: number): Promise<{ bytesWritten: number }>;
}

/** Counts the bytes every write puts in the file: the innermost wrapper, under hardening and chain. */
function countBytes(fh: FileHandle, add: (n: number) => void): void {
  const handle = fh as unknown as CountedHandle;
  const write = handle.write.bind(handle);
  handle.write = async (buffer, offset, length) => {
    const result = await write(buffer, offset, length);
    add(result.bytesWritten);
    return result;
  };
}

async function syncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : '';
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

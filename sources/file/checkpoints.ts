/**
 * Checkpoints of the `file` source: per file, its identity (device, inode, and a fingerprint of
 * its first bytes, since inodes are reused) and the offset up to which every sink has taken
 * responsibility for its lines. One JSON file per source under the state directory:
 *
 *   <state_dir>/checkpoints/<source>.json   {"version":1,"files":[{"path","dev","ino","fingerprint","fingerprint_bytes","offset"}]}
 *   <state_dir>/checkpoints/<source>.lock   the pid of the process using them
 *
 * Written atomically (temp file, fsync, rename, fsync of the directory), so a kill -9 or a power
 * loss leaves the previous version or the new one, never a torn file.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { SinkError } from '../../src/sdk';

export interface FileCheckpoint {
  /** Where the file was when last seen (a rotated file is looked for by identity near it). */
  path: string;
  dev: number;
  ino: number;
  /** sha256 (hex) of the first `fingerprintBytes` bytes. */
  fingerprint: string;
  fingerprintBytes: number;
  /** Every line before this offset has been taken responsibility for. */
  offset: number;
}

interface Stored {
  version: 1;
  /** When the file was written (ms since the epoch). */
  saved_at?: number;
  files: Array<{ path: string; dev: number; ino: number; fingerprint: string; fingerprint_bytes: number; offset: number }>;
}

export const identityKey = (dev: number, ino: number): string => `${dev}:${ino}`;

export class CheckpointStore {
  private readonly dir: string;
  private readonly file: string;
  private readonly lockFile: string;
  private readonly entries = new Map<string, FileCheckpoint>();
  /** Problems reading the previous file (logged by the source). */
  readonly loadProblem: string | null = null;
  /** When the previous run last wrote the file (ms since the epoch), or null without one. */
  readonly savedAt: number | null = null;

  constructor(stateDir: string, source: string) {
    this.dir = join(stateDir, 'checkpoints');
    const safe = source.replace(/[^A-Za-z0-9_.-]/g, '_');
    this.file = join(this.dir, `${safe}.json`);
    this.lockFile = join(this.dir, `${safe}.lock`);
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new SinkError(`cannot create the state directory ${this.dir}: ${(error as { code?: string }).code ?? 'error'}`, source);
    }
    this.lock(source);
    let text: string | null = null;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') this.loadProblem = (error as { code?: string }).code ?? 'unreadable';
    }
    if (text !== null) {
      try {
        const stored = JSON.parse(text) as Stored;
        this.savedAt = typeof stored.saved_at === 'number' ? stored.saved_at : null;
        for (const f of stored.files) {
          this.entries.set(identityKey(f.dev, f.ino), {
            path: f.path,
            dev: f.dev,
            ino: f.ino,
            fingerprint: f.fingerprint,
            fingerprintBytes: f.fingerprint_bytes,
            offset: f.offset,
          });
        }
      } catch {
        this.loadProblem = 'not a checkpoint file';
      }
    }
  }

  get path(): string {
    return this.file;
  }

  all(): FileCheckpoint[] {
    return [...this.entries.values()];
  }

  get(dev: number, ino: number): FileCheckpoint | undefined {
    return this.entries.get(identityKey(dev, ino));
  }

  set(checkpoint: FileCheckpoint): void {
    this.entries.set(identityKey(checkpoint.dev, checkpoint.ino), checkpoint);
  }

  delete(dev: number, ino: number): void {
    this.entries.delete(identityKey(dev, ino));
  }

  /** Replaces the file atomically. Throws on I/O errors (the caller logs and retries later). */
  save(): void {
    const stored: Stored = {
      version: 1,
      saved_at: Date.now(),
      files: this.all().map((c) => ({
        path: c.path,
        dev: c.dev,
        ino: c.ino,
        fingerprint: c.fingerprint,
        fingerprint_bytes: c.fingerprintBytes,
        offset: c.offset,
      })),
    };
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(stored) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    const dirFd = fs.openSync(this.dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  }

  release(): void {
    try {
      if (fs.readFileSync(this.lockFile, 'utf8').trim() === String(process.pid)) fs.unlinkSync(this.lockFile);
    } catch {
      // already gone
    }
  }

  /** One process per checkpoint file: a second router on the same state directory would fight over offsets. */
  private lock(source: string): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(this.lockFile, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') {
          throw new SinkError(`cannot lock ${this.lockFile}: ${(error as { code?: string }).code ?? 'error'}`, source);
        }
      }
      const pid = Number.parseInt(fs.readFileSync(this.lockFile, 'utf8'), 10);
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new SinkError(`the checkpoints in ${this.dir} are in use by process ${pid}: give each router its own state directory`, source);
      }
      // A stale lock (a killed process): take it over.
      fs.rmSync(this.lockFile, { force: true });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

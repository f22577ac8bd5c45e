/**
 * Helpers for tests that follow files: the kubelet-like writer process (log-writer.js), reading
 * the router's output file back by event sequence number, and the writer's manifest.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const WRITER = join(__dirname, 'log-writer.js');

export interface WriterOptions {
  dir: string;
  events: number;
  format?: 'raw' | 'cri';
  rotation?: 'rename' | 'copytruncate' | 'delete';
  rotateEvery?: number;
  bigEvery?: number;
  perTick?: number;
  tickMs?: number;
  startSeq?: number;
  file?: string;
  manifest?: string;
}

export function startWriter(options: WriterOptions): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(process.execPath, [WRITER, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(code) : reject(new Error(`writer failed (${code}): ${err}`))));
  });
  return { child, done };
}

export interface OutputRead {
  /** Sequence numbers in output order (`fields.duration_ms`). */
  seqs: number[];
  /** Lines that did not parse: the torn tail a kill -9 may leave in the middle of a write. */
  torn: number;
}

/**
 * Reads the file sink's output. A kill -9 in the middle of a write can leave a torn last line,
 * which the next run's first line is then appended to: the complete event at the end of such a
 * line is recovered, the fragment counted.
 */
export function readOutput(path: string): OutputRead {
  const seqs: number[] = [];
  let torn = 0;
  if (!existsSync(path)) return { seqs, torn };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop(); // still being written
  for (const line of lines) {
    if (line === '') continue;
    let value: { fields?: { duration_ms?: number } } | null = null;
    try {
      value = JSON.parse(line);
    } catch {
      torn++;
      const at = line.lastIndexOf('{"timestamp"');
      try {
        value = at > 0 ? JSON.parse(line.slice(at)) : null;
      } catch {
        value = null;
      }
    }
    if (value?.fields?.duration_ms !== undefined) seqs.push(value.fields.duration_ms);
  }
  return { seqs, torn };
}

export interface Manifest {
  /** Per file generation: its inode and its first 256 bytes (hex). */
  gens: Map<number, { ino: number; head?: string }>;
  /** Per event: its file generation and the offset just past it. */
  events: Map<number, { gen: number; end: number }>;
}

export function readManifest(path: string): Manifest {
  const gens = new Map<number, { ino: number; head?: string }>();
  const events = new Map<number, { gen: number; end: number }>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    const v = JSON.parse(line) as { gen: number; ino?: number; seq?: number; end?: number; head?: string };
    if (v.head !== undefined) gens.get(v.gen)!.head = v.head;
    else if (v.seq === undefined) gens.set(v.gen, { ino: v.ino! });
    else events.set(v.seq, { gen: v.gen, end: v.end! });
  }
  return { gens, events };
}

export interface StoredCheckpoint {
  ino: number;
  offset: number;
  fingerprint: string;
  fingerprint_bytes: number;
}

/** The checkpoints on disk now. */
export function readCheckpointEntries(stateDir: string, source: string): StoredCheckpoint[] {
  const file = join(stateDir, 'checkpoints', `${source}.json`);
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as { files: StoredCheckpoint[] }).files;
}

/** The checkpoints on disk now: inode → offset. */
export function readCheckpoints(stateDir: string, source: string): Map<number, number> {
  return new Map(readCheckpointEntries(stateDir, source).map((f) => [f.ino, f.offset]));
}

/**
 * Which writer generation a checkpoint belongs to: same inode and the same first bytes (inodes
 * are reused as rotated files are compressed and deleted), or undefined.
 */
export function generationOf(entry: StoredCheckpoint, manifest: Manifest): number | undefined {
  for (const [gen, g] of manifest.gens) {
    if (g.ino !== entry.ino || g.head === undefined) continue;
    const prefix = Buffer.from(g.head, 'hex').subarray(0, entry.fingerprint_bytes);
    if (createHash('sha256').update(prefix).digest('hex') === entry.fingerprint) return gen;
  }
  return undefined;
}

/** Counts the router's log lines by message as they arrive on its stderr (alongside `collect`). */
export function logWatch(child: ChildProcess): (message: string) => number {
  const counts = new Map<string, number>();
  let rest = '';
  child.stderr!.on('data', (b: Buffer) => {
    const lines = (rest + b.toString('utf8')).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const m = /"message":"([^"]*)"/.exec(line);
      if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
    }
  });
  return (message) => counts.get(message) ?? 0;
}

/**
 * Reading a trail: the files of a chained file sink in rotation order (rotated files by name,
 * then the current file), plain or gzip, line by line on exact bytes with a running SHA-256 of
 * each file. Streaming: memory is one chunk plus the longest line (bounded by MAX_RECORD_BYTES).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Lines longer than this are not kept in memory: they are reported as oversize (and still hashed). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** `<base>.<UTC yyyymmddThhmmss.mmm>Z.<nnn>[.gz]`, as the file sink names rotated files. */
const ROTATED_RE = /^(.+)\.(\d{8}T\d{6}\.\d{3}Z)\.(\d{3})(\.gz)?$/;

export interface LineInfo {
  /** 1-based line number in its file. */
  line: number;
  /** False for a last line without a newline (a torn write, or a file still being written). */
  terminated: boolean;
  /** The running SHA-256 of the file's bytes before this line (copy it, never update it). */
  hashBefore: Hash;
}

export interface LineVisitor {
  /** One line without its `\n`; `bytes` is only valid during the call. null: longer than MAX_RECORD_BYTES. */
  line(bytes: Buffer | null, info: LineInfo): void;
}

export interface FileSummary {
  /** Decompressed bytes read. */
  bytes: number;
  lines: number;
  /** The running SHA-256 of the whole file's (decompressed) bytes, not yet digested. */
  hash: Hash;
  /** Whether the file ends with a newline (an empty file does). */
  endsWithNewline: boolean;
}

export function isGzip(path: string): boolean {
  return path.endsWith('.gz');
}

/** Streams one file's lines to `visitor`. `onRead` gets the count of (compressed) bytes read, for progress. */
export async function readLines(path: string, visitor: LineVisitor, onRead?: (bytes: number) => void): Promise<FileSummary> {
  const raw = createReadStream(path, { highWaterMark: 256 * 1024 });
  if (onRead) raw.on('data', (chunk) => onRead((chunk as Buffer).length));
  const input: Readable = isGzip(path) ? raw.pipe(createGunzip()) : raw;
  if (input !== raw) raw.on('error', (err) => input.destroy(err));
  const hash = createHash('sha256');
  let parts: Buffer[] = [];
  let partBytes = 0;
  let oversize = false;
  let lineNo = 0;
  let total = 0;
  let last = -1;
  const emit = (bytes: Buffer | null, terminated: boolean): void => {
    lineNo++;
    visitor.line(bytes, { line: lineNo, terminated, hashBefore: hash });
  };
  for await (const data of input) {
    const chunk = data as Buffer;
    total += chunk.length;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (oversize) {
        emit(null, true);
        hash.update(piece);
      } else if (partBytes + piece.length > MAX_RECORD_BYTES) {
        emit(null, true);
        for (const p of parts) hash.update(p);
        hash.update(piece);
      } else {
        const line = partBytes === 0 ? piece : Buffer.concat([...parts, piece], partBytes + piece.length);
        emit(line, true);
        hash.update(line);
      }
      hash.update('\n');
      parts = [];
      partBytes = 0;
      oversize = false;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (oversize) hash.update(rest);
      else if (partBytes + rest.length > MAX_RECORD_BYTES) {
        // Too long to keep: hash what is held and drop it; the line is reported once it ends.
        for (const p of parts) hash.update(p);
        hash.update(rest);
        parts = [];
        partBytes = 0;
        oversize = true;
      } else {
        parts.push(Buffer.from(rest)); // the stream may reuse its chunk
        partBytes += rest.length;
      }
    }
  }
  if (oversize) emit(null, false);
  else if (partBytes > 0) {
    const line = Buffer.concat(parts, partBytes);
    emit(line, false);
    hash.update(line);
  }
  return { bytes: total, lines: lineNo, hash, endsWithNewline: total === 0 || last === 0x0a };
}

/** The first line of a file (at most `limit` bytes), or null when it has none. For ordering and grouping. */
export async function firstLine(path: string, limit = 64 * 1024): Promise<Buffer | null> {
  if (isGzip(path)) {
    const input = createReadStream(path).pipe(createGunzip());
    const parts: Buffer[] = [];
    let size = 0;
    try {
      for await (const data of input) {
        const chunk = data as Buffer;
        const nl = chunk.indexOf(0x0a);
        parts.push(nl < 0 ? chunk : chunk.subarray(0, nl));
        size += chunk.length;
        if (nl >= 0 || size >= limit) break;
      }
    } catch {
      return null;
    } finally {
      input.destroy();
    }
    const line = Buffer.concat(parts);
    return line.length > 0 ? line : null;
  }
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(limit);
    const { bytesRead } = await fh.read(buf, 0, limit, 0);
    const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
    const line = buf.subarray(0, nl < 0 ? bytesRead : nl);
    return line.length > 0 ? line : null;
  } finally {
    await fh.close();
  }
}

/** One trail: its base path and its files in rotation order. */
export interface Trail {
  base: string;
  files: string[];
}

/**
 * The trails to verify from command-line arguments. A directory holds one trail per base name
 * (`audit.jsonl` and its rotated files; `*.history` index files are not part of a trail). Files
 * named on the command line form one trail: in name order when they are one sink's files, else in
 * the order of their first sequence numbers (logrotate names such as `audit.jsonl.1`).
 */
export async function trailsFrom(args: string[], firstSeq: (path: string) => Promise<number | null>): Promise<Trail[]> {
  const trails: Trail[] = [];
  const explicit: string[] = [];
  for (const arg of args) {
    const path = resolve(arg);
    if (statSync(path).isDirectory()) {
      const groups = new Map<string, string[]>();
      for (const name of readdirSync(path).sort()) {
        const full = join(path, name);
        if (name.endsWith('.history') || !statSync(full).isFile()) continue;
        const m = ROTATED_RE.exec(name);
        const base = join(path, m ? m[1]! : name);
        const group = groups.get(base) ?? [];
        group.push(full);
        groups.set(base, group);
      }
      for (const [base, files] of groups) trails.push({ base, files: rotationOrder(base, files) });
    } else explicit.push(path);
  }
  if (explicit.length > 0) {
    const bases = new Set(explicit.map((f) => {
      const m = ROTATED_RE.exec(basename(f));
      return m ? join(f, '..', m[1]!) : f;
    }));
    if (bases.size === 1) {
      const base = [...bases][0]!;
      trails.push({ base, files: rotationOrder(base, explicit) });
    } else {
      const seqs = await Promise.all(explicit.map(async (f) => ({ f, seq: await firstSeq(f) })));
      seqs.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
      trails.push({ base: explicit[0]!, files: seqs.map((s) => s.f) });
    }
  }
  return trails;
}

function rotationOrder(base: string, files: string[]): string[] {
  const unique = [...new Set(files)];
  const rotated = unique.filter((f) => f !== base).sort();
  return unique.includes(base) ? [...rotated, base] : rotated;
}

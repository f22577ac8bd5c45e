/**
 * The file sink against real files: rotation, retention, modes, reopen, backpressure, errors.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSink, listRotated } from '../../../sinks/file';
import { ConfigError, SinkError } from '../../../src/util/errors';
import type { JsonObject } from '../../../src/util/json';
import { createLogger } from '../../../src/util/log';
import type { DeadLetterRecord, Sink, SinkContext, SinkEvent, SinkOptions } from '../../../src/api/sink';
import { waitFor as until } from '../../support/wait';

const dirs: string[] = [];
function tempDir(prefix = 'file-sink-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function event(seq: number, padding = 80): SinkEvent {
  const fields: JsonObject = { event: 'tool_invocation', tool: 'create_database', result: 'success', seq, pad: 'x'.repeat(padding) };
  const record: JsonObject = { timestamp: '2026-03-05T10:30:00.123456Z', level: 'INFO', fields, target: 'audit' };
  return { record, json: JSON.stringify(record), fields };
}

interface Harness {
  context: SinkContext;
  logs: Record<string, unknown>[];
  deadLettered: DeadLetterRecord[];
}

function harness(baseDir: string, name = 'audit_file'): Harness {
  const logs: Record<string, unknown>[] = [];
  const deadLettered: DeadLetterRecord[] = [];
  const logger = createLogger('debug', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const context: SinkContext = {
    name,
    logger,
    baseDir,
    deadLetter: { write: (r) => (deadLettered.push(r), true), drain: () => Promise.resolve() },
  };
  return { context, logs, deadLettered };
}

async function open(options: SinkOptions, h: Harness): Promise<Sink> {
  return await createSink(options, h.context);
}

/** Writes events first..last honouring backpressure; returns how many writes returned false. */
async function writeAll(sink: Sink, first: number, last: number, padding?: number): Promise<number> {
  let refused = 0;
  for (let i = first; i <= last; i++) {
    if (!sink.write(event(i, padding))) {
      refused++;
      await sink.drain();
    }
  }
  return refused;
}

function readLines(file: string): string[] {
  const raw = file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file);
  const text = raw.toString('utf8');
  expect(text === '' || text.endsWith('\n'), `${file} ends with a whole line`).toBe(true);
  return text === '' ? [] : text.slice(0, -1).split('\n');
}

function seqs(lines: string[]): number[] {
  return lines.map((line) => ((JSON.parse(line) as { fields: { seq: number } }).fields.seq));
}

/** The whole trail: rotated files oldest first, then the current file. */
function trail(path: string): number[] {
  const files = [...listRotated(path), ...(existsSync(path) ? [path] : [])];
  return files.flatMap((f) => seqs(readLines(f)));
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}


/** Paths this process holds open (Linux). */
function openFiles(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}

/** The child-process tests load dist/: build it when it is missing or older than the sources. */
function ensureBuilt(): void {
  const root = join(__dirname, '..', '..', '..');
  const built = join(root, 'dist', 'sinks', 'file', 'index.js');
  const sources = [join(root, 'sinks', 'file', 'index.ts'), join(root, 'src', 'delivery', 'line-writer.ts')];
  if (existsSync(built) && sources.every((s) => statSync(s).mtimeMs <= statSync(built).mtimeMs)) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' });
  } catch {
    // errors elsewhere in the tree do not stop tsc from emitting this file
  }
  expect(existsSync(built)).toBe(true);
}

describe('file sink', () => {
  it('rotates by size, keeps every event exactly once and in order, mode 0600 everywhere', async () => {
    const dir = tempDir();
    const path = join(dir, 'nested', 'deeper', 'audit.jsonl');
    const h = harness(dir);
    const sink = await open({ path: 'nested/deeper/audit.jsonl', size: '4K', compress: 'gzip', max_files: 0 }, h);
    const N = 5000;
    // In slices, so that batches stay small and rotations many.
    for (let i = 1; i <= N; i += 100) {
      await writeAll(sink, i, Math.min(N, i + 99));
      await new Promise((r) => setImmediate(r));
    }
    await sink.close(Date.now() + 20_000);

    const rotated = listRotated(path);
    expect(rotated.length).toBeGreaterThan(20);
    for (const f of rotated) expect(f).toMatch(/\/audit\.jsonl\.\d{8}T\d{6}\.\d{3}Z\.\d{3}\.gz$/);
    expect(trail(path)).toEqual(range(1, N));
    for (const f of [path, ...rotated]) expect(modeOf(f), f).toBe(0o600);
    expect(sink.counters).toMatchObject({ accepted: N, delivered: N, failed: 0, deadLettered: 0, lastError: null, bufferedBytes: 0 });
    expect(h.deadLettered).toEqual([]);
  });

  it('rotates on an interval too, without losing or splitting events', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const h = harness(dir);
    const sink = await open({ path, interval: '1s', size: false, compress: false, max_files: 0 }, h);
    await writeAll(sink, 1, 500);
    // Wait for the clock to cross a second boundary: the interval rotation happens on its own.
    await until(() => listRotated(path).length >= 1, 'an interval rotation');
    await writeAll(sink, 501, 1000);
    await sink.close(Date.now() + 10_000);
    const rotated = listRotated(path);
    for (const f of rotated) expect(f).toMatch(/\.\d{3}$/); // not compressed
    expect(trail(path)).toEqual(range(1, 1000));
    for (const f of [path, ...rotated]) expect(modeOf(f)).toBe(0o600);
  });

  it('retention by count keeps the newest max_files, a contiguous tail of the trail', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const sink = await open({ path, size: '4K', max_files: 3 }, harness(dir));
    const N = 5000;
    for (let i = 1; i <= N; i += 100) {
      await writeAll(sink, i, i + 99);
      await new Promise((r) => setImmediate(r));
    }
    await sink.close(Date.now() + 20_000);
    expect(listRotated(path)).toHaveLength(3);
    const kept = trail(path);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(N);
    expect(kept).toEqual(range(N - kept.length + 1, N));
  });

  it('retention by total size deletes the oldest rotated files', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const sink = await open({ path, size: '4K', compress: false, max_files: 0, max_size: '20K' }, harness(dir));
    for (let i = 1; i <= 3000; i += 100) {
      await writeAll(sink, i, i + 99);
      await new Promise((r) => setImmediate(r));
    }
    await sink.close(Date.now() + 20_000);
    const rotated = listRotated(path);
    const total = rotated.reduce((n, f) => n + statSync(f).size, 0);
    expect(total).toBeLessThanOrEqual(20 * 1024);
    const kept = trail(path);
    expect(kept).toEqual(range(3000 - kept.length + 1, 3000));
  });

  it('leaves rotated files uncompressed by default (compress is opt-in, as with logrotate)', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const h = harness(dir);
    const sink = await open({ path, size: '4K' }, h);
    for (let i = 1; i <= 600; i += 100) {
      await writeAll(sink, i, i + 99);
      await new Promise((r) => setImmediate(r));
    }
    await sink.close(Date.now() + 10_000);
    const rotated = listRotated(path);
    expect(rotated.length).toBeGreaterThan(1);
    for (const f of rotated) expect(f).toMatch(/\/audit\.jsonl\.\d{8}T\d{6}\.\d{3}Z\.\d{3}$/);
    expect(trail(path)).toEqual(range(1, 600));
  });

  it('works with a space in the path, rotation and compression included', async () => {
    const dir = tempDir('file sink with space-');
    const path = join(dir, 'audit logs', 'audit trail.jsonl');
    const h = harness(dir);
    const sink = await open({ path, size: '4K', compress: 'gzip' }, h);
    for (let i = 1; i <= 1000; i += 100) {
      await writeAll(sink, i, i + 99);
      await new Promise((r) => setImmediate(r));
    }
    await sink.close(Date.now() + 10_000);
    expect(listRotated(path).length).toBeGreaterThan(3);
    expect(trail(path)).toEqual(range(1, 1000));
    expect(sink.counters.lastError).toBeNull();
    expect(h.logs.filter((l) => l['level'] === 'ERROR' || l['level'] === 'WARN')).toEqual([]);
  });

  it('reopen() after an external rename (logrotate) loses, duplicates and reorders nothing', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const moved = join(dir, 'audit.jsonl.1');
    const sink = await open({ path }, harness(dir));
    await writeAll(sink, 1, 1000);
    await until(() => sink.counters.delivered === 1000, 'the first events to be written');
    renameSync(path, moved);
    // Until the HUP, writes still go to the renamed file (the open descriptor).
    await writeAll(sink, 1001, 2000);
    // Writes keep arriving while the reopen is under way, in the same tick and after.
    const reopened = sink.reopen!();
    await writeAll(sink, 2001, 2500);
    await reopened;
    await writeAll(sink, 2501, 3000);
    await sink.close(Date.now() + 10_000);

    const before = seqs(readLines(moved));
    const after = seqs(readLines(path));
    expect(before.length).toBeGreaterThanOrEqual(1000);
    expect(after.length).toBeGreaterThanOrEqual(500);
    expect([...before, ...after]).toEqual(range(1, 3000));
    expect(openFiles().filter((f) => f.startsWith(dir))).toEqual([]); // the renamed file was closed
    expect(modeOf(path)).toBe(0o600);
    expect(sink.counters).toMatchObject({ accepted: 3000, delivered: 3000, failed: 0 });
  });

  it('reopen() with nothing renamed keeps appending to the same file', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const sink = await open({ path }, harness(dir));
    await writeAll(sink, 1, 300);
    const a = sink.reopen!();
    const b = sink.reopen!(); // two HUPs in a row
    await writeAll(sink, 301, 600);
    await Promise.all([a, b]);
    await writeAll(sink, 601, 900);
    await sink.close(Date.now() + 10_000);
    expect(seqs(readLines(path))).toEqual(range(1, 900));
  });

  it('applies backpressure on a large burst; drain() resolves and nothing is lost', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const sink = await open({ path, size: '1M' }, harness(dir));
    const N = 30_000;
    const refused = await writeAll(sink, 1, N, 200);
    expect(refused).toBeGreaterThan(0);
    await sink.close(Date.now() + 20_000);
    expect(trail(path)).toEqual(range(1, N));
    expect(sink.counters).toMatchObject({ accepted: N, delivered: N, bufferedBytes: 0 });
  });

  it('close() resolves only once the file is written and closed', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit.jsonl');
    const sink = await open({ path }, harness(dir));
    for (let i = 1; i <= 2000; i++) sink.write(event(i)); // no await: all still pending
    expect(sink.counters.delivered).toBeLessThan(2000);
    await sink.close(Date.now() + 10_000);
    expect(openFiles().filter((f) => f.startsWith(dir))).toEqual([]);
    expect(seqs(readLines(path))).toEqual(range(1, 2000));
    expect(sink.counters.delivered).toBe(2000);
    // A write after close is not lost silently: it is dead-lettered.
    sink.write(event(2001));
    expect(sink.counters).toMatchObject({ accepted: 2001, delivered: 2000, deadLettered: 1 });
  });

  it('an unwritable location at start-up is refused with the path and the error code', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    const path = join(dir, 'not-a-dir', 'audit.jsonl'); // ENOTDIR, even for root
    const h = harness(dir, 'broken_file');
    await expect(open({ path }, h)).rejects.toThrow(new SinkError(`cannot open ${path}: ENOTDIR`, 'broken_file'));
  });

  /** Opens a sink on a good path, then makes the path unwritable and reopens it (as on SIGHUP). */
  async function openThenBreak(options: SinkOptions, h: Harness, blocker: string): Promise<Sink> {
    const sink = await open(options, h);
    rmSync(blocker, { recursive: true, force: true });
    writeFileSync(blocker, 'x'); // the directory is now a file: ENOTDIR, even for root
    await sink.reopen!();
    return sink;
  }

  it('a location that becomes unwritable is a counted, logged-once error: events dead-lettered, no crash', async () => {
    const dir = tempDir();
    const blocker = join(dir, 'logs');
    const path = join(blocker, 'audit.jsonl');
    const h = harness(dir, 'broken_file');
    const sink = await openThenBreak({ path }, h, blocker);
    await writeAll(sink, 1, 200);
    await new Promise((r) => setImmediate(r));
    await writeAll(sink, 201, 400);
    await sink.close(Date.now() + 5_000);
    expect(sink.counters).toMatchObject({ accepted: 400, delivered: 0, deadLettered: 400, failed: 0, lastError: 'io' });
    expect(h.deadLettered.map((r) => (r.event!['fields'] as { seq: number }).seq)).toEqual(range(1, 400));
    expect(h.deadLettered[0]).toMatchObject({ reason: 'undeliverable', sink: 'broken_file' });
    const errors = h.logs.filter((l) => l['level'] === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ sink: 'broken_file', path, code: 'ENOTDIR' });
    expect(JSON.stringify(h.logs)).not.toContain('tool_invocation');
  });

  it('as the dead-letter destination itself, failures are counted as failed', async () => {
    const dir = tempDir();
    const blocker = join(dir, 'dl');
    const h = harness(dir, 'dead_letter');
    h.context = { ...h.context, role: 'dead_letter' };
    const sink = await openThenBreak({ path: join(blocker, 'dl.jsonl') }, h, blocker);
    await writeAll(sink, 1, 50);
    await sink.close(Date.now() + 5_000);
    expect(sink.counters).toMatchObject({ accepted: 50, delivered: 0, deadLettered: 0, failed: 50, lastError: 'io' });
    expect(h.deadLettered).toEqual([]);
  });

  it('recovers once the location becomes writable again', async () => {
    const dir = tempDir();
    const blocker = join(dir, 'logs');
    const path = join(blocker, 'audit.jsonl');
    const h = harness(dir);
    const sink = await openThenBreak({ path }, h, blocker);
    await writeAll(sink, 1, 10);
    await until(() => sink.counters.deadLettered === 10, 'the first events to fail');
    rmSync(blocker);
    mkdirSync(blocker);
    // New events are dead-lettered until the retry delay passes, then written.
    let seq = 10;
    await until(() => {
      sink.write(event(++seq));
      return sink.counters.delivered > 0;
    }, 'a write to succeed again');
    await sink.close(Date.now() + 5_000);
    const written = seqs(readLines(path));
    expect(written.length).toBe(sink.counters.delivered);
    expect(sink.counters.delivered + sink.counters.deadLettered).toBe(seq);
    expect(h.logs.filter((l) => l['level'] === 'ERROR')).toHaveLength(1);
    expect(h.logs.some((l) => l['message'] === 'sink writes succeed again')).toBe(true);
  });

  it('rejects intervals rotating-file-stream cannot express, and bad sizes or modes', async () => {
    const h = harness(tmpdir());
    const bad: SinkOptions[] = [
      { path: 'x', interval: '90m' },
      { path: 'x', interval: '7s' },
      { path: 'x', interval: '500ms' },
      { path: 'x', size: 'lots' },
      { path: 'x', mode: 'rw-------' },
      { path: 'x', compress: 'zstd' },
      {},
    ];
    for (const options of bad) {
      await expect(Promise.resolve().then(() => createSink(options, h.context)), JSON.stringify(options)).rejects.toThrow(ConfigError);
    }
  });

  describe('a short write (file size limit reached mid-batch)', () => {
    beforeAll(() => ensureBuilt(), 120_000);

    it('keeps only whole lines on disk and dead-letters exactly the rest', async () => {
      const dir = tempDir();
      const path = join(dir, 'audit.jsonl');
      const sinkModule = join(__dirname, '..', '..', '..', 'dist', 'sinks', 'file', 'index.js');
      // RLIMIT_FSIZE of 8 KiB: the write crossing it is short, the next fails with EFBIG (Node ignores SIGXFSZ).
      const script = `
        const { createSink } = require(${JSON.stringify(sinkModule)});
        const dead = [];
        (async () => {
          const sink = await createSink({ path: ${JSON.stringify(path)}, size: false }, {
            name: 'limited', baseDir: '/', logger: { error() {}, warn() {}, info() {}, debug() {}, enabled: () => false, level: 'error' },
            deadLetter: { write: (r) => (dead.push(r.event.seq), true), drain: async () => {} },
          });
          for (let i = 1; i <= 400; i++) {
            const record = { seq: i, pad: 'y'.repeat(60) };
            sink.write({ record, fields: record, json: JSON.stringify(record) });
            if (i % 20 === 0) await new Promise((r) => setImmediate(r));
          }
          await sink.close(Date.now() + 5000);
          process.stdout.write(JSON.stringify({ counters: sink.counters, dead }));
        })();`;
      const child = spawn('bash', ['-c', 'ulimit -f 8 && exec "$0" -e "$1"', process.execPath, script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      expect(code, err).toBe(0);
      const result = JSON.parse(out) as { counters: { delivered: number; deadLettered: number; lastError: string }; dead: number[] };
      const onDisk = readLines(path).map((l) => (JSON.parse(l) as { seq: number }).seq);
      expect(statSync(path).size).toBeLessThanOrEqual(8192);
      expect(onDisk.length).toBeGreaterThan(0);
      expect(onDisk).toEqual([...onDisk].sort((a, b) => a - b));
      expect(result.counters.delivered).toBe(onDisk.length);
      expect(result.dead.length).toBeGreaterThan(0);
      expect([...onDisk, ...result.dead].sort((a, b) => a - b)).toEqual(range(1, 400));
      expect(result.counters.lastError).toBe('io');
    });
  });
});

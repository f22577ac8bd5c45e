/**
 * The file sink under outside hands, end to end through bin/audit-router fed by a real writer
 * process: the active file renamed away while the sink rotates by size (an operator's script,
 * logrotate without a SIGHUP), and the file deleted or replaced under a running router. What is
 * checked is the accounting: every accepted event is somewhere exactly once (the trail, a file
 * moved away, the dead letter), the counters say where, `.history` lists every rotated file and
 * retention deletes what it must.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { listRotated } from '../../sinks/file';
import { apiAddress, scrapeUntil, watchLogs } from '../support/api';
import { collect, finished, start, tempDir, type RunResult } from '../support/cli';
import { waitFor } from '../support/wait';

const dir = tempDir('ar-file-faults-');
afterAll(() => dir.cleanup());

const PACED_WRITER = join(__dirname, '..', 'support', 'paced-writer.js');
const RENAMER = join(__dirname, '..', 'support', 'renamer.js');

const helpers: ChildProcess[] = [];
afterEach(() => {
  for (const child of helpers.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function helper(script: string, args: (string | number)[]): ChildProcess {
  const child = spawn(process.execPath, [script, ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  helpers.push(child);
  return child;
}

/** Runs the router with `args`, its stdin fed by the paced writer; resolves when both are done. */
function routeFromWriter(args: string[], events: number, perTick: number, tickMs: number): { router: ChildProcess; done: Promise<RunResult> } {
  const router = start(args);
  helpers.push(router);
  const done = collect(router, 120_000);
  const writer = helper(PACED_WRITER, [events, 8, perTick, tickMs]);
  writer.stdout!.pipe(router.stdin!);
  return { router, done };
}

/** The events' ids (`duration_ms`, the writer's 0-based index) in a file of JSON lines. */
function idsIn(path: string): number[] {
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      type Event = { fields?: { duration_ms?: unknown }; duration_ms?: unknown };
      const parsed = JSON.parse(line) as Event & { reason?: string; event?: Event };
      // A dead-letter record holds the event under `event`.
      const record = typeof parsed.reason === 'string' && typeof parsed.event === 'object' ? parsed.event : parsed;
      const id = (record.fields ?? record).duration_ms;
      if (typeof id !== 'number') throw new Error(`a line without an id in ${path}`);
      return id;
    });
}

function trailIds(path: string): number[] {
  const files = [...listRotated(path), ...(existsSync(path) ? [path] : [])];
  return files.flatMap(idsIn);
}

function historyOf(path: string): string[] {
  return readFileSync(`${path}.history`, 'utf8').split('\n').filter(Boolean);
}

/** How often each id occurs; every id must occur exactly once. */
function expectExactlyOnce(ids: number[], total: number): void {
  const seen = new Map<number, number>();
  for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !seen.has(i));
  expect({ twice: twice.slice(0, 20), missing: missing.slice(0, 20) }).toEqual({ twice: [], missing: [] });
  expect(ids.length).toBe(total);
}

interface SinkCounts {
  accepted: number;
  delivered: number;
  deadLettered: number;
  failed: number;
  reopened?: number;
}

/** One run: the router writing `events` with `size = "4K"`, while the renamer moves the active file away every `pauseMs`. */
async function renamedDuringRotation(name: string, maxFiles: number, events: number, pauseMs: number) {
  const base = join(dir.path, name);
  const path = join(base, 'audit.jsonl');
  const moved = join(base, 'moved');
  const dead = join(base, 'dead.jsonl');
  const config = join(base, 'router.toml');
  mkdirSync(base, { recursive: true });
  writeFileSync(
    config,
    `[sinks.archive]\ntype = "file"\npath = ${JSON.stringify(path)}\nsize = "4K"\nmax_files = ${maxFiles}\n[dead_letter]\npath = ${JSON.stringify(dead)}\n`,
  );
  const renamer = helper(RENAMER, [path, moved, pauseMs]);
  const { done } = routeFromWriter(['-c', config], events, 20, 2);
  const r = await done;
  renamer.kill('SIGTERM');
  await new Promise((resolve) => renamer.once('exit', resolve));
  const movedFiles = existsSync(moved) ? readdirSync(moved).map((n) => join(moved, n)) : [];
  const counts = (finished(r)['sinks'] as Record<string, SinkCounts>)['archive']!;
  return { r, path, movedFiles, counts, deadLettered: existsSync(dead) ? idsIn(dead) : [] };
}

describe('file sink: the active file renamed away during size rotation', () => {
  it('every event exactly once across the trail, the moved files and the dead letter; counters agree; .history lists every rotated file', async () => {
    const events = 6_000;
    const { r, path, movedFiles, counts, deadLettered } = await renamedDuringRotation('rename-rotate', 100_000, events, 5);
    expect(movedFiles.length, 'the renamer moved the active file').toBeGreaterThan(0);

    // A file moved away is out of the sink's hands, but what it wrote there is on disk: delivered.
    const onDisk = [...trailIds(path), ...movedFiles.flatMap(idsIn)];
    expectExactlyOnce([...onDisk, ...deadLettered], events);
    expect(counts.accepted).toBe(events);
    expect(counts.delivered).toBe(onDisk.length);
    expect(counts.deadLettered).toBe(deadLettered.length);
    expect(counts.failed).toBe(0);
    // Each move was noticed and the path opened again (the last one may come after the last batch).
    expect(counts.reopened).toBeLessThanOrEqual(movedFiles.length);
    expect(counts.reopened).toBeGreaterThanOrEqual(movedFiles.length - 1);
    const warnings = r.logs.filter((l) => l['message'] === 'output file was removed/replaced; reopened');
    expect(warnings).toHaveLength(counts.reopened!);
    expect(listRotated(path).length, 'the sink rotated by size').toBeGreaterThan(0);
    // Every rotated file the sink made is in its retention index.
    expect(historyOf(path).sort()).toEqual(listRotated(path));
    expect(r.code).toBe(0);
  });

  it('retention (max_files) still deletes the oldest rotated files, and .history lists exactly those kept', async () => {
    const events = 6_000;
    const { r, path, movedFiles, counts, deadLettered } = await renamedDuringRotation('rename-retain', 3, events, 5);
    expect(movedFiles.length, 'the renamer moved the active file').toBeGreaterThan(0);
    expect(listRotated(path)).toHaveLength(3);
    expect(historyOf(path).sort()).toEqual(listRotated(path));
    // Nothing written twice, nothing dead-lettered: what is not on disk any more was deleted by retention.
    const onDisk = [...trailIds(path), ...movedFiles.flatMap(idsIn)];
    expect(new Set(onDisk).size).toBe(onDisk.length);
    expect(deadLettered).toEqual([]);
    expect(counts.delivered).toBe(events);
    expect(counts.deadLettered).toBe(0);
    // Retention deleted rotated files (their events are gone from disk), never the newest events.
    expect(onDisk.length).toBeLessThan(events);
    expect(Math.max(...onDisk)).toBe(events - 1);
    expect(r.code).toBe(0);
  });
});

/** What a descriptor held open on a file reads now, even once the file is unlinked. */
function readHeld(fd: number): string {
  const size = fstatSync(fd).size;
  const buffer = Buffer.alloc(size);
  let offset = 0;
  while (offset < size) offset += readSync(fd, buffer, offset, size - offset, offset);
  return buffer.toString('utf8');
}

function idsOfText(text: string, where: string): number[] {
  const file = join(dir.path, `held-${where}.jsonl`);
  writeFileSync(file, text);
  return idsIn(file);
}

function lineCount(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

describe('file sink: the output file deleted or replaced without SIGHUP', () => {
  it('rm, then mv of another file over it: noticed, logged, counted, reopened; nothing lost, duplicated or reordered', async () => {
    const base = join(dir.path, 'removed');
    const path = join(base, 'audit.jsonl');
    const dead = join(base, 'dead.jsonl');
    const config = join(base, 'router.toml');
    mkdirSync(base, { recursive: true });
    writeFileSync(
      config,
      `[api]\naddress = "127.0.0.1:0"\n[sinks.archive]\ntype = "file"\npath = ${JSON.stringify(path)}\n[dead_letter]\npath = ${JSON.stringify(dead)}\n`,
    );
    const events = 4_000;
    const { router, done } = routeFromWriter(['-c', config], events, 5, 5);
    const address = await apiAddress(watchLogs(router));
    const held: number[] = [];
    try {
      // 1. Deleted: a descriptor held open still reads the unlinked inode afterwards.
      await waitFor(() => lineCount(path) >= 500, 'the first 500 events in the file');
      held.push(openSync(path, 'r'));
      rmSync(path);
      // 2. Replaced: another (empty) file moved over the reopened one.
      await waitFor(() => lineCount(path) >= 300, 'the file opened again after rm');
      held.push(openSync(path, 'r'));
      const other = join(base, 'other.jsonl');
      writeFileSync(other, '');
      renameSync(other, path);
      // Counted where an operator looks, while the run goes on.
      await waitFor(() => lineCount(path) >= 100, 'events in the replacing file');
      await scrapeUntil(address, (m) => m.value('audit_router_file_reopened_total', { sink: 'archive' }) === 2, 'two reopens in /metrics');
      const r = await done;
      expect(r.code).toBe(0);

      const deleted = idsOfText(readHeld(held[0]!), 'deleted');
      const replaced = idsOfText(readHeld(held[1]!), 'replaced');
      const current = idsIn(path);
      expect(current.length, 'events written after the replacement are in the new file').toBeGreaterThan(0);
      // Every event exactly once and in order: the deleted file, the replaced one, the one at the path now.
      expect([...deleted, ...replaced, ...current]).toEqual(Array.from({ length: events }, (_, i) => i));

      const counts = (finished(r)['sinks'] as Record<string, SinkCounts>)['archive']!;
      expect(counts).toMatchObject({ accepted: events, delivered: events, deadLettered: 0, failed: 0, reopened: 2 });
      expect(existsSync(dead) ? readFileSync(dead, 'utf8') : '').toBe('');
      const warnings = r.logs.filter((l) => l['message'] === 'output file was removed/replaced; reopened');
      expect(warnings).toHaveLength(2);
      for (const w of warnings) {
        expect(w).toMatchObject({ level: 'WARN', sink: 'archive', path, how: 'removed' });
        expect(JSON.stringify(w)).not.toContain('duration_ms'); // describes the event, never content
      }
    } finally {
      for (const fd of held) closeSync(fd);
    }
  });
});

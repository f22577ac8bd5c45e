/**
 * Rotation on disk, end to end through bin/audit-router: a tiny size threshold and a short
 * interval, gzip, retention, mode 0600, and SIGHUP reopening after an external rename.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../scripts/generate-stream.js';
import { listRotated } from '../../sinks/file';
import { collect, finished, runRouter, start, tempDir } from '../support/cli';
import { waitFor } from '../support/wait';

const dir = tempDir('ar-rotate-');
afterAll(() => dir.cleanup());

interface Generated { line: string; truth: { kind: string } }

function auditLines(n: number, seed: number): string[] {
  return [...(generate({ seed, lines: n, scenario: 'audit' }) as Iterable<Generated>)].map((g) => g.line);
}

function readTrail(path: string): string[] {
  const parts = listRotated(path).map((f) => (f.endsWith('.gz') ? gunzipSync(readFileSync(f)) : readFileSync(f)).toString('utf8'));
  if (existsSync(path)) parts.push(readFileSync(path, 'utf8'));
  return parts.join('').split('\n').filter(Boolean);
}

const seqOf = (line: string): number => {
  const e = JSON.parse(line);
  return (e.fields ?? e).duration_ms;
};


describe('file rotation through the CLI', () => {
  it('by size: every event exactly once and in order across gunzipped rotated files, mode 0600', async () => {
    const path = join(dir.path, 'size', 'audit.jsonl');
    const config = join(dir.path, 'size.toml');
    writeFileSync(config, `[sinks.archive]\ntype = "file"\npath = ${JSON.stringify(path)}\nsize = "16K"\ncompress = "gzip"\nmax_files = 0\n`);
    const lines = auditLines(3_000, 21);
    const r = await runRouter(['-c', config], { input: lines.join('\n') + '\n' });
    expect(r.code).toBe(0);
    const rotated = listRotated(path);
    expect(rotated.length).toBeGreaterThan(5);
    expect(rotated.every((f) => f.endsWith('.gz'))).toBe(true);
    expect(readTrail(path).map(seqOf)).toEqual(lines.map((_, i) => i));
    for (const f of [path, ...rotated]) expect(statSync(f).mode & 0o777, f).toBe(0o600);
  });

  it('retention keeps the newest max_files rotated files, and nothing else is lost from them', async () => {
    const path = join(dir.path, 'keep', 'audit.jsonl');
    const config = join(dir.path, 'keep.toml');
    writeFileSync(config, `[sinks.archive]\ntype = "file"\npath = ${JSON.stringify(path)}\nsize = "16K"\nmax_files = 3\n`);
    const lines = auditLines(3_000, 22);
    const r = await runRouter(['-c', config], { input: lines.join('\n') + '\n' });
    expect(r.code).toBe(0);
    expect(listRotated(path)).toHaveLength(3);
    const kept = readTrail(path).map(seqOf);
    // The newest events survive, contiguous and in order up to the last one.
    expect(kept.at(-1)).toBe(lines.length - 1);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => lines.length - kept.length + i));
  });

  it('by interval: a running router rotates every second, losing nothing', async () => {
    const path = join(dir.path, 'interval', 'audit.jsonl');
    const config = join(dir.path, 'interval.toml');
    writeFileSync(config, `[sinks.archive]\ntype = "file"\npath = ${JSON.stringify(path)}\ninterval = "1s"\nmax_files = 0\n`);
    const child = start(['-c', config]);
    const done = collect(child);
    const lines = auditLines(400, 23);
    let i = 0;
    // Trickle events until two rotations happened, then the rest at once.
    while (listRotated(path).length < 2) {
      if (i < 200) child.stdin!.write(lines[i++] + '\n');
      await new Promise((r) => setTimeout(r, 20));
      if (i >= 200 && listRotated(path).length < 2) await waitFor(() => listRotated(path).length >= 2, 'two interval rotations');
    }
    child.stdin!.end(lines.slice(i).join('\n') + '\n');
    const r = await done;
    expect(r.code).toBe(0);
    expect(readTrail(path).map(seqOf)).toEqual(lines.map((_, k) => k));
  });

  it('SIGHUP reopens the path after an external rename (logrotate), nothing lost or duplicated', async () => {
    const path = join(dir.path, 'hup', 'audit.jsonl');
    const moved = join(dir.path, 'hup', 'audit.jsonl.1');
    const child = start(['--file', path]);
    const done = collect(child);
    const lines = auditLines(600, 24);
    child.stdin!.write(lines.slice(0, 300).join('\n') + '\n');
    await waitFor(() => existsSync(path) && readFileSync(path, 'utf8').split('\n').length > 300, 'the first 300 events');
    renameSync(path, moved);
    child.kill('SIGHUP');
    await waitFor(() => existsSync(path), 'the reopened file');
    child.stdin!.end(lines.slice(300).join('\n') + '\n');
    const r = await done;
    expect(r.code).toBe(0);
    expect(finished(r)['audit']).toBe(600);
    const before = readFileSync(moved, 'utf8').split('\n').filter(Boolean).map(seqOf);
    const after = readFileSync(path, 'utf8').split('\n').filter(Boolean).map(seqOf);
    expect([...before, ...after]).toEqual(lines.map((_, k) => k));
    expect(before).toEqual(Array.from({ length: 300 }, (_, k) => k));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

/**
 * Disk full, end to end: the file sink on a real, small tmpfs filled during a run, under each
 * `on_audit_failure` mode, with exact counts; and `block` in wrapper mode stalling a stdio
 * server at its next stderr write until space is freed, losing nothing. Skips (saying why) only
 * where a tmpfs cannot be mounted.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../scripts/generate-stream.js';
import { apiAddress, getUntil, scrape, watchLogs } from '../support/api';
import { collect, finished, tempDir } from '../support/cli';
import { trackedStart } from '../support/children';
import { mountTmpfs, type Tmpfs } from '../support/tmpfs';

const dir = tempDir('ar-failclosed-');
const WRITER = join(__dirname, '..', 'support', 'stderr-writer.js');
let tmpfs: Tmpfs | string = 'not mounted yet';
beforeAll(() => {
  tmpfs = mountTmpfs(4 * 1024 * 1024);
  if (typeof tmpfs === 'string') console.warn(`fail-closed tests skipped: ${tmpfs}`);
});
afterAll(() => {
  if (typeof tmpfs !== 'string') tmpfs.unmount();
  dir.cleanup();
});
const start = trackedStart();
const fs = (): Tmpfs => {
  if (typeof tmpfs === 'string') throw new Error(tmpfs);
  return tmpfs;
};

interface Generated { line: string; truth: { kind: string } }
const auditLines = (n: number, seed: number): string[] =>
  [...(generate({ seed, lines: n, scenario: 'audit' }) as Iterable<Generated>)].map((g) => g.line);
const seq = (record: Record<string, unknown>): number =>
  ((record['fields'] as Record<string, unknown> | undefined) ?? record)['duration_ms'] as number;
const readJsonLines = (path: string): Record<string, unknown>[] => {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  // Every line must be a whole JSON record: a torn write may never leave a corrupt one.
  return text === '' ? [] : text.replace(/\n$/, '').split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let configs = 0;
function config(name: string, mode: string, extra = ''): { path: string; out: string; dead: string } {
  const sub = join(fs().path, name);
  const out = join(sub, 'audit.jsonl');
  const dead = join(dir.path, `${name}-dead.jsonl`);
  const path = join(dir.path, `fc-${++configs}.toml`);
  writeFileSync(
    path,
    `on_audit_failure = "${mode}"\nshutdown_timeout = "500ms"\naudit_failure_grace = "300ms"\n` +
      `[api]\naddress = "127.0.0.1:0"\n` +
      `[sinks.audit]\ntype = "file"\npath = "${out}"\nsize = 0\ncompress = false\nmax_files = 0\n` +
      `retry = { initial_backoff = "10ms", max_backoff = "100ms" }\n${extra}` +
      `[dead_letter]\npath = "${dead}"\n`,
  );
  mkdirSync(sub, { recursive: true });
  return { path, out, dead };
}

type Counters = Record<string, number>;

describe('disk full on the file sink (tmpfs)', () => {
  it('continue: the queue is kept, what exceeds it is dead-lettered, counted exactly; exit 1', async (ctx) => {
    if (typeof tmpfs === 'string') return ctx.skip(tmpfs);
    const input = auditLines(400, 61);
    const c = config('continue', 'continue', 'queue = { max_events = 20 }\n');
    // Room for the first batch (at most 64 KiB) and not for all 400 events.
    const filler = fs().fill(100 * 1024, 'filler-continue');
    try {
      const child = start(['-c', c.path]);
      const done = collect(child);
      child.stdin!.end(input.join('\n') + '\n');
      const r = await done;
      const f = finished(r);
      const sink = (f['sinks'] as Record<string, Counters>)['audit']!;
      const written = readJsonLines(c.out);
      const dead = readJsonLines(c.dead);
      expect(written.length).toBeGreaterThan(0);
      expect(written.length).toBeLessThan(input.length);
      expect(written.map(seq)).toEqual(written.map((_, i) => i)); // a prefix, in order
      expect(sink).toMatchObject({ accepted: 400, delivered: written.length, deadLettered: 400 - written.length, failed: 0 });
      expect(dead.length).toBe(400 - written.length);
      expect(dead.every((d) => d['reason'] === 'undeliverable' && d['sink'] === 'audit')).toBe(true);
      const all = [...written.map(seq), ...dead.map((d) => seq(d['event'] as Record<string, unknown>))].sort((a, b) => a - b);
      expect(all).toEqual(input.map((_, i) => i)); // each event exactly once, in the file or the dead letter
      expect(f['lost']).toBe(0);
      expect(f['audit_failures']).toBe(400 - written.length);
      expect(r.code).toBe(1);
      const failure = r.logs.find((l) => l['message'] === 'sink write failed');
      expect(failure).toMatchObject({ sink: 'audit', code: 'ENOSPC' });
      expect(r.signal).toBeNull();
    } finally {
      rmSync(filler, { force: true });
    }
  });

  it('block: input stops while the disk is full, /readyz 503, resumes by itself when space returns; nothing lost', async (ctx) => {
    if (typeof tmpfs === 'string') return ctx.skip(tmpfs);
    // More than the router reads ahead (1 MiB waits in memory before backpressure).
    const input = auditLines(4000, 62);
    const c = config('block', 'block');
    const filler = fs().fill(48 * 1024, 'filler-block');
    try {
      const child = start(['-c', c.path]);
      const logs = watchLogs(child);
      const done = collect(child);
      const address = await apiAddress(logs);
      child.stdin!.write(input.join('\n') + '\n');
      const blocked = await getUntil(address, '/readyz', (a) => a.status === 503 && JSON.parse(a.body).input_blocked === true, 'input blocked');
      expect(JSON.parse(blocked.body).unhealthy).toEqual([expect.objectContaining({ name: 'audit', required: true, last_error: 'io' })]);
      const s1 = await scrape(address);
      expect(s1.value('audit_router_input_blocked')).toBe(1);
      expect(s1.value('audit_router_audit_failures_total')).toBeGreaterThanOrEqual(1);
      expect(s1.value('audit_router_sink_healthy', { sink: 'audit' })).toBe(0);
      const read1 = s1.value('audit_router_lines_total', { outcome: 'audit' });
      expect(read1).toBeLessThan(input.length);
      await sleep(300);
      const s2 = await scrape(address);
      expect(s2.value('audit_router_lines_total', { outcome: 'audit' })).toBe(read1); // not reading
      rmSync(filler);
      await getUntil(address, '/readyz', (a) => a.status === 200, 'ready again after space returned');
      child.stdin!.end();
      const r = await done;
      expect(r.code).toBe(0);
      const written = readJsonLines(c.out);
      expect(written.map(seq)).toEqual(input.map((_, i) => i));
      const f = finished(r);
      expect((f['sinks'] as Record<string, Counters>)['audit']).toMatchObject({ accepted: 4000, delivered: 4000, deadLettered: 0, failed: 0 });
      expect(readJsonLines(c.dead)).toEqual([]);
      expect(r.logs.some((l) => l['message'] === 'input blocked: a required sink cannot take events' && l['sink'] === 'audit')).toBe(true);
      expect(r.logs.some((l) => l['message'] === 'input resumed')).toBe(true);
    } finally {
      rmSync(filler, { force: true });
    }
  });

  it('block in wrapper mode: the server stalls at its stderr write and resumes when space is freed; no event lost', async (ctx) => {
    if (typeof tmpfs === 'string') return ctx.skip(tmpfs);
    const count = 3000;
    const c = config('wrapper-block', 'block');
    const filler = fs().fill(48 * 1024, 'filler-wrapper');
    try {
      const child = start(['-c', c.path, '--', process.execPath, WRITER, String(count), '63']);
      const logs = watchLogs(child);
      let progress = 0;
      child.stdout!.on('data', (b: Buffer) => {
        for (const line of b.toString().split('\n')) if (/^\d+$/.test(line)) progress = Number(line);
      });
      const done = collect(child);
      const address = await apiAddress(logs);
      await getUntil(address, '/readyz', (a) => a.status === 503 && JSON.parse(a.body).input_blocked === true, 'input blocked');
      // The socket between them still takes what fits; then the server's next write blocks.
      let stalledAt = -1;
      for (let stableSince = Date.now(); Date.now() - stableSince < 300; await sleep(20)) {
        if (progress !== stalledAt) [stalledAt, stableSince] = [progress, Date.now()];
      }
      expect(progress).toBeLessThan(count);
      await sleep(300);
      expect(progress).toBe(stalledAt); // the server is stuck in its stderr write
      expect(JSON.parse((await getUntil(address, '/readyz', () => true, 'readyz')).body).input_blocked).toBe(true);
      rmSync(filler);
      const r = await done;
      expect(r.code, JSON.stringify(r.logs.filter((l) => l['level'] !== 'INFO' || l['message'] === 'finished'))).toBe(0);
      expect(progress).toBe(count);
      expect(r.stdout).toContain('done');
      const written = readJsonLines(c.out);
      expect(written.map(seq)).toEqual(Array.from({ length: count }, (_, i) => i));
      const f = finished(r);
      expect((f['sinks'] as Record<string, Counters>)['audit']).toMatchObject({ accepted: count, delivered: count, deadLettered: 0, failed: 0 });
      expect(f['audit_failures']).toBeGreaterThanOrEqual(1);
    } finally {
      rmSync(filler, { force: true });
    }
  });

  it('exit: the wrapped server is stopped (SIGTERM, then SIGKILL), what can be is kept, exit 3 naming sink and cause', async (ctx) => {
    if (typeof tmpfs === 'string') return ctx.skip(tmpfs);
    const count = 2000;
    const c = config('exit', 'exit');
    const filler = fs().fill(48 * 1024, 'filler-exit');
    try {
      const child = start(['-c', c.path, '--', process.execPath, WRITER, String(count), '64'], {
        env: { WRITER_STAY: '1', WRITER_IGNORE_TERM: '1', WRITER_YIELD: '1' },
      });
      const r = await collect(child);
      expect(r.code).toBe(3);
      expect(r.stdout).toContain('SIGTERM'); // asked first, then killed (it ignores SIGTERM)
      const stop = r.logs.find((l) => l['message'] === 'audit failure: stopping (on_audit_failure = "exit")');
      expect(stop).toMatchObject({ level: 'ERROR', sink: 'audit', cause: 'ENOSPC' });
      expect(r.logs.some((l) => l['message'] === 'stopping the wrapped command' && l['sent'] === 'SIGKILL')).toBe(true);
      const f = finished(r);
      const sink = (f['sinks'] as Record<string, Counters>)['audit']!;
      const written = readJsonLines(c.out);
      const dead = readJsonLines(c.dead);
      expect(sink['delivered']).toBe(written.length);
      expect(sink['deadLettered']).toBe(dead.length);
      expect(sink['accepted']).toBe(written.length + dead.length);
      expect(sink['accepted']).toBe(f['audit']);
      expect(f['lost']).toBe(0);
      expect(f['reason']).toBe('audit_failure');
      expect(written.map(seq)).toEqual(written.map((_, i) => i));
    } finally {
      rmSync(filler, { force: true });
    }
  });

  it('the dead letter on the same full disk: never a crash, every loss counted; exit 1', async (ctx) => {
    if (typeof tmpfs === 'string') return ctx.skip(tmpfs);
    const input = auditLines(300, 65);
    const sub = join(fs().path, 'both');
    mkdirSync(sub, { recursive: true });
    const out = join(sub, 'audit.jsonl');
    const deadPath = join(sub, 'dead.jsonl');
    const path = join(dir.path, 'fc-both.toml');
    writeFileSync(
      path,
      `shutdown_timeout = "300ms"\n[sinks.audit]\ntype = "file"\npath = "${out}"\nsize = 0\ncompress = false\nmax_files = 0\n` +
        `queue = { max_events = 10 }\nretry = { initial_backoff = "10ms", max_backoff = "50ms" }\n` +
        `[dead_letter]\npath = "${deadPath}"\nsize = 0\ncompress = false\nmax_files = 0\nqueue = { max_events = 10 }\nretry = { initial_backoff = "10ms", max_backoff = "50ms" }\n`,
    );
    const filler = fs().fill(32 * 1024, 'filler-both');
    try {
      const child = start(['-c', path]);
      const done = collect(child);
      child.stdin!.end(input.join('\n') + '\n');
      const r = await done;
      expect(r.code).toBe(1);
      expect(r.signal).toBeNull();
      const f = finished(r);
      const sink = (f['sinks'] as Record<string, Counters>)['audit']!;
      const written = readJsonLines(out);
      const dead = readJsonLines(deadPath);
      expect(sink['delivered']).toBe(written.length);
      expect(sink['accepted']).toBe(300);
      // What the dead letter could not keep either is counted as lost, exactly.
      expect(f['lost']).toBe(300 - written.length - dead.length);
      expect(f['lost']).toBeGreaterThan(0);
      expect(r.logs.some((l) => l['level'] === 'ERROR' && /could not be written/.test(String(l['message'])))).toBe(true);
    } finally {
      rmSync(filler, { force: true });
    }
  });
});

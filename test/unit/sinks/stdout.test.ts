/**
 * The stdout sink: in a real child process (its real standard output, a pipe), and in process
 * on an injected stream for backpressure and failures.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSink } from '../../../sinks/stdout';
import type { JsonObject } from '../../../src/util/json';
import { createLogger } from '../../../src/util/log';
import type { DeadLetterRecord, Sink, SinkContext, SinkEvent } from '../../../src/api/sink';

const ROOT = join(__dirname, '..', '..', '..');

/** The child processes load dist/: build it when it is missing or older than the sources. */
function ensureBuilt(): void {
  const built = join(ROOT, 'dist', 'sinks', 'stdout', 'index.js');
  const sources = [join(ROOT, 'sinks', 'stdout', 'index.ts'), join(ROOT, 'src', 'delivery', 'line-writer.ts')];
  if (existsSync(built) && sources.every((s) => statSync(s).mtimeMs <= statSync(built).mtimeMs)) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
  } catch {
    // errors elsewhere in the tree do not stop tsc from emitting this file
  }
  expect(existsSync(built)).toBe(true);
}

function event(seq: number): SinkEvent {
  const fields: JsonObject = { event: 'tool_invocation', tool: 'list_databases', result: 'success', seq };
  const record: JsonObject = { timestamp: '2026-03-05T10:30:00.123456Z', level: 'INFO', fields, target: 'audit' };
  return { record, json: JSON.stringify(record), fields };
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

function seqs(text: string): number[] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => (JSON.parse(line) as { fields: { seq: number } }).fields.seq);
}

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string[];
  summary: { counters: Record<string, unknown>; dead: number };
}

/** A child process writing `count` events through the stdout sink, then its counters on stderr. */
function runChild(count: number, onStdout?: (child: ReturnType<typeof spawn>) => void): Promise<ChildResult> {
  const script = `
    const { createSink } = require(${JSON.stringify(join(ROOT, 'dist', 'sinks', 'stdout', 'index.js'))});
    const { createLogger } = require(${JSON.stringify(join(ROOT, 'dist', 'src', 'util', 'log.js'))});
    let dead = 0;
    const sink = createSink({}, {
      name: 'out', baseDir: process.cwd(), logger: createLogger('info'),
      deadLetter: { write: () => (dead++, true), drain: async () => {} },
    });
    (async () => {
      for (let i = 1; i <= ${count}; i++) {
        const fields = { event: 'tool_invocation', tool: 'list_databases', result: 'success', seq: i };
        const record = { timestamp: '2026-03-05T10:30:00.123456Z', level: 'INFO', fields, target: 'audit' };
        if (!sink.write({ record, fields, json: JSON.stringify(record) })) await sink.drain();
      }
      await sink.close(Date.now() + 10000);
      process.stderr.write(JSON.stringify({ summary: { counters: sink.counters, dead } }) + '\\n');
    })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  if (onStdout) onStdout(child);
  else child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not exit; stderr: ${stderr}`));
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stderr.split('\n').filter(Boolean);
      const last = lines.find((l) => l.includes('"summary"'));
      if (!last) return reject(new Error(`no summary (exit ${code}); stderr: ${stderr}`));
      const summary = (JSON.parse(last) as { summary: ChildResult['summary'] }).summary;
      resolve({ code, stdout, stderr: lines.filter((l) => l !== last), summary });
    });
  });
}

interface Harness {
  context: SinkContext;
  logs: Record<string, unknown>[];
  deadLettered: DeadLetterRecord[];
}

function harness(): Harness {
  const logs: Record<string, unknown>[] = [];
  const deadLettered: DeadLetterRecord[] = [];
  const context: SinkContext = {
    name: 'out',
    baseDir: ROOT,
    logger: createLogger('debug', (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    deadLetter: { write: (r) => (deadLettered.push(r), true), drain: () => Promise.resolve() },
  };
  return { context, logs, deadLettered };
}

describe('stdout sink in a child process', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('writes one JSON event per line, all of them, in order', async () => {
    const N = 20_000;
    const result = await runChild(N);
    expect(result.code).toBe(0);
    expect(seqs(result.stdout)).toEqual(range(1, N));
    expect(result.summary.counters).toMatchObject({ accepted: N, delivered: N, failed: 0, deadLettered: 0, lastError: null });
    expect(result.stderr).toEqual([]);
  });

  it('survives EPIPE when the reader goes away: the rest is dead-lettered, logged once', async () => {
    const N = 200_000;
    let received = '';
    const result = await runChild(N, (child) => {
      child.stdout!.once('data', (b: Buffer) => {
        received = b.toString();
        child.stdout!.destroy(); // the reader closes its end early
      });
    });
    expect(result.code).toBe(0);
    const { accepted, delivered, deadLettered, failed, lastError } = result.summary.counters as Record<string, number | string>;
    expect(accepted).toBe(N);
    expect(lastError).toBe('io');
    expect(failed).toBe(0);
    expect(deadLettered).toBeGreaterThan(0);
    expect(result.summary.dead).toBe(deadLettered);
    expect((delivered as number) + (deadLettered as number)).toBe(N);
    expect(delivered as number).toBeGreaterThanOrEqual(received.split('\n').length - 1);
    const errors = result.stderr.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['level'] === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ sink: 'out', type: 'stdout', code: 'EPIPE', target: 'audit_router' });
    expect(result.stderr.join('\n')).not.toContain('list_databases');
  });
});

describe('stdout sink on an injected stream', () => {
  it('batches lines and applies backpressure to a slow reader; nothing is lost', async () => {
    const out = new PassThrough({ highWaterMark: 1024 });
    const chunks: Buffer[] = [];
    let writes = 0;
    out.on('data', (b: Buffer) => chunks.push(b));
    const originalWrite = out.write.bind(out);
    out.write = ((...args: Parameters<typeof originalWrite>) => (writes++, originalWrite(...args))) as typeof out.write;
    out.pause();
    const h = harness();
    const sink: Sink = await createSink({}, { ...h.context, stdout: out });
    const N = 20_000;
    let refused = 0;
    for (let i = 1; i <= N; i++) {
      if (!sink.write(event(i))) {
        refused++;
        const drained = sink.drain();
        out.resume(); // the reader catches up
        await drained;
        out.pause();
      }
    }
    out.resume();
    await sink.close(Date.now() + 10_000);
    expect(refused).toBeGreaterThan(0);
    expect(writes).toBeLessThan(N / 50); // lines are joined, not written one by one
    expect(seqs(Buffer.concat(chunks).toString())).toEqual(range(1, N));
    expect(sink.counters).toMatchObject({ accepted: N, delivered: N, bufferedBytes: 0 });
  });

  it('a failing stream is counted, logged once, and never written to again', async () => {
    let attempts = 0;
    const out = new Writable({
      write(_chunk, _enc, cb) {
        attempts++;
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const h = harness();
    const sink = await createSink({}, { ...h.context, stdout: out, role: 'dead_letter' });
    for (let i = 1; i <= 100; i++) sink.write(event(i));
    await new Promise((r) => setImmediate(r));
    for (let i = 101; i <= 200; i++) sink.write(event(i));
    await sink.close(Date.now() + 5_000);
    expect(attempts).toBe(1);
    expect(sink.counters).toMatchObject({ accepted: 200, delivered: 0, failed: 200, deadLettered: 0, lastError: 'io' });
    expect(h.logs.filter((l) => l['level'] === 'ERROR')).toHaveLength(1);
  });

  it('close() resolves at the deadline when the reader never reads, counting what is left', async () => {
    const out = new Writable({ write() {} }); // never calls back
    const h = harness();
    const sink = await createSink({}, { ...h.context, stdout: out });
    for (let i = 1; i <= 50; i++) sink.write(event(i));
    await sink.close(Date.now() + 200);
    expect(sink.counters).toMatchObject({ accepted: 50, delivered: 0, deadLettered: 50 });
    expect(h.deadLettered.map((r) => (r.event!['fields'] as { seq: number }).seq)).toEqual(range(1, 50));
  });
});

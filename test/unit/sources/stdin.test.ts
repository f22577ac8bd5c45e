/**
 * The stdin source's reader (sources/stdin/fd-chunks.ts): one reused buffer, every byte once, in
 * order, for a file and a pipe, two buffers in turn; stop() ends a wait on an idle pipe; a terminal-like descriptor
 * falls back to the stream. And
 * end to end: bin/audit-router with a file as its stdin (a shell's `<`), lines across chunks.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, readMethod, stdinChunks } from '../../../sources/stdin/fd-chunks';
import { generate } from '../../../scripts/generate-stream.js';
import { BIN, tempDir } from '../../support/cli';

const dir = tempDir('ar-stdin-');
afterAll(() => dir.cleanup());

const noFallback = (): never => {
  throw new Error('fallback used');
};

async function collectChunks(chunks: AsyncIterable<Buffer>): Promise<{ data: Buffer; count: number; buffers: number }> {
  const copies: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const chunk of chunks) {
    buffers.add(chunk.buffer);
    copies.push(Buffer.from(chunk));
  }
  return { data: Buffer.concat(copies), count: copies.length, buffers: buffers.size };
}

function pattern(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31) & 0xff;
  return data;
}

describe('stdin chunks', () => {
  it('reads every byte of a regular file once, in order, into two buffers used in turn', async () => {
    const file = join(dir.path, 'input');
    const data = pattern(CHUNK_BYTES * 3 + 123);
    writeFileSync(file, data);
    const fd = openSync(file, 'r');
    try {
      expect(readMethod(fd)).toBe('file');
      const got = await collectChunks(stdinChunks(fd, noFallback));
      expect(got.data.equals(data)).toBe(true);
      expect([got.count, got.buffers]).toEqual([4, 2]);
    } finally {
      closeSync(fd);
    }
  });

  it('reads a pipe into two reused buffers, never overwriting a chunk still held (backpressure)', async () => {
    const fifo = join(dir.path, 'fifo-data');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const data = pattern(CHUNK_BYTES * 5 + 7);
    const source = join(dir.path, 'fifo-source');
    writeFileSync(source, data);
    const writer = spawn('sh', ['-c', `cat "${source}" > "${fifo}"`], { stdio: 'ignore' });
    const writerDone = new Promise((r) => writer.once('close', r));
    const fd = openSync(fifo, 'r');
    expect(readMethod(fd)).toBe('stream');
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const chunk of stdinChunks(fd, noFallback)) {
      buffers.add(chunk.buffer);
      const copy = Buffer.from(chunk);
      // Holding the chunk across event-loop turns: it must not change under us.
      await new Promise((r) => setTimeout(r, 2));
      expect(chunk.equals(copy)).toBe(true);
      copies.push(copy);
    }
    expect(Buffer.concat(copies).equals(data)).toBe(true);
    expect(buffers.size).toBeLessThanOrEqual(2);
    await writerDone;
  });

  it('stop() ends the iteration while the pipe is idle', async () => {
    const fifo = join(dir.path, 'fifo-idle');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // Hold a writer open (and silent) so the reader waits instead of seeing EOF.
    const writer = spawn('sh', ['-c', `exec 3>"${fifo}"; sleep 30`], { stdio: 'ignore' });
    try {
      const fd = openSync(fifo, 'r');
      const chunks = stdinChunks(fd, noFallback);
      const iterator = chunks[Symbol.asyncIterator]();
      const next = iterator.next();
      setTimeout(() => chunks.stop(), 50);
      expect(await next).toEqual({ done: true, value: undefined });
      expect(await iterator.next()).toMatchObject({ done: true });
    } finally {
      writer.kill();
    }
  });

  it('falls back to the stream for a descriptor that is neither a file nor a pipe', async () => {
    const fd = openSync('/dev/null', 'r');
    try {
      expect(readMethod(fd)).toBe('fallback');
      const got = await collectChunks(stdinChunks(fd, () => Readable.from([Buffer.from('a\n'), Buffer.from('b\n')])));
      expect(got.data.toString()).toBe('a\nb\n');
    } finally {
      closeSync(fd);
    }
  });
});

describe('stdin redirected from a file, end to end', () => {
  it('routes every event of an input several chunks long, in order', async () => {
    const input = join(dir.path, 'events.log');
    const out = join(dir.path, 'out.jsonl');
    // Generated audit events (some with multi-byte text): lines straddle the chunk edges.
    const lines = [...(generate({ seed: 7, lines: 1200, scenario: 'audit' }) as Iterable<{ line: string }>)].map((g) => g.line);
    expect(lines.join('\n').length).toBeGreaterThan(CHUNK_BYTES * 3);
    writeFileSync(input, lines.join('\n') + '\n');
    const fd = openSync(input, 'r');
    const child = spawn(process.execPath, [BIN, '--file', out], { stdio: [fd, 'ignore', 'pipe'] });
    closeSync(fd);
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect([code, stderr.includes('"lost":0')]).toEqual([0, true]);
    // The generator numbers its events in duration_ms: every one arrived, once, in order.
    const seq = (l: string): unknown => {
      const e = JSON.parse(l) as { fields?: { duration_ms?: unknown }; duration_ms?: unknown };
      return (e.fields ?? e).duration_ms;
    };
    const written = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(written.map(seq)).toEqual(lines.map(seq));
  });
});

/**
 * Reads standard input (a pipe, a FIFO, a socket or a redirected file) into two reused buffers.
 *
 * Why not `process.stdin`: its stream allocates a fresh 64 KiB Buffer for every read. Those are
 * off-heap memory that V8 frees only when it collects the small objects holding them, so at full
 * speed they pile up (~15–40 MB of RSS here) and their accounting forces extra garbage
 * collections. Here each chunk is a view of one of two buffers used in turn, valid until the
 * consumer asks for the next one: the core's loop (src/core/run.ts) cuts it into lines and routes
 * them synchronously, and the line splitter copies a partial last line before returning. The
 * other buffer is filled meanwhile, so the next chunk is usually there when asked for.
 *
 * - A pipe, FIFO or socket is read by libuv's event loop (a `net.Socket` with `onread`: the
 *   kernel copies straight into our buffers), paused while both hold unread data.
 *   Not with `fs.read`: a read waiting on an idle pipe would hold a thread-pool thread that the
 *   process cannot exit without.
 * - A regular file is read with `fs.read` (it never waits).
 * - Anything else (a terminal) falls back to `process.stdin`.
 * `stop()` ends the iteration at once (bytes not yet handed out are dropped, as destroying the
 * stream would).
 */
import { fstatSync, read } from 'node:fs';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** Bytes per read at most: the chunk the core routes between two backpressure checks. */
export const CHUNK_BYTES = 64 * 1024;

export interface StoppableChunks extends AsyncIterable<Buffer> {
  /** Ends the iteration (idempotent). */
  stop(): void;
}

/** How `fd` will be read: 'file', 'stream' (pipe, FIFO, socket) or 'fallback'. */
export function readMethod(fd: number): 'file' | 'stream' | 'fallback' {
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return 'file';
    if (st.isFIFO() || st.isSocket()) return 'stream';
  } catch {
    // A closed or odd descriptor: let process.stdin report it as it would.
  }
  return 'fallback';
}

/** The chunks of standard input (fd 0, or `fd`), chosen by what the descriptor is. */
export function stdinChunks(fd = 0, fallback: () => Readable = () => process.stdin): StoppableChunks {
  const method = readMethod(fd);
  if (method === 'file') return fileChunks(fd);
  if (method === 'stream') {
    try {
      return socketChunks(fd);
    } catch {
      // A descriptor libuv cannot open as a stream: the generic path handles it.
    }
  }
  const stream = fallback();
  return { [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator](), stop: () => void stream.destroy() };
}

/**
 * A regular file, read with `fs.read` into two buffers in turn: while the consumer routes one
 * chunk, the next is already being read (so the next chunk is usually there when asked for, and
 * the sinks' batches are not cut at every read).
 */
export function fileChunks(fd: number): StoppableChunks {
  const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
  let stopped = false;
  const readInto = (buffer: Buffer): Promise<number> =>
    new Promise((resolve, reject) => {
      read(fd, buffer, 0, CHUNK_BYTES, null, (error, bytes) => (error ? reject(error) : resolve(bytes)));
    });
  async function* chunks(): AsyncGenerator<Buffer> {
    let turn = 0;
    let pending = readInto(buffers[0]!);
    // A rejection of a read ahead that is never awaited (stopped) must not go unhandled.
    pending.catch(() => {});
    while (!stopped) {
      const n = await pending;
      if (n === 0 || stopped) return;
      const buffer = buffers[turn]!;
      turn ^= 1;
      // Reads are sequential on the descriptor's offset: the next starts once this one is done.
      pending = readInto(buffers[turn]!);
      pending.catch(() => {});
      yield buffer.subarray(0, n);
    }
  }
  const iterable = chunks();
  return {
    [Symbol.asyncIterator]: () => iterable,
    stop() {
      stopped = true;
    },
  };
}

/**
 * A pipe, FIFO or socket: libuv reads into our buffers (net.Socket's `onread`, two buffers in
 * turn: one the consumer holds, one being filled); when both hold unread data the callback
 * returns false, which stops reading until `resume()`, so no buffer is overwritten while the
 * consumer still holds its chunk.
 */
export function socketChunks(fd: number): StoppableChunks {
  const free: Buffer[] = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
  /** Filled buffers not yet handed out, with how many bytes each holds, oldest first. */
  const ready: Array<{ buffer: Buffer; bytes: number }> = [];
  let held: Buffer | null = null;
  let paused = false;
  let ended = false;
  let failure: Error | null = null;
  let waiter: (() => void) | null = null;
  const wake = (): void => {
    const w = waiter;
    waiter = null;
    w?.();
  };
  const net = require('node:net') as typeof import('node:net');
  // `onread` is a documented net.Socket option that @types/node lists for connect() only.
  const socket: Socket = new net.Socket({
    fd,
    readable: true,
    writable: false,
    onread: {
      // Called before each read: a buffer nobody holds (there is one, or reading is stopped).
      buffer: () => free[free.length - 1]!,
      callback: (bytes: number, buffer: Buffer) => {
        free.splice(free.indexOf(buffer), 1);
        ready.push({ buffer, bytes });
        wake();
        if (free.length > 0) return true;
        paused = true;
        return false;
      },
    },
  } as ConstructorParameters<typeof net.Socket>[0]);
  socket.on('end', () => {
    ended = true;
    wake();
  });
  socket.on('close', () => {
    ended = true;
    wake();
  });
  socket.on('error', (error) => {
    failure = error;
    wake();
  });

  async function* chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      if (held !== null) {
        // The consumer is done with the last chunk: its buffer may be filled again.
        free.push(held);
        held = null;
        if (paused && !ended) {
          paused = false;
          socket.resume();
        }
      }
      while (ready.length === 0 && !ended && failure === null) await new Promise<void>((resolve) => (waiter = resolve));
      const next = ready.shift();
      if (next !== undefined) {
        held = next.buffer;
        yield next.buffer.subarray(0, next.bytes);
        continue;
      }
      if (failure !== null) throw failure;
      return;
    }
  }
  const iterable = chunks();
  return {
    [Symbol.asyncIterator]: () => iterable,
    stop() {
      if (ended) return;
      ended = true;
      ready.length = 0;
      socket.destroy();
      wake();
    },
  };
}

/**
 * Reads standard input (a pipe, a FIFO, a socket or a redirected file) into one reused buffer.
 *
 * Why not `process.stdin`: its stream allocates a fresh 64 KiB Buffer for every read. Those are
 * off-heap memory that V8 frees only when it collects the small objects holding them, so at full
 * speed they pile up (~15–40 MB of RSS here) and their accounting forces extra garbage
 * collections. Here each chunk is a view of the same buffer, valid until the consumer asks for
 * the next one: the core's loop (src/core/run.ts) cuts it into lines and routes them
 * synchronously, and the line splitter copies a partial last line before returning.
 *
 * - A pipe, FIFO or socket is read by libuv's event loop (a `net.Socket` with `onread`: the
 *   kernel copies straight into our buffer), paused after each chunk until the next is asked for.
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

/** A regular file, read with `fs.read` into one buffer. */
export function fileChunks(fd: number): StoppableChunks {
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let stopped = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    while (!stopped) {
      const n = await new Promise<number>((resolve, reject) => {
        read(fd, buffer, 0, CHUNK_BYTES, null, (error, bytes) => (error ? reject(error) : resolve(bytes)));
      });
      if (n === 0 || stopped) return;
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
 * A pipe, FIFO or socket: libuv reads into `buffer` (net.Socket's `onread`); returning false
 * from the callback stops reading until `resume()`, so the buffer is not overwritten while the
 * consumer still holds the chunk.
 */
export function socketChunks(fd: number): StoppableChunks {
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let ready: Buffer | null = null;
  let ended = false;
  let failure: Error | null = null;
  let waiter: (() => void) | null = null;
  let handedOut = false;
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
      buffer,
      callback: (n: number) => {
        ready = buffer.subarray(0, n);
        wake();
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
      if (handedOut) {
        // The consumer is done with the last chunk: the buffer may be filled again.
        handedOut = false;
        socket.resume();
      }
      while (ready === null && !ended && failure === null) await new Promise<void>((resolve) => (waiter = resolve));
      if (ready !== null) {
        const chunk: Buffer = ready;
        ready = null;
        handedOut = true;
        yield chunk;
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
      ready = null;
      socket.destroy();
      wake();
    },
  };
}

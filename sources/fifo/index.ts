/**
 * The `fifo` source: a named pipe the MCP server writes its stderr to (`redisctl-mcp 2> /run/mcp/stderr`).
 * It is opened for reading, read until its writer closes it, then opened again: a server
 * restarting inside the pod does not end the router. Each writer is its own stream, so a line the
 * old writer left unfinished is handed on by itself (counted) instead of joining the next writer's.
 *
 * A pipe cannot be read again, so there are no checkpoints; in exchange it back-pressures the
 * writer: when the router falls behind, the server blocks on its next write once the pipe's
 * buffer (64 KiB on Linux) is full, instead of its output being lost; when the router is gone,
 * the server's open() blocks (and a write to an open pipe fails with EPIPE).
 */
import * as fs from 'node:fs';
import { Socket } from 'node:net';
import { resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ConfigError, type Logger, type Source, type SourceChunk, type SourceFactory, type StreamFraming } from '../../src/sdk';
import OPTIONS_SCHEMA from './options.schema.json';

export interface FifoSourceOptions {
  name: string;
  path: string;
  framing?: StreamFraming;
  logger: Logger;
}

export type FifoSourceCounters = {
  /** Writers that opened and closed the pipe. */
  writers: number;
  bytes: number;
};

export class FifoSource implements Source {
  readonly name: string;
  readonly counters: FifoSourceCounters = { writers: 0, bytes: 0 };
  readonly chunks: AsyncIterable<SourceChunk>;
  private stopping = false;
  private socket: Socket | null = null;
  private seq = 0;
  /**
   * The read end of the next session, opened before the current one is closed: the pipe always
   * has a reader, so what a writer puts in it between two sessions stays there (a pipe's buffer
   * goes with its last reader), and a writer's open() does not wait for us.
   */
  private next: number;

  constructor(private readonly options: FifoSourceOptions) {
    this.name = options.name;
    ensureFifo(options.path);
    // Opened now, before any writer can get past its open(): every writer comes after it.
    this.next = fs.openSync(options.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    this.chunks = { [Symbol.asyncIterator]: () => this.iterate() };
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    // What the pipe holds now is read first; then the session ends.
    const socket = this.socket;
    if (socket) setTimeout(() => socket.destroy(), 100).unref();
  }

  async close(): Promise<void> {
    if (this.next >= 0) fs.closeSync(this.next);
    this.next = -1;
  }

  /**
   * One session per writer. A read end opened without blocking sees end-of-file only once a
   * writer that came after it was opened has gone, so the next session's read end is opened as
   * soon as one ends, before anything is handed on: a writer that comes after the previous one
   * closed is a session of its own. (One that opens before the router saw the previous close
   * shares its session: a pipe does not tell writers apart.) No thread waits in open(), and an
   * idle pipe costs nothing: the read end waits in the event loop.
   */
  private async *iterate(): AsyncGenerator<SourceChunk> {
    const { path, logger } = this.options;
    while (this.next >= 0 && !this.stopping) {
      const fd = this.next;
      this.next = -1;
      const stream = `${this.name}#${++this.seq}`;
      const socket = new Socket({ fd, readable: true, writable: false });
      this.socket = socket;
      let offset = 0;
      try {
        for await (const data of socket as AsyncIterable<Buffer>) {
          if (offset === 0) logger.info('FIFO writer connected', { source: this.name, path });
          this.counters.bytes += data.length;
          yield { stream, data, offset, label: path, framing: this.options.framing };
          offset += data.length;
        }
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'error';
        if (!this.stopping) logger.error('FIFO read failed', { source: this.name, path, error: code });
      } finally {
        this.socket = null;
      }
      if (!this.stopping) this.next = this.openReadEnd();
      socket.destroy();
      if (offset === 0) continue; // stopped before any writer came
      this.counters.writers++;
      if (!this.stopping) logger.info('FIFO writer closed; waiting for the next one', { source: this.name, path });
      yield { stream, data: Buffer.alloc(0), offset, end: true, label: path, framing: this.options.framing };
    }
  }

  private openReadEnd(): number {
    try {
      return fs.openSync(this.options.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (error) {
      this.options.logger.error('cannot open the FIFO', { source: this.name, path: this.options.path, error: (error as { code?: string }).code ?? 'error' });
      return -1;
    }
  }
}

/** Creates the pipe when it does not exist (mode 0600); refuses a path that is something else. */
function ensureFifo(path: string): void {
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(path);
  } catch {
    st = null;
  }
  if (st === null) {
    // Node has no mkfifo: the coreutils command, with the path as one argument (no shell).
    execFileSync('mkfifo', ['-m', '0600', path], { stdio: 'ignore' });
    return;
  }
  if (!st.isFIFO()) throw new ConfigError(`${path} is not a named pipe`);
}

export const optionsSchema: object = OPTIONS_SCHEMA;

export const createSource: SourceFactory = (options, context) =>
  new FifoSource({
    name: context.name,
    path: resolve(context.baseDir, options['path'] as string),
    framing: context.framing,
    logger: context.logger,
  });

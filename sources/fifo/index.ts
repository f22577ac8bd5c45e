/**
 * The `fifo` source: a named pipe the MCP server writes its stderr to (`redisctl-mcp 2> /run/mcp/stderr`).
 * It is opened for reading, read until its writer closes it, then opened again: a server
 * restarting inside the pod does not end the router. Each writer is its own stream, so a line the
 * old writer left unfinished is handed on by itself (counted) instead of joining the next writer's.
 *
 * A pipe cannot be read again, so there are no checkpoints; in exchange it back-pressures the
 * writer: when the router stops or falls behind, the server blocks on its next write instead of
 * its output being lost. Opening waits (in the thread pool) for a writer; `stop()` ends that wait
 * by opening the pipe briefly for writing itself.
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

  constructor(private readonly options: FifoSourceOptions) {
    this.name = options.name;
    ensureFifo(options.path);
    this.chunks = { [Symbol.asyncIterator]: () => this.iterate() };
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.socket === null) {
      // Wake an open() waiting for a writer: a writer that comes and goes at once.
      try {
        fs.closeSync(fs.openSync(this.options.path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
      } catch {
        // ENXIO: nobody is waiting to read.
      }
    }
    // A writer still connected: what it wrote so far is read; then the stream ends.
    this.socket?.end();
  }

  private async *iterate(): AsyncGenerator<SourceChunk> {
    const { path, logger } = this.options;
    while (!this.stopping) {
      const fd = await new Promise<number | null>((done) =>
        fs.open(path, fs.constants.O_RDONLY, (error, fd) => {
          if (error) {
            logger.error('cannot open the FIFO', { source: this.name, path, error: (error as { code?: string }).code ?? 'error' });
            done(null);
          } else done(fd);
        }),
      );
      if (fd === null) return;
      const stream = `${this.name}#${++this.seq}`;
      logger.info('FIFO writer connected', { source: this.name, path });
      const socket = new Socket({ fd, readable: true, writable: false });
      this.socket = socket;
      let offset = 0;
      try {
        for await (const data of socket as AsyncIterable<Buffer>) {
          this.counters.bytes += data.length;
          yield { stream, data, offset, label: path, framing: this.options.framing };
          offset += data.length;
        }
      } catch (error) {
        logger.error('FIFO read failed', { source: this.name, path, error: (error as { code?: string }).code ?? 'error' });
      } finally {
        this.socket = null;
        socket.destroy();
      }
      this.counters.writers++;
      if (!this.stopping) logger.info('FIFO writer closed; waiting for the next one', { source: this.name, path });
      yield { stream, data: Buffer.alloc(0), offset, end: true, label: path, framing: this.options.framing };
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

/**
 * The `file` sink: JSON lines appended to a file rotated by size and/or interval
 * (`rotating-file.ts`), optionally gzip-compressed, with retention by count and total size.
 *
 * Rotated files are named `<file>.<UTC yyyymmddThhmmss.mmm>Z.<nnn>[.gz]`, e.g.
 * `audit.jsonl.20260305T103000.123Z.001.gz`: they sort by name in the order they were written
 * (`listRotated`). The sink also serves as the dead-letter destination (`role: 'dead_letter'` in its context).
 *
 * The file renamed away, deleted or replaced under a running sink (without SIGHUP) is noticed
 * after every batch, logged once per occurrence, counted (`reopened`) and `path` opened again;
 * a batch written into a deleted file is written again to the new one (README: "Removed,
 * replaced or renamed without SIGHUP").
 *
 * Disk full and I/O errors (ENOSPC, EDQUOT, EIO, EROFS) never lose the batch being written: the
 * bytes a failed write left are cut off again, the batch waits in memory (up to `queue`) and is
 * written again after a backoff (`retry`), in order, once space returns (the line writer). If
 * cutting a torn line off fails too, the next write starts with a newline, so a reader never
 * sees a valid record glued to a torn one.
 */
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { ChainWriter, chainSettings, ConfigError, SinkError, LineSink, LINE_SINK_DEFAULTS, ioErrorCode, parseBytes, parseDuration } from '../../src/sdk';
import type { ChainSettings, LineSinkOptions, Target, LogFields, SinkContext, SinkFactory, SinkOptions } from '../../src/sdk';
import OPTIONS_SCHEMA from './options.schema.json';
import { RotatingFile, type MovedEvent, type RotatingFileOptions } from './rotating-file';
import { listRotated } from './rotated-names';

export { listRotated };

/**
 * What `--file <path>` (a path alone) gets. Rotated files are not compressed unless `compress =
 * "gzip"`, as with logrotate's `compress`: gzip in process costs about a third of the CPU of
 * routing the same events (docs/performance.md), which a sidecar should not spend by default.
 */
export const FILE_DEFAULTS = { size: '100M', compress: false, max_files: 14, mode: '0600' } as const;

/** After a write error, new writes are failed at once for this long before the file is opened again. */
const RETRY_AFTER_MS = 1000;

/** Errors a full or failing disk gives, after which writing again later may succeed. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EAGAIN', 'ENOMEM']);

interface FileSettings {
  path: string;
  file: RotatingFileOptions;
  /** The tamper-evident chain (option `integrity`), or null. */
  chain: ChainSettings | null;
  queue: NonNullable<LineSinkOptions['queue']>;
  retry: NonNullable<LineSinkOptions['retry']>;
}

/** Shared by every stream of one sink: a torn line that could not be cut off is ended first. */
interface TornLine {
  torn: boolean;
}

class FileSink extends LineSink {
  private stream: RotatingFile | null = null;
  private reopening: Promise<void> | null = null;
  private retryAt = 0;
  private released = false;
  /** Seals every line with its sequence number and chain value (docs/integrity.md). */
  private chain: ChainWriter | null = null;
  private readonly tornLine: TornLine = { torn: false };

  constructor(
    name: string,
    context: SinkContext,
    private readonly settings: FileSettings,
  ) {
    super(name, 'file', context.logger, context.role === 'dead_letter' ? null : context.deadLetter, {
      queue: settings.queue,
      retry: settings.retry,
      ...(context.latency ? { latency: context.latency } : {}),
    });
    this.counters.reopened = 0;
  }

  protected override retryable(error: Error): boolean {
    return RETRYABLE_CODES.has(ioErrorCode(error));
  }

  /**
   * Opens the file before the first event, so a path that cannot be written (a missing mount, a
   * read-only directory) stops start-up with a clear error instead of dead-lettering every event.
   */
  async start(): Promise<void> {
    const chain = this.settings.chain;
    if (chain) {
      this.chain = await ChainWriter.open({ ...chain, path: this.settings.path, rotated: listRotated(this.settings.path), logger: this.logger, sink: this.name });
    }
    const stream = this.openStream();
    this.stream = stream;
    await new Promise<void>((resolvePromise, reject) => {
      const onOpen = (): void => {
        stream.off('error', onError);
        resolvePromise();
      };
      const onError = (error: Error): void => {
        stream.off('open', onOpen);
        reject(new SinkError(`cannot open ${this.settings.path}: ${ioErrorCode(error)}`, this.name));
      };
      stream.once('open', onOpen);
      stream.once('error', onError);
    });
  }

  /** SIGHUP: finish writing to the file as it is open (maybe renamed by logrotate), then open the path again. */
  reopen(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const previous = this.reopening ?? Promise.resolve();
    const reopening = previous.then(async () => {
      const old = this.stream;
      this.stream = null; // batches wait in the queue until the old file is closed
      this.chain?.closing('reopen');
      if (old) await endStream(old);
      this.retryAt = 0;
      // Create the new file now, not at the next event: logrotate setups and monitors expect it.
      if (!this.released && !this.closed) this.stream = this.openStream();
    });
    this.reopening = reopening;
    return reopening.finally(() => {
      if (this.reopening === reopening) this.reopening = null;
      this.pump();
    });
  }

  protected target(): Target {
    if (this.released) return false;
    if (this.stream) return this.stream;
    if (this.reopening) return null;
    if (Date.now() < this.retryAt) return false;
    this.stream = this.openStream();
    return this.stream;
  }

  protected writeFailed(stream: Writable, error: Error): void {
    this.drop(stream);
    // A retryable failure is retried on the line sink's backoff, which then opens the file again.
    if (this.retryable(error)) this.retryAt = 0;
  }

  protected async release(): Promise<void> {
    if (this.reopening) await this.reopening;
    this.released = true;
    const stream = this.stream;
    this.stream = null;
    this.chain?.stop();
    this.chain?.closing('shutdown');
    if (stream) await endStream(stream);
  }

  protected abandon(): void {
    this.released = true;
    this.chain?.stop();
    this.stream?.destroy();
    this.stream = null;
  }

  protected describe(): LogFields {
    return { path: this.settings.path };
  }

  private openStream(): RotatingFile {
    const stream = new RotatingFile(this.settings.file);
    stream.on('error', (error: Error) => {
      this.report(error);
      this.drop(stream);
    });
    stream.on('open', () => hardenFileHandle(stream, this.tornLine));
    this.chain?.watch(stream); // after the hardening: the chain wraps the hardened handle
    stream.on('rotated', (rotated: string) => {
      fsyncPath(rotated);
      this.logger.debug('file rotated', { sink: this.name, path: this.settings.path, rotated });
    });
    stream.on('removed', (removed: string) => this.logger.debug('rotated file removed', { sink: this.name, removed }));
    stream.on('moved', ({ how, rewritten }: MovedEvent) => {
      this.counters.reopened = (this.counters.reopened ?? 0) + 1;
      this.chain?.closing('reopen');
      this.logger.warn('output file was removed/replaced; reopened', {
        sink: this.name,
        path: this.settings.path,
        // removed: deleted, or another file moved over it; renamed: moved away (what was written is there)
        how,
        batch: how === 'renamed' ? 'in the renamed file' : rewritten ? 'written again to the new file' : 'failed',
      });
    });
    stream.on('warning', (warning: Error) =>
      this.logger.warn('file rotation warning', { sink: this.name, path: this.settings.path, code: ioErrorCode(warning) }),
    );
    return stream;
  }

  /** Forgets a failed stream; the next write after RETRY_AFTER_MS opens the file again. */
  private drop(stream: Writable): void {
    if (stream !== this.stream) return;
    this.stream = null;
    this.retryAt = Date.now() + RETRY_AFTER_MS;
    stream.destroy();
  }
}

/** Ends a stream and resolves once its file is closed (the end() callback, which also fires on error). */
function endStream(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed) return resolve();
    stream.end(() => resolve());
  });
}

/** The options schema (validated by the core before anything starts). */
export const optionsSchema: object = OPTIONS_SCHEMA;

export const createSink: SinkFactory = async (options, context) => {
  const where = context.role === 'dead_letter' ? 'dead_letter' : `sinks.${context.name}`;
  const sink = new FileSink(context.name, context, fileSettings(options, context.baseDir, where));
  if (options['enrich'] === true && context.role !== 'dead_letter') sink.enrichWith(context.kubernetes);
  await sink.start();
  return sink;
};

/** Turns validated options into the rotating file's settings. Throws ConfigError on values it cannot use. */
function fileSettings(options: SinkOptions, baseDir: string, where: string): FileSettings {
  const raw = options['path'];
  if (typeof raw !== 'string' || raw === '') throw new ConfigError('a path is required', undefined, 'path');
  const path = resolve(baseDir, raw);

  const sizeOption = option(options, 'size', FILE_DEFAULTS.size);
  const size = sizeOption !== false && sizeOption !== 0 ? bytes(sizeOption, 'size', 1) : null;

  const interval = options['interval'];
  const intervalMs = interval !== undefined && interval !== false ? checkedInterval(interval) : null;

  const compress = option(options, 'compress', FILE_DEFAULTS.compress);
  if (compress !== 'gzip' && compress !== false) throw new ConfigError('must be "gzip" or false', undefined, 'compress');

  const maxFilesOption = option(options, 'max_files', FILE_DEFAULTS.max_files);
  let maxFiles: number | null = null;
  if (maxFilesOption !== 0) {
    if (typeof maxFilesOption !== 'number' || !Number.isSafeInteger(maxFilesOption) || maxFilesOption < 0)
      throw new ConfigError('must be a whole number (0 keeps every rotated file)', undefined, 'max_files');
    maxFiles = maxFilesOption;
  }

  const maxSizeOption = options['max_size'];
  const maxSize = maxSizeOption !== undefined && maxSizeOption !== 0 ? bytes(maxSizeOption, 'max_size', 1) : null;

  const modeOption = option(options, 'mode', FILE_DEFAULTS.mode);
  if (typeof modeOption !== 'string' || !/^0?[0-7]{3}$/.test(modeOption))
    throw new ConfigError('must be an octal string such as "0600"', undefined, 'mode');
  const mode = parseInt(modeOption, 8);

  const file: RotatingFileOptions = { path, size, intervalMs, gzip: compress === 'gzip', maxFiles, maxSize, mode };
  return { path, file, chain: chainSettings(options['integrity'], baseDir), ...queueAndRetry(options, where) };
}

/** `queue = { max_events, max_bytes }` and `retry = { initial_backoff, max_backoff }`, as for network sinks. */
function queueAndRetry(options: SinkOptions, where: string): Pick<FileSettings, 'queue' | 'retry'> {
  const table = (key: string): Record<string, unknown> => {
    const v = options[key];
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError('must be a table', undefined, `${where}.${key}`);
    return v as Record<string, unknown>;
  };
  const q = table('queue');
  const r = table('retry');
  const maxEvents = q['max_events'] ?? LINE_SINK_DEFAULTS.queue.maxEvents;
  if (typeof maxEvents !== 'number' || !Number.isSafeInteger(maxEvents) || maxEvents < 1)
    throw new ConfigError('must be a whole number of at least 1', undefined, `${where}.queue.max_events`);
  const maxBytes = q['max_bytes'] === undefined ? LINE_SINK_DEFAULTS.queue.maxBytes : bytes(q['max_bytes'], `${where}.queue.max_bytes`, 1);
  const ms = (key: string, fallback: number): number => {
    const v = r[key];
    if (v === undefined) return fallback;
    const n = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : null;
    if (n === null || n < 1) throw new ConfigError('must be a duration of at least 1ms, such as "100ms"', undefined, `${where}.retry.${key}`);
    return n;
  };
  const initialBackoffMs = ms('initial_backoff', LINE_SINK_DEFAULTS.retry.initialBackoffMs);
  const maxBackoffMs = ms('max_backoff', Math.max(LINE_SINK_DEFAULTS.retry.maxBackoffMs, initialBackoffMs));
  if (maxBackoffMs < initialBackoffMs)
    throw new ConfigError('must not be smaller than retry.initial_backoff', undefined, `${where}.retry.max_backoff`);
  return { queue: { maxEvents, maxBytes }, retry: { initialBackoffMs, maxBackoffMs } };
}

function option(options: SinkOptions, key: string, fallback: unknown): unknown {
  const value = options[key];
  return value === undefined ? fallback : value;
}

function bytes(value: unknown, key: string, min: number): number {
  const n = typeof value === 'string' || typeof value === 'number' ? parseBytes(value) : null;
  if (n === null || n < min) throw new ConfigError('must be a size such as "100M" or a number of bytes', undefined, key);
  return n;
}

/** A rotation interval in ms: whole days, or hours/minutes/seconds dividing a day/hour/minute (UTC boundaries). */
function checkedInterval(value: unknown): number {
  const ms = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : null;
  const fail = (): never => {
    throw new ConfigError(
      'must be whole days, or hours dividing 24, minutes dividing 60, or seconds dividing 60 (e.g. "1d", "6h", "15m", "10s")',
      undefined,
      'interval',
    );
  };
  if (ms === null || ms <= 0) return fail();
  // [unit size, what it must divide]: days, hours of a day, minutes of an hour, seconds of a minute.
  const units: Array<[number, number]> = [
    [86_400_000, Infinity],
    [3_600_000, 24],
    [60_000, 60],
    [1000, 60],
  ];
  for (const [size, divides] of units) {
    if (ms % size !== 0) continue;
    const n = ms / size;
    if (divides === Infinity || divides % n === 0) return ms;
    break; // a bigger unit matched but does not divide its period: smaller units cannot fix that
  }
  return fail();
}

/** The part of the open file handle we harden. */
interface WritableHandle {
  write(buffer: Buffer, offset?: number, length?: number): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
  datasync(): Promise<void>;
  stat(): Promise<{ size: number }>;
  truncate(length: number): Promise<void>;
}

const HARDENED = Symbol('audit-router.hardened');
const NEWLINE = Buffer.from('\n');

/**
 * One `FileHandle.write` may write less than it was given (disk almost full), which would lose
 * the rest of the batch silently, and closing does not fsync. The open file's handle is given a
 * write that loops until everything is written (cutting a partial line back off on failure) and
 * a close that waits for the write in flight and fsyncs first.
 */
function hardenFileHandle(stream: RotatingFile, tornLine: TornLine): void {
  const fh = stream.file as (WritableHandle & { [HARDENED]?: true }) | null;
  if (!fh || fh[HARDENED] || typeof fh.write !== 'function' || typeof fh.close !== 'function') return;
  fh[HARDENED] = true;
  const write = fh.write.bind(fh);
  const close = fh.close.bind(fh);
  // The write in flight, so a close (a destroy at the shutdown deadline) waits for it to finish
  // cutting a torn line off instead of closing the handle under it.
  let inFlight: Promise<unknown> = Promise.resolve();
  const guarded = async (data: Buffer): Promise<{ bytesWritten: number }> => {
    // A torn line left behind by an earlier failure is ended before anything else is written.
    const buffer = tornLine.torn ? Buffer.concat([NEWLINE, data]) : data;
    let offset = 0;
    try {
      while (offset < buffer.length) {
        const { bytesWritten } = await write(buffer, offset, buffer.length - offset);
        if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
        offset += bytesWritten;
      }
    } catch (error) {
      if (offset > 0) {
        const written = offset;
        await fh
          .stat()
          .then((s) => fh.truncate(s.size - written))
          .then(
            // Cut back: the file is as it was before this write (a torn line before it stays torn).
            () => {},
            // Not cut back: the file now ends with what was written; torn unless that was a whole line.
            () => {
              tornLine.torn = buffer[written - 1] !== 0x0a;
            },
          );
      }
      throw error;
    }
    tornLine.torn = false;
    return { bytesWritten: data.length };
  };
  fh.write = (data: Buffer) => {
    const result = guarded(data);
    inFlight = result.catch(() => {});
    return result;
  };
  fh.close = async () => {
    await inFlight;
    await fh.datasync().catch(() => {});
    return close();
  };
}

/** Best-effort fsync of a finished (rotated) file; it may already be gone (retention). */
function fsyncPath(path: string): void {
  void open(path, 'r')
    .then((fh) => fh.datasync().finally(() => fh.close()))
    .catch(() => {});
}

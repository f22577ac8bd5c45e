/**
 * The contract between an input and the core. A source produces raw byte chunks — it knows
 * nothing of lines, JSON or audit events — and the router never knows where they came from
 * (a pipe, the stderr of a wrapped command, later a followed file or a FIFO).
 *
 * The core reads `chunks` until it ends, and calls `stop()` once on SIGTERM/SIGINT: the source
 * then stops producing (a wrapper forwards the signal to its command and keeps reading until the
 * command's stderr closes).
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../util/log';

/**
 * A chunk of one of several byte streams (the files a `file` source follows, the writers of a
 * FIFO one after another). The core cuts each stream into lines apart from the others, so a
 * partial line of one file never joins another's.
 */
export interface SourceChunk {
  /** The stream's id, unique within the source for the run (a new one for each file opened). */
  readonly stream: string;
  /** The bytes; empty on a chunk that only ends the stream. */
  readonly data: Buffer;
  /** Offset of `data[0]` in the stream (a file offset: a stream resumed from a checkpoint does not start at 0). */
  readonly offset: number;
  /** The stream's last chunk (a rotated file read to its end, a writer gone): its held partial line is handed on. */
  readonly end?: boolean;
  /** What to call the stream in logs and dead-letter records (a path; never content). */
  readonly label?: string;
  /** How the stream is framed, when the source was configured with its own format. */
  readonly framing?: StreamFraming;
}

/** A container log framing the core removes before routing (src/framing/). */
export interface StreamFraming {
  readonly format: 'raw' | 'cri' | 'docker' | 'auto';
  /** Container streams to keep (CRI, Docker); all when absent. */
  readonly streams?: readonly ('stdout' | 'stderr')[];
}

export interface Source {
  /** The source's name in logs and counters (`stdin`, `wrapper`, ...). */
  readonly name: string;
  /**
   * The input, chunk by chunk: plain Buffers for a single stream, SourceChunks for several. Ends
   * at EOF; throws on a read error (its code is logged, never its message). A chunk may be a view
   * of a buffer the source reuses: it is valid until the next one is asked for (the core routes
   * each chunk before asking for the next).
   */
  readonly chunks: AsyncIterable<Buffer | SourceChunk>;
  /**
   * Acknowledgement, for sources that can be read again from an offset (checkpoints): every
   * line of `stream` before `offset` (a line boundary) has been taken responsibility for by
   * every sink (written, acknowledged, in a disk buffer, or dead-lettered). Called in order,
   * with offsets that only grow per stream.
   */
  commit?(stream: string, offset: number): void;
  /** Called once after the last `commit`, before exit: persist what must survive (checkpoints). */
  close?(): Promise<void>;
  /** Counters for the final summary line (files followed, rotations, truncations, ...). */
  readonly counters?: Readonly<Record<string, number>>;
  /**
   * Ask the source to stop producing. Idempotent. After it, `chunks` ends (possibly with an
   * error, which the core ignores because it asked for the stop).
   */
  stop(): void;
  /**
   * Where the core listens for SIGTERM, SIGINT and SIGHUP. Defaults to the process; a wrapper
   * keeps SIGTERM/SIGINT for its command and passes only SIGHUP on.
   */
  readonly signals?: EventEmitter;
  /**
   * on_audit_failure = "exit": make the producer stop (a wrapper: SIGTERM to its command, SIGKILL
   * after `graceMs`) while the core reads on to the end. Optional: without it the core calls `stop()`.
   */
  terminate?(graceMs: number): void;
}

/** What the core hands a source factory. */
export interface SourceContext {
  /** The source's name (`file`, `fifo`, or `sources[<n>]` of the config). */
  readonly name: string;
  readonly logger: Logger;
  /** Relative paths in the options resolve against this (the config file's directory, or the cwd). */
  readonly baseDir: string;
  /** Where checkpoints live (`--state-dir`, `data_dir`), or null. */
  readonly stateDir: string | null;
  /** The framing of the source's streams (its `format`, else `[input] format`). */
  readonly framing: StreamFraming;
}

/** A [[sources]] table's options, minus `type`, already validated against the module's schema. */
export type SourceOptions = Record<string, unknown>;

export type SourceFactory = (options: SourceOptions, context: SourceContext) => Source;

/** What a source module (a folder under sources/) exports. */
export interface SourceModule {
  createSource: SourceFactory;
  optionsSchema: object;
}

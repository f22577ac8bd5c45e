/**
 * Typed errors. Each carries what a user needs to fix the cause; none carries event content.
 */

/** Where in a file a problem is (1-based). */
export interface FilePosition {
  line: number;
  column: number;
}

/** A bad command line or config file: exit status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** What is wrong, without the file and key in front (`message` has them). */
  readonly reason: string;
  constructor(
    message: string,
    /** The file the problem is in, when there is one. */
    readonly file?: string,
    /** The config key (dotted path) the problem is at, when there is one. */
    readonly key?: string,
    /** The line and column in `file`, when known (TOML syntax errors). */
    readonly position?: FilePosition,
  ) {
    const where = file && position ? `${file}:${position.line}:${position.column}` : file;
    super([where, key].filter(Boolean).join(': ') + (where || key ? ': ' : '') + message);
    this.reason = message;
  }
}

/** A sink that cannot accept or deliver events. */
export class SinkError extends Error {
  override readonly name = 'SinkError';
  constructor(
    message: string,
    readonly sink: string,
    options?: { cause?: unknown },
  ) {
    super(`sink ${sink}: ${message}`, options);
  }
}

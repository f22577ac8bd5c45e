/**
 * Typed errors. Each carries what a user needs to fix the cause; none carries event content.
 */

/** A bad command line or config file: exit status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    /** The file the problem is in, when there is one. */
    readonly file?: string,
    /** The config key (dotted path) the problem is at, when there is one. */
    readonly key?: string,
  ) {
    super([file, key].filter(Boolean).join(': ') + (file || key ? ': ' : '') + message);
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

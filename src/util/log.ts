/**
 * The router's own diagnostics: JSON lines on stderr with "target":"audit_router".
 * They describe events (counts, sizes, sink names, reasons) and never carry event contents.
 */

export type Level = 'error' | 'warn' | 'info' | 'debug';
const RANK: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };
export const LEVELS: readonly Level[] = ['error', 'warn', 'info', 'debug'];

export type LogFields = Record<string, string | number | boolean | null | undefined | Record<string, unknown>>;

export interface Logger {
  readonly level: Level;
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  enabled(level: Level): boolean;
}

export type WriteLine = (line: string) => void;

let stderrWatched = false;
let stderrGone = false;

/**
 * Writes to process.stderr unless its reader went away. A closed pipe (EPIPE) is reported as an
 * 'error' event, which would kill the process with every event still in flight: from then on our
 * diagnostics and passthrough lines are dropped instead (there is nowhere left to write them).
 */
export const writeStderr: WriteLine = (line) => {
  if (stderrGone) return;
  if (!stderrWatched) {
    stderrWatched = true;
    process.stderr.on('error', () => {
      stderrGone = true;
    });
  }
  process.stderr.write(line);
};

export function createLogger(level: Level = 'info', write: WriteLine = writeStderr): Logger {
  const max = RANK[level];
  const emit = (lvl: Level, message: string, fields?: LogFields): void => {
    if (RANK[lvl] > max) return;
    const entry = {
      timestamp: new Date().toISOString(),
      level: lvl.toUpperCase(),
      target: 'audit_router',
      message,
      ...fields,
    };
    write(JSON.stringify(entry) + '\n');
  };
  return {
    level,
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
    enabled: (lvl) => RANK[lvl] <= max,
  };
}

/** A logger that discards everything: for library use and tests. */
export const silentLogger: Logger = createLogger('error', () => {});

/**
 * Wrapper mode: `audit-router [options] -- redisctl-mcp …` runs the server itself and reads its
 * stderr. The server's stdin and stdout stay the caller's (an MCP client speaking the stdio
 * transport sees the server directly); only stderr passes through audit-router.
 *
 * Signals: SIGTERM and SIGINT go to the server, and audit-router keeps reading until the server's
 * stderr closes, so the last audit events it writes while shutting down are not lost. A second
 * SIGTERM or SIGINT kills the server. SIGHUP stays with audit-router (it reopens files).
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import type { Logger, Source } from '../../src/sdk';

export interface Wrapped {
  /** The server's stderr, as a source: it ends when the server closes its stderr. */
  source: Source;
  /** Resolves with the server's exit status (128 + signal number when a signal ended it; 127 when it could not start). */
  exit: Promise<number>;
}

export function runWrapped(command: string[], logger: Logger): Wrapped {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { stdio: ['inherit', 'inherit', 'pipe'] });
  const signals = new EventEmitter();
  let forwarded = 0;
  const forward = (signal: NodeJS.Signals) => (): void => {
    forwarded++;
    const to: NodeJS.Signals = forwarded > 1 ? 'SIGKILL' : signal;
    logger.info('forwarding signal to the wrapped command', { signal, sent: to, pid: child.pid ?? null });
    child.kill(to);
  };
  const onTerm = forward('SIGTERM');
  const onInt = forward('SIGINT');
  const onHup = (): void => void signals.emit('SIGHUP');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);

  const exit = new Promise<number>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      // The command name is the user's own argument, not input: safe to name.
      logger.error('cannot run the wrapped command', { command: file, error: err.code ?? err.message });
      resolve(127);
    });
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  }).finally(() => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
  });
  logger.debug('wrapped command started', { command: file, pid: child.pid ?? null });
  let exited = false;
  void exit.then(() => (exited = true));
  const terminate = (graceMs: number): void => {
    if (exited) return;
    logger.info('stopping the wrapped command', { sent: 'SIGTERM', pid: child.pid ?? null, grace_ms: graceMs });
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (exited) return;
      logger.info('stopping the wrapped command', { sent: 'SIGKILL', pid: child.pid ?? null });
      child.kill('SIGKILL');
    }, graceMs);
    timer.unref();
  };
  const source: Source = {
    name: 'wrapper',
    chunks: child.stderr!,
    // SIGTERM/SIGINT go to the command; reading goes on until its stderr closes.
    stop: () => {},
    // Only SIGHUP reaches the router in wrapper mode.
    signals,
    terminate,
  };
  return { source, exit };
}

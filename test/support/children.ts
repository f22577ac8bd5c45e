/**
 * `start` (test/support/cli.ts) that remembers what it started and kills what is still running
 * after each test, so a failed assertion never leaves a router (or a tap) behind to time out
 * later as an unhandled error.
 */
import { afterEach } from 'vitest';
import { start } from './cli';

export function trackedStart(): typeof start {
  const children: ReturnType<typeof start>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return (...args) => {
    const child = start(...args);
    children.push(child);
    return child;
  };
}

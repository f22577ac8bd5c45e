/**
 * The `stdin` source: the process's standard input, a pipe from the MCP server
 * (`redisctl-mcp 2>&1 >/dev/null | audit-router …`) or a file redirected in.
 * Stopping ends reading at once.
 *
 * Standard input itself is read from fd 0 into two reused buffers (./fd-chunks.ts: no fresh
 * 64 KiB Buffer per read; a terminal falls back to process.stdin); a stream passed in (tests) is
 * iterated as it is.
 */
import type { Readable } from 'node:stream';
import type { Source } from '../../src/sdk';
import { stdinChunks } from './fd-chunks';

export function stdinSource(input?: Readable): Source {
  if (input !== undefined) {
    return {
      name: 'stdin',
      chunks: input,
      stop: () => void input.destroy(),
    };
  }
  const chunks = stdinChunks(0);
  return {
    name: 'stdin',
    chunks,
    stop: () => chunks.stop(),
  };
}

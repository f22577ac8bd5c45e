/**
 * The `stdin` source: the process's standard input, a pipe from the MCP server
 * (`redisctl-mcp 2>&1 >/dev/null | audit-router …`) or a file redirected in.
 * Stopping destroys the stream: reading ends at once.
 */
import type { Readable } from 'node:stream';
import type { Source } from '../../src/sdk';

export function stdinSource(input: Readable = process.stdin): Source {
  return {
    name: 'stdin',
    chunks: input,
    stop: () => void input.destroy(),
  };
}

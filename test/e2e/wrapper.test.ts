/**
 * Wrapper mode through bin/audit-router: `audit-router --file X -- command …` runs the command,
 * routes its stderr, and leaves its stdin and stdout to the caller (the MCP stdio channel).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../../scripts/generate-stream.js';
import { collect, finished, runRouter, start, tempDir } from '../support/cli';

const dir = tempDir('ar-wrap-');
afterAll(() => dir.cleanup());

interface Generated { line: string; truth: { kind: string; secrets: string[] } }

function auditLines(n: number, seed: number): string[] {
  return [...(generate({ seed, lines: n, scenario: 'audit' }) as Iterable<Generated>)].map((g) => g.line);
}

const seqOf = (line: string): number => {
  const e = JSON.parse(line);
  return (e.fields ?? e).duration_ms;
};

describe('wrapper mode', () => {
  it("routes the command's stderr, passes stdin and stdout through untouched, and exits with its status", async () => {
    const lines = auditLines(200, 51);
    const events = join(dir.path, 'events.log');
    writeFileSync(events, lines.join('\n') + '\n');
    const file = join(dir.path, 'wrap', 'audit.jsonl');
    // The "server": echoes its stdin to stdout (the MCP channel), writes audit events to stderr, exits 3.
    const server = `process.stdin.pipe(process.stdout); process.stdin.on('end', () => { process.stderr.write(require('fs').readFileSync(${JSON.stringify(events)})); process.exitCode = 3; });`;
    const r = await runRouter(['--file', file, '--', process.execPath, '-e', server], { input: '{"jsonrpc":"2.0","id":1,"method":"initialize"}\n' });
    expect(r.stdout).toBe('{"jsonrpc":"2.0","id":1,"method":"initialize"}\n');
    expect(r.code).toBe(3);
    expect(readFileSync(file, 'utf8').trim().split('\n').map(seqOf)).toEqual(lines.map((_, i) => i));
    expect(finished(r)['audit']).toBe(200);
  });

  it('SIGTERM goes to the command; events it writes while stopping are still routed; exit 0', async () => {
    const file = join(dir.path, 'wrap-term', 'audit.jsonl');
    const [first, last] = auditLines(2, 52);
    // The handler goes in before "ready": a SIGTERM right after it must find the handler.
    const server = `
      process.on('SIGTERM', () => { process.stderr.write(${JSON.stringify(last + '\n')}); process.exit(0); });
      process.stderr.write(${JSON.stringify(first + '\n')});
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);`;
    const child = start(['--file', file, '--', process.execPath, '-e', server]);
    const done = collect(child);
    await new Promise<void>((resolve) => child.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && resolve()));
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(readFileSync(file, 'utf8').trim().split('\n').map(seqOf)).toEqual([0, 1]);
    expect(r.logs.some((l) => l['message'] === 'forwarding signal to the wrapped command')).toBe(true);
  });

  it('a command that cannot start exits 127 with a clear message; --stdout is refused in wrapper mode', async () => {
    const r = await runRouter(['--file', join(dir.path, 'x.jsonl'), '--', '/nonexistent/redisctl-mcp']);
    expect(r.code).toBe(127);
    expect(r.logs.find((l) => l['message'] === 'cannot run the wrapped command')).toMatchObject({ error: 'ENOENT' });
    const s = await runRouter(['--stdout', '--', process.execPath, '-e', '']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/stdout sink cannot be used in wrapper mode/);
  });
});

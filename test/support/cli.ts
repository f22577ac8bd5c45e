/**
 * Runs the real executable, bin/audit-router, as a child process (the build in dist/ must exist:
 * `npm install` / `npm run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = join(__dirname, '..', '..', 'bin', 'audit-router');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Our own diagnostics: the stderr lines with "target":"audit_router", parsed. */
  logs: Record<string, unknown>[];
  /** The rest of stderr (passthrough lines, usage errors), line by line. */
  otherStderr: string[];
}

export interface RunOptions {
  input?: string | Buffer | (string | Buffer)[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

export function start(args: string[], options: Omit<RunOptions, 'input'> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function collect(child: ChildProcess, timeoutMs = 30_000): Promise<RunResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`audit-router did not exit within ${timeoutMs} ms; stderr: ${Buffer.concat(err).toString().slice(-2000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      const logs: Record<string, unknown>[] = [];
      const otherStderr: string[] = [];
      for (const line of stderr.split('\n')) {
        if (line === '') continue;
        let parsed: unknown = null;
        if (line.includes('"target":"audit_router"')) {
          try {
            parsed = JSON.parse(line);
          } catch {
            parsed = null;
          }
        }
        if (parsed && (parsed as { target?: string }).target === 'audit_router') logs.push(parsed as Record<string, unknown>);
        else otherStderr.push(line);
      }
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr, logs, otherStderr });
    });
  });
}

/** Runs audit-router to completion with `input` on its stdin. */
export async function runRouter(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const child = start(args, options);
  const done = collect(child, options.timeoutMs);
  child.stdin!.on('error', () => {}); // the router may exit before reading everything (usage errors)
  const parts = options.input === undefined ? [] : Array.isArray(options.input) ? options.input : [options.input];
  for (const p of parts) {
    if (!child.stdin!.write(p)) await new Promise((r) => child.stdin!.once('drain', r));
  }
  child.stdin!.end();
  return done;
}

/** The `finished` log line's counters. */
export function finished(result: RunResult): Record<string, unknown> {
  const line = result.logs.find((l) => l['message'] === 'finished');
  if (!line) throw new Error(`no "finished" log line; stderr:\n${result.stderr.slice(-3000)}`);
  return line;
}

export function tempDir(prefix = 'audit-router-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

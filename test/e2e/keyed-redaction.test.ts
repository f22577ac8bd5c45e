/**
 * Keyed redaction end to end through bin/audit-router: `[redact] mode = "hmac"` replaces key-name
 * secrets, URL credentials, tool-rule operands and text pairs with `[REDACTED:hmac-sha256:…]`,
 * equal secrets give equal tokens, and `audit-router hash` (value on stdin or as an argument)
 * prints the very token found in the output. Neither the secrets nor the key appear anywhere.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRouter, tempDir, type RunResult } from '../support/cli';

const dir = tempDir('ar-hmac-');
afterAll(() => dir.cleanup());

const TOKEN = /\[REDACTED:hmac-sha256:[0-9a-f]{24}\]/g;
const PASSWORD = 'planted-pw-7f3a9c21';
const URL_PASSWORD = 'planted-url-pw-51d0';
const OPERAND = 'planted-operand-e4b2';
const TEXT_SECRET = 'planted-text-9a8b';

function event(tool: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    timestamp: '2026-03-05T10:30:00.000001Z',
    level: 'INFO',
    fields: { event: 'tool_invocation', tool, toolset: 'database', result: 'success', duration_ms: 1, arguments: JSON.stringify(args), ...extra },
    target: 'audit',
  });
}

const input = [
  event('create_database', { name: 'a', password: PASSWORD }),
  event('create_database', { name: 'b', password: PASSWORD }), // the same secret again
  event('redis_info', { url: `redis://default:${URL_PASSWORD}@cache.internal:6379/0` }),
  event('redis_command', { command: 'set', args: ['session:1', OPERAND] }),
  event('list_databases', {}, { message: `connect failed password=${TEXT_SECRET} retrying` }),
].join('\n') + '\n';

let key: string;
let keyFile: string;
let out: RunResult;
const outputs: string[] = [];

async function hash(args: string[], stdin?: string): Promise<string> {
  const r = await runRouter(['hash', '--key', keyFile, ...args], { input: stdin ?? '' });
  outputs.push(r.stdout, r.stderr);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  key = randomBytes(32).toString('hex');
  keyFile = join(dir.path, 'redaction.key');
  writeFileSync(keyFile, key + '\n', { mode: 0o600 });
  const config = join(dir.path, 'hmac.toml');
  writeFileSync(config, `[redact]\nmode = "hmac"\nkey_file = ${JSON.stringify(keyFile)}\n[sinks.out]\ntype = "stdout"\n`);
  out = await runRouter(['-c', config], { input });
  outputs.push(out.stdout, out.stderr);
  expect(out.code, out.stderr).toBe(0);
});

describe('[redact] mode = "hmac"', () => {
  it('masks every kind of secret with a keyed token, equal secrets alike', () => {
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    const args = lines.map((l) => JSON.parse(JSON.parse(l).fields.arguments ?? '{}'));
    expect(args[0].password).toMatch(TOKEN);
    expect(args[1].password).toBe(args[0].password);
    expect(args[2].url).toMatch(/^redis:\/\/\[REDACTED:hmac-sha256:[0-9a-f]{24}\]:\[REDACTED:hmac-sha256:[0-9a-f]{24}\]@cache\.internal:6379\/0$/);
    expect(args[3]).toEqual({ command: 'SET', args: [expect.stringMatching(TOKEN), expect.stringMatching(TOKEN)] });
    expect(JSON.parse(lines[4]!).fields.message).toMatch(/^connect failed password=\[REDACTED:hmac-sha256:[0-9a-f]{24}\] retrying$/);
  });

  it('`hash` prints the token found in the output, for a value on stdin or as an argument', async () => {
    const lines = out.stdout.trim().split('\n');
    const args = lines.map((l) => JSON.parse(JSON.parse(l).fields.arguments ?? '{}'));
    expect(await hash([], PASSWORD + '\n')).toBe(args[0].password);
    expect(await hash([PASSWORD])).toBe(args[0].password);
    const urlToken = (args[2].url as string).match(TOKEN)![1];
    expect(await hash([], URL_PASSWORD)).toBe(urlToken);
    expect(await hash([], OPERAND + '\r\n')).toBe(args[3].args[1]);
    expect(JSON.parse(lines[4]!).fields.message).toContain(await hash([], TEXT_SECRET));
    // A different key gives a different token: nobody without the key can test guesses.
    const other = join(dir.path, 'other.key');
    writeFileSync(other, randomBytes(32).toString('hex'), { mode: 0o600 });
    const r = await runRouter(['hash', '--key', other, PASSWORD]);
    expect(r.stdout.trim()).not.toBe(args[0].password);
  });

  it('a redaction key readable by others is refused; a short one too', async () => {
    const loose = join(dir.path, 'loose.key');
    writeFileSync(loose, key);
    chmodSync(loose, 0o640);
    const r = await runRouter(['hash', '--key', loose, 'x']);
    outputs.push(r.stdout, r.stderr);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('chmod 600');
    const short = join(dir.path, 'short.key');
    writeFileSync(short, 'hunter2', { mode: 0o600 });
    const s = await runRouter(['hash', '--key', short, 'x']);
    outputs.push(s.stdout, s.stderr);
    expect(s.code).toBe(2);
    expect(s.stderr).not.toContain('hunter2');
  });

  it('check-config shows the mode and the key file, never the key', async () => {
    const config = join(dir.path, 'hmac.toml');
    const r = await runRouter(['check-config', '-c', config]);
    outputs.push(r.stdout, r.stderr);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).redact.mode).toBe('hmac');
    expect(readFileSync(config, 'utf8')).toContain(keyFile);
  });

  it('no output holds a planted secret or the key', () => {
    const all = outputs.join('\n');
    for (const secret of [PASSWORD, URL_PASSWORD, OPERAND, TEXT_SECRET, key]) expect(all.includes(secret), secret).toBe(false);
  });
});

/**
 * Bad input through bin/audit-router: never a crash, a counted outcome for each line, nothing leaked.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { finished, runRouter, tempDir } from '../support/cli';

const dir = tempDir('ar-bad-');
afterAll(() => dir.cleanup());

const SECRET = 'sk-bad-input-0123456789abcdef';

function audit(fields: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    timestamp: '2026-03-05T10:30:00.123456Z',
    level: 'INFO',
    fields: { event: 'tool_invocation', tool: 'list_databases', toolset: 'cloud', result: 'success', duration_ms: 1, ...fields },
    target: 'audit',
    ...extra,
  });
}

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

async function route(input: Buffer | string, name: string, extra: string[] = []) {
  const file = join(dir.path, name, 'audit.jsonl');
  const dead = join(dir.path, name, 'dead.jsonl');
  const r = await runRouter(['--file', file, '--dead-letter', dead, ...extra], { input });
  return { r, out: lines(file), dead: lines(dead).map((l) => JSON.parse(l)), file, deadPath: dead };
}

describe('bad input never crashes and is counted', () => {
  it('empty input: exit 0, nothing written, counters zero', async () => {
    const { r, out } = await route('', 'empty');
    expect(r.code).toBe(0);
    expect(out).toEqual([]);
    expect(finished(r)).toMatchObject({ lines: 0, audit: 0 });
  });

  it('a last line without a newline is routed; \\r\\n endings are accepted; empty lines ignored', async () => {
    const { r, out } = await route(`${audit({ duration_ms: 1 })}\r\n\n\r\n${audit({ duration_ms: 2 })}`, 'eol');
    expect(r.code).toBe(0);
    expect(out.map((l) => JSON.parse(l).fields.duration_ms)).toEqual([1, 2]);
    expect(finished(r)).toMatchObject({ lines: 4, empty: 2, audit: 2 });
  });

  it('truncated audit JSON goes to the dead letter with reason, size and hash, never its content', async () => {
    const full = audit({ arguments: JSON.stringify({ password: SECRET }) });
    const cut = full.slice(0, full.length - 20);
    const { r, out, dead, deadPath } = await route(`${cut}\n${audit({})}\n`, 'truncated');
    expect(r.code).toBe(0);
    expect(out.length).toBe(1);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ reason: 'unparseable_audit', line: 1, size: Buffer.byteLength(cut) });
    expect(dead[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(deadPath, 'utf8')).not.toContain(SECRET);
    expect(r.stderr).not.toContain(SECRET);
  });

  it('invalid UTF-8 is replaced, not fatal: the event is routed with U+FFFD', async () => {
    const line = Buffer.concat([Buffer.from(audit({ tool: 'x' }).replace('"x"', '"a__b"')), Buffer.from('\n')]);
    const at = line.indexOf('__');
    line[at] = 0xff;
    line[at + 1] = 0xc3;
    const { r, out } = await route(line, 'utf8');
    expect(r.code).toBe(0);
    expect(JSON.parse(out[0]!).fields.tool).toBe('a\ufffd\ufffdb');
  });

  it('a 2 MiB line is discarded whole, counted and dead-lettered by size and hash; its neighbours pass', async () => {
    const big = audit({ arguments: JSON.stringify({ blob: 'x'.repeat(2 * 1024 * 1024), password: SECRET }) });
    const { r, out, dead, deadPath } = await route(`${audit({ duration_ms: 1 })}\n${big}\n${audit({ duration_ms: 3 })}\n`, 'big');
    expect(r.code).toBe(0);
    expect(out.map((l) => JSON.parse(l).fields.duration_ms)).toEqual([1, 3]);
    expect(finished(r)).toMatchObject({ lines: 3, oversize: 1, audit: 2 });
    expect(dead).toEqual([expect.objectContaining({ reason: 'oversize_line', line: 2, size: Buffer.byteLength(big) })]);
    expect(readFileSync(deadPath, 'utf8')).not.toContain(SECRET);
  });

  it('--max-line-bytes sets the limit', async () => {
    const { r, out } = await route(`${audit({})}\n`, 'limit', ['--max-line-bytes', '50']);
    expect(r.code).toBe(0);
    expect(out).toEqual([]);
    expect(finished(r)).toMatchObject({ oversize: 1 });
  });

  it('binary garbage is dropped as text and counted, even with NULs and lone braces', async () => {
    const garbage = Buffer.from([0x00, 0x7b, 0xff, 0xfe, 0x22, 0x0a, 0x7b, 0x7b, 0x7d, 0x0a, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x0a]);
    const { r, out } = await route(Buffer.concat([garbage, Buffer.from(audit({}) + '\n')]), 'garbage');
    expect(r.code).toBe(0);
    expect(out.length).toBe(1);
    expect(finished(r)).toMatchObject({ lines: 4, audit: 1, dropped: 3 });
  });

  it('__proto__ keys neither pollute nor vanish nor leak', async () => {
    const line = `{"timestamp":"2026-03-05T10:30:00Z","level":"INFO","fields":{"__proto__":{"password":"${SECRET}"},"event":"tool_invocation","tool":"t","toolset":"s","result":"success","duration_ms":5,"arguments":"{\\"__proto__\\":{\\"token\\":\\"${SECRET}\\"},\\"constructor\\":{\\"prototype\\":{\\"x\\":1}}}"},"target":"audit"}`;
    const { r, out } = await route(line + '\n', 'proto');
    expect(r.code).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).not.toContain(SECRET);
    expect(out[0]).toContain('"__proto__":{"password":"[REDACTED]"}');
    const args = JSON.parse(JSON.parse(out[0]!).fields.arguments);
    expect(Object.keys(args)).toEqual(['__proto__', 'constructor']);
  });

  it('duplicate keys and escaped key names do not slip a secret through', async () => {
    const line = `{"timestamp":"2026-03-05T10:30:00Z","level":"INFO","fields":{"event":"tool_invocation","tool":"t","toolset":"s","result":"success","duration_ms":5,"arguments":"{\\"password\\":\\"[REDACTED]\\",\\"password\\":\\"${SECRET}\\",\\"pass\\\\u0077ord2\\":1,\\"api\\\\u005fkey\\":\\"${SECRET}x\\"}"},"target":"audit","target":"audit"}`;
    JSON.parse(line); // the test input itself is valid JSON
    const { r, out } = await route(line + '\n', 'dupes');
    expect(r.code).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).not.toContain(SECRET);
  });

  it('a JSON line 100 000 levels deep: no crash, redacted whole past the depth limit', async () => {
    const deep = '['.repeat(100_000) + `"${SECRET}"` + ']'.repeat(100_000);
    const line = audit({ arguments: 'ARGS' }, { span: { name: 'x' } }).replace('"ARGS"', JSON.stringify(deep));
    const { r, out } = await route(line + '\n' + audit({}) + '\n', 'deep');
    expect(r.code).toBe(0);
    expect(out).toHaveLength(2);
    expect(out.join('\n')).not.toContain(SECRET);
  });
});

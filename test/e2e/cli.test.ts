/**
 * End to end through bin/audit-router: a realistic mixed stream from the deterministic generator
 * (scripts/generate-stream.js), real files, real child processes. Exact counts, order, and not one planted
 * secret in any output.
 */
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import { generate } from '../../scripts/generate-stream.js';
import { collect, finished, runRouter, start, tempDir } from '../support/cli';

interface Truth { kind: string; seq?: number; secrets: string[] }
interface Generated { line: string; truth: Truth }

const dir = tempDir('ar-e2e-');
afterAll(() => dir.cleanup());

function make(options: Record<string, unknown>): { input: Buffer; items: Generated[] } {
  const items = [...(generate(options as never) as Iterable<Generated>)];
  // Lines are strings of UTF-8 text, except hostile 'garbage' lines which are binary (latin1).
  const input = Buffer.concat(items.map((g) => Buffer.from(g.line + '\n', g.truth.kind === 'garbage' ? 'latin1' : 'utf8')));
  return { input, items };
}

// A truncated audit line is recognisable only while it still shows a `"target":"audit"` or an
// `"event":"tool_…"` (docs/design.md); cut before both, it is an ordinary non-JSON line.
const LOOKS_LIKE_AUDIT = /"target"\s*:\s*"audit"|"event"\s*:\s*"tool_/;

function kindOf(g: Generated): string {
  return g.truth.kind === 'audit_unparseable' && !LOOKS_LIKE_AUDIT.test(g.line) ? 'text' : g.truth.kind;
}

function count(items: Generated[], ...kinds: string[]): number {
  return items.filter((g) => kinds.includes(kindOf(g))).length;
}

function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

function expectNoSecrets(where: string, text: string, secrets: string[]): void {
  const leaked = secrets.filter((s) => text.includes(s));
  expect(leaked, `secrets leaked into ${where}`).toEqual([]);
}

function durationOf(line: string): number {
  const e = JSON.parse(line);
  return (e.fields ?? e).duration_ms;
}

describe('the mixed redisctl-mcp stream, end to end', () => {
  const { input, items } = make({ seed: 7, lines: 20_000, scenario: 'mixed' });
  const secrets = [...new Set(items.flatMap((g) => g.truth.secrets))];
  const audits = count(items, 'audit');
  const file = join(dir.path, 'mixed', 'audit.jsonl');
  const deadLetter = join(dir.path, 'mixed', 'rejected.jsonl');
  let result: Awaited<ReturnType<typeof runRouter>>;

  beforeAll(async () => {
    expect(secrets.length).toBeGreaterThan(100);
    result = await runRouter(['--file', file, '--stdout', '--dead-letter', deadLetter], { input });
  });

  it('exits 0 and reports exact counts', () => {
    expect(result.code).toBe(0);
    const f = finished(result);
    expect(f['lines']).toBe(items.length);
    expect(f['audit']).toBe(audits);
    expect(f['invalid']).toBe(count(items, 'audit_invalid'));
    expect(f['unparseable']).toBe(count(items, 'audit_unparseable'));
    expect(f['dropped']).toBe(count(items, 'text', 'jsonrpc', 'json_log'));
    expect(f['lost']).toBe(0);
    const sinks = f['sinks'] as Record<string, { accepted: number; delivered: number }>;
    expect(sinks['file']).toMatchObject({ accepted: audits, delivered: audits });
    expect(sinks['stdout']).toMatchObject({ accepted: audits, delivered: audits });
  });

  it('writes every audit event exactly once, in order, to the file and to stdout', () => {
    const expected = Array.from({ length: audits }, (_, i) => i);
    expect(readLines(file).map(durationOf)).toEqual(expected);
    expect(result.stdout.split('\n').filter(Boolean).map(durationOf)).toEqual(expected);
  });

  it('keeps each event as it was but for redaction: same keys in the same order', () => {
    const byLine = items.filter((g) => g.truth.kind === 'audit');
    const out = readLines(file);
    let compared = 0;
    for (let i = 0; i < out.length; i++) {
      const original = JSON.parse(byLine[i]!.line);
      const routed = JSON.parse(out[i]!);
      expect(Object.keys(routed)).toEqual(Object.keys(original));
      if (original.fields) expect(Object.keys(routed.fields)).toEqual(Object.keys(original.fields));
      expect(routed.timestamp).toBe(original.timestamp);
      // With nothing to redact (no planted secret, no URL, no tool rule), the event is byte-identical.
      const untouched = byLine[i]!.truth.secrets.length === 0 && !byLine[i]!.line.includes('://') && !/"tool":"redis_(command|bulk_load|alias_set)"/.test(byLine[i]!.line);
      if (untouched) {
        expect(out[i]).toBe(byLine[i]!.line);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(out.length / 4);
  });

  it('dead-letters invalid events redacted with their schema errors, unparseable ones without content', () => {
    const records = readLines(deadLetter).map((l) => JSON.parse(l));
    const invalid = records.filter((r) => r.reason === 'schema_invalid');
    const unparseable = records.filter((r) => r.reason === 'unparseable_audit');
    expect(invalid.length).toBe(count(items, 'audit_invalid'));
    expect(unparseable.length).toBe(count(items, 'audit_unparseable'));
    for (const r of invalid) {
      expect(r.event.target).toBe('audit');
      expect(Array.isArray(r.detail) && r.detail.length).toBeTruthy();
    }
    for (const r of unparseable) {
      expect(r).not.toHaveProperty('event');
      expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(r.size).toBeGreaterThan(0);
    }
  });

  it('leaks no planted secret anywhere: file, stdout, dead letter, our own log', () => {
    expectNoSecrets('the file sink', readFileSync(file, 'utf8'), secrets);
    expectNoSecrets('stdout', result.stdout, secrets);
    expectNoSecrets('the dead letter', readFileSync(deadLetter, 'utf8'), secrets);
    expectNoSecrets('stderr', result.stderr, secrets);
  });
});

describe('passthrough', () => {
  it('writes every non-audit line to stderr, redacted, and still routes the audit events', async () => {
    const { input, items } = make({ seed: 11, lines: 5_000, scenario: 'mixed' });
    const secrets = [...new Set(items.flatMap((g) => g.truth.secrets))];
    const file = join(dir.path, 'pass', 'audit.jsonl');
    const r = await runRouter(['--file', file, '--passthrough'], { input });
    expect(r.code).toBe(0);
    const others = count(items, 'text', 'jsonrpc', 'json_log');
    expect(finished(r)['passthrough']).toBe(others);
    expect(r.otherStderr.length).toBe(others);
    expect(readLines(file).length).toBe(count(items, 'audit'));
    expectNoSecrets('passthrough', r.stderr, secrets);
    // ANSI-coloured tracing lines come through as text, colours kept.
    expect(r.otherStderr.some((l) => l.includes('\u001b['))).toBe(true);
  });
});

describe('--policy adds the policy file\'s [audit].redact_fields', () => {
  const policyFields = ['customer_ssn'];
  const { input, items } = make({ seed: 5, lines: 3_000, scenario: 'audit', policyFields });
  const policySecrets = items.flatMap((g) => g.truth.secrets).filter((s) => input.includes(s));

  it('without the policy, values under those fields pass (the test can fail)', async () => {
    const r = await runRouter(['--stdout'], { input });
    expect(r.code).toBe(0);
    // Only the policy-only field's values survive without the policy; every other secret is caught.
    const leaked = policySecrets.filter((s) => r.stdout.includes(s));
    expect(leaked.length).toBeGreaterThan(0);
  });

  it('with --policy examples/mcp-policy.toml, none pass', async () => {
    const r = await runRouter(['--stdout', '--policy', join(__dirname, '..', '..', 'examples', 'mcp-policy.toml')], { input });
    expect(r.code).toBe(0);
    expectNoSecrets('stdout', r.stdout, policySecrets);
  });

  it('--redact-field does the same from the command line', async () => {
    const r = await runRouter(['--stdout', '--redact-field', ...policyFields], { input });
    expectNoSecrets('stdout', r.stdout, policySecrets);
  });
});

describe('a plugin sink loaded from a file', () => {
  it('receives every event through the sink interface and is closed at the end', async () => {
    const plugin = join(dir.path, 'plugin-sink.js');
    const out = join(dir.path, 'plugin-out.jsonl');
    writeFileSync(
      plugin,
      `const fs = require('node:fs');
exports.optionsSchema = { type: 'object', required: ['out'], additionalProperties: false, properties: { out: { type: 'string' } } };
exports.createSink = (options, context) => {
  const lines = [];
  const counters = { accepted: 0, delivered: 0, deadLettered: 0, failed: 0, dropped: 0, retried: 0, bufferedBytes: 0, buffered: 0, lastError: null };
  return {
    name: context.name, type: 'plugin', counters,
    write(event) { counters.accepted++; lines.push(event.fields.tool + ' ' + event.fields.duration_ms); counters.delivered++; return true; },
    drain() { return Promise.resolve(); },
    async close() { fs.writeFileSync(options.out, lines.join('\\n') + '\\n'); },
  };
};
`,
    );
    const config = join(dir.path, 'plugin.toml');
    writeFileSync(config, `[sinks.mine]\ntype = "./plugin-sink.js"\nout = ${JSON.stringify(out)}\n`);
    const { input, items } = make({ seed: 3, lines: 500, scenario: 'mixed' });
    const r = await runRouter(['-c', config], { input });
    expect(r.code).toBe(0);
    const got = readFileSync(out, 'utf8').trim().split('\n');
    expect(got.length).toBe(count(items, 'audit'));
    expect(got[0]).toMatch(/ 0$/);

    writeFileSync(config, `[sinks.mine]\ntype = "./plugin-sink.js"\nbogus = 1\n`);
    const bad = await runRouter(['-c', config], { input: '' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('sinks.mine.bogus: unknown key');
  });
});

describe('signals', () => {
  it('SIGTERM mid-stream stops reading, leaves complete files and exits 0', async () => {
    const file = join(dir.path, 'sig', 'audit.jsonl');
    const child = start(['--file', file]);
    const done = collect(child, 55_000); // a hang guard only: generating 200 000 lines is slow on a loaded machine
    const { items } = make({ seed: 9, lines: 200_000, scenario: 'audit' });
    let written = 0;
    let terminated = false;
    child.stdin!.on('error', () => {});
    for (const g of items) {
      if (!child.stdin!.write(g.line + '\n')) await new Promise((r) => child.stdin!.once('drain', r));
      written++;
      if (written === 50_000) {
        child.kill('SIGTERM');
        terminated = true;
        break;
      }
    }
    expect(terminated).toBe(true);
    const r = await done;
    expect(r.code).toBe(0);
    const f = finished(r);
    expect(f['reason']).toBe('SIGTERM');
    const lines = readLines(file);
    // Every line in the file is a complete event, in order, and exactly what the router counted.
    expect(lines.length).toBe(f['audit']);
    expect(lines.map(durationOf)).toEqual(Array.from({ length: lines.length }, (_, i) => i));
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });
});

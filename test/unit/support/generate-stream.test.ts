/**
 * The stream generator (scripts/generate-stream.js) is the ground truth of other tests and of the
 * benchmarks, so its own promises are checked here: determinism, ratios, the shape of audit
 * events (duration_ms == seq), that planted secrets really are in their lines, that broken
 * audit lines really are broken, and that the CLI and writeStream write exactly what generate()
 * yields.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parse as parseToml } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';

type LineKind = 'audit' | 'audit_invalid' | 'audit_unparseable' | 'text' | 'jsonrpc' | 'json_log' | 'garbage';
interface LineTruth {
  kind: LineKind;
  seq?: number;
  secrets: string[];
  placements?: string[];
}
interface GeneratedLine {
  line: string;
  truth: LineTruth;
}
interface GenerateOptions {
  seed?: number;
  lines: number;
  scenario?: 'mixed' | 'audit';
  auditRatio?: number;
  argsRatio?: number;
  secretRatio?: number;
  flatRatio?: number;
  invalidRatio?: number;
  hostile?: boolean;
  ansi?: boolean;
  policyFields?: string[];
}
interface GeneratorModule {
  generate(options: GenerateOptions): Generator<GeneratedLine>;
  writeStream(options: GenerateOptions, writable: NodeJS.WritableStream | number, onLine?: (e: GeneratedLine) => void): Promise<number>;
  lineToBuffer(entry: GeneratedLine): Buffer;
  mulberry32(seed: number): () => number;
}

const ROOT = resolve(__dirname, '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'generate-stream.js');
const gen = createRequire(__filename)(SCRIPT) as GeneratorModule;

const tmp = mkdtempSync(join(tmpdir(), 'generate-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const all = (o: GenerateOptions): GeneratedLine[] => [...gen.generate(o)];
const bytesOf = (lines: GeneratedLine[]): Buffer => Buffer.concat(lines.map((e) => gen.lineToBuffer(e)));

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const tryParse = (s: string): unknown => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const EVENT_FIELDS = new Set(['event', 'tool', 'toolset', 'result', 'duration_ms', 'arguments', 'message']);
const OUTCOME: Record<string, string> = { tool_invocation: 'success', tool_denied: 'denied', tool_error: 'error' };

/** The audit schema as the lead specified it; returns the event's fields, or a reason it fails. */
function checkAudit(v: unknown): { ok: true; fields: Obj; flat: boolean } | { ok: false; why: string } {
  if (!isObj(v)) return { ok: false, why: 'not an object' };
  if (v.target !== 'audit') return { ok: false, why: 'target' };
  if (typeof v.timestamp !== 'string' || !RFC3339.test(v.timestamp)) return { ok: false, why: 'timestamp' };
  if (typeof v.level !== 'string') return { ok: false, why: 'level' };
  const flat = !('fields' in v);
  const fields: Obj = flat ? v : (v.fields as Obj);
  if (!isObj(fields)) return { ok: false, why: 'fields' };
  for (const k of Object.keys(v)) {
    const topLevel = ['timestamp', 'level', 'target', 'span', 'spans'].includes(k) || (!flat && k === 'fields') || (flat && EVENT_FIELDS.has(k));
    if (!topLevel) return { ok: false, why: `unexpected key ${k}` };
  }
  if (!flat) for (const k of Object.keys(fields)) if (!EVENT_FIELDS.has(k)) return { ok: false, why: `unexpected field ${k}` };
  if (typeof fields.event !== 'string' || !(fields.event in OUTCOME)) return { ok: false, why: 'event' };
  if (typeof fields.tool !== 'string' || fields.tool === '') return { ok: false, why: 'tool' };
  if (typeof fields.toolset !== 'string') return { ok: false, why: 'toolset' };
  if (typeof fields.result !== 'string') return { ok: false, why: 'result' };
  if (!Number.isInteger(fields.duration_ms) || (fields.duration_ms as number) < 0) return { ok: false, why: 'duration_ms' };
  if ('arguments' in fields && typeof fields.arguments !== 'string') return { ok: false, why: 'arguments' };
  if ('message' in fields && typeof fields.message !== 'string') return { ok: false, why: 'message' };
  if ('span' in v && !isObj(v.span)) return { ok: false, why: 'span' };
  if ('spans' in v && !Array.isArray(v.spans)) return { ok: false, why: 'spans' };
  return { ok: true, fields, flat };
}

function count<T>(items: T[], pred: (x: T) => boolean): number {
  let n = 0;
  for (const x of items) if (pred(x)) n++;
  return n;
}

describe('mulberry32', () => {
  it('is a seeded PRNG in [0, 1)', () => {
    const a = gen.mulberry32(7);
    const b = gen.mulberry32(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
    expect(gen.mulberry32(8)()).not.toBe(gen.mulberry32(7)());
  });
});

describe('determinism', () => {
  const opts: GenerateOptions = { lines: 4000, seed: 11, hostile: true, policyFields: ['customer_ssn'] };

  it('gives identical lines and truth for the same options', () => {
    expect(all(opts)).toEqual(all(opts));
  });

  it('gives a different stream for another seed', () => {
    const a = bytesOf(all(opts));
    const b = bytesOf(all({ ...opts, seed: 12 }));
    expect(a.equals(b)).toBe(false);
  });
});

describe('mixed scenario (defaults)', () => {
  const N = 30000;
  const lines = all({ lines: N, seed: 5 });
  const audits = lines.filter((e) => e.truth.kind === 'audit');

  it('yields exactly the requested number of lines, none containing a newline', () => {
    expect(lines.length).toBe(N);
    expect(lines.some((e) => e.line.includes('\n'))).toBe(false);
  });

  it('starts like redisctl-mcp does', () => {
    expect(lines[0].truth.kind).toBe('text');
    expect(lines[0].line).toContain('Starting redisctl-mcp server');
    expect(lines[0].line.startsWith('\x1b[2m')).toBe(true);
    expect(lines.slice(0, 8).some((e) => e.line.includes('"method":"initialize"'))).toBe(true);
  });

  it('holds the ratios roughly', () => {
    expect(audits.length / N).toBeGreaterThan(0.18);
    expect(audits.length / N).toBeLessThan(0.22);
    const invalid = count(lines, (e) => e.truth.kind === 'audit_invalid' || e.truth.kind === 'audit_unparseable');
    expect(invalid / N).toBeGreaterThan(0.006);
    expect(invalid / N).toBeLessThan(0.014);
    expect(count(lines, (e) => e.truth.kind === 'audit_invalid')).toBeGreaterThan(0);
    expect(count(lines, (e) => e.truth.kind === 'audit_unparseable')).toBeGreaterThan(0);
    for (const kind of ['text', 'jsonrpc', 'json_log'] as const) {
      expect(count(lines, (e) => e.truth.kind === kind) / N).toBeGreaterThan(0.05);
    }
    expect(count(lines, (e) => e.truth.kind === 'garbage')).toBe(0);
    const withSecret = count(audits, (e) => e.truth.secrets.length > 0) / audits.length;
    expect(withSecret).toBeGreaterThan(0.26);
    expect(withSecret).toBeLessThan(0.34);
    const flat = count(audits, (e) => !('fields' in (JSON.parse(e.line) as Obj))) / audits.length;
    expect(flat).toBeGreaterThan(0.07);
    expect(flat).toBeLessThan(0.13);
    expect(count(audits, (e) => 'span' in (JSON.parse(e.line) as Obj) || 'spans' in (JSON.parse(e.line) as Obj))).toBeGreaterThan(0);
    const nonAudit = lines.filter((e) => ['text', 'jsonrpc', 'json_log'].includes(e.truth.kind));
    const nonAuditSecret = count(nonAudit, (e) => e.truth.secrets.length > 0) / nonAudit.length;
    expect(nonAuditSecret).toBeGreaterThan(0.26);
    expect(nonAuditSecret).toBeLessThan(0.34);
  });

  it('makes every audit line a schema-valid event with duration_ms == seq, in order', () => {
    let prevTs = '';
    audits.forEach((e, i) => {
      expect(e.truth.seq).toBe(i);
      const v = JSON.parse(e.line) as unknown;
      const checked = checkAudit(v);
      if (!checked.ok) throw new Error(`line ${i} fails the schema (${checked.why}): ${e.line}`);
      expect(checked.fields.duration_ms).toBe(i);
      expect(OUTCOME[checked.fields.event as string]).toBe(checked.fields.result);
      expect(typeof checked.fields.arguments).toBe('string');
      // The arguments string holds JSON (escaped and duplicate keys included).
      expect(tryParse(checked.fields.arguments as string)).not.toBeUndefined();
      const ts = (v as Obj).timestamp as string;
      expect(ts > prevTs).toBe(true);
      prevTs = ts;
    });
  });

  it('keeps timestamps strictly increasing over the whole stream', () => {
    let prev = '';
    for (const e of lines) {
      const m = /(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)/.exec(e.line);
      if (!m || e.truth.kind === 'audit_invalid') continue;
      expect(m[1] > prev).toBe(true);
      prev = m[1];
    }
  });

  it('only ever uses the event/result pairs redisctl-mcp emits, with real tool names', () => {
    const tools = new Set(audits.map((e) => checkAudit(JSON.parse(e.line)) as { fields: Obj }).map((c) => c.fields.tool));
    for (const t of ['redis_command', 'redis_bulk_load', 'redis_alias_set', 'create_enterprise_database', 'list_databases', 'flush_database']) {
      expect(tools.has(t)).toBe(true);
    }
    const events = new Set(audits.map((e) => (checkAudit(JSON.parse(e.line)) as { fields: Obj }).fields.event));
    expect([...events].sort()).toEqual(['tool_denied', 'tool_error', 'tool_invocation']);
  });

  it('puts every recorded secret verbatim in its line, each secret once in the stream', () => {
    const seen = new Set<string>();
    let total = 0;
    for (const e of lines) {
      expect(e.truth.placements?.length).toBe(e.truth.secrets.length);
      for (const s of e.truth.secrets) {
        expect(e.line).toContain(s);
        expect(seen.has(s)).toBe(false);
        seen.add(s);
        total++;
      }
    }
    expect(total).toBeGreaterThan(N * 0.05);
    // No secret leaks into a line that does not record it.
    const pattern = /(?:sk-|pw-|tok_|S3cr3t)[0-9a-f]{16}/g;
    for (const e of lines) {
      for (const m of e.line.matchAll(pattern)) expect(e.truth.secrets).toContain(m[0]);
    }
  });

  it('uses every audit placement, including the redis_* operand shapes', () => {
    const placements = new Set(audits.flatMap((e) => e.truth.placements ?? []));
    for (const p of ['sensitive_key', 'nested_key', 'array_of_objects', 'json_in_string', 'url_userinfo', 'url_query', 'escaped_key', 'duplicate_key', 'redis_command_operand', 'redis_bulk_load_operand', 'redis_alias_set_operand']) {
      expect(placements.has(p)).toBe(true);
    }
    expect(placements.has('policy_field')).toBe(false);
    expect(placements.has('proto_key')).toBe(false);
  });

  it('plants operands in upstream redisctl-mcp argument shapes', () => {
    for (const e of audits) {
      const placements = e.truth.placements ?? [];
      if (placements.length === 0) continue;
      const fields = (checkAudit(JSON.parse(e.line)) as { fields: Obj }).fields;
      const args = JSON.parse(fields.arguments as string) as Obj;
      if (placements.includes('redis_command_operand')) {
        expect(typeof args.command).toBe('string');
        expect(Array.isArray(args.args) && args.args.every((a) => typeof a === 'string')).toBe(true);
        expect((args.args as string[]).some((a) => e.truth.secrets.some((s) => a.includes(s)))).toBe(true);
      }
      if (placements.includes('redis_bulk_load_operand') || placements.includes('redis_alias_set_operand')) {
        const commands = args.commands as { args: string[] }[];
        expect(Array.isArray(commands)).toBe(true);
        expect(commands.every((c) => Array.isArray(c.args) && c.args.every((a) => typeof a === 'string'))).toBe(true);
        expect(commands.some((c) => c.args.slice(1).some((a) => e.truth.secrets.some((s) => a.includes(s))))).toBe(true);
      }
    }
  });

  it('makes audit_invalid lines parse with target "audit" yet fail the schema', () => {
    const invalid = lines.filter((e) => e.truth.kind === 'audit_invalid');
    for (const e of invalid) {
      const v = tryParse(e.line);
      expect(isObj(v) && v.target === 'audit').toBe(true);
      expect(checkAudit(v).ok).toBe(false);
      expect(e.truth.seq).toBeUndefined();
    }
  });

  it('makes audit_unparseable lines truncated audit JSON that does not parse', () => {
    const broken = lines.filter((e) => e.truth.kind === 'audit_unparseable');
    for (const e of broken) {
      expect(e.line.startsWith('{"timestamp":"')).toBe(true);
      expect(tryParse(e.line)).toBeUndefined();
    }
  });

  it('writes non-audit JSON as tracing JSON or JSON-RPC, never with target "audit"', () => {
    for (const e of lines) {
      if (e.truth.kind === 'json_log') {
        const v = JSON.parse(e.line) as Obj;
        expect(typeof v.target).toBe('string');
        expect(v.target).not.toBe('audit');
        expect(RFC3339.test(v.timestamp as string)).toBe(true);
      } else if (e.truth.kind === 'jsonrpc') {
        expect((JSON.parse(e.line) as Obj).jsonrpc).toBe('2.0');
      } else if (e.truth.kind === 'text') {
        expect(tryParse(e.line)).toBeUndefined();
      }
    }
    expect(lines.some((e) => e.line.includes('"code":-32007'))).toBe(true);
  });
});

describe('audit scenario', () => {
  it('is all valid audit events with arguments', () => {
    const lines = all({ scenario: 'audit', lines: 5000, seed: 9 });
    expect(lines.length).toBe(5000);
    lines.forEach((e, i) => {
      expect(e.truth.kind).toBe('audit');
      expect(e.truth.seq).toBe(i);
      const c = checkAudit(JSON.parse(e.line));
      expect(c.ok).toBe(true);
      if (c.ok) {
        expect(c.fields.duration_ms).toBe(i);
        expect(typeof c.fields.arguments).toBe('string');
      }
    });
  });

  it('honours argsRatio, secretRatio and flatRatio', () => {
    const lines = all({ scenario: 'audit', lines: 4000, seed: 2, argsRatio: 0, secretRatio: 0, flatRatio: 1 });
    for (const e of lines) {
      const v = JSON.parse(e.line) as Obj;
      expect('fields' in v).toBe(false);
      expect('arguments' in v).toBe(false);
      expect(e.truth.secrets).toEqual([]);
    }
  });
});

describe('options that add content', () => {
  it('plants policyFields secrets only when asked, under those keys', () => {
    const lines = all({ scenario: 'audit', lines: 4000, seed: 4, policyFields: ['encryption_passphrase', 'customer_ssn'] });
    const planted = lines.filter((e) => e.truth.placements?.includes('policy_field'));
    expect(planted.length).toBeGreaterThan(0);
    for (const e of planted) {
      const args = JSON.parse(((checkAudit(JSON.parse(e.line)) as { fields: Obj }).fields.arguments) as string) as Obj;
      const i = e.truth.placements!.indexOf('policy_field');
      const key = Object.keys(args).find((k) => args[k] === e.truth.secrets[i]);
      expect(['encryption_passphrase', 'customer_ssn']).toContain(key);
    }
  });

  it('hostile adds garbage (some invalid UTF-8) and __proto__ keys, still one line each', () => {
    const lines = all({ lines: 20000, seed: 8, hostile: true });
    const garbage = lines.filter((e) => e.truth.kind === 'garbage');
    expect(garbage.length / lines.length).toBeGreaterThan(0.01);
    expect(garbage.every((e) => e.truth.secrets.length === 0)).toBe(true);
    const strict = new TextDecoder('utf-8', { fatal: true });
    const invalidUtf8 = count(garbage, (e) => {
      const b = gen.lineToBuffer(e);
      expect(b.subarray(0, -1).includes(0x0a)).toBe(false);
      expect(b[b.length - 1]).toBe(0x0a);
      try {
        strict.decode(b);
        return false;
      } catch {
        return true;
      }
    });
    expect(invalidUtf8).toBeGreaterThan(0);
    expect(garbage.some((e) => e.line.includes('"__proto__"'))).toBe(true);
    expect(lines.some((e) => e.truth.kind === 'audit' && e.truth.placements?.includes('proto_key'))).toBe(true);
    // Every valid audit event is still valid, and in order.
    lines.filter((e) => e.truth.kind === 'audit').forEach((e, i) => {
      expect(e.truth.seq).toBe(i);
      expect(checkAudit(JSON.parse(e.line)).ok).toBe(true);
    });
  });

  it('ansi: false writes the plain tracing text format', () => {
    const lines = all({ lines: 2000, seed: 3, ansi: false });
    const text = lines.filter((e) => e.truth.kind === 'text');
    expect(text.length).toBeGreaterThan(0);
    expect(text.some((e) => e.line.includes('\x1b'))).toBe(false);
    expect(text[0].line).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z {2}INFO redisctl_mcp: Starting redisctl-mcp server /);
  });
});

describe('writeStream', () => {
  it('writes exactly the generated bytes to a slow Writable, honouring backpressure', async () => {
    const opts: GenerateOptions = { lines: 60000, seed: 21, hostile: true };
    const chunks: Buffer[] = [];
    let maxBuffered = 0;
    const sink = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        maxBuffered = Math.max(maxBuffered, sink.writableLength);
        setImmediate(cb);
      },
    });
    const written = await gen.writeStream(opts, sink);
    expect(written).toBe(60000);
    const out = Buffer.concat(chunks);
    expect(out.equals(bytesOf(all(opts)))).toBe(true);
    // Without waiting for 'drain' the whole ~15 MB would pile up in the Writable.
    expect(out.length).toBeGreaterThan(8 * 1024 * 1024);
    expect(maxBuffered).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it('rejects when the stream fails', async () => {
    const sink = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('disk on fire'));
      },
    });
    await expect(gen.writeStream({ lines: 50000, seed: 1 }, sink)).rejects.toThrow('disk on fire');
  });
});

/** Run the CLI; resolves with its exit code, stdout bytes and stderr text. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

const newlines = (b: Buffer): number => {
  let n = 0;
  for (let i = b.indexOf(0x0a); i >= 0; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
};

describe('CLI', () => {
  it('writes the requested number of lines to --out, same bytes as generate()', async () => {
    const out = join(tmp, 'mixed.log');
    const truth = join(tmp, 'mixed.truth.jsonl');
    const r = await runCli(['--scenario', 'mixed', '--lines', '25000', '--seed', '42', '--hostile', '--out', out, '--truth', truth]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bytes = readFileSync(out);
    expect(newlines(bytes)).toBe(25000);
    const expected = all({ scenario: 'mixed', lines: 25000, seed: 42, hostile: true });
    expect(bytes.equals(bytesOf(expected))).toBe(true);
    const truthLines = readFileSync(truth, 'utf8').trimEnd().split('\n');
    expect(truthLines.length).toBe(25000);
    expect(JSON.parse(truthLines[24999]) as unknown).toEqual(expected[24999].truth);
  });

  it('writes to stdout without --out', async () => {
    const r = await runCli(['--scenario', 'audit', '--lines', '3000', '--seed', '3']);
    expect(r.code).toBe(0);
    expect(newlines(r.stdout)).toBe(3000);
    expect(r.stdout.equals(bytesOf(all({ scenario: 'audit', lines: 3000, seed: 3 })))).toBe(true);
  });

  it('exits 2 on a bad option', async () => {
    const r = await runCli(['--scenario', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--scenario');
    expect(r.stdout.length).toBe(0);
  });
});

describe('examples/', () => {
  it('redisctl-mcp-stderr.log is what the generator makes for seed 1 (mixed, policy fields)', () => {
    const committed = readFileSync(join(ROOT, 'examples', 'redisctl-mcp-stderr.log'));
    const expected = all({ scenario: 'mixed', lines: 300, seed: 1, policyFields: ['encryption_passphrase', 'customer_ssn'] });
    expect(committed.equals(bytesOf(expected))).toBe(true);
    expect(expected.filter((e) => e.truth.secrets.length > 0).length).toBeGreaterThan(30);
    expect(expected.some((e) => e.truth.placements?.includes('policy_field'))).toBe(true);
  });

  it('mcp-policy.toml lists the policy fields the example log plants, beyond the usual lists', () => {
    const policy = parseToml(readFileSync(join(ROOT, 'examples', 'mcp-policy.toml'), 'utf8')) as Obj;
    const audit = policy.audit as Obj;
    expect(audit.enabled).toBe(true);
    expect(audit.include_args).toBe(true);
    expect(audit.redact_fields).toEqual(expect.arrayContaining(['encryption_passphrase', 'customer_ssn']));
  });

  it('audit-router.toml points its [redact] policy at mcp-policy.toml', () => {
    const config = parseToml(readFileSync(join(ROOT, 'examples', 'audit-router.toml'), 'utf8')) as Obj;
    expect((config.redact as Obj).policy).toBe('mcp-policy.toml');
    expect(((config.sinks as Obj).archive as Obj).type).toBe('file');
    expect(((config.sinks as Obj).console as Obj).type).toBe('stdout');
    expect((config.dead_letter as Obj).path).toBe('audit/audit-rejected.jsonl');
  });
});

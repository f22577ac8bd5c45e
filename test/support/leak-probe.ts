/**
 * Leak probes end to end: planted secrets go through bin/audit-router once, and every output is
 * searched for them — the file sink (its live file and its gzip-rotated files), the stdout sink,
 * the dead letter and the passthrough on stderr.
 *
 * Each event case is routed three ways: as a valid audit event (file, stdout, rotated .gz), as a
 * schema-invalid variant (dead letter) and under another target (passthrough, as JSON). Text cases
 * are passthrough lines. Padding events after the cases make the small size threshold rotate, so
 * the cases end up inside the gzip files.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { listRotated } from '../../sinks/file';
import { finished, runRouter, tempDir, type RunResult } from './cli';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonRecord = { [key: string]: Json };

/** A unique token per planted secret: any trace of it in an output is a leak. */
export function plant(label: string): string {
  return `lk${label.replace(/[^A-Za-z0-9]/g, '')}${randomBytes(6).toString('hex')}`;
}

export interface EventCase {
  name: string;
  /** The audit event line as routed, and its schema-invalid and other-target variants. */
  line: string;
  invalid: string;
  otherTarget: string;
  secrets: string[];
}

export interface TextCase {
  name: string;
  /** One passthrough line (no newline). */
  line: string;
  secrets: string[];
}

/** Collects cases, each built with its own secret factory. */
export class Cases {
  readonly events: EventCase[] = [];
  readonly texts: TextCase[] = [];

  event(name: string, build: (secret: (label: string) => string) => JsonRecord): void {
    const secrets: string[] = [];
    const record = build((label) => {
      const s = plant(label);
      secrets.push(s);
      return s;
    });
    const line = JSON.stringify(record);
    this.events.push({ name, line, invalid: JSON.stringify(invalidVariant(record)), otherTarget: JSON.stringify(otherTargetVariant(record)), secrets });
  }

  /**
   * An event given as raw JSON text (for what JSON.stringify cannot write, such as integers
   * beyond 2^53). It must hold `"duration_ms":3` and `"target":"audit"` once each, which the
   * variants replace.
   */
  rawEvent(name: string, line: string): void {
    if (!line.includes('"duration_ms":3') || !line.includes('"target":"audit"')) throw new Error(`raw event ${name}: no placeholders`);
    const invalid = line.replace('"duration_ms":3', '"duration_ms":"slow"');
    const otherTarget = line.replace('"target":"audit"', '"target":"redisctl_mcp::audit"');
    this.events.push({ name, line, invalid, otherTarget, secrets: [] });
  }

  text(name: string, build: (secret: (label: string) => string) => string): void {
    const secrets: string[] = [];
    const line = build((label) => {
      const s = plant(label);
      secrets.push(s);
      return s;
    });
    this.texts.push({ name, line, secrets });
  }
}

/** An audit event as redisctl-mcp writes it; `args` becomes the `arguments` JSON string. */
export function toolEvent(tool: string, args: Json, extraFields: JsonRecord = {}): JsonRecord {
  return {
    timestamp: '2026-03-05T10:30:00.123456Z',
    level: 'INFO',
    fields: {
      event: 'tool_invocation',
      tool,
      toolset: 'database',
      result: 'success',
      duration_ms: 3,
      arguments: typeof args === 'string' ? args : JSON.stringify(args),
      ...extraFields,
    },
    target: 'audit',
  };
}

/** The same event failing the schema: it travels the dead-letter path. */
export function invalidVariant(record: JsonRecord): JsonRecord {
  const copy = structuredClone(record);
  const fields = (copy['fields'] ?? copy) as JsonRecord;
  fields['duration_ms'] = 'slow';
  return copy;
}

/** The same event under another target: a non-audit JSON line, passed through. */
export function otherTargetVariant(record: JsonRecord): JsonRecord {
  return { ...structuredClone(record), target: 'redisctl_mcp::audit' };
}

export interface Probe {
  r: RunResult;
  /** The whole file trail in order: gunzipped rotated files, then the live file. */
  trail: string[];
  /** How many rotated .gz files there were. */
  rotatedGz: number;
  /** The trail lines that came from rotated .gz files. */
  gzLines: string[];
  stdout: string[];
  dead: string[];
  passthrough: string[];
  outputs: [string, string][];
  /** The file-sink line of each event case (by index), parsed. */
  fileEvent(i: number): JsonRecord;
  deadEvent(i: number): JsonRecord;
  /** The passthrough JSON line of each event case's other-target variant, parsed. */
  passedEvent(i: number): JsonRecord;
  /** The passthrough line of each text case. */
  passedText(i: number): string;
  leaks(): string[];
}

let runs = 0;

function padding(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(JSON.stringify(toolEvent('redis_get', { key: `pad:${i}`, note: 'x'.repeat(200) })));
  return out;
}

/**
 * Runs every case through one audit-router process: a gzip-rotating file sink (size 4K), a stdout
 * sink, a dead letter and passthrough. `extraConfig` is appended to the TOML (e.g. [redact]).
 */
export async function probe(cases: Cases, extraConfig = ''): Promise<Probe> {
  const dir = tempDir('ar-leaks-');
  const n = ++runs;
  const path = join(dir.path, `trail-${n}`, 'audit.jsonl');
  const dead = join(dir.path, `dead-${n}.jsonl`);
  const config = join(dir.path, `leaks-${n}.toml`);
  writeFileSync(
    config,
    `[input]\npassthrough = true\n${extraConfig}\n[sinks.archive]\ntype = "file"\npath = ${JSON.stringify(path)}\nsize = "4K"\ncompress = "gzip"\nmax_files = 0\n` +
      `[sinks.console]\ntype = "stdout"\n[dead_letter]\npath = ${JSON.stringify(dead)}\n`,
  );
  const events = cases.events;
  const pad = padding(60);
  const input = [
    ...events.map((c) => c.line),
    ...pad,
    ...events.map((c) => c.invalid),
    ...events.map((c) => c.otherTarget),
    ...cases.texts.map((c) => c.line),
  ];
  try {
    const r = await runRouter(['-c', config], { input: input.join('\n') + '\n' });
    if (r.code !== 0) throw new Error(`audit-router exited ${r.code}: ${r.stderr.slice(-2000)}`);
    const rotated = listRotated(path);
    const gzLines = rotated
      .filter((f) => f.endsWith('.gz'))
      .flatMap((f) => gunzipSync(readFileSync(f)).toString('utf8').split('\n'))
      .filter((l) => l !== '');
    const live = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
    const trail = [...gzLines, ...live];
    const deadLines = existsSync(dead) ? readFileSync(dead, 'utf8').split('\n').filter((l) => l !== '') : [];
    const stdout = r.stdout.split('\n').filter((l) => l !== '');
    const passthrough = r.otherStderr;
    const done = finished(r);
    if (done['audit'] !== events.length + pad.length || done['invalid'] !== events.length) {
      throw new Error(`unexpected counters ${JSON.stringify(done)}`);
    }
    const outputs: [string, string][] = [
      ['file', live.join('\n')],
      ['rotated .gz', gzLines.join('\n')],
      ['stdout', r.stdout],
      ['dead letter', deadLines.join('\n')],
      ['stderr (passthrough and logs)', r.stderr],
    ];
    const jsonPassed = passthrough.slice(0, events.length);
    return {
      r,
      trail,
      rotatedGz: rotated.filter((f) => f.endsWith('.gz')).length,
      gzLines,
      stdout,
      dead: deadLines,
      passthrough,
      outputs,
      fileEvent: (i) => JSON.parse(trail[i]!) as JsonRecord,
      deadEvent: (i) => (JSON.parse(deadLines[i]!) as { event: JsonRecord }).event,
      passedEvent: (i) => JSON.parse(jsonPassed[i]!) as JsonRecord,
      passedText: (i) => passthrough[events.length + i]!,
      leaks: () => {
        const found: string[] = [];
        for (const c of [...events, ...cases.texts]) {
          for (const secret of c.secrets) {
            for (const [where, text] of outputs) if (text.includes(secret)) found.push(`${c.name}: in ${where}`);
          }
        }
        return [...new Set(found)];
      },
    };
  } finally {
    dir.cleanup();
  }
}

/** The parsed `arguments` of an event's fields. */
export function argsOf(record: JsonRecord): Json {
  const fields = (record['fields'] ?? record) as JsonRecord;
  const a = fields['arguments'];
  return typeof a === 'string' ? (JSON.parse(a) as Json) : (a ?? null);
}

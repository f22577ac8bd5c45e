/**
 * Config: TOML file + command-line flags → one validated RouterConfig, before anything starts.
 * Every error names the file, the key and what is wrong (ConfigError → exit 2).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { translateErrors } from './config-errors';
import { parseAddress } from '../util/address';
import { ConfigError } from '../util/errors';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json';
import type { Level } from '../util/log';
import { loadSinkModule, readSchema } from './registry';
import type { SinkOptions } from '../api/sink';
import { parseBytes, parseDuration } from '../util/units';
import { redactionMode, type RedactionMode } from '../integrity/options';
import type { InputFormat } from '../framing/stream';
import type { StreamName } from '../framing/decoder';
import { followSpecs, loadSourceModule, type SourceSpec } from './sources';
import type { KubernetesMetadata } from '../api/sink';
import { PACKAGE_ROOT } from '../util/paths';

export const DEFAULT_MAX_LINE_BYTES = 1_048_576;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
export const DEFAULT_AUDIT_FAILURE_GRACE_MS = 10_000;

/** What happens when a required sink cannot take an event (docs/config.md). */
export type OnAuditFailure = 'continue' | 'block' | 'exit';

export interface SinkSpec {
  name: string;
  type: string;
  options: SinkOptions;
  /** Relative paths in the options resolve against this (the config file's directory, or the cwd). */
  baseDir: string;
  /** Every event must reach it to count as recorded (`required`; default: file sinks, disk-buffered network sinks). */
  required?: boolean;
}

export interface RouterConfig {
  /** The config file, when there is one. */
  file: string | null;
  input: { maxLineBytes: number; passthrough: boolean; format: InputFormat; streams: StreamName[] | null };
  /** `mode`/`mask`: what replaces a secret (`[redact] mode`, src/integrity/options.ts). */
  redact: { fields: string[]; policy: string | null; policyFields: string[] } & RedactionMode;
  sinks: SinkSpec[];
  /** The dead-letter file sink, or null (rejected lines are then only counted and logged). */
  deadLetter: SinkSpec | null;
  shutdownTimeoutMs: number;
  logLevel: Level;
  onAuditFailure: OnAuditFailure;
  auditFailureGraceMs: number;
  /** The API server, or null when off (the default). */
  api: { address: string; tap: boolean; retryBudget: number | undefined } | null;
  metrics: { toolLabels: boolean; toolLabelsMax: number | undefined };
  /** Inputs other than stdin / a wrapped command: [[sources]] tables and --follow. */
  sources: SourceSpec[];
  /** Where checkpoints are kept (`--state-dir`, `data_dir`), or null. */
  dataDir: string | null;
  /** `[kubernetes]`: the pod the router runs in, or null without the table. */
  kubernetes: KubernetesMetadata | null;
}

/** The command-line flags that feed the config (see src/cli/main.ts). */
export interface ConfigFlags {
  config?: string;
  policy?: string;
  redactField?: string[];
  file?: string[];
  /** `--chain-key`: the --file sinks get `integrity = { key_file }`. */
  chainKey?: string;
  stdout?: boolean;
  deadLetter?: string;
  passthrough?: boolean;
  maxLineBytes?: string;
  logLevel?: string;
  shutdownTimeout?: string;
  apiAddress?: string;
  follow?: string[];
  inputFormat?: string;
  stateDir?: string;
}

// strictTypes off: sizes and durations are deliberately `integer | string` with keywords for each.
// logger off: ajv must never write to our stdout/stderr.
let ajv: Ajv | null = null;
const compiled = new Map<string, ValidateFunction>();

/**
 * The validators `npm run build` generated for the config and built-in sink schemas
 * (scripts/build-validators.js), by the schema's JSON text; empty when the build made none.
 */
let precompiled: ReadonlyMap<string, ValidateFunction> | null = null;
function precompiledValidators(): ReadonlyMap<string, ValidateFunction> {
  if (precompiled === null) {
    const file = join(PACKAGE_ROOT, 'dist', 'validators', 'config-schemas.js');
    precompiled = existsSync(file) ? (require(file) as ReadonlyMap<string, ValidateFunction>) : new Map();
  }
  return precompiled;
}

function compileCached(schema: object): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key) ?? precompiledValidators().get(key);
  if (!validate) {
    // Loaded on first use: a command line without a config file never pays for ajv.
    if (!ajv) {
      const AjvClass = (require('ajv') as typeof import('ajv')).default;
      ajv = new AjvClass({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true, logger: false });
      // The delivery keys, defined once and shared by every network sink's schema through $ref.
      const { $id: _deliveryId, ...delivery } = readSchema('delivery.schema.json') as { $id?: string };
      ajv.addSchema(delivery, 'delivery.schema.json');
    }
    // $id dropped: several sinks may share a schema file, and ajv refuses a second schema with one id.
    const { $id: _id, ...rest } = schema as { $id?: string };
    validate = ajv.compile(rest);
    compiled.set(key, validate);
  }
  return validate;
}

/** The shared delivery schema, for resolving `$ref`s in error translation. */
let deliverySchema: object | null = null;
const lookupSchema = (id: string): Record<string, unknown> | undefined => {
  if (id !== 'delivery.schema.json') return undefined;
  deliverySchema ??= readSchema('delivery.schema.json');
  return deliverySchema as Record<string, unknown>;
};

/**
 * Validates `data` and throws one ConfigError listing every problem (file: key: what), in the
 * words of src/core/config-errors.ts. One problem: its key is the error's key; several: each line
 * names its own.
 */
function validateAgainst(schema: object, data: unknown, file: string | undefined, base: string): void {
  const validate = compileCached(schema);
  if (validate(data)) return;
  const problems = translateErrors(validate.errors ?? [], base, schema, lookupSchema);
  const [first] = problems;
  if (problems.length === 1 && first) throw new ConfigError(first.message, file, first.key || '(top level)');
  throw new ConfigError(problems.map((p) => `${p.key || '(top level)'}: ${p.message}`).join('; ') || 'is not valid', file);
}

/** `${NAME}` → the environment variable; `$${` stays a literal `${`. */
function interpolate(value: JsonValue, file: string, key: string, env: NodeJS.ProcessEnv): JsonValue {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)?\}?/g, (match, name: string | undefined) => {
      if (match.startsWith('$$')) return match.slice(1);
      if (!name || !match.endsWith('}')) throw new ConfigError(`malformed "\${...}" reference`, file, key);
      const v = env[name];
      if (v === undefined) throw new ConfigError(`environment variable ${name} is not set`, file, key);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, file, `${key}[${i}]`, env));
  if (isJsonObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, file, key ? `${key}.${k}` : k, env);
    return out;
  }
  return value;
}

function readToml(file: string, what: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  }
  try {
    const { parse } = require('smol-toml') as typeof import('smol-toml'); // only when there is a file to read
    return toJson(parse(text)) as JsonObject;
  } catch (err) {
    throw tomlError(err, text, file);
  }
}

/**
 * A TOML syntax error: file:line:column, smol-toml's reason (its first line: a fixed sentence)
 * and the key the line declares, when it declares one. The line itself is never shown: it may
 * hold a secret (`api_key = "…` without its closing quote).
 */
function tomlError(err: unknown, text: string, file: string): ConfigError {
  const { line, column } = err as { line?: unknown; column?: unknown };
  const reason = ((err as Error).message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '') || 'not valid TOML';
  if (typeof line !== 'number' || typeof column !== 'number') return new ConfigError(`invalid TOML: ${reason}`, file);
  return new ConfigError(`invalid TOML: ${reason}`, file, tomlKeyAt(text, line), { line, column });
}

/** The dotted key declared on a TOML line (with its table's name), or undefined. Names only, never values. */
function tomlKeyAt(text: string, line: number): string | undefined {
  const lines = text.split(/\r?\n/);
  const bare = (k: string): string => k.replace(/\s+/g, '').replace(/["']/g, '');
  const keyMatch = /^\s*([A-Za-z0-9_.\-"' ]+?)\s*=/.exec(lines[line - 1] ?? '');
  let table = '';
  for (let i = line - 1; i >= 0; i--) {
    const header = /^\s*\[\[?\s*([A-Za-z0-9_.\-"' ]+?)\s*\]\]?\s*(#.*)?$/.exec(lines[i] ?? '');
    if (header?.[1]) {
      table = bare(header[1]);
      break;
    }
  }
  if (!keyMatch?.[1]) {
    const header = /^\s*\[\[?\s*([A-Za-z0-9_.\-"' ]+)/.exec(lines[line - 1] ?? '');
    return header?.[1] ? bare(header[1]) : undefined;
  }
  return [table, bare(keyMatch[1])].filter(Boolean).join('.');
}

/** TOML dates become strings; everything else maps to JSON as is. */
function toJson(value: unknown): JsonValue {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJson(v);
    return out;
  }
  return value as JsonValue;
}

/** A redisctl-mcp policy file's `[audit].redact_fields`. */
export function readPolicyRedactFields(file: string): string[] {
  const policy = readToml(file, 'the redisctl-mcp policy file');
  const audit = policy['audit'];
  if (audit === undefined) return [];
  if (!isJsonObject(audit)) throw new ConfigError('must be a table', file, 'audit');
  const fields = audit['redact_fields'];
  if (fields === undefined) return [];
  if (!Array.isArray(fields) || !fields.every((f): f is string => typeof f === 'string')) {
    throw new ConfigError('must be an array of strings', file, 'audit.redact_fields');
  }
  return fields;
}

function size(value: JsonValue | undefined, fallback: number, file: string | undefined, key: string): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' || typeof value === 'number' ? parseBytes(value) : null;
  if (n === null || n < 1) throw new ConfigError('must be a size such as "64K", "1M", or a number of bytes', file, key);
  return n;
}

function duration(value: JsonValue | undefined, fallback: number, file: string | undefined, key: string): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : null;
  if (n === null) throw new ConfigError('must be a duration such as "30s"', file, key);
  return n;
}

async function validateSink(spec: SinkSpec, file: string | undefined, key: string): Promise<void> {
  let schema: object | undefined;
  try {
    // Built-in or plugin alike: the module's own optionsSchema (a built-in's is its folder's options.schema.json).
    schema = (await loadSinkModule(spec.type, spec.baseDir)).optionsSchema;
  } catch (err) {
    if (err instanceof ConfigError && !err.file) throw new ConfigError(err.message, file, `${key}.type`);
    throw err;
  }
  if (schema) validateAgainst(schema, spec.options, file, key);
}

/**
 * Whether every event must reach `spec` to count as recorded (on_audit_failure): its `required`
 * key, or by default file sinks and network sinks with a disk buffer (the sinks that take
 * durable responsibility for an event); stdout and memory-buffered network sinks are best effort.
 */
export function isRequired(spec: SinkSpec): boolean {
  if (spec.required !== undefined) return spec.required;
  if (spec.type === 'file') return true;
  const buffer = spec.options['buffer'];
  return isJsonObject(buffer as JsonValue) && (buffer as JsonObject)['type'] === 'disk';
}

/** Builds and validates the whole config. Throws ConfigError; starts nothing. */
export async function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Promise<RouterConfig> {
  const cwd = process.cwd();
  const file = flags.config ? resolve(flags.config) : undefined;
  const baseDir = file ? dirname(file) : cwd;
  let doc: JsonObject = {};
  if (file) {
    doc = interpolate(readToml(file, 'the config file'), file, '', env) as JsonObject;
    validateAgainst(readSchema('config.schema.json'), doc, file, '');
  }
  const section = (name: string): JsonObject => {
    const v = doc[name];
    return isJsonObject(v) ? v : {};
  };
  const input = section('input');
  const redact = section('redact');
  const log = section('log');

  const logLevel = (flags.logLevel ?? (log['level'] as string | undefined) ?? 'info') as Level;
  if (!['error', 'warn', 'info', 'debug'].includes(logLevel)) {
    throw new ConfigError(`--log-level must be one of error, warn, info, debug`);
  }

  const maxLineBytes = flags.maxLineBytes !== undefined
    ? size(flags.maxLineBytes, 0, undefined, '--max-line-bytes')
    : size(input['max_line_bytes'], DEFAULT_MAX_LINE_BYTES, file, 'input.max_line_bytes');
  const shutdownTimeoutMs = flags.shutdownTimeout !== undefined
    ? duration(flags.shutdownTimeout, 0, undefined, '--shutdown-timeout')
    : duration(doc['shutdown_timeout'], DEFAULT_SHUTDOWN_TIMEOUT_MS, file, 'shutdown_timeout');

  const fields = [...((redact['fields'] as string[] | undefined) ?? []), ...(flags.redactField ?? [])];
  const policy = flags.policy
    ? resolve(flags.policy)
    : typeof redact['policy'] === 'string' ? resolve(baseDir, redact['policy']) : null;
  const policyFields = policy ? readPolicyRedactFields(policy) : [];

  const sinks: SinkSpec[] = [];
  for (const [name, table] of Object.entries(section('sinks'))) {
    const { type, required, ...options } = table as JsonObject;
    const spec: SinkSpec = { name, type: type as string, options, baseDir };
    if (typeof required === 'boolean') spec.required = required;
    await validateSink(spec, file, `sinks.${name}`);
    sinks.push(spec);
  }
  const uniqueName = (base: string): string => {
    let name = base;
    for (let i = 2; sinks.some((s) => s.name === name); i++) name = `${base}-${i}`;
    return name;
  };
  for (const path of flags.file ?? []) {
    const options: SinkOptions = flags.chainKey ? { path, integrity: { key_file: flags.chainKey } } : { path };
    sinks.push({ name: uniqueName('file'), type: 'file', options, baseDir: cwd });
  }
  if (flags.chainKey && !(flags.file ?? []).length) throw new ConfigError('--chain-key chains the --file sinks: give --file <path> too');
  if (flags.stdout) sinks.push({ name: uniqueName('stdout'), type: 'stdout', options: {}, baseDir: cwd });
  if (sinks.length === 0) {
    throw new ConfigError(
      'no sink configured: nothing would receive the audit events. Add --file <path>, --stdout, or a [sinks.<name>] table',
      file,
    );
  }

  let deadLetter: SinkSpec | null = null;
  if (flags.deadLetter) {
    const fromFile = isJsonObject(doc['dead_letter']) ? doc['dead_letter'] : {};
    deadLetter = { name: 'dead_letter', type: 'file', options: { ...fromFile, path: flags.deadLetter }, baseDir: cwd };
  } else if (isJsonObject(doc['dead_letter'])) {
    deadLetter = { name: 'dead_letter', type: 'file', options: { ...doc['dead_letter'] }, baseDir };
    await validateSink(deadLetter, file, 'dead_letter');
  }

  const apiSection = section('api');
  const metricsSection = section('metrics');
  const apiAddress = flags.apiAddress ?? (apiSection['address'] as string | undefined);
  if (apiAddress !== undefined) {
    try {
      parseAddress(apiAddress);
    } catch (error) {
      const fromFlag = flags.apiAddress !== undefined;
      throw new ConfigError((error as Error).message, fromFlag ? undefined : file, fromFlag ? '--api-address' : 'api.address');
    }
  }
  const format = (flags.inputFormat ?? (input['format'] as InputFormat | undefined) ?? 'raw') as InputFormat;
  if (!['raw', 'cri', 'docker', 'auto'].includes(format)) throw new ConfigError('--input-format must be one of raw, cri, docker, auto');
  const sources: SourceSpec[] = [];
  const tables = Array.isArray(doc['sources']) ? (doc['sources'] as JsonObject[]) : [];
  for (const [i, table] of tables.entries()) {
    const { type, ...options } = table;
    const spec: SourceSpec = { name: `sources[${i}]`, type: type as string, options, baseDir };
    let schema: object;
    try {
      schema = loadSourceModule(spec.type).optionsSchema;
    } catch (err) {
      throw err instanceof ConfigError ? new ConfigError(err.message, file, `sources[${i}].type`) : err;
    }
    validateAgainst(schema, options, file, `sources[${i}]`);
    sources.push(spec);
  }
  sources.push(...followSpecs(flags.follow ?? [], cwd));
  // Names (logs, counters, checkpoint files): the type, numbered from the second of a type on.
  const perType = new Map<string, number>();
  for (const spec of sources) {
    const n = (perType.get(spec.type) ?? 0) + 1;
    perType.set(spec.type, n);
    spec.name = n === 1 ? spec.type : `${spec.type}-${n}`;
  }
  const dataDir = flags.stateDir
    ? resolve(flags.stateDir)
    : typeof doc['data_dir'] === 'string' ? resolve(baseDir, doc['data_dir']) : null;

  return {
    onAuditFailure: ((doc['on_audit_failure'] as OnAuditFailure | undefined) ?? 'continue'),
    auditFailureGraceMs: duration(doc['audit_failure_grace'], DEFAULT_AUDIT_FAILURE_GRACE_MS, file, 'audit_failure_grace'),
    api:
      apiAddress === undefined
        ? null
        : { address: apiAddress, tap: (apiSection['tap'] as boolean | undefined) ?? false, retryBudget: apiSection['retry_budget'] as number | undefined },
    metrics: {
      toolLabels: (metricsSection['tool_labels'] as boolean | undefined) ?? false,
      toolLabelsMax: metricsSection['tool_labels_max'] as number | undefined,
    },
    file: file ?? null,
    input: {
      maxLineBytes,
      passthrough: flags.passthrough ?? (input['passthrough'] as boolean | undefined) ?? false,
      format,
      streams: (input['streams'] as StreamName[] | undefined) ?? null,
    },
    sources,
    dataDir,
    kubernetes: kubernetesMetadata(doc['kubernetes'], env),
    redact: { fields, policy, policyFields, ...redactionMode(redact, file, baseDir) },
    sinks,
    deadLetter,
    shutdownTimeoutMs,
    logLevel,
  };
}

/**
 * `[kubernetes]`: each value as written (`${POD_NAME}` works), else from the variable the
 * downward API sets by convention; empty values are left out. Null without the table.
 */
function kubernetesMetadata(table: JsonValue | undefined, env: NodeJS.ProcessEnv): KubernetesMetadata | null {
  if (!isJsonObject(table)) return null;
  const pick = (key: string, variable: string): string | undefined => {
    const v = typeof table[key] === 'string' ? (table[key] as string) : env[variable];
    return v === undefined || v === '' ? undefined : v;
  };
  return {
    pod: pick('pod', 'POD_NAME'),
    namespace: pick('namespace', 'POD_NAMESPACE'),
    node: pick('node', 'NODE_NAME'),
    container: pick('container', 'CONTAINER_NAME'),
  };
}

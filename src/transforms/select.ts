/**
 * Parse/select: decides what one input line is. An event is an audit event only when its *parsed*
 * `target` is "audit"; raw bytes are used only to rule a line out when it cannot be a candidate.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { mayHoldBigInteger, parseJson } from '../util/exact-json';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json';
import { PACKAGE_ROOT } from '../util/paths';

export type Selection =
  /** A valid audit event (parsed, not yet redacted); `exact`: it may hold an ExactNumber. */
  | { kind: 'audit'; record: JsonObject; exact: boolean }
  /** Parsed, target "audit", but fails the schema. */
  | { kind: 'invalid'; record: JsonObject; errors: string[] }
  /** Does not parse, but looks like an audit event: its content must not travel. */
  | { kind: 'unparseable'; reason: string }
  /** Does not parse, but starts like a JSON-RPC message (a truncated tool result): withheld. */
  | { kind: 'withheld'; reason: string }
  /** Any other JSON value. */
  | { kind: 'json'; value: JsonValue }
  /** Not JSON: a text line. */
  | { kind: 'text'; text: string };

const SCHEMA_PATH = join(PACKAGE_ROOT, 'schemas', 'audit-event.schema.json');

export type EventValidator = ValidateFunction<JsonObject>;

const PRECOMPILED = join(PACKAGE_ROOT, 'dist', 'validators', 'audit-event.js');

/** Compiles the audit event schema with ajv (the fallback, and what the build's output must match). */
export function compileAuditValidator(schemaPath: string = SCHEMA_PATH): EventValidator {
  // Loaded here only: ajv and its compiler cost ~70 ms of start-up that the precompiled path avoids.
  const Ajv = (require('ajv') as typeof import('ajv')).default;
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, logger: false });
  return ajv.compile<JsonObject>(JSON.parse(readFileSync(schemaPath, 'utf8')));
}

/**
 * The audit event validator: the standalone code `npm run build` generated from the schema
 * (scripts/build-validators.js), which loads in a millisecond; ajv compiles it only when the build
 * output is missing.
 */
export function loadAuditValidator(): EventValidator {
  if (existsSync(PRECOMPILED)) return require(PRECOMPILED) as EventValidator;
  return compileAuditValidator();
}

/** Schema errors as short lines with the path and the rule, never the offending value. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  if (!errors) return [];
  const out: string[] = [];
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    const where = e.instancePath === '' ? '(event)' : e.instancePath.slice(1).replace(/\//g, '.');
    out.push(`${where}: ${e.message ?? e.keyword}`);
  }
  return out;
}

const BRACE = 0x7b;
const AUDIT = Buffer.from('audit');
const TOOL_PREFIX = Buffer.from('tool_');
const ESCAPE_U = Buffer.from('\\u');

/** First byte that is not JSON white space, or -1. */
function firstNonSpace(line: Buffer): number {
  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return b;
  }
  return -1;
}

/** True when the line opens a JSON object (the only shape an audit event has). */
export function isJsonObjectLine(line: Buffer): boolean {
  return firstNonSpace(line) === BRACE;
}

/** True when the line opens a JSON array (a JSON-RPC batch, when passed through). */
export function isJsonArrayLine(line: Buffer): boolean {
  return firstNonSpace(line) === 0x5b;
}

/**
 * False only when the bytes cannot be an audit event nor look like one: no "audit", no "tool_",
 * and no \u escape that could spell either. Used to skip parsing lines nobody will see.
 */
export function mayBeAudit(line: Buffer): boolean {
  return line.indexOf(AUDIT) !== -1 || line.indexOf(TOOL_PREFIX) !== -1 || line.indexOf(ESCAPE_U) !== -1;
}

const LOOKS_LIKE_AUDIT = /"target"\s*:\s*"audit"|"event"\s*:\s*"tool_/;
/** A JSON-RPC member name, or an escape that could spell one. */
const LOOKS_LIKE_JSONRPC = /jsonrpc|\\u/i;

export class Selector {
  constructor(private readonly validate: EventValidator) {}

  /**
   * Classifies one decoded JSON-object or -array line (see isJsonObjectLine). Integers beyond 2^53
   * stay exact in the record (util/exact-json.ts); the schema is checked on the plain parse, so a
   * line is valid or not exactly as JSON.parse reads it.
   */
  selectJson(text: string): Selection {
    let value: unknown;
    const exact = mayHoldBigInteger(text);
    try {
      value = exact ? parseJson(text) : JSON.parse(text);
    } catch (err) {
      const reason = err instanceof RangeError ? 'too deeply nested to parse' : 'not valid JSON';
      if (LOOKS_LIKE_AUDIT.test(text)) return { kind: 'unparseable', reason };
      if (LOOKS_LIKE_JSONRPC.test(text)) return { kind: 'withheld', reason };
      return { kind: 'text', text };
    }
    if (!isJsonObject(value) || value['target'] !== 'audit') return { kind: 'json', value: value as JsonValue };
    if (this.validate(exact ? JSON.parse(text) : value)) return { kind: 'audit', record: value, exact };
    return { kind: 'invalid', record: value, errors: describeErrors(this.validate.errors) };
  }

}

/** The event's own fields, wherever the layout put them. */
export function eventFields(record: JsonObject): JsonObject {
  const fields = record['fields'];
  return isJsonObject(fields) ? fields : record;
}

/**
 * ajv's errors → what a user reads: one line per problem, `key: what is wrong and what to do`,
 * in our words, never ajv's ("must NOT be valid", "must match \"then\" schema"). Every keyword the
 * schemas in schemas/ and sinks|sources/<name>/options.schema.json use has a translation here
 * (a unit test lists the keywords and fails on one without). Nothing of a value is quoted: a
 * config value may be a secret.
 */
import type { ErrorObject } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';

/** Keywords that produce an error of their own, with a translation below. */
export const TRANSLATED_KEYWORDS = [
  'additionalProperties',
  'required',
  'type',
  'enum',
  'const',
  'pattern',
  'minLength',
  'minimum',
  'maximum',
  'minItems',
  'uniqueItems',
  'not',
  'dependencies',
  'oneOf',
  'anyOf',
  'if',
] as const;

/** One problem: the dotted key it is at ('' for the top level) and what is wrong. */
export interface ConfigProblem {
  key: string;
  message: string;
}

type Schema = Record<string, unknown>;

/** Where `$ref`-ed schemas are looked up by their id (the shared delivery keys). */
export type SchemaLookup = (id: string) => Schema | undefined;

/** The schema object at an ajv schemaPath ("#/properties/a/oneOf", "delivery.schema.json#/$defs/queue/…"). */
function schemaAt(root: Schema, lookup: SchemaLookup, schemaPath: string): unknown {
  const hash = schemaPath.indexOf('#');
  const id = hash > 0 ? schemaPath.slice(0, hash) : '';
  let node: unknown = id ? lookup(id) : root;
  const pointer = schemaPath.slice(hash + 1);
  for (const raw of pointer.split('/').filter(Boolean)) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function parentPath(schemaPath: string): string {
  return schemaPath.slice(0, schemaPath.lastIndexOf('/'));
}

function dotted(base: string, instancePath: string, ...more: string[]): string {
  const parts = instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = base;
  for (const part of [...parts, ...more]) {
    if (/^\d+$/.test(part)) out += `[${part}]`; // array items as the config says them: tags[0]
    else out = out ? `${out}.${part}` : part;
  }
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a table',
  array: 'an array',
  null: 'null',
};

function typeWords(types: readonly string[]): string {
  const words = [...new Set(types.map((t) => TYPE_WORDS[t] ?? t))];
  if (words.length <= 1) return words[0] ?? 'something else';
  const last = words[words.length - 1];
  return `${words.slice(0, -1).join(', ')}${words.some((w) => w.includes(' or ')) ? ',' : ''} or ${last}`;
}

const SIZE_MESSAGE = 'must be a size such as "64K", "100M", or a number of bytes';
const DURATION_MESSAGE = 'must be a duration such as "200ms", "30s", "15m", "1d"';

function patternKind(pattern: string): 'size' | 'duration' | null {
  if (pattern.includes('ms|s|m|h|d')) return 'duration';
  if (pattern.includes('kKmMgG')) return 'size';
  return null;
}

/** Patterns of our schemas, said in words. */
const PATTERN_WORDS: Record<string, string> = {
  '^https?://': 'must be an http:// or https:// URL',
  '^0?[0-7]{3}$': 'must be an octal string such as "0600"',
  '^[^,]+$': 'must not contain a comma',
  '^[A-Za-z0-9.-]+$': 'may contain only letters, digits, dots and dashes',
};

function patternMessage(pattern: string, schema: unknown): string {
  const kind = patternKind(pattern);
  if (kind === 'size') return SIZE_MESSAGE;
  if (kind === 'duration') return DURATION_MESSAGE;
  const words = PATTERN_WORDS[pattern];
  if (words) return words;
  const description = (schema as { description?: unknown } | undefined)?.description;
  return typeof description === 'string' ? `is not in the expected form (${description})` : 'is not in the expected form';
}

/** Every string pattern anywhere under a schema (the branches of a oneOf / anyOf). */
function patternsUnder(schema: unknown, out: string[] = []): string[] {
  if (Array.isArray(schema)) for (const s of schema) patternsUnder(s, out);
  else if (schema !== null && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === 'pattern' && typeof v === 'string') out.push(v);
      else patternsUnder(v, out);
    }
  }
  return out;
}

/** The keys an object schema allows, for "did you mean". */
function knownKeys(schema: unknown): string[] {
  const properties = (schema as { properties?: unknown } | undefined)?.properties;
  return properties !== null && typeof properties === 'object' ? Object.keys(properties) : [];
}

/** The closest known key, when it is close enough to be a typo of `key`. */
export function suggestKey(key: string, known: readonly string[]): string | null {
  if (known.length === 0) return null;
  const best = closest(key, known as string[]);
  const d = distance(key, best);
  // A third of the length (at least one edit, at most three): "sizee" → "size", not "path".
  return d <= Math.min(3, Math.max(1, Math.floor(best.length / 3))) ? best : null;
}

/** `X is required` from a `then` branch: the `if` beside it says when ("when type = "disk""). */
function conditionOf(root: Schema, lookup: SchemaLookup, thenPath: string, instancePath: string): string {
  const table = instancePath.split('/').filter(Boolean).pop();
  const cond = schemaAt(root, lookup, `${parentPath(thenPath)}/if`) as { properties?: Record<string, { const?: unknown }> } | undefined;
  const parts = Object.entries(cond?.properties ?? {})
    .filter(([, s]) => s && 'const' in s)
    .map(([k, s]) => `${table ? `${table}.` : ''}${k} = ${JSON.stringify(s.const)}`);
  return parts.length > 0 ? ` when ${parts.join(' and ')}` : '';
}

function single(e: ErrorObject, base: string, root: Schema, lookup: SchemaLookup): ConfigProblem | null {
  const p = e.params as Record<string, unknown>;
  const key = dotted(base, e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String(p['additionalProperty']);
      const known = knownKeys(schemaAt(root, lookup, parentPath(e.schemaPath)));
      const suggestion = suggestKey(extra, known);
      return { key: dotted(base, e.instancePath, extra), message: suggestion ? `unknown key, did you mean \`${suggestion}\`?` : 'unknown key' };
    }
    case 'required': {
      const when = e.schemaPath.endsWith('/then/required') ? conditionOf(root, lookup, parentPath(e.schemaPath), e.instancePath) : '';
      return { key: dotted(base, e.instancePath, String(p['missingProperty'])), message: `is required${when}` };
    }
    case 'dependencies':
      return { key: dotted(base, e.instancePath, String(p['missingProperty'])), message: `is required when ${String(p['property'])} is set` };
    case 'not': {
      const forbidden = schemaAt(root, lookup, e.schemaPath) as { required?: unknown } | undefined;
      const both = Array.isArray(forbidden?.required) ? (forbidden.required as string[]) : [];
      if (both.length >= 2) {
        const list = both.length === 2 ? `${both[0]} or ${both[1]}` : `one of ${both.join(', ')}`;
        return { key, message: `set either ${list}, not ${both.length === 2 ? 'both' : 'several'}` };
      }
      return { key, message: 'is not allowed in this form' };
    }
    case 'type':
      return { key, message: `must be ${typeWords(String(p['type']).split(','))}` };
    case 'enum':
      return { key, message: `must be one of ${((p['allowedValues'] as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { key, message: `must be ${JSON.stringify(p['allowedValue'])}` };
    case 'pattern':
      return { key, message: patternMessage(String(p['pattern']), schemaAt(root, lookup, parentPath(e.schemaPath))) };
    case 'minLength':
      return { key, message: Number(p['limit']) === 1 ? 'must not be empty' : `must be at least ${String(p['limit'])} characters long` };
    case 'minimum':
      return { key, message: `must be at least ${String(p['limit'])}` };
    case 'maximum':
      return { key, message: `must be at most ${String(p['limit'])}` };
    case 'minItems':
      return { key, message: `must list at least ${String(p['limit'])} ${Number(p['limit']) === 1 ? 'value' : 'values'}` };
    case 'uniqueItems':
      return { key, message: `lists the same value twice (items ${Number(p['j']) + 1} and ${Number(p['i']) + 1})` };
    case 'if':
    case 'oneOf':
    case 'anyOf':
      return null; // said by the errors of their branches (see branchGroups)
    default:
      // A keyword a plugin's schema uses that we have no words for: name it, not ajv's sentence.
      return { key, message: `is not valid (schema keyword "${e.keyword}")` };
  }
}

/**
 * The errors of one oneOf / anyOf (alternatives such as `"100M" | 104857600 | false`), said once:
 * the alternatives' kind (a size, a duration) when they have one, else the error of the
 * alternative whose type the value has, else the types that would do.
 */
function alternatives(group: ErrorObject, branches: ErrorObject[], base: string, root: Schema, lookup: SchemaLookup): ConfigProblem[] {
  const key = dotted(base, group.instancePath);
  const options = schemaAt(root, lookup, group.schemaPath);
  const kinds = new Set(patternsUnder(options).map(patternKind));
  if (kinds.has('size')) return [{ key, message: SIZE_MESSAGE }];
  if (kinds.has('duration')) return [{ key, message: DURATION_MESSAGE }];
  const own = branches.filter((e) => e.instancePath === group.instancePath && e.keyword !== 'type' && e.keyword !== 'const');
  const deeper = branches.filter((e) => e.instancePath !== group.instancePath);
  if (own.length > 0 || deeper.length > 0) {
    return [...own, ...deeper].map((e) => single(e, base, root, lookup)).filter((x): x is ConfigProblem => x !== null);
  }
  const types: string[] = [];
  for (const s of Array.isArray(options) ? options : []) {
    const t = (s as { type?: unknown; const?: unknown }).type;
    if (typeof t === 'string') types.push(t);
    else if (Array.isArray(t)) types.push(...(t as string[]));
    else if ('const' in (s as object)) types.push(JSON.stringify((s as { const: unknown }).const));
  }
  return [{ key, message: `must be ${typeWords(types)}` }];
}

/** ajv's errors for `data` at `base` (a dotted key prefix) → one problem per key, in order. */
export function translateErrors(errors: readonly ErrorObject[], base: string, root: object, lookup: SchemaLookup): ConfigProblem[] {
  const schema = root as Schema;
  const groups = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const inGroup = (e: ErrorObject, g: ErrorObject): boolean => e !== g && e.schemaPath.startsWith(`${g.schemaPath}/`);
  const problems: ConfigProblem[] = [];
  for (const e of errors) {
    const group = groups.find((g) => inGroup(e, g));
    if (group) continue; // said with its group
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      // An inner group of an outer one is said by the outer one.
      problems.push(...alternatives(e, errors.filter((b) => inGroup(b, e)), base, schema, lookup));
      continue;
    }
    const p = single(e, base, schema, lookup);
    if (p) problems.push(p);
  }
  const seen = new Set<string>();
  return problems.filter((p) => {
    const line = `${p.key}: ${p.message}`;
    if (seen.has(line)) return false;
    seen.add(line);
    return true;
  });
}

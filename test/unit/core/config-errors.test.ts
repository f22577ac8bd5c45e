/**
 * Every schema keyword our config schemas use that can fail has words in
 * src/core/config-errors.ts: a keyword added to a schema without a translation fails here, before
 * ajv's sentence ("must NOT be valid") could reach a user. And "did you mean" picks typos only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { suggestKey, TRANSLATED_KEYWORDS } from '../../../src/core/config-errors';

const ROOT = join(__dirname, '..', '..', '..');

/** Keywords that never fail on their own: structure, annotations, the branches of another keyword. */
const NOT_FAILING = new Set(['$schema', '$id', '$ref', '$comment', 'title', 'description', 'default', 'examples', 'items', 'allOf', 'then', 'else']);
/** Keywords whose value is a map of names to schemas (the names are not keywords). */
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions', 'patternProperties', 'dependencies']);

function configSchemaFiles(): string[] {
  const files = ['config.schema.json', 'delivery.schema.json'].map((f) => join(ROOT, 'schemas', f));
  for (const room of ['sinks', 'sources']) {
    for (const e of readdirSync(join(ROOT, room), { withFileTypes: true })) {
      const f = join(ROOT, room, e.name, 'options.schema.json');
      if (e.isDirectory() && existsSync(f)) files.push(f);
    }
  }
  return files;
}

function keywords(schema: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) keywords(s, out);
  else if (schema !== null && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      out.add(k);
      if (k === 'enum' || k === 'const' || k === 'required') continue;
      if (SCHEMA_MAPS.has(k) && v !== null && typeof v === 'object') {
        for (const sub of Object.values(v)) if (!Array.isArray(sub)) keywords(sub, out);
      } else keywords(v, out);
    }
  }
  return out;
}

describe('config error translation', () => {
  it('has words for every failing keyword the config schemas use', () => {
    const used = new Set<string>();
    for (const f of configSchemaFiles()) keywords(JSON.parse(readFileSync(f, 'utf8')), used);
    const translated = new Set<string>(TRANSLATED_KEYWORDS);
    const missing = [...used].filter((k) => !NOT_FAILING.has(k) && !(SCHEMA_MAPS.has(k) && k !== 'dependencies') && !translated.has(k));
    expect(missing).toEqual([]);
    expect(used.has('not') && used.has('oneOf') && used.has('if')).toBe(true);
  });

  it('suggests the closest key only when it looks like a typo', () => {
    expect(suggestKey('sizee', ['path', 'size', 'interval'])).toBe('size');
    expect(suggestKey('max_line_byte', ['max_line_bytes', 'passthrough'])).toBe('max_line_bytes');
    expect(suggestKey('colour', ['path', 'size', 'interval'])).toBeNull();
    expect(suggestKey('x', [])).toBeNull();
  });
});

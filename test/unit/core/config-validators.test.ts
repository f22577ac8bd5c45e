/**
 * The config and sink-options validators generated at build time (scripts/build-validators.js →
 * dist/validators/config-schemas.js) are the ones ajv compiles at run time: one for each schema,
 * found by the schema's text, with the same verdict and the same errors on valid and invalid
 * documents. (loadConfig uses them; without them it compiles, so both paths must agree.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..', '..');
const GENERATED = join(ROOT, 'dist', 'validators', 'config-schemas.js');

function schemaFiles(): string[] {
  const files = [join(ROOT, 'schemas', 'config.schema.json')];
  for (const e of readdirSync(join(ROOT, 'sinks'), { withFileTypes: true })) {
    const f = join(ROOT, 'sinks', e.name, 'options.schema.json');
    if (e.isDirectory() && existsSync(f)) files.push(f);
  }
  return files;
}

function runtimeCompiler(): (schema: object) => ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true, logger: false });
  const { $id: _d, ...delivery } = JSON.parse(readFileSync(join(ROOT, 'schemas', 'delivery.schema.json'), 'utf8')) as { $id?: string };
  ajv.addSchema(delivery, 'delivery.schema.json');
  return (schema) => {
    const { $id: _id, ...rest } = schema as { $id?: string };
    return ajv.compile(rest);
  };
}

/** Documents that pass and fail in different ways, for any of the schemas. */
const PROBES: unknown[] = [
  {},
  { type: 'file', path: 'a.jsonl' },
  { path: 'a.jsonl', size: '100M', compress: false, max_files: 3, mode: '0640' },
  { path: 5, size: 'lots', bogus: true },
  { api_key: 'k', site: 'datadoghq.eu', tags: ['env:x'], compression: 'gzip', batch: { max_events: 10, linger: '5ms' }, retry: { max_backoff: '1s' } },
  { host: '127.0.0.1', port: 24224, tag: 'audit', queue: { max_events: 'many' }, buffer: { type: 'disk' } },
  { shutdown_timeout: '5s', input: { max_line_bytes: '64K', passthrough: true }, sinks: { a: { type: 'file', path: 'x' } } },
  { input: { max_line_bytes: -1 }, sinks: 'none', unknown: 1 },
  [],
  'text',
];

describe('precompiled config validators', () => {
  it('exist for the config schema and every built-in sink schema, and agree with ajv at run time', () => {
    expect(existsSync(GENERATED)).toBe(true);
    const generated = require(GENERATED) as Map<string, ValidateFunction>;
    const compile = runtimeCompiler();
    const files = schemaFiles();
    expect(generated.size).toBe(files.length);
    for (const file of files) {
      const schema = JSON.parse(readFileSync(file, 'utf8')) as object;
      const pre = generated.get(JSON.stringify(schema));
      expect([file, typeof pre]).toEqual([file, 'function']);
      const live = compile(schema);
      for (const doc of PROBES) {
        const a = pre!(doc);
        const b = live(doc);
        expect({ file, doc, valid: a, errors: pre!.errors ?? null }).toEqual({ file, doc, valid: b, errors: live.errors ?? null });
      }
    }
  });
});

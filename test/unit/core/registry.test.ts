/**
 * The sink registry from source: plugin files and packages load through one path, a module
 * without `createSink` is refused with the type named, and an unknown type lists the built-in
 * types found by folder.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinSinkTypes, isBuiltinSink, loadSinkModule } from '../../../src/core/registry';
import { ConfigError } from '../../../src/util/errors';
import { tempDir } from '../../support/cli';

const dir = tempDir('audit-router-registry-');
afterAll(() => dir.cleanup());

describe('sink registry', () => {
  it('loads a plugin file (CommonJS or ESM) relative to the config directory, once', async () => {
    writeFileSync(join(dir.path, 'cjs-sink.js'), 'exports.createSink = () => ({}); exports.optionsSchema = { type: "object" };');
    writeFileSync(join(dir.path, 'esm-sink.mjs'), 'export function createSink() { return {}; }');
    const cjs = await loadSinkModule('./cjs-sink.js', dir.path);
    expect(typeof cjs.createSink).toBe('function');
    expect(cjs.optionsSchema).toEqual({ type: 'object' });
    expect(await loadSinkModule('./cjs-sink.js', dir.path)).toBe(cjs);
    expect(typeof (await loadSinkModule('./esm-sink.mjs', dir.path)).createSink).toBe('function');
  });

  it('loads an installed package by name from the config directory', async () => {
    const pkg = join(dir.path, 'node_modules', 'my-audit-sink');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"my-audit-sink","main":"index.js"}');
    writeFileSync(join(pkg, 'index.js'), 'module.exports = { createSink: () => ({}) };');
    expect(typeof (await loadSinkModule('my-audit-sink', dir.path)).createSink).toBe('function');
  });

  it('refuses a module without createSink, a missing file and an unknown name, as ConfigErrors', async () => {
    writeFileSync(join(dir.path, 'not-a-sink.js'), 'exports.hello = 1;');
    await expect(loadSinkModule('./not-a-sink.js', dir.path)).rejects.toThrow(/does not export a createSink function/);
    await expect(loadSinkModule('./missing.js', dir.path)).rejects.toThrow(ConfigError);
    await expect(loadSinkModule('no-such-sink-anywhere', dir.path)).rejects.toThrow(/unknown sink type "no-such-sink-anywhere"/);
  });

  it('a built-in type is a lower-case folder name: never a path or a package', () => {
    // Built-ins are the compiled folders under dist/sinks/: after a build, exactly the four of sinks/.
    if (existsSync(join(__dirname, '..', '..', '..', 'dist', 'sinks'))) {
      expect(builtinSinkTypes()).toEqual(expect.arrayContaining(['datadog', 'file', 'fluentd', 'stdout']));
    }
    for (const t of builtinSinkTypes()) expect(isBuiltinSink(t)).toBe(true);
    expect(isBuiltinSink('../file')).toBe(false);
    expect(isBuiltinSink('File')).toBe(false);
    expect(isBuiltinSink('nope')).toBe(false);
  });
});

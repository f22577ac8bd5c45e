/**
 * Finds a sink type's module. The core knows sinks only through this: a built-in type is a
 * folder `sinks/<type>/` (compiled to `dist/sinks/<type>/index.js`) — adding a folder adds a type,
 * there is no list to edit; any other `type` is a plugin: a path (relative to the config file) or
 * a package name. Built-in or plugin, the module exports `createSink` and (optionally, always for
 * built-ins) `optionsSchema`. Modules load lazily, so a heavy client costs nothing unless configured.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SinkModule } from '../api/sink';
import { ConfigError } from '../util/errors';
import { PACKAGE_ROOT } from '../util/paths';

const ROOT = PACKAGE_ROOT;
const BUILTIN_DIR = join(ROOT, 'dist', 'sinks');
const BUILTIN_NAME = /^[a-z][a-z0-9_]*$/;

function builtinModulePath(type: string): string {
  return join(BUILTIN_DIR, type, 'index.js');
}

/** A built-in type: a lower-case name with a compiled folder under dist/sinks/. */
export function isBuiltinSink(type: string): boolean {
  return BUILTIN_NAME.test(type) && existsSync(builtinModulePath(type));
}

/** The built-in sink types, from the folders that exist (for messages and docs). */
export function builtinSinkTypes(): string[] {
  try {
    return readdirSync(BUILTIN_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory() && BUILTIN_NAME.test(d.name) && existsSync(builtinModulePath(d.name)))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** Reads a JSON schema shipped in schemas/. */
export function readSchema(relative: string): object {
  return JSON.parse(readFileSync(join(ROOT, 'schemas', relative), 'utf8')) as object;
}

function pluginSpecifier(type: string, baseDir: string): string {
  if (type.startsWith('.') || isAbsolute(type)) {
    const path = resolve(baseDir, type);
    if (!existsSync(path)) throw new ConfigError(`sink plugin file not found: ${path}`);
    return pathToFileURL(path).href;
  }
  try {
    return pathToFileURL(require.resolve(type, { paths: [baseDir, process.cwd()] })).href;
  } catch {
    throw new ConfigError(
      `unknown sink type "${type}": not one of ${builtinSinkTypes().join(', ')}, nor a plugin file or installed package`,
    );
  }
}

const loaded = new Map<string, SinkModule>();

/** Loads a sink module (built-in or plugin) and checks it exports a factory. */
export async function loadSinkModule(type: string, baseDir: string): Promise<SinkModule> {
  const builtin = isBuiltinSink(type);
  const key = builtin ? type : resolve(baseDir, type);
  const cached = loaded.get(key);
  if (cached) return cached;
  let mod: unknown;
  try {
    // Built-ins are CommonJS files of ours: require() them, skipping the ESM loader (~10 ms of
    // start-up). Plugins may be ESM or CommonJS: import() takes both.
    mod = builtin ? require(builtinModulePath(type)) : await import(pluginSpecifier(type, baseDir));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`sink type "${type}" could not be loaded: ${(err as Error).message}`);
  }
  const candidate = pickModule(mod);
  if (!candidate) throw new ConfigError(`sink type "${type}": the module does not export a createSink function`);
  loaded.set(key, candidate);
  return candidate;
}

function pickModule(mod: unknown): SinkModule | null {
  // ESM namespace, CJS module.exports, or a CJS default export.
  for (const m of [mod, (mod as { default?: unknown } | null)?.default]) {
    if (m && typeof (m as SinkModule).createSink === 'function') return m as SinkModule;
  }
  return null;
}

/**
 * Finds a sink type's options schema and factory. The core knows sinks only through this:
 * built-in types live in sinks/<type>.ts (one file each) with their schema in
 * schemas/sinks/<type>.schema.json; any other `type` is a plugin: a path (relative to the config
 * file) or a package name, whose module exports `createSink` and optionally `optionsSchema`.
 * Modules load lazily, so a heavy client (Datadog's) costs nothing unless configured.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './errors';
import { PACKAGE_ROOT } from './paths';
import type { SinkModule } from './sink';

const ROOT = PACKAGE_ROOT;
export const BUILTIN_SINKS: readonly string[] = ['file', 'stdout', 'datadog', 'fluentd'];

export function isBuiltinSink(type: string): boolean {
  return BUILTIN_SINKS.includes(type);
}

/** Reads a JSON schema shipped in schemas/. */
export function readSchema(relative: string): object {
  return JSON.parse(readFileSync(join(ROOT, 'schemas', relative), 'utf8')) as object;
}

/** The options schema of a built-in sink type. */
export function builtinSinkSchema(type: string): object {
  return readSchema(join('sinks', `${type}.schema.json`));
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
      `unknown sink type "${type}": not one of ${BUILTIN_SINKS.join(', ')}, nor a plugin file or installed package`,
    );
  }
}

const loaded = new Map<string, SinkModule>();

/** Loads a sink module (built-in or plugin) and checks it exports a factory. */
export async function loadSinkModule(type: string, baseDir: string): Promise<SinkModule> {
  const key = isBuiltinSink(type) ? type : resolve(baseDir, type);
  const cached = loaded.get(key);
  if (cached) return cached;
  let mod: unknown;
  try {
    // Built-ins are CommonJS files of ours: require() them, skipping the ESM loader (~10 ms of
    // start-up). Plugins may be ESM or CommonJS: import() takes both.
    mod = isBuiltinSink(type)
      ? require(join(ROOT, 'dist', 'sinks', `${type}.js`))
      : await import(pluginSpecifier(type, baseDir));
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

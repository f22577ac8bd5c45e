/**
 * Sources: from the config (`[[sources]]`, `--follow`) to one Source the core reads.
 *
 * A source type is a folder under sources/ (compiled to dist/sources/<type>/index.js) exporting
 * `createSource` and `optionsSchema`; each `[[sources]]` table is validated against its type's
 * schema before anything starts. `--follow <path|glob>` adds a `file` source, or a `fifo` source
 * when the path is a named pipe. Several sources are merged into one: their chunks interleave,
 * stream ids are prefixed per source, and acknowledgements go back to the source they came from.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Source, SourceChunk, SourceModule, StreamFraming } from '../api/source';
import { ConfigError } from '../util/errors';
import type { JsonObject } from '../util/json';
import type { Logger } from '../util/log';
import { PACKAGE_ROOT } from '../util/paths';

export interface SourceSpec {
  name: string;
  type: string;
  options: JsonObject;
  baseDir: string;
}

const TYPE = /^[a-z][a-z0-9_]*$/;
/** Sources the core builds itself from the command line, not from [[sources]]. */
const NOT_CONFIGURABLE = new Set(['stdin', 'wrapper']);

function modulePath(type: string): string {
  return join(PACKAGE_ROOT, 'dist', 'sources', type, 'index.js');
}

export function loadSourceModule(type: string): SourceModule {
  if (!TYPE.test(type) || NOT_CONFIGURABLE.has(type) || !existsSync(modulePath(type))) {
    throw new ConfigError(`unknown source type "${type}": one of file, fifo`);
  }
  return require(modulePath(type)) as SourceModule;
}

/** `--follow` paths as source specs: a named pipe becomes a fifo source, anything else a file source. */
export function followSpecs(paths: readonly string[], cwd: string): SourceSpec[] {
  const files: string[] = [];
  const specs: SourceSpec[] = [];
  for (const path of paths) {
    let fifo = false;
    try {
      fifo = statSync(resolve(cwd, path)).isFIFO();
    } catch {
      fifo = false; // not there yet: a file (or a pattern) to wait for
    }
    if (fifo) specs.push({ name: `fifo${specs.length ? `-${specs.length + 1}` : ''}`, type: 'fifo', options: { path }, baseDir: cwd });
    else files.push(path);
  }
  if (files.length > 0) specs.unshift({ name: 'file', type: 'file', options: { paths: files }, baseDir: cwd });
  return specs;
}

export interface BuildContext {
  logger: Logger;
  stateDir: string | null;
  framing: StreamFraming;
}

/** Builds every source and merges them (one source stays as it is). */
export function buildSources(specs: readonly SourceSpec[], context: BuildContext): Source {
  const sources = specs.map((spec) => {
    const options = { ...spec.options };
    const format = options['format'] as StreamFraming['format'] | undefined;
    const streams = options['streams'] as StreamFraming['streams'] | undefined;
    delete options['format'];
    delete options['streams'];
    const framing: StreamFraming = format || streams ? { format: format ?? context.framing.format, streams: streams ?? context.framing.streams } : context.framing;
    return loadSourceModule(spec.type).createSource(options, { name: spec.name, logger: context.logger, baseDir: spec.baseDir, stateDir: context.stateDir, framing });
  });
  return sources.length === 1 ? sources[0]! : mergeSources(sources);
}

/** One source reading several: chunks as they come, stream ids prefixed with the source's index. */
export function mergeSources(sources: readonly Source[]): Source {
  const counters: Record<string, number> = {};
  const merged: Source = {
    name: sources.map((s) => s.name).join('+'),
    get counters(): Readonly<Record<string, number>> {
      for (const s of sources) for (const [k, v] of Object.entries(s.counters ?? {})) counters[`${s.name}.${k}`] = v;
      return counters;
    },
    chunks: {
      [Symbol.asyncIterator]: async function* (): AsyncGenerator<SourceChunk> {
        const iterators = sources.map((s) => s.chunks[Symbol.asyncIterator]());
        const pending = new Map<number, Promise<{ i: number; r: IteratorResult<Buffer | SourceChunk> }>>();
        const pull = (i: number): void => void pending.set(i, iterators[i]!.next().then((r) => ({ i, r })));
        for (let i = 0; i < iterators.length; i++) pull(i);
        while (pending.size > 0) {
          const { i, r } = await Promise.race(pending.values());
          pending.delete(i);
          if (r.done) continue;
          const c = r.value;
          yield Buffer.isBuffer(c) ? { stream: `${i}:`, data: c, offset: 0 } : { ...c, stream: `${i}:${c.stream}` };
          pull(i);
        }
      },
    },
    commit(stream: string, offset: number): void {
      const colon = stream.indexOf(':');
      sources[Number(stream.slice(0, colon))]?.commit?.(stream.slice(colon + 1), offset);
    },
    stop(): void {
      for (const s of sources) s.stop();
    },
    async close(): Promise<void> {
      await Promise.all(sources.map((s) => s.close?.()));
    },
  };
  return merged;
}

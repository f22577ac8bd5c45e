/**
 * The delivery keys every network sink shares (`queue`, `batch`, `retry`, `buffer`, `when_full`),
 * turned into numbers. The core validates the table against the sink's JSON schema first; the
 * checks here still catch what a schema cannot (sizes, durations, relations) and plugins that
 * skip the schema.
 */
import * as path from 'node:path';
import { ConfigError } from '../util/errors';
import type { SinkOptions } from '../api/sink';
import { parseBytes, parseDuration } from '../util/units';

export type FsyncPolicy = 'always' | 'batch' | 'never';

export type BufferConfig =
  | { readonly type: 'memory' }
  | { readonly type: 'disk'; readonly path: string; readonly maxBytes: number; readonly fsync: FsyncPolicy };

export interface DeliveryConfig {
  /** Bounds of what waits in memory (memory buffer); the disk buffer is bounded by buffer.maxBytes. */
  readonly queue: { readonly maxEvents: number; readonly maxBytes: number };
  readonly batch: { readonly maxEvents: number; readonly maxBytes: number; readonly lingerMs: number };
  readonly retry: { readonly initialBackoffMs: number; readonly maxBackoffMs: number };
  readonly buffer: BufferConfig;
  readonly whenFull: 'block' | 'drop_newest';
  /** One attempt (request, or chunk + its ack) is abandoned after this long. */
  readonly attemptTimeoutMs: number;
}

export const DELIVERY_KEYS = ['queue', 'batch', 'retry', 'buffer', 'when_full'] as const;

export interface DeliveryDefaults {
  batchMaxEvents?: number;
  batchMaxBytes?: number;
  /** Hard limits of the receiver: larger configured values are refused. */
  batchMaxEventsLimit?: number;
  batchMaxBytesLimit?: number;
  attemptTimeoutMs: number;
}

const DEFAULTS = {
  queueMaxEvents: 10_000,
  queueMaxBytes: 16 * 1024 * 1024,
  batchMaxEvents: 1000,
  batchMaxBytes: 1024 * 1024,
  lingerMs: 200,
  initialBackoffMs: 1000,
  maxBackoffMs: 60_000,
  diskMaxBytes: 256 * 1024 * 1024,
};

type Table = Record<string, unknown>;

function table(options: SinkOptions, key: string, sink: string): Table {
  const value = options[key];
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('must be a table', undefined, `sinks.${sink}.${key}`);
  }
  return value as Table;
}

function size(t: Table, key: string, where: string, fallback: number, min = 1): number {
  const value = t[key];
  if (value === undefined) return fallback;
  const n = typeof value === 'string' || typeof value === 'number' ? parseBytes(value) : null;
  if (n === null || n < min) {
    throw new ConfigError(`must be a size of at least ${min} bytes, like "1M" or 65536`, undefined, `${where}.${key}`);
  }
  return n;
}

function count(t: Table, key: string, where: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = t[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new ConfigError(`must be an integer from 1 to ${max}`, undefined, `${where}.${key}`);
  }
  return value;
}

function duration(t: Table, key: string, where: string, fallback: number): number {
  const value = t[key];
  if (value === undefined) return fallback;
  const n = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : null;
  if (n === null) throw new ConfigError('must be a duration like "200ms", "30s" or a number of ms', undefined, `${where}.${key}`);
  return n;
}

/** Parses the delivery keys of `[sinks.<name>]`. Relative buffer paths resolve against `baseDir`. */
export function parseDeliveryOptions(
  options: SinkOptions,
  sink: string,
  baseDir: string,
  defaults: DeliveryDefaults,
): DeliveryConfig {
  const where = `sinks.${sink}`;
  const q = table(options, 'queue', sink);
  const b = table(options, 'batch', sink);
  const r = table(options, 'retry', sink);
  const buf = table(options, 'buffer', sink);

  const batchMaxEvents = count(
    b, 'max_events', `${where}.batch`, defaults.batchMaxEvents ?? DEFAULTS.batchMaxEvents, defaults.batchMaxEventsLimit,
  );
  const batchMaxBytes = size(b, 'max_bytes', `${where}.batch`, defaults.batchMaxBytes ?? DEFAULTS.batchMaxBytes);
  if (defaults.batchMaxBytesLimit !== undefined && batchMaxBytes > defaults.batchMaxBytesLimit) {
    throw new ConfigError(`must be at most ${defaults.batchMaxBytesLimit} bytes (the receiver's request limit)`, undefined, `${where}.batch.max_bytes`);
  }
  const initialBackoffMs = duration(r, 'initial_backoff', `${where}.retry`, DEFAULTS.initialBackoffMs);
  const maxBackoffMs = duration(r, 'max_backoff', `${where}.retry`, Math.max(DEFAULTS.maxBackoffMs, initialBackoffMs));
  if (maxBackoffMs < initialBackoffMs) {
    throw new ConfigError('must not be smaller than retry.initial_backoff', undefined, `${where}.retry.max_backoff`);
  }
  if (initialBackoffMs < 1) throw new ConfigError('must be at least 1ms', undefined, `${where}.retry.initial_backoff`);

  let buffer: BufferConfig = { type: 'memory' };
  const type = buf.type ?? 'memory';
  if (type === 'disk') {
    if (typeof buf.path !== 'string' || buf.path === '') {
      throw new ConfigError('is required when buffer.type = "disk" (a directory of its own)', undefined, `${where}.buffer.path`);
    }
    const fsync = buf.fsync ?? 'batch';
    if (fsync !== 'always' && fsync !== 'batch' && fsync !== 'never') {
      throw new ConfigError('must be "always", "batch" or "never"', undefined, `${where}.buffer.fsync`);
    }
    buffer = {
      type: 'disk',
      path: path.resolve(baseDir, buf.path),
      maxBytes: size(buf, 'max_bytes', `${where}.buffer`, DEFAULTS.diskMaxBytes, 4096),
      fsync,
    };
  } else if (type !== 'memory') {
    throw new ConfigError('must be "memory" or "disk"', undefined, `${where}.buffer.type`);
  }

  const whenFull = options.when_full ?? 'block';
  if (whenFull !== 'block' && whenFull !== 'drop_newest') {
    throw new ConfigError('must be "block" or "drop_newest"', undefined, `${where}.when_full`);
  }

  return {
    queue: {
      maxEvents: count(q, 'max_events', `${where}.queue`, DEFAULTS.queueMaxEvents),
      maxBytes: size(q, 'max_bytes', `${where}.queue`, DEFAULTS.queueMaxBytes),
    },
    batch: { maxEvents: batchMaxEvents, maxBytes: batchMaxBytes, lingerMs: duration(b, 'linger', `${where}.batch`, DEFAULTS.lingerMs) },
    retry: { initialBackoffMs, maxBackoffMs },
    buffer,
    whenFull,
    attemptTimeoutMs: defaults.attemptTimeoutMs,
  };
}

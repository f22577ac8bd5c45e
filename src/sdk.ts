/**
 * The plugin SDK: everything a sink or source may import, and all that the built-in ones use
 * (they are held to it by the lint rule in biome.json), so a plugin can do anything they do.
 *
 *   import { createDeliverySink, type SinkFactory } from 'audit-router/sdk';
 *
 * - contracts: Sink, SinkEvent, SinkContext, SinkCounters, DeadLetter, Source (src/api/)
 * - the line writer for sinks that write JSON lines to a stream (file, stdout)
 * - the delivery layer for network sinks: a Transport in, a Sink with queue, batches, retries,
 *   disk buffer and bounded shutdown out
 * - typed errors, size/duration units, the logger type, JSON types, audit-router's version
 * - the tamper-evident chain a file-writing sink seals its lines with (docs/integrity.md)
 */
export type * from './api/sink';
export { kubernetesRecord, newCounters, undelivered } from './api/sink';
export type * from './api/source';
export { LineSink, ioErrorCode, MAX_BATCH_CHARS, HIGH_WATER_CHARS, LINE_SINK_DEFAULTS } from './delivery/line-writer';
export type { Target, LineSinkOptions } from './delivery/line-writer';
export * from './delivery/index';
export { Waiters, untilDeadline } from './delivery/waiters';
export { ConfigError, SinkError } from './util/errors';
export { parseBytes, parseDuration } from './util/units';
export { auditRouterVersion } from './util/version';
export { parseTimestamp } from './util/time';
export { isJsonObject } from './util/json';
export type { JsonObject, JsonPrimitive, JsonValue } from './util/json';
export type { Logger, LogFields, Level } from './util/log';
export { silentLogger } from './util/log';
export { ChainWriter } from './integrity/writer';
export { chainSettings } from './integrity/options';
export type { ChainSettings } from './integrity/options';

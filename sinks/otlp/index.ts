/**
 * The otlp sink: audit events as OpenTelemetry LogRecords over OTLP/HTTP (protobuf by default,
 * JSON on request) to an OpenTelemetry Collector or any OTLP endpoint, through the shared delivery
 * layer (queue, batches, retries, disk buffer). Attributes follow the MCP semantic conventions
 * (mapping.ts, README.md); endpoint, headers, TLS files, protocol, compression and timeout come from
 * the config or the standard OTEL_EXPORTER_OTLP_* variables (settings.ts).
 *
 * The wire format is written by the official @opentelemetry/otlp-transformer serializers, required
 * when the first batch is sent, and only the encoding configured: the logs serializer alone is ~60
 * modules, ~17 ms and ~8 MB of RSS, which configs without an otlp sink never pay, and a router that
 * has nothing to send yet does not pay at start-up (docs/performance.md). The factory checks that
 * the modules are there, so a broken install still fails at start, not at the first event.
 */
import { auditRouterVersion, createDeliverySink, parseDeliveryOptions, type SinkFactory } from '../../src/sdk';
import OPTIONS_SCHEMA from './options.schema.json';
import { parseOtlpOptions, type OtlpProtocol } from './settings';
import { type LogsSerializer, OtlpHttpTransport, type OtlpWire } from './transport';

/** The transformer's modules this sink uses (its package root would load traces and metrics too). */
const TRANSFORMER = '@opentelemetry/otlp-transformer/build/src';

interface ProtobufReaderClass {
  new (buf: Uint8Array): {
    isAtEnd(): boolean;
    readTag(): { fieldNumber: number; wireType: number };
    readString(): string;
    skip(wireType: number): void;
  };
}

const wireModules = (protocol: OtlpProtocol): [string, string] => [
  `${TRANSFORMER}/logs/${protocol === 'http/json' ? 'json' : 'protobuf'}`,
  `${TRANSFORMER}/common/protobuf/protobuf-reader`,
];

/** Loads the serializer of `protocol` and the protobuf reader (require caches them). */
export function loadWire(protocol: OtlpProtocol): OtlpWire {
  const [serializerModule, readerModule] = wireModules(protocol);
  const exports = require(serializerModule) as { JsonLogsSerializer?: LogsSerializer; ProtobufLogsSerializer?: LogsSerializer };
  const serializer = protocol === 'http/json' ? exports.JsonLogsSerializer : exports.ProtobufLogsSerializer;
  if (!serializer) throw new Error(`${serializerModule} has no logs serializer: an incompatible @opentelemetry/otlp-transformer`);
  const { ProtobufReader } = require(readerModule) as { ProtobufReader: ProtobufReaderClass };
  return {
    serializer,
    statusMessage(bytes) {
      // google.rpc.Status: code = 1, message = 2, details = 3.
      try {
        const reader = new ProtobufReader(bytes);
        while (!reader.isAtEnd()) {
          const { fieldNumber, wireType } = reader.readTag();
          if (fieldNumber === 2 && wireType === 2) return reader.readString();
          reader.skip(wireType);
        }
      } catch {
        // Not a Status: no message.
      }
      return null;
    },
  };
}

/** The options schema (validated by the core before anything starts); the delivery keys come from schemas/delivery.schema.json. */
export const optionsSchema: object = OPTIONS_SCHEMA;

export const createSink: SinkFactory = (options, context) => {
  const settings = parseOtlpOptions(options, context);
  const config = parseDeliveryOptions(options, context.name, context.baseDir, {
    // The OpenTelemetry SDK's batch processor exports 512 records at a time.
    batchMaxEvents: 512,
    // ~1 MB keeps serialising and compressing one request to a few ms of the event loop.
    batchMaxBytes: 1_000_000,
    // The Collector's otlp receiver takes 20 MiB a request by default.
    batchMaxBytesLimit: 16 * 1024 * 1024,
    attemptTimeoutMs: settings.timeoutMs,
  });
  for (const module of wireModules(settings.protocol)) require.resolve(module);
  const transport = new OtlpHttpTransport(
    settings,
    () => loadWire(settings.protocol),
    (message) => context.logger.warn(message, { sink: context.name }),
    auditRouterVersion(),
  );
  context.logger.debug('otlp sink ready', {
    sink: context.name,
    // Origin and path only: a query string may carry a token.
    url: `${settings.url.origin}${settings.url.pathname}`,
    url_from: settings.urlSource,
    protocol: settings.protocol,
    compression: settings.compression,
    headers: Object.keys(settings.headers).join(','),
  });
  return createDeliverySink({ type: 'otlp', config, transport, context });
};

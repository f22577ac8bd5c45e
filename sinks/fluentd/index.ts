/**
 * The Fluentd sink: audit events over the Forward protocol (in_forward) to Fluentd or Fluent Bit,
 * through the shared delivery layer (queue, batches, retries, disk buffer).
 *
 * Delivery is confirmed per chunk: each batch is emitted into a @fluent-org/logger FluentClient
 * in one tick, so it leaves as one chunk (PackedForward, CompressedPackedForward, Forward) or
 * one chunk per event (Message), each with a `chunk` id; the batch counts as delivered only when
 * the server answered `{ack: <chunk id>}` for every chunk (`require_ack = true`, the default).
 * The client's own machinery that conflicts with that is off: no event retrier, no automatic
 * reconnect, no queue limits that drop events, no autoconnect. Any failure (ack timeout,
 * connection reset, refused handshake) discards the client and its connection; the delivery
 * layer retries the whole batch on a new one, so nothing sent-but-unacknowledged is counted as
 * delivered (at-least-once: a chunk whose ack was lost is sent again).
 */
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tls from 'node:tls';
import { EventTime, FluentClient, FluentError, FluentSocketEvent } from '@fluent-org/logger';
import type { EventModes, FluentClientOptions } from '@fluent-org/logger';
import { createDeliverySink, DeliveryError, parseDeliveryOptions, parseTimestamp, tlsVerifyError, toDeliveryError, errorCode, ConfigError, kubernetesRecord, parseDuration } from '../../src/sdk';
import type { Transport, JsonValue, SinkContext, SinkEvent, SinkFactory, SinkOptions } from '../../src/sdk';
import OPTIONS_SCHEMA from './options.schema.json';

const EVENT_MODES: readonly EventModes[] = ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'];

export interface FluentdSettings {
  readonly tag: string;
  readonly requireAck: boolean;
  readonly ackTimeoutMs: number;
  readonly clientOptions: FluentClientOptions;
  /** `[kubernetes]` as the record's `kubernetes` object, or null. */
  readonly kubernetes?: Record<string, string> | null;
}

type Table = Record<string, unknown>;

function str(options: Table, key: string, where: string): string | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ConfigError('must be a non-empty string', undefined, `${where}.${key}`);
  return value;
}

function readPem(options: Table, key: string, where: string, baseDir: string): Buffer | undefined {
  const file = str(options, key, where);
  if (file === undefined) return undefined;
  const resolved = path.resolve(baseDir, file);
  try {
    return fs.readFileSync(resolved);
  } catch (error) {
    throw new ConfigError(`cannot read ${resolved}: ${errorCode(error) ?? 'error'}`, undefined, `${where}.${key}`);
  }
}

/** Reads the Fluentd options (the delivery keys are read by the delivery layer). */
export function parseFluentdOptions(options: SinkOptions, context: Pick<SinkContext, 'name' | 'baseDir'>): FluentdSettings {
  const where = `sinks.${context.name}`;
  const host = str(options, 'host', where) ?? '127.0.0.1';
  const port = options.port ?? 24224;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError('must be a port number from 1 to 65535', undefined, `${where}.port`);
  }
  const socketPath = str(options, 'path', where);
  const tag = str(options, 'tag', where) ?? 'audit.mcp';
  const requireAck = options.require_ack ?? true;
  if (typeof requireAck !== 'boolean') throw new ConfigError('must be true or false', undefined, `${where}.require_ack`);
  const ackTimeout = options.ack_timeout ?? '30s';
  const ackTimeoutMs = typeof ackTimeout === 'string' || typeof ackTimeout === 'number' ? parseDuration(ackTimeout) : null;
  if (ackTimeoutMs === null || ackTimeoutMs < 1) throw new ConfigError('must be a duration like "30s"', undefined, `${where}.ack_timeout`);
  const eventMode = options.event_mode ?? 'PackedForward';
  if (!EVENT_MODES.includes(eventMode as EventModes)) {
    throw new ConfigError(`must be one of ${EVENT_MODES.join(', ')}`, undefined, `${where}.event_mode`);
  }

  let tlsOptions: tls.ConnectionOptions | undefined;
  const tlsValue = options.tls;
  if (tlsValue === true || (typeof tlsValue === 'object' && tlsValue !== null && !Array.isArray(tlsValue))) {
    const t: Table = tlsValue === true ? {} : (tlsValue as Table);
    const verify = t.verify ?? true;
    if (typeof verify !== 'boolean') throw new ConfigError('must be true or false', undefined, `${where}.tls.verify`);
    tlsOptions = { rejectUnauthorized: verify };
    const ca = readPem(t, 'ca', `${where}.tls`, context.baseDir);
    const cert = readPem(t, 'cert', `${where}.tls`, context.baseDir);
    const key = readPem(t, 'key', `${where}.tls`, context.baseDir);
    if ((cert === undefined) !== (key === undefined)) throw new ConfigError('cert and key go together', undefined, `${where}.tls`);
    if (ca) tlsOptions.ca = ca;
    if (cert) tlsOptions.cert = cert;
    if (key) tlsOptions.key = key;
    // SNI takes host names only.
    if (!socketPath && !/^[\d.:]+$/.test(host)) tlsOptions.servername = host;
  } else if (tlsValue !== undefined && tlsValue !== false) {
    throw new ConfigError('must be a table { ca, cert, key, verify } or true', undefined, `${where}.tls`);
  }

  const sharedKey = str(options, 'shared_key', where);
  const username = str(options, 'username', where);
  const password = options.password === undefined ? undefined : String(options.password);
  if ((username !== undefined || password !== undefined) && sharedKey === undefined) {
    throw new ConfigError('username/password need shared_key (user auth is part of the handshake)', undefined, `${where}.username`);
  }

  const clientOptions: FluentClientOptions = {
    eventMode: eventMode as EventModes,
    socket: {
      ...(socketPath ? { path: path.resolve(context.baseDir, socketPath) } : { host, port }),
      ...(tlsOptions ? { tls: tlsOptions } : {}),
      // The delivery layer reconnects (with its backoff); an idle connection is closed after a minute.
      disableReconnect: true,
      timeout: Math.max(60_000, 2 * ackTimeoutMs),
    },
    ...(requireAck ? { ack: { ackTimeout: ackTimeoutMs } } : {}),
    milliseconds: true,
    disableAutoconnect: true,
  };
  if (sharedKey !== undefined) {
    clientOptions.security = {
      clientHostname: str(options, 'self_hostname', where) ?? os.hostname(),
      sharedKey,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    };
  }
  return { tag, requireAck, ackTimeoutMs, clientOptions };
}

/**
 * The EventTime of an RFC 3339 timestamp, keeping every fractional digit (a JS Date would cut
 * them to milliseconds). Null when the text is not such a timestamp or does not fit EventTime's
 * unsigned 32-bit seconds.
 */
export function parseEventTime(text: string): { seconds: number; nanoseconds: number } | null {
  const time = parseTimestamp(text);
  return time && time.seconds <= 0xffffffff ? time : null;
}

function eventTimeOf(event: SinkEvent): EventTime {
  const ts: JsonValue | undefined = event.record.timestamp ?? event.fields.timestamp;
  const parsed = typeof ts === 'string' ? parseEventTime(ts) : null;
  return parsed ? new EventTime(parsed.seconds, parsed.nanoseconds) : EventTime.now();
}

/** Maps the client's errors to what the delivery layer does about them. */
export function classifyForwardError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (error instanceof FluentError.AuthError) {
    return new DeliveryError(`handshake refused: ${error.message}`, 'auth', 'auth', null, { cause: error });
  }
  if (error instanceof FluentError.AckTimeoutError) {
    return new DeliveryError('no ack within ack_timeout', 'retryable', 'timeout', null, { cause: error });
  }
  if (error instanceof FluentError.UnexpectedMessageError || error instanceof FluentError.DecodeError) {
    return new DeliveryError(`protocol error: ${error.message}`, 'retryable', 'protocol', null, { cause: error });
  }
  return tlsVerifyError(error) ?? toDeliveryError(error);
}

/** One FluentClient and its connection; thrown away at the first failure. */
class Connection {
  readonly client: FluentClient;
  private failure: Error | null = null;
  private readonly onFailure = new Set<(error: Error) => void>();
  private onEstablished: (() => void) | null = null;
  private established = false;

  constructor(tag: string, options: FluentClientOptions) {
    this.client = new FluentClient(tag, options);
    // The client's socket events cannot be unsubscribed: subscribe once, dispatch to waiters.
    this.client.socketOn(FluentSocketEvent.ERROR, (error: Error) => this.fail(error));
    this.client.socketOn(FluentSocketEvent.CLOSE, () => this.fail(new DeliveryError('connection closed by the server', 'retryable', 'network')));
    this.client.socketOn(FluentSocketEvent.TIMEOUT, () => this.fail(new DeliveryError('idle connection closed', 'retryable', 'network')));
    this.client.socketOn(FluentSocketEvent.ESTABLISHED, () => {
      this.established = true;
      this.onEstablished?.();
    });
  }

  get usable(): boolean {
    return this.failure === null && this.established && this.client.writable;
  }

  /** Connects (TCP/TLS, then the handshake when a shared key is set). */
  open(signal: AbortSignal): Promise<void> {
    return this.guard(
      new Promise<void>((resolve, reject) => {
        this.onEstablished = resolve;
        this.client.connect().catch(reject);
      }),
      signal,
    ).finally(() => {
      this.onEstablished = null;
    });
  }

  /** Settles like `work`, or rejects at the first connection failure or abort. */
  guard<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error): void => done(() => reject(error));
      const abort = (): void => done(() => reject(signal.reason));
      const done = (settle: () => void): void => {
        this.onFailure.delete(fail);
        signal.removeEventListener('abort', abort);
        settle();
      };
      this.onFailure.add(fail);
      signal.addEventListener('abort', abort, { once: true });
      work.then(
        (value) => done(() => resolve(value)),
        (error: unknown) => done(() => reject(this.failure ?? error)),
      );
    });
  }

  /** Ends the connection at once; pending acks fail (their timers are cleared). */
  destroy(): Promise<void> {
    this.fail(new DeliveryError('connection discarded', 'retryable', 'network'));
    // FluentClient has no public way to destroy its socket; disconnect() ends it gracefully
    // and clears the ack timers, then the raw socket is destroyed so a peer that never closes
    // its side cannot hold the process.
    const raw = (this.client as unknown as { socket?: { socket?: net.Socket | null } }).socket?.socket;
    return this.client
      .disconnect()
      .catch(() => {})
      .finally(() => raw?.destroy());
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const listener of [...this.onFailure]) listener(error);
  }
}

class ForwardTransport implements Transport {
  readonly maxEventBytes = Number.MAX_SAFE_INTEGER;
  private connection: Connection | null = null;

  constructor(private readonly settings: FluentdSettings) {}

  size(event: SinkEvent): number {
    return Buffer.byteLength(event.json);
  }

  async send(batch: readonly SinkEvent[], signal: AbortSignal): Promise<void> {
    try {
      const connection = await this.connect(signal);
      // Emitted in one tick: the client flushes them on the next tick as one chunk per tag
      // (one per event in Message mode); each promise settles on its chunk's ack.
      const k8s = this.settings.kubernetes;
      const acks = batch.map((event) =>
        connection.client.emit(k8s && !('kubernetes' in event.record) ? { ...event.record, kubernetes: k8s } : event.record, eventTimeOf(event)),
      );
      await connection.guard(Promise.all(acks), signal);
    } catch (error) {
      const failure = classifyForwardError(error);
      this.discard();
      throw failure;
    }
  }

  async close(): Promise<void> {
    await this.discard();
  }

  private async connect(signal: AbortSignal): Promise<Connection> {
    if (this.connection?.usable) return this.connection;
    await this.discard();
    const connection = new Connection(this.settings.tag, this.settings.clientOptions);
    this.connection = connection;
    await connection.open(signal);
    return connection;
  }

  private discard(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    return connection ? connection.destroy() : Promise.resolve();
  }
}

/** The options schema (validated by the core before anything starts); the delivery keys come from schemas/delivery.schema.json. */
export const optionsSchema: object = OPTIONS_SCHEMA;

export const createSink: SinkFactory = (options, context) => {
  const settings = { ...parseFluentdOptions(options, context), kubernetes: context.kubernetes ? kubernetesRecord(context.kubernetes) : null };
  const config = parseDeliveryOptions(options, context.name, context.baseDir, {
    // Connect + handshake + the ack: the client's ack timer normally fires first.
    attemptTimeoutMs: settings.ackTimeoutMs + 10_000,
  });
  return createDeliverySink({ type: 'fluentd', config, transport: new ForwardTransport(settings), context });
};

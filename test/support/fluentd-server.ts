/**
 * A local stand-in for Fluentd's `in_forward`, built to the Forward Protocol Specification v1
 * (https://github.com/fluent/fluentd/wiki/Forward-Protocol-Specification-v1) and checked
 * against fluentd's lib/fluent/plugin/in_forward.rb. For tests only: real TCP / TLS / unix
 * sockets, real msgpack bytes, no mocks.
 *
 * Faithful where the real server is observable by a client:
 * - Message `[tag, time, record, option?]`, Forward `[tag, [[time, record], ...], option?]`,
 *   PackedForward `[tag, bin|str, option?]` and CompressedPackedForward
 *   `[tag, bin, {compressed: "gzip", ...}]` (several concatenated gzip members allowed); the mode
 *   is told by the type of the second element, as in_forward does (str/bin → packed, array →
 *   Forward, else Message). `compressed: "text"` (what fluentd's out_forward sends) means plain.
 * - time is an integer or an EventTime (ext type 0, 8 bytes: big-endian uint32 seconds then uint32
 *   nanoseconds, as fixext 8 or ext 8).
 * - A msgpack nil at the top level is a heartbeat and is ignored.
 * - option `chunk` → the answer `{ack: <chunk>}`, written only after the whole message was parsed.
 * - With `sharedKey`: HELO `["HELO", {nonce, auth, keepalive: true}]` on connect (nonce: 16 random
 *   bytes as msgpack bin; auth: a 16-byte salt when `users` is set, else "" as the spec says), then
 *   PING `["PING", client_hostname, shared_key_salt, sha512_hex(shared_key_salt + client_hostname +
 *   nonce + shared_key), username, sha512_hex(auth_salt + username + password)]` is checked and
 *   answered with PONG `["PONG", true, "", self_hostname, sha512_hex(shared_key_salt + self_hostname
 *   + nonce + shared_key)]`, or the failure PONG `["PONG", false, reason, "", ""]` (reasons as in_forward:
 *   "shared_key mismatch", "username/password mismatch", "invalid ping message") and the connection is
 *   closed once it is written.
 *
 * Stricter than the real server, so sink bugs surface here rather than in production: any frame
 * that is not valid msgpack or not one of the four modes (tag not a non-empty str, time a float or
 * negative or a foreign ext, record not a map with str keys, option not a map, `chunk` not a
 * non-empty str, `size` not equal to the number of entries, `compressed` not "gzip"/"text", gzip data
 * sent as str, a truncated packed entry) closes the connection without recording or acknowledging
 * anything, and is counted in `malformed` / `rejections`. JSON framing (which in_forward also
 * accepts) is not supported: msgpack only.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { DecodeError, Decoder, ExtensionCodec, encode } from '@msgpack/msgpack';
import { CountWaiters, FaultQueue, RestartableListener } from './fake-server';

/** One event as the server received it. */
export interface ForwardEvent {
  tag: string;
  /** An integer time as sent, or an EventTime split in its two parts. */
  time: { seconds: number; nanoseconds: number } | number;
  record: Record<string, unknown>;
  mode: ForwardMode;
  /** The `chunk` option of the message that carried the event, if any. */
  chunk?: string;
}

export type ForwardMode = 'Message' | 'Forward' | 'PackedForward' | 'CompressedPackedForward';

/** One accepted message (a "chunk" in fluentd's words), whether or not it asked for an ack. */
export interface ReceivedChunk {
  /** The `chunk` option, when the client asked for an ack. */
  chunk?: string;
  mode: ForwardMode;
  tag: string;
  /** Number of events in the message. */
  entries: number;
  /** True once `{ack: chunk}` was written to the socket. */
  acked: boolean;
}

/**
 * A fault applied to the next messages, in the order queued. Each applies to `count` messages
 * (default 1), then the next queued fault applies.
 */
export interface FluentdFault {
  /**
   * Close the connection as soon as the first bytes of the next event message arrive (after the
   * handshake), without recording it or answering: like a server that died mid-chunk. The client
   * must resend the whole chunk on a new connection.
   */
  dropMidChunk?: boolean;
  /**
   * Record the events of the next message that has a `chunk` option, but never send its ack: like a
   * real server that wrote the events but whose ack was lost. A client that resends after its ack
   * timeout produces duplicates in `events`: the at-least-once case tests must accept.
   */
  withholdAck?: boolean;
  /** Record the events of the next message with a `chunk` option at once, write its ack after this many ms. */
  delayAckMs?: number;
  /** Number of messages the fault applies to (default 1). */
  count?: number;
}

export interface FluentdServer {
  /** TCP port (0 when listening on a unix socket). */
  readonly port: number;
  /** '127.0.0.1' for TCP; '' when listening on a unix socket. */
  readonly host: string;
  /** The unix socket path, when `path` was given. */
  readonly path?: string;
  /** Every event of every accepted message, in arrival order; duplicates are kept (at-least-once). */
  readonly events: ForwardEvent[];
  /** Every accepted message, in arrival order. */
  readonly chunks: ReceivedChunk[];
  /** Handshakes answered with the failure PONG (bad shared key, bad user/password, not a PING). */
  readonly authFailures: number;
  /** Messages rejected as malformed (the connection was closed each time). */
  readonly malformed: number;
  /** Why each malformed message was rejected (reasons only, never event content). */
  readonly rejections: string[];
  /** Connections closed by a `dropMidChunk` fault. */
  readonly dropped: number;
  /** Connections accepted so far (TCP or unix, TLS or not). */
  readonly connections: number;
  /** Bytes read from clients so far (after TLS), handshake included. Lets a test wait for a write to land. */
  readonly bytesReceived: number;
  /** Queue faults, applied in order. */
  fault(...faults: FluentdFault[]): void;
  /** Stop listening and destroy every open connection. Clients see ECONNREFUSED / ENOENT until `restart`. */
  stop(): Promise<void>;
  /** Listen again on the same port or path. */
  restart(): Promise<void>;
  /** Resolve once `events.length >= n`; reject after `timeoutMs` (default 5000) with the counts seen. */
  waitForEvents(n: number, timeoutMs?: number): Promise<void>;
  /** Stop for good; pending waiters reject. */
  close(): Promise<void>;
}

export interface FluentdServerOptions {
  /** TCP port on 127.0.0.1 (default: a free one). Ignored when `path` is set. */
  port?: number;
  /** Listen on this unix socket path instead of TCP (a stale socket file is removed first). */
  path?: string;
  /** Serve TLS. `requestCert: true` asks for and requires a client certificate signed by `ca`. */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
  /** Enables the handshake (HELO/PING/PONG) with this shared key. */
  sharedKey?: string;
  /** The server's hostname in PONG (default 'fluentd-test-server'). */
  selfHostname?: string;
  /** Enables user authentication: username → password. Requires `sharedKey`, as in in_forward. */
  users?: Record<string, string>;
}

const EVENT_TIME_EXT = 0;

/** Raised for anything the protocol does not allow; the message is a reason, never content. */
class ProtocolViolation extends Error {}

const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: EVENT_TIME_EXT,
  encode: () => null,
  decode: (data: Uint8Array) => {
    if (data.length !== 8) throw new ProtocolViolation(`EventTime ext must carry 8 bytes, got ${data.length}`);
    const view = new DataView(data.buffer, data.byteOffset, 8);
    return { seconds: view.getUint32(0), nanoseconds: view.getUint32(4) };
  },
});

/** Map keys must be str: records are string-keyed, like fluentd's. */
const decoder = new Decoder({
  extensionCodec,
  mapKeyConverter: (key: unknown) => {
    if (typeof key !== 'string') throw new ProtocolViolation('map key is not a str');
    return key;
  },
});

function decodeValue(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}

// ---------------------------------------------------------------------------------------------
// msgpack framing: find where one value ends, without decoding it. Resumable, so a large message
// arriving in many TCP packets is scanned once, not once per packet.

/** Scans one msgpack value at a time; `scan` returns its end offset, or -1 when more bytes are needed. */
class FrameScanner {
  private pos = 0;
  private pending = 1;

  reset(): void {
    this.pos = 0;
    this.pending = 1;
  }

  scan(buf: Uint8Array): number {
    const end = skipValues(buf, this.pos, this.pending, this);
    if (end >= 0) this.reset();
    return end;
  }

  /** Called by skipValues when it runs out of bytes before a header. */
  save(pos: number, pending: number): void {
    this.pos = pos;
    this.pending = pending;
  }
}

/** Offset just past the single value at `pos` in a buffer known to hold it whole. */
function valueEnd(buf: Uint8Array, pos: number): number {
  const end = skipValues(buf, pos, 1, null);
  if (end < 0) throw new ProtocolViolation('truncated msgpack value');
  return end;
}

function u16(buf: Uint8Array, pos: number): number {
  return (buf[pos]! << 8) | buf[pos + 1]!;
}

function u32(buf: Uint8Array, pos: number): number {
  return ((buf[pos]! << 24) >>> 0) + ((buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!);
}

/**
 * Skip `pending` values starting at `pos`. Returns the end offset, or -1 when the buffer ends
 * first, after telling `state` where to resume: always at the start of a value not yet complete
 * (containers are entered once their header is complete; their children are counted in `pending`).
 */
function skipValues(buf: Uint8Array, pos: number, pending: number, state: FrameScanner | null): number {
  const len = buf.length;
  while (pending > 0) {
    const b = pos < len ? buf[pos]! : -1;
    if (b < 0 || pos + headerSize(b) > len) {
      state?.save(pos, pending);
      return -1;
    }
    let size: number; // whole value for scalars, header only for containers
    let children = 0;
    if (b <= 0x7f || b >= 0xe0) size = 1; // positive / negative fixint
    else if (b <= 0x8f) (size = 1), (children = 2 * (b & 0x0f)); // fixmap
    else if (b <= 0x9f) (size = 1), (children = b & 0x0f); // fixarray
    else if (b <= 0xbf) size = 1 + (b & 0x1f); // fixstr
    else {
      switch (b) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          size = 1;
          break;
        case 0xc4: // bin 8
        case 0xd9: // str 8
          size = 2 + buf[pos + 1]!;
          break;
        case 0xc5: // bin 16
        case 0xda: // str 16
          size = 3 + u16(buf, pos + 1);
          break;
        case 0xc6: // bin 32
        case 0xdb: // str 32
          size = 5 + u32(buf, pos + 1);
          break;
        case 0xc7: // ext 8: length, type, data
          size = 3 + buf[pos + 1]!;
          break;
        case 0xc8: // ext 16
          size = 4 + u16(buf, pos + 1);
          break;
        case 0xc9: // ext 32
          size = 6 + u32(buf, pos + 1);
          break;
        case 0xcc: // uint 8
        case 0xd0: // int 8
          size = 2;
          break;
        case 0xcd:
        case 0xd1:
          size = 3;
          break;
        case 0xca: // float 32
        case 0xce:
        case 0xd2:
          size = 5;
          break;
        case 0xcb: // float 64
        case 0xcf:
        case 0xd3:
          size = 9;
          break;
        case 0xd4: // fixext 1..16: type byte + data
          size = 3;
          break;
        case 0xd5:
          size = 4;
          break;
        case 0xd6:
          size = 6;
          break;
        case 0xd7:
          size = 10;
          break;
        case 0xd8:
          size = 18;
          break;
        case 0xdc: // array 16
          (size = 3), (children = u16(buf, pos + 1));
          break;
        case 0xdd: // array 32
          (size = 5), (children = u32(buf, pos + 1));
          break;
        case 0xde: // map 16
          (size = 3), (children = 2 * u16(buf, pos + 1));
          break;
        case 0xdf: // map 32
          (size = 5), (children = 2 * u32(buf, pos + 1));
          break;
        default: // 0xc1, never used
          throw new ProtocolViolation(`reserved msgpack byte 0x${b.toString(16)}`);
      }
    }
    if (pos + size > len) {
      state?.save(pos, pending);
      return -1;
    }
    pos += size;
    pending += children - 1;
  }
  return pos;
}

/** Bytes of a header up to and including its length field. */
function headerSize(b: number): number {
  switch (b) {
    case 0xc4:
    case 0xd9:
      return 2;
    case 0xc5:
    case 0xda:
    case 0xdc:
    case 0xde:
    case 0xc7:
      return 3;
    case 0xc8:
      return 4;
    case 0xc6:
    case 0xdb:
    case 0xdd:
    case 0xdf:
      return 5;
    case 0xc9:
      return 6;
    default:
      return 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Message parsing

interface ParsedMessage {
  tag: string;
  mode: ForwardMode;
  events: ForwardEvent[];
  chunk?: string;
}

/** Ranges of the elements of the top-level array in `frame`; throws when it is not an array. */
function arrayElements(frame: Uint8Array, start: number): { starts: number[]; end: number } {
  const b = frame[start]!;
  let count: number;
  let pos: number;
  if (b >= 0x90 && b <= 0x9f) (count = b & 0x0f), (pos = start + 1);
  else if (b === 0xdc) (count = u16(frame, start + 1)), (pos = start + 3);
  else if (b === 0xdd) (count = u32(frame, start + 1)), (pos = start + 5);
  else throw new ProtocolViolation('message is not an array');
  const starts: number[] = [];
  for (let i = 0; i < count; i++) {
    starts.push(pos);
    pos = valueEnd(frame, pos);
  }
  return { starts, end: pos };
}

function isStrHead(b: number): boolean {
  return (b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb;
}

function isBinHead(b: number): boolean {
  return b === 0xc4 || b === 0xc5 || b === 0xc6;
}

function isArrayHead(b: number): boolean {
  return (b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd;
}

function isMapHead(b: number): boolean {
  return (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
}

/** The payload of a str/bin value (its bytes, without the header). */
function rawPayload(buf: Uint8Array, start: number, end: number): Uint8Array {
  const b = buf[start]!;
  let header: number;
  if (b >= 0xa0 && b <= 0xbf) header = 1;
  else if (b === 0xc4 || b === 0xd9) header = 2;
  else if (b === 0xc5 || b === 0xda) header = 3;
  else header = 5;
  return buf.subarray(start + header, end);
}

/** Reads a time at `pos`: an integer (not a float, not negative) or an EventTime. */
function readTime(buf: Uint8Array, pos: number, end: number): ForwardEvent['time'] {
  const b = buf[pos]!;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b <= 0x7f) return b;
  switch (b) {
    case 0xcc:
      return view.getUint8(pos + 1);
    case 0xcd:
      return view.getUint16(pos + 1);
    case 0xce:
      return view.getUint32(pos + 1);
    case 0xcf: {
      const v = view.getBigUint64(pos + 1);
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolViolation('time out of range');
      return Number(v);
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      const v =
        b === 0xd0
          ? view.getInt8(pos + 1)
          : b === 0xd1
            ? view.getInt16(pos + 1)
            : b === 0xd2
              ? view.getInt32(pos + 1)
              : Number(view.getBigInt64(pos + 1));
      if (v < 0) throw new ProtocolViolation('time is negative');
      return v;
    }
    case 0xd7: // fixext 8
    case 0xc7: {
      // ext 8 with length 8
      let dataAt: number;
      if (b === 0xd7) {
        if (buf[pos + 1] !== EVENT_TIME_EXT) throw new ProtocolViolation(`time is ext type ${buf[pos + 1]}, not EventTime`);
        dataAt = pos + 2;
      } else {
        if (buf[pos + 1] !== 8) throw new ProtocolViolation('EventTime ext must carry 8 bytes');
        if (buf[pos + 2] !== EVENT_TIME_EXT) throw new ProtocolViolation(`time is ext type ${buf[pos + 2]}, not EventTime`);
        dataAt = pos + 3;
      }
      if (dataAt + 8 !== end) throw new ProtocolViolation('bad EventTime');
      const seconds = view.getUint32(dataAt);
      const nanoseconds = view.getUint32(dataAt + 4);
      if (nanoseconds > 999_999_999) throw new ProtocolViolation('EventTime nanoseconds over 999999999');
      return { seconds, nanoseconds };
    }
    default:
      if (b >= 0xe0) throw new ProtocolViolation('time is negative');
      throw new ProtocolViolation('time is neither an integer nor an EventTime');
  }
}

function readRecord(buf: Uint8Array, start: number, end: number): Record<string, unknown> {
  if (!isMapHead(buf[start]!)) throw new ProtocolViolation('record is not a map');
  return decodeValue(buf.subarray(start, end)) as Record<string, unknown>;
}

/** One Entry `[time, record]` occupying buf[start, end). */
function readEntry(buf: Uint8Array, start: number, end: number): { time: ForwardEvent['time']; record: Record<string, unknown> } {
  const b = buf[start]!;
  if (b !== 0x92) {
    if (b === 0xdc || b === 0xdd || (b >= 0x90 && b <= 0x9f)) throw new ProtocolViolation('entry is not a 2-element array');
    throw new ProtocolViolation('entry is not an array');
  }
  const timeEnd = valueEnd(buf, start + 1);
  const recordEnd = valueEnd(buf, timeEnd);
  if (recordEnd !== end) throw new ProtocolViolation('entry has trailing bytes');
  return { time: readTime(buf, start + 1, timeEnd), record: readRecord(buf, timeEnd, recordEnd) };
}

interface ForwardOption {
  chunk?: string;
  size?: number;
  compressed?: string;
}

function readOption(buf: Uint8Array, start: number, end: number): ForwardOption {
  const b = buf[start]!;
  if (b === 0xc0) return {};
  if (!isMapHead(b)) throw new ProtocolViolation('option is not a map');
  const option = decodeValue(buf.subarray(start, end)) as Record<string, unknown>;
  const out: ForwardOption = {};
  if (option.chunk !== undefined) {
    if (typeof option.chunk !== 'string' || option.chunk.length === 0) throw new ProtocolViolation('option chunk is not a non-empty str');
    out.chunk = option.chunk;
  }
  if (option.size !== undefined) {
    if (typeof option.size !== 'number' || !Number.isInteger(option.size) || option.size < 0) {
      throw new ProtocolViolation('option size is not a non-negative integer');
    }
    out.size = option.size;
  }
  if (option.compressed !== undefined) {
    if (typeof option.compressed !== 'string') throw new ProtocolViolation('option compressed is not a str');
    out.compressed = option.compressed;
  }
  return out;
}

/** Parses one complete event message; throws ProtocolViolation / DecodeError on anything invalid. */
function parseEventMessage(frame: Uint8Array): ParsedMessage {
  const { starts, end } = arrayElements(frame, 0);
  if (end !== frame.length) throw new ProtocolViolation('trailing bytes after message');
  const n = starts.length;
  if (n < 2 || n > 4) throw new ProtocolViolation(`message has ${n} elements`);
  const bounds = (i: number): [number, number] => [starts[i]!, i + 1 < n ? starts[i + 1]! : end];

  const [tagStart, tagEnd] = bounds(0);
  if (!isStrHead(frame[tagStart]!)) throw new ProtocolViolation('tag is not a str');
  const tag = decodeValue(frame.subarray(tagStart, tagEnd)) as string;
  if (tag.length === 0) throw new ProtocolViolation('tag is empty');

  const [secondStart, secondEnd] = bounds(1);
  const second = frame[secondStart]!;
  const events: ForwardEvent[] = [];

  if (isStrHead(second) || isBinHead(second)) {
    // PackedForward / CompressedPackedForward
    if (n > 3) throw new ProtocolViolation(`PackedForward message has ${n} elements`);
    const option = n === 3 ? readOption(frame, ...bounds(2)) : {};
    let mode: ForwardMode = 'PackedForward';
    let stream = rawPayload(frame, secondStart, secondEnd);
    if (option.compressed === 'gzip') {
      if (!isBinHead(second)) throw new ProtocolViolation('CompressedPackedForward entries must be bin');
      mode = 'CompressedPackedForward';
      try {
        stream = gunzipSync(stream); // concatenated gzip members are decoded in sequence
      } catch {
        throw new ProtocolViolation('entries are not valid gzip');
      }
    } else if (option.compressed !== undefined && option.compressed !== 'text') {
      throw new ProtocolViolation(`unsupported compressed option "${option.compressed}"`);
    }
    let pos = 0;
    while (pos < stream.length) {
      const entryEnd = skipValues(stream, pos, 1, null);
      if (entryEnd < 0) throw new ProtocolViolation('truncated entry in packed stream');
      const { time, record } = readEntry(stream, pos, entryEnd);
      events.push(event(tag, time, record, mode, option.chunk));
      pos = entryEnd;
    }
    checkSize(option, events.length);
    return { tag, mode, events, ...(option.chunk !== undefined ? { chunk: option.chunk } : {}) };
  }

  if (isArrayHead(second)) {
    // Forward
    if (n > 3) throw new ProtocolViolation(`Forward message has ${n} elements`);
    const option = n === 3 ? readOption(frame, ...bounds(2)) : {};
    const entries = arrayElements(frame, secondStart);
    entries.starts.forEach((entryStart, i) => {
      const entryEnd = i + 1 < entries.starts.length ? entries.starts[i + 1]! : entries.end;
      const { time, record } = readEntry(frame, entryStart, entryEnd);
      events.push(event(tag, time, record, 'Forward', option.chunk));
    });
    checkSize(option, events.length);
    return { tag, mode: 'Forward', events, ...(option.chunk !== undefined ? { chunk: option.chunk } : {}) };
  }

  // Message
  if (n < 3) throw new ProtocolViolation(`Message has ${n} elements`);
  const time = readTime(frame, secondStart, secondEnd);
  const record = readRecord(frame, ...bounds(2));
  const option = n === 4 ? readOption(frame, ...bounds(3)) : {};
  checkSize(option, 1);
  events.push(event(tag, time, record, 'Message', option.chunk));
  return { tag, mode: 'Message', events, ...(option.chunk !== undefined ? { chunk: option.chunk } : {}) };
}

function checkSize(option: ForwardOption, count: number): void {
  if (option.size !== undefined && option.size !== count) {
    throw new ProtocolViolation(`option size ${option.size} but ${count} entries`);
  }
}

function event(tag: string, time: ForwardEvent['time'], record: Record<string, unknown>, mode: ForwardMode, chunk: string | undefined): ForwardEvent {
  const e: ForwardEvent = { tag, time, record, mode };
  if (chunk !== undefined) e.chunk = chunk;
  return e;
}

// ---------------------------------------------------------------------------------------------
// Handshake

function sha512Hex(...parts: (string | Uint8Array)[]): string {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface PingResult {
  ok: boolean;
  reason: string;
  salt?: string | Uint8Array;
}

function checkPing(message: unknown, nonce: Uint8Array, authSalt: Uint8Array | null, sharedKey: string, users: Record<string, string> | undefined): PingResult {
  if (!Array.isArray(message) || message.length !== 6 || message[0] !== 'PING') return { ok: false, reason: 'invalid ping message' };
  const [, hostname, salt, digest, username, passwordDigest] = message as unknown[];
  if (
    typeof hostname !== 'string' ||
    !(typeof salt === 'string' || salt instanceof Uint8Array) ||
    typeof digest !== 'string' ||
    typeof username !== 'string' ||
    typeof passwordDigest !== 'string'
  ) {
    return { ok: false, reason: 'invalid ping message' };
  }
  if (!sameDigest(digest, sha512Hex(salt, hostname, nonce, sharedKey))) return { ok: false, reason: 'shared_key mismatch' };
  if (users && authSalt) {
    const password = Object.hasOwn(users, username) ? users[username] : undefined;
    if (password === undefined || !sameDigest(passwordDigest, sha512Hex(authSalt, username, password))) {
      return { ok: false, reason: 'username/password mismatch' };
    }
  }
  return { ok: true, reason: '', salt };
}

// ---------------------------------------------------------------------------------------------
// Server

/** Start a Forward-protocol server on 127.0.0.1 (or a unix socket). See the module comment. */
export async function startFluentdServer(options: FluentdServerOptions = {}): Promise<FluentdServer> {
  if (options.users && options.sharedKey === undefined) {
    throw new Error('startFluentdServer: users need sharedKey (user auth is part of the handshake)');
  }
  const selfHostname = options.selfHostname ?? 'fluentd-test-server';
  const events: ForwardEvent[] = [];
  const chunks: ReceivedChunk[] = [];
  const rejections: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const faults = new FaultQueue<FluentdFault>();
  let authFailures = 0;
  let dropped = 0;
  let connections = 0;
  let bytesReceived = 0;
  let closed = false;
  const waiters = new CountWaiters(
    'FluentdServer',
    'events',
    () => events.length,
    () =>
      `(chunks ${chunks.length}, malformed ${rejections.length}${rejections.length ? `: ${rejections.join('; ')}` : ''}, ` +
      `auth failures ${authFailures}, dropped connections ${dropped})`,
  );

  const headFault = (): FluentdFault | undefined => faults.peek();
  const consumeFault = (): void => faults.consume();

  const notify = (): void => waiters.notify();


  const handle = (socket: net.Socket): void => {
    connections += 1;
    socket.on('error', () => {
      /* peers reset connections in fault tests; nothing to do */
    });
    const security = options.sharedKey !== undefined;
    let state: 'pingpong' | 'established' | 'closed' = security ? 'pingpong' : 'established';
    const nonce = randomBytes(16);
    const authSalt = options.users ? randomBytes(16) : null;
    let pending: Buffer = Buffer.alloc(0);
    const scanner = new FrameScanner();

    const shut = (): void => {
      state = 'closed';
      socket.destroy();
    };
    const reject = (reason: string): void => {
      rejections.push(reason);
      shut();
    };

    if (security) {
      socket.write(encode(['HELO', { nonce, auth: authSalt ?? '', keepalive: true }]));
    }

    const onFrame = (frame: Buffer): void => {
      if (state === 'pingpong') {
        let message: unknown;
        try {
          message = decodeValue(frame);
        } catch {
          message = undefined;
        }
        const result = checkPing(message, nonce, authSalt, options.sharedKey!, options.users);
        if (!result.ok) {
          authFailures += 1;
          state = 'closed';
          socket.end(encode(['PONG', false, result.reason, '', '']));
          return;
        }
        socket.write(encode(['PONG', true, '', selfHostname, sha512Hex(result.salt!, selfHostname, nonce, options.sharedKey!)]));
        state = 'established';
        return;
      }
      if (frame.length === 1 && frame[0] === 0xc0) return; // heartbeat
      let parsed: ParsedMessage;
      try {
        parsed = parseEventMessage(frame);
      } catch (error) {
        // Bad input never crashes the server: whatever the decoder threw, the message is malformed.
        const known = error instanceof ProtocolViolation || error instanceof DecodeError || error instanceof RangeError;
        reject(known ? error.message : `undecodable message (${error instanceof Error ? error.name : 'error'})`);
        return;
      }
      const record: ReceivedChunk = { mode: parsed.mode, tag: parsed.tag, entries: parsed.events.length, acked: false };
      if (parsed.chunk !== undefined) record.chunk = parsed.chunk;
      chunks.push(record);
      events.push(...parsed.events);
      notify();
      if (parsed.chunk === undefined) return;
      const ack = encode({ ack: parsed.chunk });
      const fault = headFault();
      if (fault?.withholdAck) {
        consumeFault();
        return;
      }
      if (fault?.delayAckMs !== undefined) {
        consumeFault();
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (state !== 'established' || socket.destroyed) return;
          socket.write(ack, () => (record.acked = true));
        }, fault.delayAckMs);
        timers.add(timer);
        return;
      }
      socket.write(ack, (error) => {
        if (!error) record.acked = true;
      });
    };

    // A function, so TypeScript does not narrow `state` across calls that change it.
    const open = (): boolean => state !== 'closed';

    socket.on('data', (data: Buffer) => {
      bytesReceived += data.length;
      if (!open()) return;
      pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
      while (open() && pending.length > 0) {
        if (state === 'established' && headFault()?.dropMidChunk && pending[0] !== 0xc0) {
          consumeFault();
          dropped += 1;
          shut();
          return;
        }
        let end: number;
        try {
          end = scanner.scan(pending);
        } catch (error) {
          reject(error instanceof Error ? error.message : 'bad msgpack');
          return;
        }
        if (end < 0) return;
        const frame = pending.subarray(0, end);
        pending = pending.subarray(end);
        onFrame(frame);
      }
    });
  };

  const server: net.Server = options.tls
    ? tls.createServer(
        {
          key: options.tls.key,
          cert: options.tls.cert,
          ...(options.tls.ca !== undefined ? { ca: options.tls.ca } : {}),
          requestCert: options.tls.requestCert ?? false,
          rejectUnauthorized: options.tls.requestCert ?? false,
        },
        handle,
      )
    : net.createServer(handle);
  server.on('connection', (socket: net.Socket) => {
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {
    /* a client without a valid certificate: the socket is already destroyed */
  });

  const listener = new RestartableListener(server, options.path ? { path: options.path } : { port: options.port ?? 0 });
  const stop = async (): Promise<void> => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    await listener.stop();
  };

  await listener.listen();

  const api: FluentdServer = {
    get port() {
      return listener.boundPort;
    },
    host: options.path ? '' : '127.0.0.1',
    ...(options.path ? { path: options.path } : {}),
    events,
    chunks,
    get authFailures() {
      return authFailures;
    },
    get malformed() {
      return rejections.length;
    },
    rejections,
    get dropped() {
      return dropped;
    },
    get connections() {
      return connections;
    },
    get bytesReceived() {
      return bytesReceived;
    },
    fault(...add: FluentdFault[]) {
      faults.push(...add);
    },
    stop,
    async restart() {
      if (closed) throw new Error('FluentdServer: restart after close');
      await listener.listen();
    },
    waitForEvents(n: number, timeoutMs = 5000) {
      return waiters.wait(n, timeoutMs);
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      waiters.close();
    },
  };
  return api;
}

// ---------------------------------------------------------------------------------------------
// Throwaway certificates

/** PEM contents and the files they were written to. */
export interface TestCertificates {
  /** CA certificate (PEM contents): trust this on the client (`ca`), and on the server for client certs. */
  ca: string;
  /** Server certificate (PEM contents) for CN=localhost, SAN IP:127.0.0.1, IP:::1, DNS:localhost. */
  cert: string;
  /** Server private key (PEM contents, unencrypted). */
  key: string;
  /** Client certificate (PEM contents) signed by the same CA, for mutual TLS (`requestCert`). */
  clientCert: string;
  /** Client private key (PEM contents). */
  clientKey: string;
  /** Paths of the same PEM files in `dir` (ca.pem, cert.pem, key.pem, client-cert.pem, client-key.pem). */
  caPath: string;
  certPath: string;
  keyPath: string;
  clientCertPath: string;
  clientKeyPath: string;
}

/**
 * Make a throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate, with
 * the `openssl` CLI, without network. ECDSA P-256, valid 2 days. Writes PEM files into `dir`
 * (created if missing) and returns their contents and paths. Synchronous; takes ~100 ms.
 */
export function makeTestCertificates(dir: string): TestCertificates {
  mkdirSync(dir, { recursive: true });
  const file = (name: string): string => path.join(dir, name);
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const serial = (): string => '0x' + randomBytes(8).toString('hex');
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  run([
    'req', '-x509', ...ecKey, '-keyout', file('ca-key.pem'), '-out', file('ca.pem'), '-days', '2',
    '-subj', '/CN=audit-router test CA', '-set_serial', serial(),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);

  const leaf = (name: string, cn: string, extensions: string): void => {
    run(['req', ...ecKey, '-keyout', file(`${name}-key.pem`), '-out', file(`${name}.csr`), '-subj', `/CN=${cn}`]);
    writeFileSync(file(`${name}.ext`), extensions);
    run([
      'x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'),
      '-set_serial', serial(), '-days', '2', '-out', file(`${name}-cert.pem`), '-extfile', file(`${name}.ext`),
    ]);
    rmSync(file(`${name}.csr`));
    rmSync(file(`${name}.ext`));
  };
  leaf('server', 'localhost', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n');
  leaf('client', 'audit-router test client', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');

  // Stable names for callers; the CA key is not needed by tests.
  const renamed: [string, string][] = [
    ['server-cert.pem', 'cert.pem'],
    ['server-key.pem', 'key.pem'],
  ];
  for (const [from, to] of renamed) {
    writeFileSync(file(to), readFileSync(file(from)));
    rmSync(file(from));
  }
  rmSync(file('ca-key.pem'));
  const read = (name: string): string => readFileSync(file(name), 'utf8');
  return {
    ca: read('ca.pem'),
    cert: read('cert.pem'),
    key: read('key.pem'),
    clientCert: read('client-cert.pem'),
    clientKey: read('client-key.pem'),
    caPath: file('ca.pem'),
    certPath: file('cert.pem'),
    keyPath: file('key.pem'),
    clientCertPath: file('client-cert.pem'),
    clientKeyPath: file('client-key.pem'),
  };
}

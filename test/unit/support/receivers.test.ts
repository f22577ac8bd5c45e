/**
 * The local receivers (Fluentd in_forward and Datadog Logs intake stand-ins) against the protocol
 * texts: frames are built by hand here, digests computed here independently, and each receiver is
 * also driven by the real client library for its protocol.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { deflateSync, gzipSync } from 'node:zlib';
import { decodeMultiStream, encode } from '@msgpack/msgpack';
import { FluentClient, FluentSocketEvent } from '@fluent-org/logger';
import { client as ddClient, v2 as ddV2 } from '@datadog/datadog-api-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, startFluentdServer, type FluentdServer, type TestCertificates } from '../../support/fluentd-server';
import { DATADOG_MAX_PAYLOAD_BYTES, startDatadogIntake, type DatadogIntake } from '../../support/datadog-intake';

// ---------------------------------------------------------------------------------------------
// Hand-built msgpack (the envelope bytes are written out; records use the msgpack encoder)

const bytes = (...parts: (number[] | Uint8Array)[]): Buffer => Buffer.concat(parts.map((p) => (Array.isArray(p) ? Buffer.from(p) : Buffer.from(p))));
const str = (s: string): Buffer => {
  const b = Buffer.from(s);
  if (b.length > 31) throw new Error('test helper: fixstr only');
  return bytes([0xa0 | b.length], b);
};
const bin = (b: Uint8Array): Buffer => {
  const head = Buffer.alloc(5);
  head[0] = 0xc6;
  head.writeUInt32BE(b.length, 1);
  return bytes(head, b);
};
const str32 = (b: Uint8Array): Buffer => {
  const head = Buffer.alloc(5);
  head[0] = 0xdb;
  head.writeUInt32BE(b.length, 1);
  return bytes(head, b);
};
const uint32 = (n: number): Buffer => {
  const b = Buffer.alloc(5);
  b[0] = 0xce;
  b.writeUInt32BE(n, 1);
  return b;
};
/** EventTime as fixext 8: d7 00 + seconds(u32 BE) + nanoseconds(u32 BE). */
const eventTimeFixext = (seconds: number, nanoseconds: number): Buffer => {
  const b = Buffer.alloc(10);
  b[0] = 0xd7;
  b[1] = 0x00;
  b.writeUInt32BE(seconds, 2);
  b.writeUInt32BE(nanoseconds, 6);
  return b;
};
/** EventTime as ext 8: c7 08 00 + 8 bytes. */
const eventTimeExt8 = (seconds: number, nanoseconds: number): Buffer => {
  const b = Buffer.alloc(11);
  b[0] = 0xc7;
  b[1] = 0x08;
  b[2] = 0x00;
  b.writeUInt32BE(seconds, 3);
  b.writeUInt32BE(nanoseconds, 7);
  return b;
};
const fixarray = (n: number): number[] => [0x90 | n];
const record = (r: Record<string, unknown>): Uint8Array => encode(r);
const entry = (time: Buffer, r: Record<string, unknown>): Buffer => bytes(fixarray(2), time, record(r));

const sha512Hex = (...parts: (string | Uint8Array)[]): string => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

// ---------------------------------------------------------------------------------------------
// A raw Forward client: writes bytes, reads the server's msgpack messages.

class Peer {
  readonly messages: unknown[] = [];
  readonly closed: Promise<void>;
  private wake: (() => void) | null = null;
  private ended = false;

  constructor(readonly socket: net.Socket) {
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => {
      this.ended = true;
      this.wake?.();
    });
    void (async () => {
      try {
        for await (const message of decodeMultiStream(socket)) {
          this.messages.push(message);
          this.wake?.();
        }
      } catch {
        /* the connection was cut mid-message */
      }
    })();
  }

  /** The next message from the server; rejects if the connection closes first. */
  async next(): Promise<unknown> {
    while (this.messages.length === 0) {
      if (this.ended) throw new Error('connection closed before the server answered');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return this.messages.shift();
  }

  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  close(): void {
    this.socket.destroy();
  }
}

const peers: Peer[] = [];
async function connect(server: FluentdServer, options: { tls?: tls.ConnectionOptions } = {}): Promise<Peer> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s: net.Socket = options.tls
      ? tls.connect({ host: '127.0.0.1', port: server.port, ...options.tls }, () => resolve(s))
      : server.path
        ? net.connect({ path: server.path }, () => resolve(s))
        : net.connect({ host: '127.0.0.1', port: server.port }, () => resolve(s));
    s.once('error', reject);
  });
  socket.setNoDelay(true);
  const peer = new Peer(socket);
  peers.push(peer);
  return peer;
}

const servers: { close(): Promise<void> }[] = [];
async function fluentd(options: Parameters<typeof startFluentdServer>[0] = {}): Promise<FluentdServer> {
  const server = await startFluentdServer(options);
  servers.push(server);
  return server;
}

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Connection refused (or path gone) while a server is stopped. */
function connectFails(target: { port: number } | { path: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = 'path' in target ? net.connect({ path: target.path }) : net.connect({ host: '127.0.0.1', port: target.port });
    s.once('connect', () => {
      s.destroy();
      reject(new Error('connected to a stopped server'));
    });
    s.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'unknown'));
  });
}

// ---------------------------------------------------------------------------------------------

describe('Fluentd forward server: event modes', () => {
  it('accepts the spec example in Message mode, written byte for byte', async () => {
    const server = await fluentd();
    const peer = await connect(server);
    // ["tag.name", 1441588984, {"message": "bar"}]
    const frame = Buffer.from('93' + 'a8' + Buffer.from('tag.name').toString('hex') + 'ce55ece6f8' + '81a76d657373616765a3626172', 'hex');
    await peer.write(frame);
    await server.waitForEvents(1);
    expect(server.events).toEqual([{ tag: 'tag.name', time: 1441588984, record: { message: 'bar' }, mode: 'Message' }]);
    expect(server.chunks).toEqual([{ mode: 'Message', tag: 'tag.name', entries: 1, acked: false }]);
  });

  it('decodes EventTime as fixext 8 and as ext 8, keeping nanoseconds', async () => {
    const server = await fluentd();
    const peer = await connect(server);
    await peer.write(bytes(fixarray(3), str('a.b'), eventTimeFixext(1441588984, 123456789), record({ n: 1 })));
    await peer.write(bytes(fixarray(3), str('a.b'), eventTimeExt8(1700000000, 999999999), record({ n: 2 })));
    await server.waitForEvents(2);
    expect(server.events.map((e) => e.time)).toEqual([
      { seconds: 1441588984, nanoseconds: 123456789 },
      { seconds: 1700000000, nanoseconds: 999999999 },
    ]);
    expect(server.events.map((e) => e.record)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('accepts Forward mode and answers the chunk option with {ack: chunk} after the whole message', async () => {
    const server = await fluentd();
    const peer = await connect(server);
    const chunk = Buffer.from('0123456789abcdef').toString('base64');
    const frame = bytes(
      fixarray(3),
      str('app.audit'),
      fixarray(3),
      entry(uint32(1441588984), { message: 'foo' }),
      entry(eventTimeFixext(1441588985, 5), { message: 'bar' }),
      entry(uint32(1441588986), { message: 'baz' }),
      encode({ size: 3, chunk }),
    );
    await peer.write(frame);
    expect(await peer.next()).toEqual({ ack: chunk });
    expect(server.events.map((e) => [e.mode, e.record.message, e.chunk])).toEqual([
      ['Forward', 'foo', chunk],
      ['Forward', 'bar', chunk],
      ['Forward', 'baz', chunk],
    ]);
    expect(server.chunks).toEqual([{ chunk, mode: 'Forward', tag: 'app.audit', entries: 3, acked: true }]);
  });

  it('accepts PackedForward with the entries as bin and as str', async () => {
    const server = await fluentd();
    const peer = await connect(server);
    const stream = bytes(entry(uint32(1), { i: 1 }), entry(eventTimeFixext(2, 2), { i: 2 }));
    await peer.write(bytes(fixarray(3), str('p.bin'), bin(stream), encode({ size: 2, chunk: 'c1' })));
    expect(await peer.next()).toEqual({ ack: 'c1' });
    await peer.write(bytes(fixarray(3), str('p.str'), str32(stream), encode({ size: 2, chunk: 'c2' })));
    expect(await peer.next()).toEqual({ ack: 'c2' });
    // out_forward sends compressed: "text" for plain packed entries
    await peer.write(bytes(fixarray(3), str('p.text'), bin(stream), encode({ size: 2, chunk: 'c3', compressed: 'text' })));
    expect(await peer.next()).toEqual({ ack: 'c3' });
    expect(server.events.map((e) => [e.tag, e.mode, e.record.i, e.time])).toEqual([
      ['p.bin', 'PackedForward', 1, 1],
      ['p.bin', 'PackedForward', 2, { seconds: 2, nanoseconds: 2 }],
      ['p.str', 'PackedForward', 1, 1],
      ['p.str', 'PackedForward', 2, { seconds: 2, nanoseconds: 2 }],
      ['p.text', 'PackedForward', 1, 1],
      ['p.text', 'PackedForward', 2, { seconds: 2, nanoseconds: 2 }],
    ]);
  });

  it('accepts CompressedPackedForward made of several concatenated gzip members', async () => {
    const server = await fluentd();
    const peer = await connect(server);
    const members = Buffer.concat([
      gzipSync(bytes(entry(eventTimeFixext(10, 1), { i: 1 }), entry(eventTimeFixext(11, 2), { i: 2 }))),
      gzipSync(entry(eventTimeFixext(12, 3), { i: 3 })),
    ]);
    await peer.write(bytes(fixarray(3), str('gz'), bin(members), encode({ size: 3, chunk: 'gz1', compressed: 'gzip' })));
    expect(await peer.next()).toEqual({ ack: 'gz1' });
    expect(server.events.map((e) => [e.mode, e.record.i])).toEqual([
      ['CompressedPackedForward', 1],
      ['CompressedPackedForward', 2],
      ['CompressedPackedForward', 3],
    ]);
    expect(server.chunks[0]).toMatchObject({ mode: 'CompressedPackedForward', entries: 3, acked: true });
  });

  it('reassembles a message written one byte at a time, and splits several messages sent in one write', async () => {
    const server = await fluentd();
    const peer = await connect(server);
    // str 8 (0xd9) and map headers, EventTime ext, all cut at every byte: each byte is a separate read.
    const one = bytes(fixarray(4), str('split'), eventTimeFixext(7, 7), record({ text: 'x'.repeat(40), n: 70000 }), encode({ chunk: 's1' }));
    for (const byte of one) {
      const before = server.bytesReceived;
      await peer.write(Buffer.from([byte]));
      while (server.bytesReceived === before) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await peer.next()).toEqual({ ack: 's1' });

    const three = Buffer.concat(
      ['m1', 'm2', 'm3'].map((chunk, i) => bytes(fixarray(4), str('multi'), uint32(i), record({ i }), encode({ chunk }))),
    );
    await peer.write(Buffer.concat([three, Buffer.from([0xc0])])); // plus a heartbeat (nil)
    expect([await peer.next(), await peer.next(), await peer.next()]).toEqual([{ ack: 'm1' }, { ack: 'm2' }, { ack: 'm3' }]);
    expect(server.events.map((e) => e.record.i)).toEqual([undefined, 0, 1, 2]);
    expect(server.malformed).toBe(0);
  });

  it('ignores a nil heartbeat and keeps the connection', async () => {
    const server = await fluentd();
    const peer = await connect(server);
    await peer.write(Buffer.from([0xc0]));
    await peer.write(bytes(fixarray(4), str('hb'), uint32(1), record({}), encode({ chunk: 'after-heartbeat' })));
    expect(await peer.next()).toEqual({ ack: 'after-heartbeat' });
    expect(server.chunks).toHaveLength(1);
  });
});

describe('Fluentd forward server: malformed input closes the connection, records nothing', () => {
  const tag = str('bad');
  const cases: [string, Buffer][] = [
    ['a top-level integer', Buffer.from([0x01])],
    ['a top-level map', Buffer.from(encode({ tag: 'x' }))],
    ['a float time', bytes(fixarray(3), tag, Buffer.from(encode(1.5)), record({}))],
    ['a negative time', bytes(fixarray(3), tag, [0xff], record({}))],
    ['an ext type 1 time', bytes(fixarray(3), tag, [0xd7, 0x01, 0, 0, 0, 1, 0, 0, 0, 0], record({}))],
    ['EventTime nanoseconds over 999999999', bytes(fixarray(3), tag, eventTimeFixext(1, 1_000_000_000), record({}))],
    ['a record that is an array', bytes(fixarray(3), tag, uint32(1), Buffer.from(encode([1, 2])))],
    ['a record with an integer key', bytes(fixarray(3), tag, uint32(1), [0x81, 0x01, 0xa1, 0x78])],
    ['a tag that is bin', bytes(fixarray(3), bin(Buffer.from('t')), uint32(1), record({}))],
    ['an empty tag', bytes(fixarray(3), [0xa0], uint32(1), record({}))],
    ['five elements', bytes(fixarray(5), tag, uint32(1), record({}), encode({}), encode({}))],
    ['an option that is an array', bytes(fixarray(4), tag, uint32(1), record({}), Buffer.from(encode([1])))],
    ['an empty chunk option', bytes(fixarray(4), tag, uint32(1), record({}), encode({ chunk: '' }))],
    ['a Forward size that does not match', bytes(fixarray(3), tag, fixarray(1), entry(uint32(1), {}), encode({ size: 2, chunk: 'x' }))],
    ['a Forward entry with three elements', bytes(fixarray(2), tag, fixarray(1), bytes(fixarray(3), uint32(1), record({}), record({})))],
    ['gzip entries sent as str', bytes(fixarray(3), tag, str32(gzipSync(entry(uint32(1), {}))), encode({ compressed: 'gzip' }))],
    ['entries that are not gzip', bytes(fixarray(3), tag, bin(Buffer.from('not gzip')), encode({ compressed: 'gzip' }))],
    ['an unsupported compression', bytes(fixarray(3), tag, bin(entry(uint32(1), {})), encode({ compressed: 'zstd' }))],
    ['a packed stream ending mid-entry', bytes(fixarray(2), tag, bin(entry(uint32(1), { a: 'b' }).subarray(0, 6)))],
    ['the reserved byte 0xc1', bytes(fixarray(3), tag, uint32(1), [0x81, 0xa1, 0x61, 0xc1])],
  ];

  it.each(cases)('rejects %s', async (_name, frame) => {
    const server = await fluentd();
    const peer = await connect(server);
    await peer.write(frame);
    await peer.closed;
    expect(server.malformed).toBe(1);
    expect(server.rejections[0]).toEqual(expect.any(String));
    expect(server.events).toEqual([]);
    expect(server.chunks).toEqual([]);
    expect(peer.messages).toEqual([]); // no ack

    // The server itself is fine.
    const good = await connect(server);
    await good.write(bytes(fixarray(4), str('ok'), uint32(1), record({}), encode({ chunk: 'ok' })));
    expect(await good.next()).toEqual({ ack: 'ok' });
  });
});

describe('Fluentd forward server: handshake', () => {
  const sharedKey = 'a shared secret';

  async function helo(peer: Peer): Promise<{ nonce: Uint8Array; auth: Uint8Array | string; keepalive: boolean }> {
    const message = (await peer.next()) as [string, { nonce: Uint8Array; auth: Uint8Array | string; keepalive: boolean }];
    expect(message[0]).toBe('HELO');
    return message[1];
  }

  function ping(nonce: Uint8Array, key: string, user?: { salt: Uint8Array; name: string; password: string }): Uint8Array {
    const salt = 'client-salt-0001';
    return encode([
      'PING',
      'client.example',
      salt,
      sha512Hex(salt, 'client.example', nonce, key),
      user?.name ?? '',
      user ? sha512Hex(user.salt, user.name, user.password) : '',
    ]);
  }

  it('sends HELO, checks PING, answers PONG with its own digest, then takes events', async () => {
    const server = await fluentd({ sharedKey, selfHostname: 'fluentd.test' });
    const peer = await connect(server);
    const options = await helo(peer);
    expect(options.nonce).toBeInstanceOf(Uint8Array);
    expect(options.nonce.length).toBe(16);
    expect(options.auth).toBe(''); // no user auth configured
    expect(options.keepalive).toBe(true);

    await peer.write(ping(options.nonce, sharedKey));
    expect(await peer.next()).toEqual(['PONG', true, '', 'fluentd.test', sha512Hex('client-salt-0001', 'fluentd.test', options.nonce, sharedKey)]);

    await peer.write(bytes(fixarray(4), str('secure'), uint32(1), record({ ok: true }), encode({ chunk: 'h1' })));
    expect(await peer.next()).toEqual({ ack: 'h1' });
    expect(server.events).toHaveLength(1);
    expect(server.authFailures).toBe(0);
  });

  it('accepts a user with the right password (auth salt in HELO)', async () => {
    const server = await fluentd({ sharedKey, users: { alice: 'wonderland' } });
    const peer = await connect(server);
    const options = await helo(peer);
    expect(options.auth).toBeInstanceOf(Uint8Array);
    const salt = options.auth as Uint8Array;
    expect(salt.length).toBe(16);
    await peer.write(ping(options.nonce, sharedKey, { salt, name: 'alice', password: 'wonderland' }));
    const pong = (await peer.next()) as unknown[];
    expect(pong.slice(0, 3)).toEqual(['PONG', true, '']);
  });

  const failures: [string, (nonce: Uint8Array, salt: Uint8Array | string) => Uint8Array, string][] = [
    ['a wrong shared key', (nonce) => ping(nonce, 'not the key'), 'shared_key mismatch'],
    [
      'a wrong password',
      (nonce, salt) => ping(nonce, sharedKey, { salt: salt as Uint8Array, name: 'alice', password: 'guess' }),
      'username/password mismatch',
    ],
    [
      'an unknown user',
      (nonce, salt) => ping(nonce, sharedKey, { salt: salt as Uint8Array, name: 'mallory', password: 'wonderland' }),
      'username/password mismatch',
    ],
    ['an event instead of PING', () => bytes(fixarray(3), str('t'), uint32(1), record({})), 'invalid ping message'],
  ];

  it.each(failures)('answers the failure PONG and closes on %s', async (_name, makePing, reason) => {
    const server = await fluentd({ sharedKey, users: { alice: 'wonderland' } });
    const peer = await connect(server);
    const options = await helo(peer);
    await peer.write(makePing(options.nonce, options.auth));
    expect(await peer.next()).toEqual(['PONG', false, reason, '', '']);
    await peer.closed;
    expect(server.authFailures).toBe(1);
    expect(server.events).toEqual([]);
  });
});

describe('Fluentd forward server: faults', () => {
  const message = (chunk: string, i = 0): Buffer => bytes(fixarray(4), str('f'), uint32(1), record({ i }), encode({ chunk }));

  it('dropMidChunk closes after part of a chunk without recording it; the resend is accepted', async () => {
    const server = await fluentd();
    server.fault({ dropMidChunk: true });
    const frame = message('d1');
    const first = await connect(server);
    await first.write(frame.subarray(0, 5));
    await first.closed;
    expect(server.dropped).toBe(1);
    expect(server.events).toEqual([]);
    expect(server.chunks).toEqual([]);

    const second = await connect(server);
    await second.write(frame);
    expect(await second.next()).toEqual({ ack: 'd1' });
    expect(server.events).toHaveLength(1);
  });

  it('withholdAck records the events but never acks them; later chunks are acked', async () => {
    const server = await fluentd();
    server.fault({ withholdAck: true });
    const peer = await connect(server);
    await peer.write(message('w1', 1));
    await peer.write(message('w2', 2));
    expect(await peer.next()).toEqual({ ack: 'w2' }); // acks are in order: w1 got none
    expect(server.events.map((e) => e.record.i)).toEqual([1, 2]);
    expect(server.chunks.map((c) => [c.chunk, c.acked])).toEqual([
      ['w1', false],
      ['w2', true],
    ]);
    // The client resends w1: a duplicate, kept (at-least-once).
    await peer.write(message('w1', 1));
    expect(await peer.next()).toEqual({ ack: 'w1' });
    expect(server.events.map((e) => e.record.i)).toEqual([1, 2, 1]);
  });

  it('delayAckMs records at once and acks later', async () => {
    const server = await fluentd();
    server.fault({ delayAckMs: 50 });
    const peer = await connect(server);
    await peer.write(message('late'));
    await peer.write(message('prompt'));
    // The prompt ack overtakes the delayed one.
    expect(await peer.next()).toEqual({ ack: 'prompt' });
    expect(await peer.next()).toEqual({ ack: 'late' });
    expect(server.chunks.map((c) => c.acked)).toEqual([true, true]);
  });

  it('applies a fault to `count` messages, then queued faults in order', async () => {
    const server = await fluentd();
    server.fault({ withholdAck: true, count: 2 }, { dropMidChunk: true });
    const peer = await connect(server);
    await peer.write(message('a'));
    await peer.write(message('b'));
    await peer.write(message('c')); // the drop fault is next: this connection is cut
    await peer.closed;
    expect(peer.messages).toEqual([]);
    expect(server.chunks.map((c) => c.chunk)).toEqual(['a', 'b']);
    expect(server.dropped).toBe(1);

    const again = await connect(server);
    await again.write(message('c'));
    expect(await again.next()).toEqual({ ack: 'c' });
  });

  it('stop refuses connections and cuts open ones; restart listens on the same port', async () => {
    const server = await fluentd();
    const port = server.port;
    const peer = await connect(server);
    await server.stop();
    await peer.closed;
    expect(await connectFails({ port })).toBe('ECONNREFUSED');
    await server.restart();
    expect(server.port).toBe(port);
    const again = await connect(server);
    await again.write(message('back'));
    expect(await again.next()).toEqual({ ack: 'back' });
  });

  it('waitForEvents rejects with the counts seen', async () => {
    const server = await fluentd();
    await expect(server.waitForEvents(1, 50)).rejects.toThrow(/expected at least 1 events within 50 ms, got 0/);
  });
});

describe('Fluentd forward server: transports', () => {
  let dir: string;
  let certs: TestCertificates;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'receivers-'));
    certs = makeTestCertificates(path.join(dir, 'certs'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const message = (chunk: string): Buffer => bytes(fixarray(4), str('t'), uint32(1), record({ via: chunk }), encode({ chunk }));

  it('makes PEM certificates and writes them to the given directory', () => {
    expect(certs.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(certs.cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(certs.key).toMatch(/-----BEGIN (EC )?PRIVATE KEY-----/);
    const cert = new X509Certificate(certs.cert);
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.checkIssued(new X509Certificate(certs.ca))).toBe(true);
    expect(certs.certPath.startsWith(dir)).toBe(true);
  });

  it('serves TLS with the generated certificates, verified by the client', async () => {
    const server = await fluentd({ tls: { key: certs.key, cert: certs.cert } });
    const peer = await connect(server, { tls: { ca: certs.ca } });
    expect((peer.socket as tls.TLSSocket).authorized).toBe(true);
    await peer.write(message('tls'));
    expect(await peer.next()).toEqual({ ack: 'tls' });
  });

  it('with requestCert, refuses a client without a certificate and accepts one with', async () => {
    const server = await fluentd({ tls: { key: certs.key, cert: certs.cert, ca: certs.ca, requestCert: true } });
    const anonymous = await connect(server, { tls: { ca: certs.ca } }).catch(() => null);
    if (anonymous) {
      // TLS 1.3: the client finishes first; the server then refuses with an alert and closes.
      await anonymous.write(message('anon'));
      await anonymous.closed;
      expect(anonymous.messages).toEqual([]);
    }
    expect(server.events).toEqual([]);

    const known = await connect(server, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
    await known.write(message('mtls'));
    expect(await known.next()).toEqual({ ack: 'mtls' });
    expect(server.events.map((e) => e.record.via)).toEqual(['mtls']);
  });

  it('listens on a unix socket, and again on the same path after restart', async () => {
    const socketPath = path.join(dir, 'fluentd.sock');
    const server = await fluentd({ path: socketPath });
    expect(server.path).toBe(socketPath);
    const peer = await connect(server);
    await peer.write(message('unix'));
    expect(await peer.next()).toEqual({ ack: 'unix' });
    await server.stop();
    expect(await connectFails({ path: socketPath })).toMatch(/ENOENT|ECONNREFUSED/);
    await server.restart();
    const again = await connect(server);
    await again.write(message('unix2'));
    expect(await again.next()).toEqual({ ack: 'unix2' });
  });
});

describe('Fluentd forward server: interop with @fluent-org/logger', () => {
  const modes = ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'] as const;

  it.each(modes)('receives %s events from the real client, with handshake, user auth and acks', async (eventMode) => {
    const server = await fluentd({ sharedKey: 'k3y', selfHostname: 'fluentd.test', users: { router: 's3cret' } });
    const logger = new FluentClient('audit', {
      eventMode,
      socket: { host: '127.0.0.1', port: server.port, timeout: -1 },
      security: { clientHostname: 'router.test', sharedKey: 'k3y', username: 'router', password: 's3cret' },
      ack: { ackTimeout: 4000 },
      milliseconds: true,
    });
    try {
      await Promise.all([logger.emit('tool', { tool: 'create_db', n: 1 }), logger.emit('tool', { tool: 'delete_db', n: 2 })]);
    } finally {
      await logger.shutdown();
    }
    expect(server.events.map((e) => [e.tag, e.record, e.mode])).toEqual([
      ['audit.tool', { tool: 'create_db', n: 1 }, eventMode],
      ['audit.tool', { tool: 'delete_db', n: 2 }, eventMode],
    ]);
    expect(server.events[0]!.time).toEqual({ seconds: expect.any(Number), nanoseconds: expect.any(Number) });
    expect(server.chunks.every((c) => c.acked && c.chunk !== undefined)).toBe(true);
    expect(server.authFailures).toBe(0);
  });

  it('receives events from the real client over TLS, verified with the generated CA', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'receivers-interop-'));
    try {
      const certs = makeTestCertificates(dir);
      const server = await fluentd({ tls: { key: certs.key, cert: certs.cert }, sharedKey: 'k3y' });
      const logger = new FluentClient('audit', {
        eventMode: 'CompressedPackedForward',
        socket: { host: '127.0.0.1', port: server.port, tls: { ca: certs.ca } },
        security: { clientHostname: 'router.test', sharedKey: 'k3y' },
        ack: { ackTimeout: 4000 },
      });
      try {
        await logger.emit('tls', { over: 'tls' });
      } finally {
        await logger.shutdown();
      }
      expect(server.events.map((e) => [e.tag, e.record])).toEqual([['audit.tls', { over: 'tls' }]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the real client gets the failure PONG on a wrong shared key, and the server counts it', async () => {
    const server = await fluentd({ sharedKey: 'k3y' });
    const logger = new FluentClient('audit', {
      socket: { host: '127.0.0.1', port: server.port, disableReconnect: true },
      security: { clientHostname: 'router.test', sharedKey: 'wrong' },
      disableAutoconnect: true,
    });
    const failed = new Promise<Error>((resolve) => logger.socketOn(FluentSocketEvent.ERROR, (error: Error) => resolve(error)));
    // Shut down only after 'close': the client's disconnect() waits forever on a destroyed socket.
    const closed = new Promise<void>((resolve) => logger.socketOn(FluentSocketEvent.CLOSE, () => resolve()));
    await logger.connect();
    expect((await failed).message).toBe('Authentication failed: shared_key mismatch');
    await closed;
    await logger.shutdown();
    expect(server.authFailures).toBe(1);
    expect(server.events).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('Datadog logs intake', () => {
  const apiKey = '0123456789abcdef0123456789abcdef';
  let intake: DatadogIntake;
  beforeAll(async () => {
    intake = await startDatadogIntake({ apiKey });
  });
  afterAll(() => intake.close());
  afterEach(() => {
    intake.logs.length = 0;
    intake.requests.length = 0;
  });

  interface PostOptions {
    key?: string | null;
    encoding?: string;
    contentType?: string | null;
    path?: string;
    method?: string;
    signal?: AbortSignal;
  }
  async function post(body: string | Buffer, options: PostOptions = {}): Promise<{ status: number; headers: Headers; json: unknown }> {
    const headers: Record<string, string> = {};
    if (options.key !== null) headers['DD-API-KEY'] = options.key ?? apiKey;
    if (options.contentType !== null) headers['Content-Type'] = options.contentType ?? 'application/json';
    if (options.encoding) headers['Content-Encoding'] = options.encoding;
    const method = options.method ?? 'POST';
    const init: RequestInit = { method, headers };
    if (method !== 'GET' && method !== 'HEAD') init.body = typeof body === 'string' ? body : new Uint8Array(body);
    if (options.signal) init.signal = options.signal;
    const res = await fetch(intake.url + (options.path ?? '/api/v2/logs'), init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  }
  const logs = (n: number, extra: Record<string, unknown> = {}): Record<string, unknown>[] =>
    Array.from({ length: n }, (_, i) => ({ message: `event ${i}`, ddsource: 'audit-router', service: 'redisctl-mcp', ...extra }));

  it('accepts a JSON array with 202 {} and records every entry and the request', async () => {
    const body = JSON.stringify(logs(3));
    const res = await post(body);
    expect(res.status).toBe(202);
    expect(res.json).toEqual({});
    expect(intake.logs).toEqual(logs(3));
    expect(intake.requests).toEqual([
      expect.objectContaining({ encoding: null, rawBytes: Buffer.byteLength(body), bytes: Buffer.byteLength(body), entries: 3, status: 202, truncated: 0 }),
    ]);
    expect(intake.requests[0]!.headers['dd-api-key']).toBe(apiKey);
  });

  it('accepts a single JSON object as one log', async () => {
    expect((await post(JSON.stringify({ message: 'one' }))).status).toBe(202);
    expect(intake.logs).toEqual([{ message: 'one' }]);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ] as const)('decompresses a %s body', async (encoding, compress) => {
    const plain = Buffer.from(JSON.stringify(logs(50)));
    const compressed = compress(plain);
    const res = await post(compressed, { encoding });
    expect(res.status).toBe(202);
    expect(intake.logs).toHaveLength(50);
    expect(intake.requests[0]).toMatchObject({ encoding, rawBytes: compressed.length, bytes: plain.length, entries: 50 });
  });

  it('answers 403 in the HTTPLogErrors shape for a missing or wrong DD-API-KEY', async () => {
    for (const key of [null, 'wrong']) {
      const res = await post(JSON.stringify(logs(1)), { key });
      expect(res.status).toBe(403);
      expect(res.json).toEqual({ errors: [{ status: '403', title: 'Forbidden', detail: 'API key is missing or invalid' }] });
    }
    expect(intake.logs).toEqual([]);
  });

  it('takes exactly 5 000 000 uncompressed bytes, answers 413 one byte over', async () => {
    const build = (size: number): Buffer => {
      const entries = logs(6);
      const base = Buffer.byteLength(JSON.stringify(entries));
      const pad = size - base;
      entries.forEach((e, i) => {
        e.pad = "x".repeat(Math.floor(pad / 6) + (i < pad % 6 ? 1 : 0));
      });
      const out = Buffer.from(JSON.stringify(entries));
      // Each "pad" key adds 9 bytes of JSON syntax; take them off the first entry.
      const fixed = JSON.parse(out.toString()) as Record<string, string>[];
      fixed[0]!.pad = fixed[0]!.pad!.slice(0, fixed[0]!.pad!.length - (out.length - size));
      const result = Buffer.from(JSON.stringify(fixed));
      expect(result.length).toBe(size);
      return result;
    };
    const atLimit = await post(gzipSync(build(DATADOG_MAX_PAYLOAD_BYTES)), { encoding: 'gzip' });
    expect(atLimit.status).toBe(202);
    expect(intake.requests[0]).toMatchObject({ bytes: DATADOG_MAX_PAYLOAD_BYTES, entries: 6, truncated: 0 });

    const over = await post(gzipSync(build(DATADOG_MAX_PAYLOAD_BYTES + 1)), { encoding: 'gzip' });
    expect(over.status).toBe(413);
    expect(over.json).toMatchObject({ errors: [{ status: '413', title: 'Payload Too Large' }] });
    const overPlain = await post(build(DATADOG_MAX_PAYLOAD_BYTES + 1));
    expect(overPlain.status).toBe(413);
    expect(intake.logs).toHaveLength(6);
  });

  it('accepts a log over 1 MB (the real intake truncates it) and counts it', async () => {
    const res = await post(JSON.stringify([{ message: 'x'.repeat(1_000_000) }, { message: 'small' }]));
    expect(res.status).toBe(202);
    expect(intake.requests[0]!.truncated).toBe(1);
    expect(intake.logs).toHaveLength(2);
  });

  it('takes 1 000 entries, answers 400 for 1 001', async () => {
    expect((await post(JSON.stringify(logs(1000)))).status).toBe(202);
    const res = await post(JSON.stringify(logs(1001)));
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ errors: [{ status: '400', title: 'Bad Request' }] });
    expect(intake.logs).toHaveLength(1000);
  });

  it.each([
    ['bad JSON', () => post('[{"message": "x"'), 400],
    ['an empty body', () => post(''), 400],
    ['an array of strings', () => post('["a","b"]'), 400],
    ['a JSON string', () => post('"hello"'), 400],
    ['invalid UTF-8', () => post(Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d])), 400],
    ['bad gzip data', () => post(Buffer.from('not gzip'), { encoding: 'gzip' }), 400],
    ['bad deflate data', () => post(Buffer.from('not deflate'), { encoding: 'deflate' }), 400],
    ['an unknown Content-Encoding', () => post(Buffer.from('[]'), { encoding: 'br' }), 415],
    ['a text/plain body', () => post('hello', { contentType: 'text/plain' }), 415],
    ['a GET', () => post('', { method: 'GET' }), 405],
    ['another path', () => post('[]', { path: '/api/v1/input' }), 404],
  ] as const)('answers %s with the right status', async (_name, send, status) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.json).toMatchObject({ errors: [{ status: String(status) }] });
    if (status === 405) expect(res.headers.get('allow')).toBe('POST');
    expect(intake.logs).toEqual([]);
  });

  describe('faults', () => {
    it('answers queued statuses in order for `count` requests, recording nothing, then recovers', async () => {
      intake.fault({ status: 500, count: 2 }, { status: 503 }, { status: 408 });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(JSON.stringify(logs(1)))).status);
      expect(statuses).toEqual([500, 500, 503, 408, 202]);
      expect(intake.logs).toHaveLength(1);
      expect(intake.requests.map((r) => r.fault)).toEqual(['status', 'status', 'status', 'status', undefined]);
      expect(intake.requests.every((r) => r.entries === 1)).toBe(true);
    });

    it('answers 429 with x-ratelimit headers by default, or the given headers and body', async () => {
      intake.fault({ status: 429 }, { status: 429, headers: { 'retry-after': '2' }, body: '{"errors":["slow down"]}' });
      const first = await post(JSON.stringify(logs(1)));
      expect(first.status).toBe(429);
      expect(first.headers.get('x-ratelimit-reset')).toBe('1');
      expect(first.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(first.json).toMatchObject({ errors: [{ status: '429', title: 'Too Many Requests' }] });
      const second = await post(JSON.stringify(logs(1)));
      expect(second.headers.get('retry-after')).toBe('2');
      expect(second.json).toEqual({ errors: ['slow down'] });
      expect(intake.logs).toEqual([]);
    });

    it('hang: reads the request and never answers', async () => {
      intake.fault({ hang: true });
      const controller = new AbortController();
      const pending = post(JSON.stringify(logs(1)), { signal: controller.signal });
      await expect.poll(() => intake.requests.length).toBe(1);
      controller.abort();
      await expect(pending).rejects.toThrow(/abort/i);
      expect(intake.requests[0]).toMatchObject({ status: 0, fault: 'hang', entries: 1 });
      expect(intake.logs).toEqual([]);
      expect((await post(JSON.stringify(logs(1)))).status).toBe(202);
    });

    it('destroy: reads the request and closes the socket', async () => {
      intake.fault({ destroy: true });
      await expect(post(JSON.stringify(logs(1)))).rejects.toThrow(/fetch failed/);
      expect(intake.requests[0]).toMatchObject({ status: 0, fault: 'destroy' });
      expect(intake.logs).toEqual([]);
      expect((await post(JSON.stringify(logs(1)))).status).toBe(202);
    });

    it('forMs: applies to every request until the time has passed', async () => {
      intake.fault({ status: 503, forMs: 150 });
      const statuses: number[] = [];
      const deadline = Date.now() + 4000;
      let status = 0;
      while (status !== 202 && Date.now() < deadline) {
        status = (await post(JSON.stringify(logs(1)))).status;
        statuses.push(status);
      }
      expect(statuses[0]).toBe(503);
      expect(statuses.at(-1)).toBe(202);
      expect(new Set(statuses)).toEqual(new Set([503, 202]));
      expect(intake.logs).toHaveLength(1);
    });
  });

  it('goAway refuses connections; comeBack listens on the same port', async () => {
    const url = intake.url;
    await intake.goAway();
    try {
      // A pooled keep-alive socket was cut ("other side closed"); a new connection is refused.
      await expect(post(JSON.stringify(logs(1)))).rejects.toThrow(/fetch failed/);
      expect(await connectFails({ port: intake.port })).toBe('ECONNREFUSED');
    } finally {
      await intake.comeBack();
    }
    expect(intake.url).toBe(url);
    expect((await post(JSON.stringify(logs(2)))).status).toBe(202);
    expect(intake.logs).toHaveLength(2);
  });

  it('waitForLogs resolves on arrival and rejects on timeout with what it saw', async () => {
    const waiting = intake.waitForLogs(2);
    await post(JSON.stringify(logs(2)));
    await waiting;
    await expect(intake.waitForLogs(3, 50)).rejects.toThrow(/expected at least 3 logs within 50 ms, got 2 \(1 requests, statuses \[202\]\)/);
  });

  describe('interop with @datadog/datadog-api-client v2 LogsApi.submitLog', () => {
    const item = { message: 'tool_invocation create_db', ddsource: 'audit-router', ddtags: 'env:test', hostname: 'h', service: 'redisctl-mcp' };

    it('delivers through baseServer, gzip-compressed, and gets {}', async () => {
      const configuration = ddClient.createConfiguration({
        authMethods: { apiKeyAuth: apiKey },
        baseServer: new ddClient.BaseServerConfiguration(intake.url, {}),
        enableRetry: false,
      });
      const api = new ddV2.LogsApi(configuration);
      const result = await api.submitLog({ body: [item, { ...item, message: 'second' }], contentEncoding: 'gzip', ddtags: 'team:core' });
      expect(result).toEqual({});
      expect(intake.logs).toEqual([item, { ...item, message: 'second' }]);
      expect(intake.requests[0]).toMatchObject({ encoding: 'gzip', entries: 2, status: 202, ddtags: 'team:core' });
      expect(intake.requests[0]!.headers['content-type']).toBe('application/json');
    });

    it('delivers through the operation server {protocol}://{name} with server variables', async () => {
      const configuration = ddClient.createConfiguration({
        authMethods: { apiKeyAuth: apiKey },
        operationServerIndices: { 'v2.LogsApi.submitLog': 1 },
        enableRetry: false,
      });
      configuration.setServerVariables({ protocol: 'http', name: `127.0.0.1:${intake.port}` });
      const api = new ddV2.LogsApi(configuration);
      await api.submitLog({ body: [item], contentEncoding: 'deflate' });
      expect(intake.logs).toEqual([item]);
      expect(intake.requests[0]).toMatchObject({ encoding: 'deflate' });
    });

    it('surfaces 403 and 413 as ApiException with the status code', async () => {
      const api = (key: string): ddV2.LogsApi =>
        new ddV2.LogsApi(
          ddClient.createConfiguration({ authMethods: { apiKeyAuth: key }, baseServer: new ddClient.BaseServerConfiguration(intake.url, {}), enableRetry: false }),
        );
      await expect(api('wrong').submitLog({ body: [item] })).rejects.toMatchObject({ code: 403 });
      intake.fault({ status: 413 });
      await expect(api(apiKey).submitLog({ body: [item] })).rejects.toMatchObject({ code: 413 });
      expect(intake.logs).toEqual([]);
    });
  });
});

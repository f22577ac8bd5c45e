/**
 * What every fake receiver in test/support/ shares, written once: a queue of injected faults,
 * waiting until N items arrived (with a message naming what was seen when it times out), and a
 * listener that can go away and come back on the same port (or unix socket), dropping every open
 * connection — how a receiver outage looks to a client. The protocol itself (Datadog intake,
 * Fluentd Forward, OTLP/HTTP) stays in each receiver's own file.
 */
import { existsSync, unlinkSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';

/** A fault applied to the next `count` requests (default 1), or to all of them for `forMs`. */
export interface QueueableFault {
  count?: number;
  forMs?: number;
}

/** Faults in the order queued; each lasts for its `count` or, with `forMs`, for that long from its first use. */
export class FaultQueue<F extends QueueableFault> {
  private readonly queued: Array<{ fault: F; remaining: number; until?: number }> = [];

  push(...faults: F[]): void {
    for (const fault of faults) this.queued.push({ fault, remaining: fault.count ?? 1 });
  }

  /** The fault for this request, using it up. */
  take(now = Date.now()): F | undefined {
    while (this.queued.length > 0) {
      const head = this.queued[0]!;
      if (head.fault.forMs !== undefined) {
        head.until ??= now + head.fault.forMs;
        if (now < head.until) return head.fault;
        this.queued.shift();
        continue;
      }
      if (--head.remaining <= 0) this.queued.shift();
      return head.fault;
    }
    return undefined;
  }

  /** The fault that applies now, without using it up (for protocols that decide in steps). */
  peek(): F | undefined {
    return this.queued[0]?.fault;
  }

  /** Uses up one request of the head fault (after `peek`). */
  consume(): void {
    const head = this.queued[0];
    if (head && --head.remaining <= 0) this.queued.shift();
  }
}

/** Promises waiting for a count to reach N; rejected with a description on timeout or close. */
export class CountWaiters {
  private waiters: Array<{ n: number; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  private closed = false;

  constructor(
    /** The receiver's name, for messages. */
    private readonly name: string,
    /** What is counted ("logs", "events"). */
    private readonly what: string,
    private readonly count: () => number,
    /** What else to say when a wait times out (requests seen, statuses, ...). */
    private readonly describe: () => string = () => '',
  ) {}

  wait(n: number, timeoutMs: number): Promise<void> {
    if (this.count() >= n) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`${this.name}: waiting for ${this.what} after close`));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        const more = this.describe();
        reject(new Error(`${this.name}: expected at least ${n} ${this.what} within ${timeoutMs} ms, got ${this.count()}${more ? ` ${more}` : ''}`));
      }, timeoutMs);
      this.waiters.push({ n, resolve, reject, timer });
    });
  }

  /** Call whenever the count grew. */
  notify(): void {
    const count = this.count();
    this.waiters = this.waiters.filter((w) => {
      if (count < w.n) return true;
      clearTimeout(w.timer);
      w.resolve();
      return false;
    });
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`${this.name}: closed while waiting for ${w.n} ${this.what} (got ${this.count()})`));
    }
    this.waiters = [];
  }
}

/**
 * A server that can stop and listen again at the same address. `stop()` destroys every open
 * connection (clients see ECONNRESET, then ECONNREFUSED / ENOENT until `listen()`).
 */
export class RestartableListener {
  private readonly sockets = new Set<Socket>();
  private listening = false;
  private port: number;

  constructor(
    private readonly server: Server,
    private readonly at: { port?: number; path?: string } = {},
  ) {
    this.port = at.path ? 0 : (at.port ?? 0);
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** The TCP port (0 on a unix socket); stable across stop/listen. */
  get boundPort(): number {
    return this.port;
  }

  async listen(): Promise<void> {
    if (this.listening) return;
    const path = this.at.path;
    if (path && existsSync(path)) unlinkSync(path);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      const done = (): void => {
        this.server.off('error', reject);
        resolve();
      };
      if (path) this.server.listen(path, done);
      else this.server.listen(this.port, '127.0.0.1', done);
    });
    if (!path) this.port = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (!this.listening) return;
    this.listening = false;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What a test drives on every fake receiver: faults, an outage, the end. */
export interface ReceiverControl<F> {
  /** Queue faults, applied in order. */
  fault(...faults: F[]): void;
  /** Stop listening and drop every open connection (clients see ECONNRESET, then ECONNREFUSED). */
  goAway(): Promise<void>;
  /** Listen again at the same address. */
  comeBack(): Promise<void>;
  /** Stop for good; pending waiters reject. */
  close(): Promise<void>;
}

/** Raised while reading a request: the status to answer and why (said in the answer's body). */
export class Rejection extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a request body to its end, keeping at most `maxBytes` (the rest is read and dropped, so
 * the client is not cut off mid-write); `overflow` says the limit was passed.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; rawBytes: number; overflow: boolean }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let rawBytes = 0;
    req.on('data', (part: Buffer) => {
      rawBytes += part.length;
      if (rawBytes <= maxBytes) parts.push(part);
    });
    req.on('end', () => resolve({ body: Buffer.concat(parts), rawBytes, overflow: rawBytes > maxBytes }));
    req.on('error', reject);
  });
}

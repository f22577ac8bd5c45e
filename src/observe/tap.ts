/**
 * The live tap (`GET /tap`, only with `api.tap = true`): every redacted audit event as it is
 * routed, as NDJSON, to each connected client. Events come from the router after redaction (the
 * same JSON the sinks get), never before.
 *
 * A tap must never slow the pipeline down: publishing is a synchronous write into each client's
 * socket buffer, never awaited. A client that reads slower than events arrive has at most
 * `maxBufferedBytes` waiting; beyond that its events are dropped and counted, and once its buffer
 * has drained it is told how many with one notice line `{"audit_router_tap":{"dropped":N}}`
 * (the tap CLI prints notices on stderr).
 */
import type { ServerResponse } from 'node:http';

export const DEFAULT_TAP_BUFFER_BYTES = 1024 * 1024;

interface TapClient {
  readonly res: ServerResponse;
  /** Events dropped since the last notice. */
  dropped: number;
}

export class TapHub {
  private readonly clients = new Set<TapClient>();
  /** Events dropped for slow clients, over all clients and the whole run. */
  droppedEvents = 0;
  /** Events sent, counted once per client. */
  sentEvents = 0;

  constructor(private readonly maxBufferedBytes = DEFAULT_TAP_BUFFER_BYTES) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Serves one `GET /tap`: the response stays open until the client or the router goes away. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.flushHeaders();
    const client: TapClient = { res, dropped: 0 };
    this.clients.add(client);
    const forget = (): void => void this.clients.delete(client);
    res.once('close', forget);
    res.once('error', forget);
    res.on('drain', () => this.notice(client));
  }

  /** One redacted event's JSON (no newline). Called by the router; never blocks, never throws. */
  publish(json: string): void {
    if (this.clients.size === 0) return;
    const line = json + '\n';
    for (const client of this.clients) {
      const { res } = client;
      if (res.destroyed || res.writableEnded) continue;
      if (res.writableLength >= this.maxBufferedBytes) {
        client.dropped++;
        this.droppedEvents++;
        continue;
      }
      res.write(line);
      this.sentEvents++;
    }
  }

  /** Ends every tap stream (at shutdown); resolves once they are flushed, or after `waitMs`. */
  async close(waitMs = 1000): Promise<void> {
    const flushed: Promise<void>[] = [];
    for (const client of this.clients) {
      this.notice(client);
      flushed.push(new Promise((resolve) => client.res.end(() => resolve())));
    }
    this.clients.clear();
    if (flushed.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(flushed), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  private notice(client: TapClient): void {
    if (client.dropped === 0 || client.res.writableEnded) return;
    const dropped = client.dropped;
    client.dropped = 0;
    client.res.write(JSON.stringify({ audit_router_tap: { dropped } }) + '\n');
  }
}

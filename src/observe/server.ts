/**
 * The API server (`--api-address 127.0.0.1:8686`, `[api] address`; off by default): one HTTP
 * listener for the probes, the metrics and the tap.
 *
 *   GET /healthz   200 "ok": the event loop answers (liveness)
 *   GET /readyz    200 or 503 with a JSON body naming the unhealthy sinks (readiness)
 *   GET /metrics   Prometheus text format (src/observe/metrics.ts)
 *   GET /tap       NDJSON of redacted events as routed, only with `api.tap = true`
 *
 * It only reads: nothing here changes the pipeline. The core loads this module (and with it
 * prom-client) only when an address is configured, so a router without it pays nothing.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConfigError } from '../util/errors';
import type { Logger } from '../util/log';
import type { SinkEvent } from '../api/sink';
import { parseAddress } from '../util/address';
import { DEFAULT_RETRY_BUDGET, readiness } from './health';
import { DEFAULT_TOOL_LABELS_MAX, type DeliveryLatencyRecorder, RouterMetrics } from './metrics';
import { TapHub } from './tap';
import type { RunView } from './view';

export interface ApiOptions {
  /** host:port to listen on ("127.0.0.1:8686", "[::1]:8686", ":8686" for every address). */
  readonly address: string;
  readonly tap: boolean;
  readonly retryBudget?: number;
  readonly toolLabels?: boolean;
  readonly toolLabelsMax?: number;
  /** Per tap client, bytes that may wait before its events are dropped. */
  readonly tapBufferBytes?: number;
}

export interface ApiServer {
  /** The address it listens on, as host:port (the port resolved when 0 was asked for). */
  readonly address: string;
  /** Per-event hook for the router: the tap and tool labels; null when neither is on. */
  readonly onEvent: ((event: SinkEvent) => void) | null;
  /** The delivery-latency recorder for a sink. */
  recorder(sink: string): DeliveryLatencyRecorder;
  close(): Promise<void>;
}

export async function startApiServer(view: RunView, options: ApiOptions, logger: Logger): Promise<ApiServer> {
  const retryBudget = options.retryBudget ?? DEFAULT_RETRY_BUDGET;
  const tap = options.tap ? new TapHub(options.tapBufferBytes) : null;
  const metrics = new RouterMetrics(view, {
    toolLabels: options.toolLabels ?? false,
    toolLabelsMax: options.toolLabelsMax ?? DEFAULT_TOOL_LABELS_MAX,
    retryBudget,
    logger,
    tap,
  });
  const sockets = new Set<Socket>();

  const answer = (res: http.ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const json = (res: http.ServerResponse, status: number, value: unknown): void =>
    answer(res, status, 'application/json; charset=utf-8', JSON.stringify(value) + '\n');

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(res, 405, { error: 'method not allowed' });
    }
    switch (path) {
      case '/healthz':
        return answer(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      case '/readyz': {
        const r = readiness(view, retryBudget);
        return json(res, r.ready ? 200 : 503, r.body);
      }
      case '/metrics':
        metrics.render().then(
          (text) => answer(res, 200, metrics.contentType, text),
          (error: Error) => {
            logger.error('metrics could not be rendered', { error: error.name });
            json(res, 500, { error: 'metrics unavailable' });
          },
        );
        return;
      case '/tap':
        if (!tap) return json(res, 404, { error: 'the tap is off: set api.tap = true' });
        return tap.attach(res);
      default:
        return json(res, 404, { error: 'not found', paths: ['/healthz', '/readyz', '/metrics', ...(tap ? ['/tap'] : [])] });
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  const { host, port } = parseAddress(options.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new ConfigError(`cannot listen on ${options.address}: ${error.code ?? error.name}`, undefined, 'api.address')),
    );
    server.listen({ host, port }, () => resolve());
  });
  // The server must never keep the process alive on its own: the run's end decides.
  server.unref();
  const bound = server.address() as AddressInfo;
  const address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  logger.info('api listening', { address, tap: tap !== null });

  const toolHook = metrics.eventHook();
  const onEvent: ((event: SinkEvent) => void) | null =
    tap && toolHook
      ? (event) => {
          toolHook(event);
          tap.publish(event.json);
        }
      : tap
        ? (event) => tap.publish(event.json)
        : toolHook;

  return {
    address,
    onEvent,
    recorder: (sink) => metrics.recorder(sink),
    close: async () => {
      // The tap's last events are flushed before the sockets go.
      await tap?.close();
      // Sockets are ended, not destroyed: a destroy would drop tap lines still queued in them.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
      clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * A local stand-in for the Datadog Logs intake, `POST /api/v2/logs`
 * (https://docs.datadoghq.com/api/latest/logs/#send-logs), for tests only: a real HTTP server on
 * 127.0.0.1, no mocks.
 *
 * Behaviour, in the order the checks are made:
 * - 404 for any path but /api/v2/logs (a `ddtags` query is allowed); 405 (`Allow: POST`) for any
 *   method but POST.
 * - A queued fault, if any, answers instead (see DatadogFault); faulted requests never add to `logs`.
 * - 403 when DD-API-KEY is missing or wrong (the header only: the key never belongs in a URL).
 *   The documented 401 for a missing key is not used: the real intake answers 403
 *   "API key is missing or invalid" for both.
 * - 415 for a Content-Encoding other than identity/gzip/deflate (deflate = zlib stream, RFC 9110)
 *   or a Content-Type other than application/json (the real intake also takes text/plain and
 *   logplex; our sinks must send JSON).
 * - 413 when the uncompressed body exceeds 5 000 000 bytes (the documented "5MB"; the same bound
 *   Vector's datadog_logs sink uses).
 * - 400 for an empty body, bad gzip/deflate data, invalid UTF-8 or JSON, a body that is neither an
 *   object nor an array of objects, or an array of more than 1 000 entries.
 * - 202 `{}` otherwise; every entry is appended to `logs`. A log over 1 000 000 bytes (as JSON) is
 *   accepted, as the real intake does (it truncates it); it is counted in `truncated`, kept whole.
 * Error bodies have the HTTPLogErrors shape of the OpenAPI spec and of the live intake:
 * `{"errors":[{"status":"403","title":"Forbidden","detail":"API key is missing or invalid"}]}`.
 */
import * as http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { CountWaiters, FaultQueue, RestartableListener } from './fake-server';
import { gunzipSync, inflateSync } from 'node:zlib';

/** Most uncompressed bytes one request may carry. */
export const DATADOG_MAX_PAYLOAD_BYTES = 5_000_000;
/** Most entries one request may carry. */
export const DATADOG_MAX_ENTRIES = 1_000;
/** Size (as JSON) above which the real intake truncates a single log. */
export const DATADOG_MAX_LOG_BYTES = 1_000_000;

/**
 * A fault, applied to the next requests to POST /api/v2/logs, in the order queued. It lasts for
 * `count` requests, or, with `forMs`, for every request in the `forMs` ms that follow the first one
 * it answered. Without either it applies to one request.
 */
export interface DatadogFault {
  /** Answer with this status (default body: the HTTPLogErrors shape, or `{}` for a 2xx). */
  status?: number;
  /**
   * Extra response headers. A 429 without headers gets x-ratelimit-limit/-period/-remaining/-reset
   * (reset "1"), the headers Datadog documents for rate limits.
   */
  headers?: Record<string, string>;
  /** Response body instead of the default one. */
  body?: string;
  /** Read the request, never answer (the socket stays open until the client gives up, or goAway/close). */
  hang?: boolean;
  /** Read the request, then destroy the socket without answering. */
  destroy?: boolean;
  /** For this many requests. */
  count?: number;
  /** Or for this many ms after the first request it applied to. */
  forMs?: number;
}

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  /** Content-Encoding as sent (lower-cased), or null. */
  encoding: string | null;
  /** Body bytes as received. */
  rawBytes: number;
  /** Body bytes after decompression (0 when it could not be decompressed). */
  bytes: number;
  /** Entries in the body (0 when it did not parse). */
  entries: number;
  /** Status answered; 0 for a `hang` or `destroy` fault. */
  status: number;
  /** The `ddtags` query parameter, if given. */
  ddtags?: string;
  /** Entries over DATADOG_MAX_LOG_BYTES (the real intake would truncate them). */
  truncated: number;
  /** The fault that answered this request, if any: 'status', 'hang' or 'destroy'. */
  fault?: 'status' | 'hang' | 'destroy';
}

export interface DatadogIntake {
  /** http://127.0.0.1:<port>, to use as the sink's `endpoint`. */
  readonly url: string;
  readonly port: number;
  /** Every accepted log entry (answered 202), in arrival order. */
  readonly logs: Record<string, unknown>[];
  /** Every request to POST /api/v2/logs, answered or not, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Queue faults, applied in order. */
  fault(...faults: DatadogFault[]): void;
  /** Stop listening and drop every open connection (clients see ECONNREFUSED / ECONNRESET). */
  goAway(): Promise<void>;
  /** Listen again on the same port. */
  comeBack(): Promise<void>;
  /** Resolve once `logs.length >= n`; reject after `timeoutMs` (default 5000) with what was seen. */
  waitForLogs(n: number, timeoutMs?: number): Promise<void>;
  /** Stop for good; pending waiters reject. */
  close(): Promise<void>;
}

/** Raised while reading a request; carries the answer. */
class Rejection extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

function errorBody(status: number, detail: string): string {
  return JSON.stringify({ errors: [{ status: String(status), title: http.STATUS_CODES[status] ?? 'Error', detail }] });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decompress and parse a body; throws Rejection. Fills `seen` as far as it gets. */
function parseBody(raw: Buffer, encoding: string | null, seen: { bytes: number; entries: number; truncated: number }): Record<string, unknown>[] {
  let body: Buffer;
  const limit = { maxOutputLength: DATADOG_MAX_PAYLOAD_BYTES + 1 };
  try {
    if (encoding === null || encoding === 'identity') body = raw;
    else if (encoding === 'gzip') body = gunzipSync(raw, limit);
    else if (encoding === 'deflate') body = inflateSync(raw, limit);
    else throw new Rejection(415, `unsupported Content-Encoding "${encoding}"`);
  } catch (error) {
    if (error instanceof Rejection) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Rejection(413, `payload over ${DATADOG_MAX_PAYLOAD_BYTES} bytes uncompressed`);
    }
    throw new Rejection(400, `body is not valid ${encoding} data`);
  }
  seen.bytes = body.length;
  if (body.length > DATADOG_MAX_PAYLOAD_BYTES) throw new Rejection(413, `payload over ${DATADOG_MAX_PAYLOAD_BYTES} bytes uncompressed`);
  if (body.length === 0) throw new Rejection(400, 'empty body');
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(body));
  } catch {
    throw new Rejection(400, 'malformed JSON');
  }
  const entries = Array.isArray(parsed) ? parsed : [parsed];
  seen.entries = entries.length;
  if (entries.length > DATADOG_MAX_ENTRIES) throw new Rejection(400, `more than ${DATADOG_MAX_ENTRIES} entries`);
  for (const entry of entries) {
    if (!isPlainObject(entry)) throw new Rejection(400, 'each log must be a JSON object');
  }
  for (const entry of entries) {
    if (Buffer.byteLength(JSON.stringify(entry)) > DATADOG_MAX_LOG_BYTES) seen.truncated += 1;
  }
  return entries as Record<string, unknown>[];
}

function contentTypeIsJson(value: string | undefined): boolean {
  return value !== undefined && value.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** Start an intake on 127.0.0.1 (`port` or a free one). See the module comment. */
export async function startDatadogIntake(options: { apiKey: string; port?: number }): Promise<DatadogIntake> {
  const logs: Record<string, unknown>[] = [];
  const requests: ReceivedRequest[] = [];
  const faults = new FaultQueue<DatadogFault>();
  const waiters = new CountWaiters('DatadogIntake', 'logs', () => logs.length, () => {
    const statuses = requests.map((r) => r.status).join(',');
    return `(${requests.length} requests, statuses [${statuses}])`;
  });
  let closed = false;

  /** The fault for this request, consuming it. */
  const takeFault = (): DatadogFault | undefined => faults.take();


  const notify = (): void => waiters.notify();


  const answer = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://intake');
    if (url.pathname !== '/api/v2/logs') {
      req.resume();
      answer(res, 404, errorBody(404, 'unknown path'));
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      answer(res, 405, errorBody(405, 'only POST is allowed'), { allow: 'POST' });
      return;
    }
    const parts: Buffer[] = [];
    let rawBytes = 0;
    let overflow = false;
    req.on('data', (part: Buffer) => {
      rawBytes += part.length;
      // Keep reading (so the client is not cut off mid-write) but stop buffering past any legal size.
      if (rawBytes > 2 * DATADOG_MAX_PAYLOAD_BYTES) overflow = true;
      else parts.push(part);
    });
    req.on('end', () => {
      const encodingHeader = req.headers['content-encoding'];
      const encoding = encodingHeader ? encodingHeader.trim().toLowerCase() : null;
      const seen = { bytes: 0, entries: 0, truncated: 0 };
      const record: ReceivedRequest = { headers: req.headers, encoding, rawBytes, bytes: 0, entries: 0, status: 0, truncated: 0 };
      const ddtags = url.searchParams.get('ddtags');
      if (ddtags !== null) record.ddtags = ddtags;
      requests.push(record);

      let entries: Record<string, unknown>[] = [];
      let rejection: Rejection | undefined;
      try {
        if (overflow) throw new Rejection(413, `payload over ${DATADOG_MAX_PAYLOAD_BYTES} bytes uncompressed`);
        entries = parseBody(Buffer.concat(parts), encoding, seen);
      } catch (error) {
        if (!(error instanceof Rejection)) throw error;
        rejection = error;
      }
      record.bytes = seen.bytes;
      record.entries = seen.entries;
      record.truncated = seen.truncated;

      const fault = takeFault();
      if (fault) {
        if (fault.hang) {
          record.fault = 'hang';
          return;
        }
        if (fault.destroy) {
          record.fault = 'destroy';
          req.socket.destroy();
          return;
        }
        const status = fault.status ?? 500;
        record.fault = 'status';
        record.status = status;
        let headers = fault.headers ?? {};
        if (status === 429 && fault.headers === undefined) {
          headers = { 'x-ratelimit-limit': '100', 'x-ratelimit-period': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' };
        }
        const body = fault.body ?? (status < 300 ? '{}' : errorBody(status, 'injected fault'));
        answer(res, status, body, headers);
        return;
      }

      const key = req.headers['dd-api-key'];
      if (key !== options.apiKey) {
        record.status = 403;
        answer(res, 403, errorBody(403, 'API key is missing or invalid'));
        return;
      }
      if (!contentTypeIsJson(req.headers['content-type'])) {
        rejection = new Rejection(415, 'Content-Type must be application/json');
      }
      if (rejection) {
        record.status = rejection.status;
        answer(res, rejection.status, errorBody(rejection.status, rejection.message));
        return;
      }
      record.status = 202;
      logs.push(...entries);
      answer(res, 202, '{}');
      notify();
    });
  });
  // Keep idle keep-alive sockets longer than clients do, so a reused socket is never closed under them.
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (_error, socket) => socket.destroy());

  const listener = new RestartableListener(server, { port: options.port ?? 0 });
  const goAway = (): Promise<void> => listener.stop();

  await listener.listen();

  return {
    get url() {
      return `http://127.0.0.1:${listener.boundPort}`;
    },
    get port() {
      return listener.boundPort;
    },
    logs,
    requests,
    fault(...add: DatadogFault[]) {
      faults.push(...add);
    },
    goAway,
    async comeBack() {
      if (closed) throw new Error('DatadogIntake: comeBack after close');
      await listener.listen();
    },
    waitForLogs(n: number, timeoutMs = 5000) {
      return waiters.wait(n, timeoutMs);
    },
    async close() {
      if (closed) return;
      closed = true;
      await goAway();
      waiters.close();
    },
  };
}

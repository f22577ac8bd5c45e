/**
 * What went wrong with one delivery attempt, and what the delivery layer should do about it.
 *
 * A transport throws (or rejects with) a DeliveryError; anything else it throws is treated as a
 * network failure (retryable). Messages carry status codes, error codes and sizes, never
 * event contents or credentials.
 */

/**
 * - `retryable`: try the same batch again after a backoff (network errors, timeouts, 408, 429, 5xx).
 * - `too_large`: the receiver refused the request size (413): split the batch, down to one event.
 * - `permanent`: the receiver refused the content (400): dead-letter the batch, never retry it.
 * - `auth`: the receiver refused the credentials (401/403, bad shared key): a configuration
 *   error; the sink turns unhealthy and keeps the events (disk buffer or dead-letter).
 */
export type FailureKind = 'retryable' | 'too_large' | 'permanent' | 'auth';

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    readonly kind: FailureKind,
    /** Short class for counters and logs: "network", "timeout", "http_429", "http_5xx", "auth", ... */
    readonly errorClass: string,
    /** How long the receiver asked us to wait before the next attempt (Retry-After), in ms. */
    readonly retryAfterMs: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Reads a response header; returns null when absent. Names are lower-case. */
export type HeaderLookup = (name: string) => string | null | undefined;

/**
 * Maps a non-2xx HTTP status to a DeliveryError. `Retry-After` (seconds or an HTTP date) and
 * `x-ratelimit-reset` (seconds until the rate-limit window resets) are honoured on any status.
 */
export function httpStatusError(status: number, header: HeaderLookup, now = Date.now()): DeliveryError {
  const retryAfterMs = retryAfterFromHeaders(header, now);
  const message = `receiver answered HTTP ${status}`;
  if (status === 401 || status === 403) return new DeliveryError(message, 'auth', 'auth', null);
  if (status === 413) return new DeliveryError(message, 'too_large', 'http_413', null);
  if (status === 408) return new DeliveryError(message, 'retryable', 'timeout', retryAfterMs);
  if (status === 429) return new DeliveryError(message, 'retryable', 'http_429', retryAfterMs);
  if (status >= 500) return new DeliveryError(message, 'retryable', 'http_5xx', retryAfterMs);
  if (status >= 400) return new DeliveryError(message, 'permanent', `http_${status}`, null);
  // 1xx/3xx: nothing we can act on; the request may not have been processed, so retry.
  return new DeliveryError(message, 'retryable', `http_${status}`, retryAfterMs);
}

/** Milliseconds to wait from `Retry-After` or `x-ratelimit-reset`, or null when neither is usable. */
export function retryAfterFromHeaders(header: HeaderLookup, now = Date.now()): number | null {
  const retryAfter = header('retry-after');
  if (retryAfter != null && retryAfter.trim() !== '') {
    const text = retryAfter.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
    const date = Date.parse(text);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = header('x-ratelimit-reset');
  if (reset != null && /^\s*\d+(\.\d+)?\s*$/.test(reset)) {
    const value = Number(reset);
    // Datadog sends seconds until the reset; some APIs send an epoch time instead.
    if (value > 1_000_000_000) return Math.max(0, Math.round(value * 1000 - now));
    return Math.round(value * 1000);
  }
  return null;
}

/** A request that did not finish within its timeout. */
export function timeoutError(ms: number): DeliveryError {
  return new DeliveryError(`no answer within ${ms} ms`, 'retryable', 'timeout');
}

/**
 * Turns whatever a transport threw into a DeliveryError. Unknown errors count as network
 * failures: retrying is the safe default for an audit trail. Only the error's code or a short
 * message is kept (Node network errors carry addresses, never payloads).
 */
export function toDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const code = errorCode(error);
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new DeliveryError(`network timeout (${code})`, 'retryable', 'timeout', null, { cause: error });
  }
  const what = code ?? (error instanceof Error ? error.message : String(error));
  return new DeliveryError(`network error: ${what}`, 'retryable', 'network', null, { cause: error });
}

/** Node's codes for a peer certificate that does not verify against the trusted CAs or the name. */
const TLS_VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A TLS verification failure as an `auth` DeliveryError (a trust configuration problem, like
 * refused credentials: retrying soon will not help), or null for any other error.
 */
export function tlsVerifyError(error: unknown): DeliveryError | null {
  const code = errorCode(error);
  return code !== null && TLS_VERIFY_CODES.has(code)
    ? new DeliveryError(`TLS verification failed: ${code}`, 'auth', 'tls', null, { cause: error })
    : null;
}

/** The `code` of a Node system error, looking through `cause` (fetch wraps them). */
export function errorCode(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if (typeof e === 'object' && e !== null) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string') return code;
      e = (e as { cause?: unknown }).cause;
    } else break;
  }
  return null;
}

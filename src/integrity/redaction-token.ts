/**
 * Keyed redaction tokens (`[redact] mode = "hmac"`): a secret becomes
 * `[REDACTED:hmac-sha256:<first 24 hex of HMAC-SHA256(redaction key, secret)>]`, so equal secrets
 * show equal tokens and a suspected value can be tested with `audit-router hash`, while the log
 * never holds the secret and nobody without the key can test guesses against it.
 */
import { createHmac } from 'node:crypto';

const TOKEN_HEX = 24;
const TOKEN_RE = /^\[REDACTED(?::hmac-sha256:[0-9a-f]{24})?\]$/;

/** The token for one secret: strings as their UTF-8 text, other JSON values as their compact JSON. */
export function redactionToken(key: Buffer, secret: string): string {
  const mac = createHmac('sha256', key).update(secret, 'utf8').digest('hex');
  return `[REDACTED:hmac-sha256:${mac.slice(0, TOKEN_HEX)}]`;
}

/** What replaces a secret: given the secret, returns its mask. */
export type Masker = (secret: unknown) => string;

/**
 * `mode = "hmac"`. A value that already is a mask (redisctl-mcp's `[REDACTED]`, or a token from an
 * earlier pass) is kept as it is: masking is idempotent.
 */
export function hmacMasker(key: Buffer): Masker {
  return (secret) => {
    if (typeof secret === 'string') return TOKEN_RE.test(secret) ? secret : redactionToken(key, secret);
    return redactionToken(key, JSON.stringify(secret) ?? String(secret));
  };
}

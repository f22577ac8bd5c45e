/**
 * The options that take key material, turned into what the code needs: a file sink's `integrity`
 * (`integrity = { key_file = "…" }`: the chain key, the signing key, the checkpoint interval) and
 * `[redact] mode = "hmac"` (the redaction key). Keys are read with their permission checks;
 * errors name the option and the file, never anything of the key's bytes.
 */
import type { KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import { ConfigError } from '../util/errors';
import { parseDuration } from '../util/units';
import { loadSecret, loadSigningKey } from './keys';
import { hmacMasker, type Masker } from './redaction-token';

export interface ChainSettings {
  key: Buffer;
  signingKey: KeyObject | null;
  checkpointIntervalMs: number;
}

/** A checkpoint at least this often (also when idle), unless `checkpoint_interval` says otherwise. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;

/** Shortest checkpoint interval accepted. */
const MIN_INTERVAL_MS = 100;

/** null when the option is absent or false. */
export function chainSettings(raw: unknown, baseDir: string): ChainSettings | null {
  if (raw === undefined || raw === false) return null;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('must be a table', undefined, 'integrity');
  const o = raw as Record<string, unknown>;
  const keyFile = o['key_file'];
  const keyEnv = o['key_env'];
  if ((keyFile === undefined) === (keyEnv === undefined)) {
    throw new ConfigError('needs exactly one of key_file (a file only its owner can read) or key_env (an environment variable)', undefined, 'integrity');
  }
  const key = loadSecret(
    typeof keyFile === 'string' ? { file: resolve(baseDir, keyFile) } : { env: String(keyEnv) },
    typeof keyFile === 'string' ? 'integrity.key_file' : 'integrity.key_env',
  );
  const signing = o['signing_key_file'];
  const signingKey = typeof signing === 'string' ? loadSigningKey(resolve(baseDir, signing), 'integrity.signing_key_file') : null;
  const interval = o['checkpoint_interval'];
  let checkpointIntervalMs = DEFAULT_CHECKPOINT_INTERVAL_MS;
  if (interval !== undefined) {
    const ms = typeof interval === 'string' || typeof interval === 'number' ? parseDuration(interval) : null;
    if (ms === null || ms < MIN_INTERVAL_MS) {
      throw new ConfigError(`must be a duration of at least ${MIN_INTERVAL_MS}ms, such as "60s"`, undefined, 'integrity.checkpoint_interval');
    }
    checkpointIntervalMs = ms;
  }
  return { key, signingKey, checkpointIntervalMs };
}

/** `[redact] mode` and its key: what replaces a secret. */
export interface RedactionMode {
  mode: 'mask' | 'hmac';
  /** hmac: the redactor's mask, holding the key in its closure only (a function: never printed); mask: null. */
  mask: Masker | null;
}

/**
 * `[redact] mode = "mask" | "hmac"` with `key_file` (0600) or `key_env` for hmac. The redaction key
 * must not be the chain key: a leaked one must not let anyone forge the chain, and the other way round.
 */
export function redactionMode(section: Record<string, unknown>, configFile: string | undefined, baseDir: string): RedactionMode {
  const mode = section['mode'] ?? 'mask';
  const keyFile = section['key_file'];
  const keyEnv = section['key_env'];
  if (mode === 'mask') {
    if (keyFile !== undefined || keyEnv !== undefined) {
      throw new ConfigError('a redaction key is only used with mode = "hmac"', configFile, keyFile !== undefined ? 'redact.key_file' : 'redact.key_env');
    }
    return { mode, mask: null };
  }
  if (mode !== 'hmac') throw new ConfigError('must be "mask" or "hmac"', configFile, 'redact.mode');
  if ((keyFile === undefined) === (keyEnv === undefined)) {
    throw new ConfigError('mode = "hmac" needs exactly one of key_file (a file only its owner can read) or key_env', configFile, 'redact');
  }
  const key =
    typeof keyFile === 'string'
      ? loadSecret({ file: resolve(baseDir, keyFile) }, 'redact.key_file', configFile)
      : loadSecret({ env: String(keyEnv) }, 'redact.key_env', configFile);
  return { mode, mask: hmacMasker(key) };
}

/**
 * The `integrity` option of a file sink (`integrity = { key_file = "…" }`), turned into what the
 * chain writer needs: the keys read (with their permission checks) and the checkpoint interval.
 * Throws ConfigError naming the key; never says anything about the key's bytes.
 */
import type { KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import { ConfigError } from '../util/errors';
import { parseDuration } from '../util/units';
import { loadSecret, loadSigningKey } from './keys';
import { DEFAULT_CHECKPOINT_INTERVAL_MS } from './writer';

export interface ChainSettings {
  key: Buffer;
  signingKey: KeyObject | null;
  checkpointIntervalMs: number;
}

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

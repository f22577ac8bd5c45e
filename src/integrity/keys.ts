/**
 * Key material for the chain, checkpoint signatures and keyed redaction: read from a file that
 * only its owner can read, or from an environment variable. Errors name the file or variable and
 * what to do; they never carry a byte of the key.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../util/errors';

/** Shortest secret accepted for HMAC keys: 32 bytes (e.g. `openssl rand -hex 32` gives 64). */
export const MIN_SECRET_BYTES = 32;

/** Where a secret comes from: a file (mode 0600 or stricter) or an environment variable. */
export interface KeySource {
  file?: string;
  env?: string;
}

/**
 * Reads a key file after checking that group and others cannot read or write it. `what` names it
 * in errors ("integrity.key_file"), `configFile` is the config it was named in.
 */
export function readKeyFile(path: string, what: string, configFile?: string): Buffer {
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ConfigError(`${path} is not a regular file`, configFile, what);
    mode = st.mode & 0o777;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, configFile, what);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `key file ${path} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`,
      configFile,
      what,
    );
  }
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, configFile, what);
  }
}

/**
 * An HMAC secret: the file's bytes (or the variable's value) without trailing white space, at
 * least MIN_SECRET_BYTES long.
 */
export function loadSecret(source: KeySource, what: string, configFile?: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  let raw: Buffer;
  let origin: string;
  if (source.file !== undefined) {
    raw = readKeyFile(source.file, what, configFile);
    origin = `key file ${source.file}`;
  } else if (source.env !== undefined) {
    const value = env[source.env];
    if (value === undefined || value === '') throw new ConfigError(`environment variable ${source.env} is not set`, configFile, what);
    raw = Buffer.from(value, 'utf8');
    origin = `environment variable ${source.env}`;
  } else {
    throw new ConfigError('needs a key file or an environment variable', configFile, what);
  }
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d || raw[end - 1] === 0x20 || raw[end - 1] === 0x09)) end--;
  const secret = Buffer.from(raw.subarray(0, end));
  raw.fill(0);
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ConfigError(
      `${origin} holds ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are needed (create one with: openssl rand -hex 32)`,
      configFile,
      what,
    );
  }
  return secret;
}

/** An Ed25519 private key (PEM, PKCS#8: `openssl genpkey -algorithm ed25519`) from a 0600 file. */
export function loadSigningKey(path: string, what: string, configFile?: string): KeyObject {
  const pem = readKeyFile(path, what, configFile);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ConfigError(`${path} is not a PEM private key (create one with: openssl genpkey -algorithm ed25519 -out ${path})`, configFile, what);
  } finally {
    pem.fill(0);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; checkpoints are signed with Ed25519`, configFile, what);
  }
  return key;
}

/** An Ed25519 public key (PEM SPKI, or the private key, from which it is derived). No mode check: it is public. */
export function loadPublicKey(path: string, what: string): KeyObject {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, undefined, what);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigError(`${path} is not a PEM public key (derive one with: openssl pkey -in signing.pem -pubout)`, undefined, what);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; checkpoints are signed with Ed25519`, undefined, what);
  }
  return key;
}

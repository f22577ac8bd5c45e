/**
 * Test helpers for chained trails on disk: keys with the right permissions, copying a trail, and
 * editing one file of it in place (plain or gzip) the way an attacker with write access would.
 */
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { chmodSync, cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export interface Keys {
  /** The chain key file (hex text, mode 0600) and its content. */
  chainKeyFile: string;
  chainKey: string;
  signingKeyFile: string;
  publicKeyFile: string;
  /** Another signing key, for re-signing attacks. */
  otherSigningKey: KeyObject;
  /** Everything secret, to check that no output ever holds it. */
  secrets: string[];
}

export function makeKeys(dir: string): Keys {
  const chainKey = randomBytes(32).toString('hex');
  const chainKeyFile = join(dir, 'chain.key');
  writeFileSync(chainKeyFile, chainKey + '\n', { mode: 0o600 });
  chmodSync(chainKeyFile, 0o600);
  const pair = generateKeyPairSync('ed25519');
  const signingPem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const signingKeyFile = join(dir, 'signing.pem');
  writeFileSync(signingKeyFile, signingPem, { mode: 0o600 });
  chmodSync(signingKeyFile, 0o600);
  const publicKeyFile = join(dir, 'signing.pub.pem');
  writeFileSync(publicKeyFile, pair.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  const pemBody = signingPem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
  return {
    chainKeyFile,
    chainKey,
    signingKeyFile,
    publicKeyFile,
    otherSigningKey: generateKeyPairSync('ed25519').privateKey,
    secrets: [chainKey, pemBody],
  };
}

/** A file's lines (decompressed), without the final empty string after the last newline. */
export function readLinesOf(file: string): string[] {
  const raw = file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file);
  const lines = raw.toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Rewrites a file (gzip again when it is a .gz) with new content. */
export function writeRaw(file: string, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  writeFileSync(file, file.endsWith('.gz') ? gzipSync(bytes) : bytes);
}

export function writeLinesOf(file: string, lines: string[]): void {
  writeRaw(file, lines.map((l) => l + '\n').join(''));
}

/** Copies a trail directory to a fresh one (an attack per copy). */
export function copyTrail(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

/** The rotated files of `base` (by name) and then `base`: the trail in order. */
export function trailFiles(dir: string, name: string): string[] {
  const rotated = readdirSync(dir).filter((n) => n.startsWith(name + '.') && /Z\.\d{3}(\.gz)?$/.test(n)).sort();
  return [...rotated.map((n) => join(dir, n)), join(dir, name)];
}

export interface ChainedLine {
  seq: number;
  record: string | null;
  json: Record<string, unknown>;
}

export function parseLine(line: string): ChainedLine {
  const json = JSON.parse(line) as Record<string, unknown>;
  return { seq: json['_seq'] as number, record: (json['_record'] as string | undefined) ?? null, json };
}

/** The index of the first event line (not open/checkpoint) at or after `from`. */
export function eventIndex(lines: string[], from = 0): number {
  for (let i = from; i < lines.length; i++) if (parseLine(lines[i]!).record === null) return i;
  throw new Error('no event line');
}

/** An attacker who believes the chain is a plain hash chain: recomputes `_chain` as SHA-256(prev || body). */
export function plainRechain(line: string, prevChainHex: string): string {
  const at = line.lastIndexOf(',"_chain":"');
  const body = line.slice(0, at);
  const chain = createHash('sha256').update(Buffer.from(prevChainHex, 'hex')).update(body).digest('hex');
  return `${body},"_chain":"${chain}"}`;
}

/** An attacker with some key (not the right one) rechaining a line: HMAC with a wrong key. */
export function rechainWith(line: string, prevChainHex: string, key: Buffer): string {
  const at = line.lastIndexOf(',"_chain":"');
  const body = line.slice(0, at);
  const chain = createHmac('sha256', key).update(Buffer.from(prevChainHex, 'hex')).update(body).digest('hex');
  return `${body},"_chain":"${chain}"}`;
}

/** Re-signs a checkpoint line with another Ed25519 key. */
export function resign(line: string, key: KeyObject): string {
  const at = line.lastIndexOf(',"_sig":"');
  const signed = line.slice(0, at);
  return `${signed},"_sig":"${sign(null, Buffer.from(signed, 'utf8'), key).toString('base64')}"}`;
}

/** SHA-256 (hex) of the lines before index `i`, each with its newline: a checkpoint's file_sha256. */
export function sha256Before(lines: string[], i: number): string {
  const h = createHash('sha256');
  for (let k = 0; k < i; k++) h.update(lines[k]! + '\n');
  return h.digest('hex');
}

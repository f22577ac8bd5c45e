/**
 * audit-router's own records in a chained file: the `open` record that starts every file (and
 * every run), and the `checkpoint` that closes a segment (rotation, shutdown, every interval),
 * optionally signed with Ed25519. Field order is fixed; docs/integrity.md lists every field.
 */
import { sign, verify, type KeyObject } from 'node:crypto';

/** Why a file was (re)opened. */
export type OpenReason = 'start' | 'restart' | 'rotation' | 'reopen';
/** Why a checkpoint was written. */
export type CheckpointReason = 'interval' | 'rotation' | 'shutdown' | 'reopen' | 'close';

export interface OpenFields {
  audit_router: 'open';
  reason: OpenReason;
  /** The file's name as written (the sink's path, base name). */
  file: string;
  /** The file the chain comes from (a rotated file's name), or null at the very start. */
  prev_file: string | null;
  /** The sequence number and chain value this record follows (0 and zeros at the start). */
  prev_seq: number;
  prev_chain: string;
  /** restart: whether the previous run ended with a shutdown checkpoint. */
  clean?: boolean;
  time: string;
}

export interface CheckpointFields {
  audit_router: 'checkpoint';
  reason: CheckpointReason;
  file: string;
  /** Sequence numbers of the first record of this file and of the last one before this checkpoint. */
  first_seq: number;
  last_seq: number;
  /** Event records in this file before this checkpoint. */
  count: number;
  /** The chain value of record `last_seq`. */
  chain: string;
  /** SHA-256 of this file's bytes (uncompressed) before this checkpoint's line. */
  file_sha256: string;
  /** The last chain value of the previous file (its closing checkpoint's), or null for the first file. */
  prev_file_chain: string | null;
  /** The writer's checkpoint interval: a live trail has a checkpoint at most this old. */
  interval_ms: number;
  time: string;
}

export type ControlFields = OpenFields | CheckpointFields;

export function signCheckpoint(signingKey: KeyObject, signed: string | Buffer): Buffer {
  return sign(null, typeof signed === 'string' ? Buffer.from(signed, 'utf8') : signed, signingKey);
}

export function checkSignature(publicKey: KeyObject, signed: Buffer, signature: Buffer): boolean {
  try {
    return verify(null, signed, publicKey, signature);
  } catch {
    return false;
  }
}

/** Reads the control fields of a chained line of kind open/checkpoint; null when they do not have the documented shape. */
export function parseControl(line: Buffer): ControlFields | null {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const isHex = (x: unknown): x is string => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x);
  const isSeq = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (v['audit_router'] === 'open') {
    if (typeof v['file'] !== 'string' || !isSeq(v['prev_seq']) || !isHex(v['prev_chain'])) return null;
    if (v['prev_file'] !== null && typeof v['prev_file'] !== 'string') return null;
    return v as unknown as OpenFields;
  }
  if (v['audit_router'] === 'checkpoint') {
    if (typeof v['file'] !== 'string' || !isSeq(v['first_seq']) || !isSeq(v['last_seq']) || !isSeq(v['count'])) return null;
    if (!isHex(v['chain']) || !isHex(v['file_sha256'])) return null;
    if (v['prev_file_chain'] !== null && !isHex(v['prev_file_chain'])) return null;
    return v as unknown as CheckpointFields;
  }
  return null;
}

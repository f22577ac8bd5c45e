/**
 * The record format of a chained file (docs/integrity.md, "Format"): how a line is sealed with its
 * sequence number and chain value, and how a verifier takes one apart again, on bytes.
 *
 * A chained line is the record's compact JSON with its closing `}` replaced by
 *   `,"_seq":N}`                                  → BODY (for an event), or
 *   `,"_seq":N,"_record":"open|checkpoint"}`      → BODY (for a record of audit-router's own)
 * minus that final `}`, then `,"_chain":"<64 hex>"` [`,"_sig":"<88 base64>"`] `}` and `\n`.
 * chain(n) = HMAC-SHA256(key, chain(n-1) as 32 raw bytes || BODY bytes); chain(0) = 32 zero bytes.
 * The suffix is written by audit-router alone, after the record, so nothing in an event can make a
 * line parse as one of audit-router's own records, and the `_record` tag is inside the HMAC.
 */
import { createHmac } from 'node:crypto';

export const CHAIN_BYTES = 32;
/** The chain value before the first record of a trail. */
export const GENESIS: Buffer = Buffer.alloc(CHAIN_BYTES);

/** audit-router's own records in a chained file. */
export type ControlKind = 'open' | 'checkpoint';
export type RecordKind = 'event' | ControlKind;

const CHAIN_MARK = Buffer.from(',"_chain":"', 'latin1');
const SIG_MARK = ',"_sig":"';
const HEX_LEN = CHAIN_BYTES * 2;
/** An Ed25519 signature (64 bytes) in base64. */
export const SIG_B64_LEN = 88;
const TAIL_RE = /(?:^\{|,)"_seq":(0|[1-9][0-9]{0,15})(?:,"_record":"(open|checkpoint)")?$/;

/** HMAC-SHA256(key, prev || body): the chain value of one record. */
export function chainValue(key: Buffer, prev: Buffer, body: Buffer | string): Buffer {
  return createHmac('sha256', key).update(prev).update(body).digest();
}

/**
 * BODY for a record whose compact JSON is `json` (an object: `{...}`): the JSON without its
 * closing brace, then the sequence number (and the tag of audit-router's own records).
 */
export function recordBody(json: string, seq: number, kind: RecordKind = 'event'): string {
  const open = json.slice(0, -1);
  const sep = open.length === 1 ? '' : ','; // `{}` becomes `{"_seq":N`
  const tag = kind === 'event' ? '' : `,"_record":"${kind}"`;
  return `${open}${sep}"_seq":${seq}${tag}`;
}

/** The whole line (newline included) for BODY, its chain value and, for checkpoints, a signature. */
export function sealedLine(body: string, chain: Buffer, signature?: Buffer): string {
  const sig = signature ? `${SIG_MARK}${signature.toString('base64')}"` : '';
  return `${body},"_chain":"${chain.toString('hex')}"${sig}}\n`;
}

/** The bytes a checkpoint's Ed25519 signature covers: BODY and its chain field. */
export function signedPart(body: string, chain: Buffer): string {
  return `${body},"_chain":"${chain.toString('hex')}"`;
}

/** One chained line taken apart (views into the line's bytes, valid while the line is). */
export interface ParsedRecord {
  seq: number;
  kind: RecordKind;
  /** The bytes the HMAC covers. */
  body: Buffer;
  /** The chain value the line claims. */
  chain: Buffer;
  /** BODY plus the chain field: what a checkpoint signature covers. */
  signed: Buffer;
  /** A checkpoint's signature, when it has one. */
  signature: Buffer | null;
}

/**
 * Takes a chained line apart (without its newline); null when it does not end in chain fields
 * (a line audit-router did not write, or a damaged one).
 */
export function parseRecord(line: Buffer): ParsedRecord | null {
  const end = line.length;
  if (end < CHAIN_MARK.length + HEX_LEN + 2 || line[end - 1] !== 0x7d /* } */) return null;
  const at = line.lastIndexOf(CHAIN_MARK, end - 1 - HEX_LEN);
  if (at < 0) return null;
  const hexStart = at + CHAIN_MARK.length;
  const hexEnd = hexStart + HEX_LEN;
  if (line[hexEnd] !== 0x22 /* " */) return null;
  let signature: Buffer | null = null;
  if (hexEnd + 2 !== end) {
    const rest = line.toString('latin1', hexEnd + 1, end - 1);
    if (rest.length !== SIG_MARK.length + SIG_B64_LEN + 1 || !rest.startsWith(SIG_MARK) || !rest.endsWith('"')) return null;
    const b64 = rest.slice(SIG_MARK.length, -1);
    if (!/^[A-Za-z0-9+/]{86}==$/.test(b64)) return null;
    signature = Buffer.from(b64, 'base64');
  }
  const hex = line.toString('latin1', hexStart, hexEnd);
  if (!/^[0-9a-f]{64}$/.test(hex)) return null;
  const body = line.subarray(0, at);
  const tail = TAIL_RE.exec(body.toString('latin1', Math.max(0, at - 64), at));
  if (!tail) return null;
  const kind = (tail[2] as ControlKind | undefined) ?? 'event';
  if (signature && kind !== 'checkpoint') return null;
  return { seq: Number(tail[1]), kind, body, chain: Buffer.from(hex, 'hex'), signed: line.subarray(0, hexEnd + 1), signature };
}

/**
 * The event as every other sink received it: the record's JSON before the chain fields were added.
 * (Documented so that anyone can reconstruct it; the verifier does not need it.)
 */
export function originalJson(record: ParsedRecord): string {
  const body = record.body.toString('utf8');
  const at = body.lastIndexOf('"_seq":');
  const open = body.slice(0, at);
  return open.endsWith(',') ? open.slice(0, -1) + '}' : open + '}';
}

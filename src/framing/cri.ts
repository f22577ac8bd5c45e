/**
 * The CRI log format, as the kubelet writes container logs under /var/log/pods:
 *
 *   <RFC3339Nano time> <stdout|stderr> <tags> <content>\n
 *
 * where the first tag is `P` (a part: the kubelet splits lines at 16 KiB) or `F` (the last or
 * only part). Parts of one stream are joined until its `F` part; stdout and stderr are joined
 * apart, since the kubelet interleaves them. `max_line_bytes` applies to the joined line. A line
 * that does not have this shape is malformed: counted and reported as size + hash, never content.
 * The content bytes are handed on exactly as they were written.
 */
import { type Decoder, type DecoderCounters, type FramingOptions, JoiningDecoder, type FramedPart } from './decoder';

const SP = 0x20;
const P = 0x50;
const F = 0x46;
const COLON = 0x3a;
const EMPTY = Buffer.alloc(0);
/** 2016-10-06T00:17:09.669794202Z or with an offset: 2016-10-06T00:17:09.669794202+02:00. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Reads the framing of one raw CRI line; null when it is not one. `content` views `bytes`. */
export function parseCriLine(bytes: Buffer): FramedPart | null {
  const s1 = bytes.indexOf(SP);
  if (s1 < 20 || s1 > 40) return null;
  const s2 = bytes.indexOf(SP, s1 + 1);
  if (s2 < 0) return null;
  const streamLength = s2 - s1 - 1;
  if (streamLength !== 6) return null;
  const stream = bytes.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const s3 = bytes.indexOf(SP, s2 + 1);
  const tagEnd = s3 < 0 ? bytes.length : s3;
  const tag = bytes[s2 + 1];
  if ((tag !== P && tag !== F) || (tagEnd > s2 + 2 && bytes[s2 + 2] !== COLON)) return null;
  if (!RFC3339.test(bytes.toString('latin1', 0, s1))) return null;
  return { stream, partial: tag === P, content: s3 < 0 ? EMPTY : bytes.subarray(s3 + 1) };
}

/** A decoder for CRI lines: `P` parts joined per stream until the `F` part. */
export function criDecoder(options: FramingOptions, counters: DecoderCounters): Decoder {
  return new JoiningDecoder('cri', parseCriLine, options, counters);
}

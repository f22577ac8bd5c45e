/**
 * Docker's json-file log format: one JSON object a line,
 *
 *   {"log":"<content>\n","stream":"stderr","time":"2026-03-05T10:30:00.123456789Z"}
 *
 * Docker splits long lines at 16 KiB: a `log` without its trailing newline is a part, joined with
 * the following lines of the same stream until one ends with a newline. `max_line_bytes` applies
 * to the joined content. A line that is not such an object is malformed: counted and reported as
 * size + hash. Only the framing is parsed here; the content is handed on as the UTF-8 bytes of the
 * `log` string (the JSON escapes undone, nothing else changed).
 */
import { type Decoder, type DecoderCounters, type FramingOptions, JoiningDecoder, type FramedPart } from './decoder';

/** Reads one json-file line; null when it is not one. */
export function parseDockerLine(bytes: Buffer): FramedPart | null {
  if (bytes[0] !== 0x7b) return null; // "{"
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { log, stream } = value as { log?: unknown; stream?: unknown };
  if (typeof log !== 'string' || (stream !== 'stdout' && stream !== 'stderr')) return null;
  const partial = !log.endsWith('\n');
  let end = partial ? log.length : log.length - 1;
  if (!partial && end > 0 && log.charCodeAt(end - 1) === 0x0d) end--; // "\r\n", as the line splitter does
  return { stream, partial, content: Buffer.from(end === log.length ? log : log.slice(0, end), 'utf8') };
}

/** A decoder for json-file lines: lines without a trailing newline joined per stream. */
export function dockerDecoder(options: FramingOptions, counters: DecoderCounters): Decoder {
  return new JoiningDecoder('docker', parseDockerLine, options, counters);
}

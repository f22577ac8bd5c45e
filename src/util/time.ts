/**
 * RFC 3339 timestamps to exact seconds and nanoseconds: every fractional digit kept (a JS Date
 * would cut them to milliseconds), the offset applied. For sinks whose protocol carries
 * nanoseconds (Fluentd's EventTime, OTLP's time_unix_nano).
 */

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?([Zz]|[+-]\d{2}:?\d{2})$/;

/** Seconds since the epoch and nanoseconds; null when the text is not RFC 3339 or lies before the epoch. */
export function parseTimestamp(text: string): { seconds: number; nanoseconds: number } | null {
  const m = TIMESTAMP.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let seconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
  const zone = m[8]!;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    seconds -= sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60);
  }
  if (!Number.isSafeInteger(seconds) || seconds < 0) return null;
  return { seconds, nanoseconds: m[7] ? Number(m[7].padEnd(9, '0')) : 0 };
}

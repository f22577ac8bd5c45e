/**
 * Time for the report: RFC 3339 timestamps as tracing-subscriber writes them, to microseconds
 * since the epoch (exact: 2026 is ~1.8e15 µs, far below 2^53), the --since/--until syntax, and
 * the UTC buckets (minute, hour, day) counts are kept in.
 */
import { ConfigError } from '../util/errors';
import { parseDuration } from '../util/units';

const TIMESTAMP_RE = /^(\d{4}-\d\d-\d\d)[Tt](\d\d:\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$/;

export const US_PER_MINUTE = 60_000_000;
export const US_PER_HOUR = 60 * US_PER_MINUTE;
export const US_PER_DAY = 24 * US_PER_HOUR;

/**
 * Parses timestamps to µs since the epoch, caching the whole-second part (events come many per
 * second, so Date.parse runs once a second of trail). NaN when it is not RFC 3339.
 */
export class TimestampParser {
  private lastKey = '';
  private lastMs = 0;

  parse(ts: string): number {
    const m = TIMESTAMP_RE.exec(ts);
    if (m === null) return Number.NaN;
    let seconds = m[3]!;
    let leap = 0;
    if (seconds === '60') {
      // A leap second is the last second of its minute, counted as :59 plus one.
      seconds = '59';
      leap = 1000;
    }
    const zone = m[5]!.toUpperCase();
    const key = `${m[1]}T${m[2]}:${seconds}${zone}`;
    let ms: number;
    if (key === this.lastKey) ms = this.lastMs;
    else {
      ms = Date.parse(key);
      if (Number.isNaN(ms)) return Number.NaN;
      this.lastKey = key;
      this.lastMs = ms;
    }
    const fraction = m[4];
    const us = fraction === undefined ? 0 : Number((fraction + '00000').slice(0, 6));
    return (ms + leap) * 1000 + us;
  }
}

/** µs since the epoch as an RFC 3339 UTC timestamp, with microseconds only when there are some. */
export function formatUs(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // 2026-03-05T10:30:00.123Z
  const micro = us - ms * 1000;
  if (micro === 0) return iso.endsWith('.000Z') ? iso.slice(0, 19) + 'Z' : iso;
  return `${iso.slice(0, 23)}${String(micro).padStart(3, '0')}Z`;
}

/** The start of a UTC minute, "2026-03-05T10:30Z". */
export function formatMinute(minute: number): string {
  return new Date(minute * 60_000).toISOString().slice(0, 16) + 'Z';
}

/**
 * A --since/--until value: an RFC 3339 timestamp, a date (UTC midnight), a date and time without
 * zone (UTC), or a duration before `now` ("90m", "24h", "7d"). Returns µs since the epoch.
 */
export function parseTimeOption(value: string, flag: string, nowMs: number): number {
  const text = value.trim();
  const parser = new TimestampParser();
  let us = parser.parse(text);
  if (!Number.isNaN(us)) return us;
  const date = /^(\d{4}-\d\d-\d\d)$/.exec(text);
  if (date) us = parser.parse(`${date[1]}T00:00:00Z`);
  const local = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)(:\d\d(?:\.\d{1,9})?)?$/.exec(text);
  if (local) us = parser.parse(`${local[1]}T${local[2]}${local[3] ?? ':00'}Z`);
  if (!Number.isNaN(us)) return us;
  const ago = parseDuration(text);
  if (ago !== null && /[a-z]$/i.test(text)) return (nowMs - ago) * 1000;
  throw new ConfigError(
    `${flag}: ${JSON.stringify(value)} is not a time; use an RFC 3339 timestamp (2026-03-05T10:30:00Z), a date (2026-03-05) or a duration before now (90m, 24h, 7d)`,
  );
}

/**
 * Small parts of the report: timestamps to microseconds (offsets, fractions, leap seconds), the
 * --since/--until forms, tool globs, the progress bar (a terminal only), the write/destructive
 * classification's shape.
 */
import { describe, expect, it } from 'vitest';
import { toolMatcher } from '../../src/cli/report';
import { Progress } from '../../src/report/progress';
import { DESTRUCTIVE_TOOLS, READ_ONLY_TOOLS, toolSafety, WRITE_TOOLS } from '../../src/report/safety';
import { formatUs, parseTimeOption, TimestampParser } from '../../src/report/time';

describe('timestamps', () => {
  const p = new TimestampParser();
  it('parses RFC 3339 to exact microseconds, with any zone and 0-9 fraction digits', () => {
    const base = Date.UTC(2026, 2, 5, 10, 30, 0) * 1000;
    expect(p.parse('2026-03-05T10:30:00Z')).toBe(base);
    expect(p.parse('2026-03-05T10:30:00.631713Z')).toBe(base + 631_713);
    expect(p.parse('2026-03-05T10:30:00.6Z')).toBe(base + 600_000);
    expect(p.parse('2026-03-05T10:30:00.123456789Z')).toBe(base + 123_456);
    expect(p.parse('2026-03-05t12:30:00.5+02:00')).toBe(base + 500_000);
    expect(p.parse('2026-03-05T10:29:60Z')).toBe(base);
    expect(Number.isNaN(p.parse('Mar 05 10:30:00'))).toBe(true);
    expect(formatUs(base + 631_713)).toBe('2026-03-05T10:30:00.631713Z');
    expect(formatUs(base)).toBe('2026-03-05T10:30:00Z');
  });

  it('reads --since/--until as timestamps, dates, zone-less times (UTC) or durations ago', () => {
    const now = Date.UTC(2026, 2, 5, 12, 0, 0);
    expect(parseTimeOption('2026-03-05', '--since', now)).toBe(Date.UTC(2026, 2, 5) * 1000);
    expect(parseTimeOption('2026-03-05 10:30', '--since', now)).toBe(Date.UTC(2026, 2, 5, 10, 30) * 1000);
    expect(parseTimeOption('2026-03-05T10:30:00+01:00', '--since', now)).toBe(Date.UTC(2026, 2, 5, 9, 30) * 1000);
    expect(parseTimeOption('90m', '--since', now)).toBe((now - 90 * 60_000) * 1000);
    expect(parseTimeOption('7d', '--since', now)).toBe((now - 7 * 86_400_000) * 1000);
    expect(() => parseTimeOption('1500', '--until', now)).toThrow(/--until/);
    expect(() => parseTimeOption('soon', '--until', now)).toThrow(/not a time/);
  });
});

describe('tool globs', () => {
  it('match whole names with * and ?, lists and repeats', () => {
    const m = toolMatcher(['redis_*', 'get_?????ase,show_policy'])!;
    expect(['redis_get', 'redis_', 'get_database', 'show_policy'].every(m)).toBe(true);
    expect(['xredis_get', 'get_databases', 'show_policy2', 'list_databases'].some(m)).toBe(false);
    expect(toolMatcher(['a.b'])!('axb')).toBe(false);
    expect(toolMatcher([])).toBeNull();
  });
});

describe('progress bar', () => {
  it('draws on a terminal at most every 100 ms and erases itself', () => {
    const out: string[] = [];
    let t = 0;
    const bar = new Progress({ isTTY: true, columns: 80, write: (s) => out.push(s) }, 1000, () => t);
    t = 200;
    bar.read(500);
    bar.event();
    t = 250;
    bar.read(100); // within 100 ms of the last draw: not drawn
    t = 400;
    bar.read(400);
    bar.finish();
    expect(out).toHaveLength(3);
    expect(out[0]).toContain(' 50%');
    expect(out[1]).toContain('100%');
    expect(out[1]).toContain('1 events');
    expect(out[2]).toBe('\r\x1b[K');
    for (const line of out) expect(line.length).toBeLessThanOrEqual(85);
  });

  it('keeps the figures whole on a terminal that reports no width or a narrow one', () => {
    for (const columns of [0, 40]) {
      const bar = new Progress({ isTTY: true, columns, write: () => {} }, 300 * 1048576);
      bar.read(123 * 1048576);
      for (let i = 0; i < 1234; i++) bar.event();
      const line = bar.line();
      expect(line).toContain('1,234 events');
      expect(line.length).toBeLessThan(columns === 0 ? 80 : 40);
    }
  });

  it('writes nothing when not a terminal', () => {
    const out: string[] = [];
    const bar = new Progress({ isTTY: false, write: (s) => out.push(s) }, 10, () => 1e9);
    bar.read(10);
    bar.finish();
    expect(out).toEqual([]);
  });
});

describe('write/destructive classification', () => {
  it('puts every upstream tool in exactly one class', () => {
    const all = [...DESTRUCTIVE_TOOLS, ...WRITE_TOOLS, ...READ_ONLY_TOOLS];
    expect(new Set(all).size).toBe(all.length);
    expect([DESTRUCTIVE_TOOLS.size, WRITE_TOOLS.size, READ_ONLY_TOOLS.size]).toEqual([42, 140, 193]);
    expect(toolSafety('redis_del')).toBe('destructive');
    expect(toolSafety('redis_set')).toBe('write');
    expect(toolSafety('redis_get')).toBe('read-only');
    expect(toolSafety('redis_alias_delete')).toBe('write');
    expect(toolSafety('list_profiles')).toBe('unknown');
  });
});

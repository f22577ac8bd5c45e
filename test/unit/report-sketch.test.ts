/**
 * The report's duration statistics (src/report/sketch.ts): exact nearest-rank percentiles up to
 * EXACT_DISTINCT_LIMIT distinct values, then DDSketch within RELATIVE_ERROR of the exact value,
 * checked against sorting on skewed, uniform and heavy-tailed inputs; counts, extremes and the
 * power-of-two histogram exact in both modes.
 */
import { describe, expect, it } from 'vitest';
import { DDSketch, DurationStats, EXACT_DISTINCT_LIMIT, RELATIVE_ERROR } from '../../src/report/sketch';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function exact(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!;
}

const QUANTILES = [0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

describe('DurationStats', () => {
  it('is exact (nearest rank) while the distinct values stay within the limit', () => {
    const r = rng(1);
    const values = Array.from({ length: 50_000 }, () => Math.floor(r() * r() * EXACT_DISTINCT_LIMIT));
    const stats = new DurationStats();
    for (const v of values) stats.add(v);
    const s = stats.summary();
    expect(s.method).toBe('exact');
    expect(s.relative_error).toBe(0);
    expect([s.p50_ms, s.p95_ms, s.p99_ms]).toEqual([exact(values, 0.5), exact(values, 0.95), exact(values, 0.99)]);
    expect(s.max_ms).toBe(Math.max(...values));
    expect(s.min_ms).toBe(Math.min(...values));
    expect(s.count).toBe(values.length);
  });

  for (const [name, draw] of [
    ['uniform', (r: () => number) => Math.floor(r() * 1_000_000)],
    ['log-normal-ish', (r: () => number) => Math.floor(Math.exp(2 + 10 * r() * r()))],
    ['heavy tail', (r: () => number) => Math.floor(10 / (1e-6 + r() ** 3))],
  ] as const) {
    it(`past the limit, every percentile is within ${RELATIVE_ERROR * 100} % (${name})`, () => {
      const r = rng(7);
      const values = Array.from({ length: 60_000 }, () => draw(r));
      const stats = new DurationStats();
      for (const v of values) stats.add(v);
      const s = stats.summary();
      expect(new Set(values).size).toBeGreaterThan(EXACT_DISTINCT_LIMIT);
      expect(s.method).toBe('ddsketch');
      for (const [got, q] of [[s.p50_ms, 0.5], [s.p95_ms, 0.95], [s.p99_ms, 0.99]] as const) {
        const want = exact(values, q);
        expect(Math.abs(got! - want)).toBeLessThanOrEqual(RELATIVE_ERROR * want + 0.005);
      }
      expect(s.max_ms).toBe(Math.max(...values));
      expect(s.count).toBe(values.length);
      // Histogram: exact counts per power-of-two bucket.
      for (const b of s.histogram) {
        const lo = b.le_ms === 0 ? 0 : (b.le_ms + 1) / 2;
        expect(b.count).toBe(values.filter((v) => v >= lo && v <= b.le_ms).length);
      }
    });
  }

  it('has no percentiles for no calls', () => {
    const s = new DurationStats().summary();
    expect([s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms, s.mean_ms]).toEqual([null, null, null, null, null]);
    expect(s.histogram).toEqual([]);
  });
});

describe('DDSketch', () => {
  it('keeps zeros exact and every quantile within the bound', () => {
    const sketch = new DDSketch();
    const values: number[] = [];
    const r = rng(3);
    for (let i = 0; i < 20_000; i++) {
      const v = r() < 0.1 ? 0 : 1 + Math.floor(r() * 5000);
      values.push(v);
      sketch.add(v);
    }
    for (const q of QUANTILES) {
      const want = exact(values, q);
      const got = sketch.quantile(q);
      if (want === 0) expect(got).toBe(0);
      else expect(Math.abs(got - want) / want).toBeLessThanOrEqual(RELATIVE_ERROR + 1e-12);
    }
    expect(Number.isNaN(new DDSketch().quantile(0.5))).toBe(true);
  });
});

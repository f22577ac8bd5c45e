/**
 * Duration statistics for one tool: exact percentiles while the durations seen take few distinct
 * values, then a DDSketch (Masson, Rim, Lee: "DDSketch: a fast and fully-mergeable quantile
 * sketch with relative-error guarantees", VLDB 2019) with a fixed relative-error bound.
 *
 * Why this shape: `duration_ms` is a whole number of milliseconds, so a count per distinct value
 * is exact whatever the number of calls and costs memory only per distinct value. Past
 * EXACT_DISTINCT_LIMIT distinct values, the counts move into the sketch: memory then stays at a
 * couple of thousand counters per tool however long the trail is.
 *
 * Percentiles are nearest-rank: p_q is the smallest recorded value v such that at least
 * ceil(q * n) values are <= v. In sketch mode the value returned for p_q is within
 * RELATIVE_ERROR of that exact value (and clamped to the exact min and max). Count, min, max and
 * the power-of-two histogram are always exact.
 */

/** Distinct duration values per tool kept exactly; beyond, the tool's durations are sketched. */
export const EXACT_DISTINCT_LIMIT = 2048;
/** The sketch's relative-error bound α: an estimate x̂ of x satisfies |x̂ − x| ≤ α·x. */
export const RELATIVE_ERROR = 0.01;

const GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR);
const LN_GAMMA = Math.log(GAMMA);

/**
 * DDSketch over values ≥ 0 with dense log-γ buckets. Bucket k holds values in (γ^(k−1), γ^k];
 * its representative 2γ^k/(γ+1) is within α of every value in it. Zero has its own exact count.
 * Only positive values ≥ 1 occur (whole milliseconds), so k ≥ 0 and a plain array indexed by k
 * suffices (about 1 800 buckets reach 2^53).
 */
export class DDSketch {
  private readonly bins: number[] = [];
  private zeros = 0;
  count = 0;

  add(value: number, times = 1): void {
    this.count += times;
    if (value <= 0) {
      this.zeros += times;
      return;
    }
    const k = Math.max(0, Math.ceil(Math.log(value) / LN_GAMMA));
    while (this.bins.length <= k) this.bins.push(0);
    this.bins[k]! += times;
  }

  /** The nearest-rank q-quantile estimate (0 < q ≤ 1); NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = nearestRank(q, this.count);
    if (rank <= this.zeros) return 0;
    let seen = this.zeros;
    for (let k = 0; k < this.bins.length; k++) {
      seen += this.bins[k]!;
      if (seen >= rank) return (2 * GAMMA ** k) / (GAMMA + 1);
    }
    return Number.NaN; // unreachable: the counts add up to count
  }
}

/** 1-based rank of the nearest-rank q-quantile among n values. */
export function nearestRank(q: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(q * n)));
}

/** Upper bound (inclusive, ms) of power-of-two histogram bucket i: 0, 1, 3, 7, 15, ... */
export function bucketUpperBound(i: number): number {
  return i === 0 ? 0 : 2 ** i - 1;
}

function bucketOf(ms: number): number {
  if (ms <= 0) return 0;
  if (ms < 4294967296) return 32 - Math.clz32(ms);
  return Math.floor(Math.log2(ms)) + 1;
}

export interface DurationSummary {
  count: number;
  /** "exact" or "ddsketch": how the percentiles were computed. */
  method: 'exact' | 'ddsketch';
  /** 0 for exact percentiles, RELATIVE_ERROR for sketched ones. */
  relative_error: number;
  min_ms: number | null;
  mean_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  /** Exact counts per power-of-two bucket: `le_ms` is the bucket's inclusive upper bound. */
  histogram: Array<{ le_ms: number; count: number }>;
}

export class DurationStats {
  private exact: Map<number, number> | null = new Map();
  private sketch: DDSketch | null = null;
  private readonly buckets: number[] = [];
  count = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  add(ms: number): void {
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    const b = bucketOf(ms);
    while (this.buckets.length <= b) this.buckets.push(0);
    this.buckets[b]!++;
    const exact = this.exact;
    if (exact !== null) {
      exact.set(ms, (exact.get(ms) ?? 0) + 1);
      if (exact.size > EXACT_DISTINCT_LIMIT) this.toSketch(exact);
      return;
    }
    this.sketch!.add(ms);
  }

  private toSketch(exact: Map<number, number>): void {
    const sketch = new DDSketch();
    for (const [value, times] of exact) sketch.add(value, times);
    this.sketch = sketch;
    this.exact = null;
  }

  summary(): DurationSummary {
    const empty = this.count === 0;
    const histogram: DurationSummary['histogram'] = [];
    for (let i = 0; i < this.buckets.length; i++) histogram.push({ le_ms: bucketUpperBound(i), count: this.buckets[i]! });
    const pick = (q: number): number | null => (empty ? null : this.quantile(q));
    return {
      count: this.count,
      method: this.exact !== null ? 'exact' : 'ddsketch',
      relative_error: this.exact !== null ? 0 : RELATIVE_ERROR,
      min_ms: empty ? null : this.min,
      mean_ms: empty ? null : Math.round((this.sum / this.count) * 100) / 100,
      p50_ms: pick(0.5),
      p95_ms: pick(0.95),
      p99_ms: pick(0.99),
      max_ms: empty ? null : this.max,
      histogram,
    };
  }

  private quantile(q: number): number {
    if (this.exact !== null) {
      const values = [...this.exact.keys()].sort((a, b) => a - b);
      const rank = nearestRank(q, this.count);
      let seen = 0;
      for (const v of values) {
        seen += this.exact.get(v)!;
        if (seen >= rank) return v;
      }
      return this.max;
    }
    const estimate = this.sketch!.quantile(q);
    // Clamped to the exact extremes; rounded to 0.01 ms (far below the 1 % bound).
    return Math.round(Math.min(this.max, Math.max(this.min, estimate)) * 100) / 100;
  }
}

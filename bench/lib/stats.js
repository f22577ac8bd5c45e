// @ts-check
'use strict';
/** Order statistics for benchmark figures. Inputs are never mutated. */

/**
 * The value at quantile q (0..1) by the nearest-rank method, or NaN for no values.
 * Nearest rank (no interpolation) so a reported p99 is a latency that was actually observed.
 * @param {readonly number[]} values
 * @param {number} q
 */
function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

/** The median (for an even count, the mean of the two middle values). @param {readonly number[]} values */
function median(values) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** @param {readonly number[]} values */
function max(values) {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return values.length === 0 ? NaN : m;
}

module.exports = { quantile, median, max };

/**
 * Node summaries for unseen-node mapping (SPEC §4, paper §7.1): standardise each feature with the
 * training split's global mean and standard deviation (pooled over the training nodes), take min,
 * 25th, 50th, 75th percentile and max along time, average over features: 5 numbers per node.
 * Pure; the quantiles come from discretize/node.ts (fitNode / nodeQuantiles), which already sorts.
 */
import { SUMMARY_QUANTILES } from '../discretize/node.js';

export const SUMMARY_SIZE = SUMMARY_QUANTILES.length;

/** Per-feature count, mean and sum of squared deviations (for Chan's parallel merge). */
export interface Moments {
  n: number;
  mean: Float64Array;
  m2: Float64Array;
}

export function emptyMoments(features: number): Moments {
  return { n: 0, mean: new Float64Array(features), m2: new Float64Array(features) };
}

/** Moments of the selected columns of a minute-major block over minutes [from, to) (two passes: exact). */
export function featureMoments(
  series: Float32Array,
  stride: number,
  cols: readonly number[],
  from: number,
  to: number,
): Moments {
  const m = emptyMoments(cols.length);
  m.n = Math.max(0, to - from);
  if (m.n === 0) return m;
  cols.forEach((c, f) => {
    let s = 0;
    for (let t = from; t < to; t++) s += series[t * stride + c];
    const mean = s / m.n;
    let q = 0;
    for (let t = from; t < to; t++) {
      const d = series[t * stride + c] - mean;
      q += d * d;
    }
    m.mean[f] = mean;
    m.m2[f] = q;
  });
  return m;
}

/** Moments of the union of two samples (Chan et al.); returns a new object. */
export function mergeMoments(a: Moments, b: Moments): Moments {
  if (a.mean.length !== b.mean.length) throw new Error('mergeMoments: different feature counts');
  if (a.n === 0) return { n: b.n, mean: b.mean.slice(), m2: b.m2.slice() };
  if (b.n === 0) return { n: a.n, mean: a.mean.slice(), m2: a.m2.slice() };
  const n = a.n + b.n;
  const out = emptyMoments(a.mean.length);
  out.n = n;
  for (let f = 0; f < a.mean.length; f++) {
    const d = b.mean[f] - a.mean[f];
    out.mean[f] = a.mean[f] + (d * b.n) / n;
    out.m2[f] = a.m2[f] + b.m2[f] + (d * d * a.n * b.n) / n;
  }
  return out;
}

/** Population standard deviation per feature. */
export function momentsStd(m: Moments): Float64Array {
  return m.m2.map((q) => (m.n > 0 ? Math.sqrt(q / m.n) : 0));
}

/**
 * The 5-number summary of a node from its raw per-feature quantiles ([features, 5]): each quantile
 * standardised with the global mean and std of its feature, then averaged over features. A feature
 * with std 0 (constant over all training nodes) contributes 0. Standardising is monotone, so the
 * quantiles of the standardised series are the standardised quantiles.
 */
export function summarizeNode(quantiles: Float64Array, mean: Float64Array, std: Float64Array): Float64Array {
  const F = mean.length;
  if (quantiles.length !== F * SUMMARY_SIZE)
    throw new Error(`summarizeNode: ${quantiles.length} quantiles for ${F} features`);
  const out = new Float64Array(SUMMARY_SIZE);
  if (F === 0) return out;
  for (let f = 0; f < F; f++) {
    if (!(std[f] > 0)) continue;
    for (let q = 0; q < SUMMARY_SIZE; q++) out[q] += (quantiles[f * SUMMARY_SIZE + q] - mean[f]) / std[f];
  }
  for (let q = 0; q < SUMMARY_SIZE; q++) out[q] /= F;
  return out;
}

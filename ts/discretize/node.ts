/**
 * Binning of one node's block of the series store (minute-major: value of minute t, store column c at
 * series[t * stride + c]). Pure; the streaming over nodes and files lives in datasets/binned.ts.
 */
import { assignBins, cutoffsFromSorted, quantileSorted, sortNonZero } from './cutoffs.js';

/** The five statistics of a node summary (SPEC §4): min, 25th, 50th, 75th percentile, max. */
export const SUMMARY_QUANTILES = [0, 0.25, 0.5, 0.75, 1] as const;

export interface NodeFit {
  /** [features, nBins-1] cutoffs, +Infinity where absent. */
  cutoffs: Float64Array;
  /** [features, 5] raw quantiles (SUMMARY_QUANTILES) over the same minutes, for the node summary. */
  quantiles: Float64Array;
}

function gather(
  series: Float32Array,
  stride: number,
  col: number,
  from: number,
  to: number,
  out: Float64Array,
): Float64Array {
  const n = to - from;
  for (let t = 0; t < n; t++) out[t] = series[(from + t) * stride + col];
  return out.subarray(0, n);
}

function checkRange(series: Float32Array, stride: number, from: number, to: number): void {
  const minutes = series.length / stride;
  if (!Number.isInteger(minutes))
    throw new RangeError(`series length ${series.length} is not a multiple of ${stride} columns`);
  if (!(0 <= from && from <= to && to <= minutes))
    throw new RangeError(`minutes [${from}, ${to}) outside the series' 0..${minutes}`);
}

/**
 * Cutoffs (Algorithm 1) and summary quantiles of every selected column, from minutes [from, to) of
 * the block (the training split).
 */
export function fitNode(
  series: Float32Array,
  stride: number,
  cols: readonly number[],
  from: number,
  to: number,
  nBins: number,
): NodeFit {
  checkRange(series, stride, from, to);
  const nc = nBins - 1;
  const cutoffs = new Float64Array(cols.length * nc);
  const quantiles = new Float64Array(cols.length * SUMMARY_QUANTILES.length);
  const col = new Float64Array(to - from);
  const scratch = new Float64Array(to - from);
  cols.forEach((c, f) => {
    const s = sortNonZero(gather(series, stride, c, from, to, col), scratch);
    cutoffs.set(cutoffsFromSorted(s, nBins), f * nc);
    SUMMARY_QUANTILES.forEach((p, q) => (quantiles[f * SUMMARY_QUANTILES.length + q] = quantileSorted(s, p)));
  });
  return { cutoffs, quantiles };
}

/** Summary quantiles only (for nodes that are not fitted: unseen nodes), over minutes [from, to). */
export function nodeQuantiles(
  series: Float32Array,
  stride: number,
  cols: readonly number[],
  from: number,
  to: number,
): Float64Array {
  checkRange(series, stride, from, to);
  const quantiles = new Float64Array(cols.length * SUMMARY_QUANTILES.length);
  const col = new Float64Array(to - from);
  const scratch = new Float64Array(to - from);
  cols.forEach((c, f) => {
    const s = sortNonZero(gather(series, stride, c, from, to, col), scratch);
    SUMMARY_QUANTILES.forEach((p, q) => (quantiles[f * SUMMARY_QUANTILES.length + q] = quantileSorted(s, p)));
  });
  return quantiles;
}

/**
 * Bins of every minute of the block under per-feature cutoffs ([features, nBins-1]): returns
 * [minutes, features] uint8, minute-major like the input.
 */
export function binNode(
  series: Float32Array,
  stride: number,
  cols: readonly number[],
  cutoffs: Float64Array,
  nBins: number,
  out?: Uint8Array,
): Uint8Array {
  const nc = nBins - 1;
  const minutes = series.length / stride;
  checkRange(series, stride, 0, minutes);
  if (cutoffs.length !== cols.length * nc)
    throw new RangeError(`cutoffs has ${cutoffs.length} values, expected ${cols.length} x ${nc}`);
  const F = cols.length;
  const res = out ?? new Uint8Array(minutes * F);
  if (res.length < minutes * F) throw new RangeError(`binNode: out too small`);
  const col = new Float64Array(minutes);
  const bins = new Uint8Array(minutes);
  cols.forEach((c, f) => {
    assignBins(gather(series, stride, c, 0, minutes, col), cutoffs.subarray(f * nc, (f + 1) * nc), bins);
    for (let t = 0; t < minutes; t++) res[t * F + f] = bins[t];
  });
  return res;
}

/**
 * Attack onset by CUSUM (SPEC §6, our reading): on the attack's matching feature (incoming bytes of
 * its protocol), the mean and standard deviation of a pre-attack baseline; the one-sided upper CUSUM
 *   S(t) = max(0, S(t-1) + x(t) - mean - k sigma),  S = 0 before the scan,
 * alarms at the first t with S(t) > h sigma; the onset is where that alarming run began (the first
 * minute of the run of S > 0 that reached the threshold). Pure.
 */
import type { MinuteRange } from '../splits/splits.js';

export interface CusumParams {
  /** Drift, in standard deviations (SPEC: 0.5). */
  k: number;
  /** Threshold, in standard deviations (SPEC: 5). */
  h: number;
  /** Floor on sigma (a flat baseline would give k = h = 0: any rise alarms at once). Default 1. */
  minSigma: number;
}

export const DEFAULT_CUSUM: CusumParams = { k: 0.5, h: 5, minSigma: 1 };

export interface CusumResult {
  /** Index of the onset (first minute of the alarming run), or -1 without alarm. */
  onset: number;
  /** Index where S first exceeded h sigma, or -1. */
  alarm: number;
  /** Baseline mean and the sigma used (after the floor). */
  mean: number;
  sigma: number;
}

/** Mean and population standard deviation of x over [from, to); (0, 0) when empty. */
export function meanStd(x: ArrayLike<number>, from: number, to: number): { mean: number; std: number } {
  const n = to - from;
  if (n <= 0) return { mean: 0, std: 0 };
  let s = 0;
  for (let t = from; t < to; t++) s += x[t];
  const mean = s / n;
  let q = 0;
  for (let t = from; t < to; t++) q += (x[t] - mean) ** 2;
  return { mean, std: Math.sqrt(q / n) };
}

/** CUSUM onset of `x`: baseline statistics from `baseline`, scanning `scan` (index ranges into x). */
export function cusumOnset(
  x: ArrayLike<number>,
  baseline: MinuteRange,
  scan: MinuteRange,
  params: CusumParams = DEFAULT_CUSUM,
): CusumResult {
  if (baseline.start < 0 || baseline.end > x.length || scan.start < 0 || scan.end > x.length)
    throw new RangeError(`cusumOnset: ranges outside the series of ${x.length} minutes`);
  const { mean, std } = meanStd(x, baseline.start, baseline.end);
  const sigma = Math.max(std, params.minSigma);
  const drift = mean + params.k * sigma;
  const threshold = params.h * sigma;
  let s = 0;
  let runStart = -1;
  for (let t = scan.start; t < scan.end; t++) {
    const next = Math.max(0, s + x[t] - drift);
    if (next > 0 && s === 0) runStart = t;
    s = next;
    if (s > threshold) return { onset: runStart, alarm: t, mean, sigma };
  }
  return { onset: -1, alarm: -1, mean, sigma };
}

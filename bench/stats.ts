/**
 * What the benchmarks share: a seeded stream for generated inputs, and the median and spread (min,
 * max) of repeated measurements, the numbers every bench prints.
 */
import { median } from '../ts/common/stats.js';

export { median };

/** xorshift32 stream in [0, 1) (seed 0 is taken as 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Median and spread of repeated measurements. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

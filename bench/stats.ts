/**
 * What the benchmarks share: a seeded stream for generated inputs, and the median and spread (min,
 * max) of repeated measurements, the numbers every bench prints.
 */
import { readFileSync } from 'node:fs';
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

/**
 * Peak resident memory of this process so far, in MB (worker threads included). Not
 * process.resourceUsage().maxRSS in a child: Linux keeps ru_maxrss across exec, so a child spawned by
 * a large process (bench:serialize holds DuckDB's memory) reports its parent's size at the fork.
 * VmHWM belongs to the process's own address space; elsewhere than Linux, maxRSS it is.
 */
export function peakRssMB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    /* no /proc */
  }
  return process.resourceUsage().maxRSS / 1024;
}

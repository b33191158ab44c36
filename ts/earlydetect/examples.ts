/**
 * Cutting EarlyDetect examples (SPEC §6). An example is W minutes of one node, [end - W, end); its
 * last D minutes [end - D, end) are the detection window. Pure functions over minute indices of the
 * store's time axis; randomness comes in as a function so that the choices are seeded.
 *
 * Placement rule of an attack example (docs/earlydetect.md): the detection window must contain the
 * onset and the alert start, lie inside the alert's split, and the whole example inside the store.
 * Among the window ends that satisfy this, one is drawn uniformly (seeded per alert id), so the onset
 * lands anywhere in the window and its position carries no label information. A fixed onset step is
 * the alternative (`placement: number`).
 */
import type { MinuteRange } from '../splits/splits.js';
import { randomStream } from '../common/rng.js';

/** Inclusive integer interval [lo, hi]. */
export interface Interval {
  lo: number;
  hi: number;
}

/** A deterministic stream in [0, 1) from a seed and a key (an independent stream per key). */
export const seededRandom = (seed: number, key: string): (() => number) => randomStream(seed, key);

export interface Geometry {
  /** Example length W (history included). */
  windowLength: number;
  /** Detection window length D (the last D minutes). */
  detectLength: number;
  /** Minutes in the store. */
  minutes: number;
}

/** Window ends whose detection window lies in `split` and whose whole example lies in the store. */
export function validEnds(split: MinuteRange, g: Geometry): Interval {
  return { lo: Math.max(split.start + g.detectLength, g.windowLength), hi: Math.min(split.end, g.minutes) };
}

/**
 * Where to put the attack example: `placement` 'random' draws the window end uniformly among the
 * valid ones; a number s puts the onset at step s of the detection window (0-based). Returns the
 * window end, or null when no valid window holds both the onset and the alert start.
 */
export function placeAttack(
  onset: number,
  alertStart: number,
  split: MinuteRange,
  g: Geometry,
  placement: 'random' | number,
  rand: () => number,
): number | null {
  const lo = Math.min(onset, alertStart);
  const hi = Math.max(onset, alertStart);
  const v = validEnds(split, g);
  const from = Math.max(v.lo, hi + 1);
  const to = Math.min(v.hi, lo + g.detectLength);
  if (from > to) return null;
  if (placement === 'random') return from + Math.floor(rand() * (to - from + 1));
  const end = onset + g.detectLength - placement;
  return end >= from && end <= to ? end : null;
}

/**
 * Ends e in `allowed` such that the example [e - W, e) overlaps none of the `blocked` minute ranges
 * (half-open). A blocked range [b0, b1) forbids e in [b0 + 1, b1 + W - 1].
 */
export function freeEnds(allowed: Interval, blocked: readonly MinuteRange[], windowLength: number): Interval[] {
  const forbid = blocked
    .filter((b) => b.end > b.start)
    .map((b) => ({ lo: b.start + 1, hi: b.end + windowLength - 1 }))
    .sort((a, b) => a.lo - b.lo);
  const out: Interval[] = [];
  let cur = allowed.lo;
  for (const f of forbid) {
    if (f.hi < cur) continue;
    if (f.lo > allowed.hi) break;
    if (f.lo > cur) out.push({ lo: cur, hi: Math.min(f.lo - 1, allowed.hi) });
    cur = Math.max(cur, f.hi + 1);
  }
  if (cur <= allowed.hi) out.push({ lo: cur, hi: allowed.hi });
  return out;
}

/** One value drawn uniformly from a union of disjoint intervals, or null when empty. */
export function pickFromIntervals(intervals: readonly Interval[], rand: () => number): number | null {
  const total = intervals.reduce((n, i) => n + (i.hi - i.lo + 1), 0);
  if (total <= 0) return null;
  let k = Math.floor(rand() * total);
  for (const i of intervals) {
    const n = i.hi - i.lo + 1;
    if (k < n) return i.lo + k;
    k -= n;
  }
  return intervals[intervals.length - 1].hi;
}

/**
 * Anomaly mask of the detection window [end - D, end): 1 from the onset to the alert end (inclusive),
 * or, when a spoof list is given, 1 exactly at its minutes with attack traffic.
 */
export function anomalyMask(
  end: number,
  detectLength: number,
  onset: number,
  lastMinute: number,
  spoofMinutes?: ReadonlySet<number>,
): Uint8Array {
  const mask = new Uint8Array(detectLength);
  const first = end - detectLength;
  for (let i = 0; i < detectLength; i++) {
    const m = first + i;
    mask[i] = spoofMinutes ? (spoofMinutes.has(m) ? 1 : 0) : m >= onset && m <= lastMinute ? 1 : 0;
  }
  return mask;
}

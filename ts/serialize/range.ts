/**
 * The time range of a series store when --from/--to are not given: the bulk of the data (bulkRange),
 * its hours that hold records (activeMinutes), and the check that refuses a store stretched over a
 * wrong clock's years or larger than asked (checkStoreSize; --allow-large confirms).
 */
import { N_FEATURES } from '../catalogue/features.js';
import { minuteToIso } from './store.js';

/** `bulkRange`: share of the records at each end that may be outliers, and the gap that separates them from the bulk. */
export const OUTLIER_TAIL_SHARE = 0.01;
export const OUTLIER_GAP_MINUTES = 1440;
/**
 * Stretch check: without --from/--to, a store more than STRETCH_FACTOR times longer than the hours
 * that hold records, and more than STRETCH_EMPTY_MINUTES longer, needs confirming (`allowLarge`),
 * whatever its size in bytes: a few nodes over years of empty minutes is a wrong clock, not data.
 */
export const STRETCH_FACTOR = 10;
export const STRETCH_EMPTY_MINUTES = 100_000;

/** Minutes of the whole hours in [lo, hi) that hold at least one record of the histogram. */
export function activeMinutes(hist: ReadonlyMap<number, number>, lo: number, hi: number): number {
  const hours = new Set<number>();
  for (const [m, n] of hist) if (n > 0 && m >= lo && m < hi) hours.add(Math.floor(m / 60));
  return hours.size * 60;
}

/**
 * The time range [start, end) of the bulk of the data, from a histogram of record start minutes.
 * At each end, at most k = max(1, floor(1% of the records)) records may lie outside it, and only
 * when a gap of more than a day (OUTLIER_GAP_MINUTES) separates them from the rest: start from the
 * (k+1)-th earliest record's minute and the (k+1)-th latest, then widen over every minute reached
 * without crossing such a gap. Null for no records.
 */
export function bulkRange(
  hist: ReadonlyMap<number, number>,
  tailShare = OUTLIER_TAIL_SHARE,
  gapMinutes = OUTLIER_GAP_MINUTES,
): { start: number; end: number; records: number } | null {
  const minutes = [...hist.keys()].sort((a, b) => a - b);
  if (!minutes.length) return null;
  let total = 0;
  for (const m of minutes) total += hist.get(m)!;
  const k = Math.max(1, Math.floor(tailShare * total));
  // index of the minute holding the (k+1)-th record from the start, and from the end
  let lo = 0;
  for (let seen = 0; lo < minutes.length; lo++) {
    seen += hist.get(minutes[lo])!;
    if (seen > k) break;
  }
  let hi = minutes.length - 1;
  for (let seen = 0; hi >= 0; hi--) {
    seen += hist.get(minutes[hi])!;
    if (seen > k) break;
  }
  if (total <= 2 * k || lo > hi) {
    lo = 0;
    hi = minutes.length - 1;
  }
  while (lo > 0 && minutes[lo] - minutes[lo - 1] <= gapMinutes) lo--;
  while (hi < minutes.length - 1 && minutes[hi + 1] - minutes[hi] <= gapMinutes) hi++;
  let records = 0;
  for (let i = lo; i <= hi; i++) records += hist.get(minutes[i])!;
  return { start: minutes[lo], end: minutes[hi] + 1, records };
}

/**
 * Refuses a store over [lo, hi) of `nodes` nodes that is stretched (more than STRETCH_FACTOR times
 * its `active` minutes, and more than STRETCH_EMPTY_MINUTES longer) or over `maxStoreBytes` (float32
 * features, node-major). The caller skips it when the range was given or --allow-large confirms.
 */
export function checkStoreSize(lo: number, hi: number, active: number, nodes: number, maxStoreBytes: number): void {
  const span = hi - lo;
  if (active === active && span > STRETCH_FACTOR * active && span - active > STRETCH_EMPTY_MINUTES)
    throw new Error(
      `the store would be stretched over ${span} minutes (${minuteToIso(lo)} to ${minuteToIso(hi)}) while only ${active / 60} hours hold records (${Math.max(1, nodes)} nodes): some records' clocks are likely wrong; give the range you want with --from and --to, or confirm with --allow-large`,
    );
  const bytes = Math.max(1, nodes) * (hi - lo) * N_FEATURES * 4;
  if (bytes > maxStoreBytes)
    throw new Error(
      `the store would be ${(bytes / 1024 ** 3).toFixed(1)} GiB (${Math.max(1, nodes)} nodes x ${hi - lo} minutes from ${minuteToIso(lo)} to ${minuteToIso(hi)}, the time range of the bulk of the data): give the range you want with --from and --to, or confirm with --allow-large`,
    );
}

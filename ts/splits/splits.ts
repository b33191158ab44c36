/**
 * Time-axis splits, windows and time features (SPEC §1-§2). Minutes here are indices into the
 * store's minute axis (0 = the store's first minute) unless a name says "epoch minute".
 */
import { isoToMinute, minuteToIso } from '../serialize/store.js';

export const SPLITS = ['train', 'valid', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

/** Half-open minute range [start, end). */
export interface MinuteRange {
  start: number;
  end: number;
}
export type Splits = Record<SplitName, MinuteRange>;

/** How the splits were chosen, as recorded in manifests. */
export type SplitRule =
  { kind: 'fractions'; fractions: [number, number, number] } | { kind: 'dates'; dates: [string, string] };

/** The paper's proportions: 95,232 / 10,752 / 26,496 of 132,480 minutes, about 72% / 8% / 20%. */
export const DEFAULT_FRACTIONS: [number, number, number] = [0.72, 0.08, 0.2];

/**
 * Splits `minutes` by fractions (train, valid, test; summing to 1). Boundaries are cumulative and
 * floored: train = [0, floor(f1 T)), valid = [floor(f1 T), floor((f1 + f2) T)), test = the rest.
 */
export function splitsFromFractions(minutes: number, fractions: readonly number[]): Splits {
  if (fractions.length !== 3 || fractions.some((f) => !(f >= 0 && f <= 1)))
    throw new Error(`split fractions must be three numbers in [0, 1] (train,valid,test), got ${fractions.join(',')}`);
  const sum = fractions[0] + fractions[1] + fractions[2];
  if (Math.abs(sum - 1) > 1e-6) throw new Error(`split fractions must sum to 1, got ${fractions.join(' + ')} = ${sum}`);
  const a = Math.floor(fractions[0] * minutes + 1e-9);
  const b = Math.min(minutes, Math.floor((fractions[0] + fractions[1]) * minutes + 1e-9));
  return { train: { start: 0, end: a }, valid: { start: a, end: b }, test: { start: b, end: minutes } };
}

/**
 * Splits at two dates (epoch minutes): train before the first, valid up to the second, test after.
 * Dates outside the store's range are clamped to it.
 */
export function splitsFromDates(startMinute: number, minutes: number, validFrom: number, testFrom: number): Splits {
  if (!(testFrom >= validFrom))
    throw new Error(
      `split dates must be in order: validation start ${minuteToIso(validFrom)} is after test start ${minuteToIso(testFrom)}`,
    );
  const clamp = (m: number) => Math.min(minutes, Math.max(0, m - startMinute));
  const a = clamp(validFrom);
  const b = clamp(testFrom);
  return { train: { start: 0, end: a }, valid: { start: a, end: b }, test: { start: b, end: minutes } };
}

/**
 * Parses a split option: "0.72,0.08,0.2" (fractions) or "2021-10-01T00:00:00Z,2021-10-08T00:00:00Z"
 * (start of validation, start of test).
 */
export function parseSplitSpec(
  spec: string,
  startMinute: number,
  minutes: number,
): { splits: Splits; rule: SplitRule } {
  const parts = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 3 && parts.every((p) => /^[0-9.]+$/.test(p))) {
    const fractions = parts.map(Number) as [number, number, number];
    return { splits: splitsFromFractions(minutes, fractions), rule: { kind: 'fractions', fractions } };
  }
  if (parts.length === 2) {
    const [v, t] = parts.map((p) => isoToMinute(p));
    return {
      splits: splitsFromDates(startMinute, minutes, v, t),
      rule: { kind: 'dates', dates: [minuteToIso(v), minuteToIso(t)] },
    };
  }
  throw new Error(
    `--split: expected three fractions (e.g. 0.72,0.08,0.2) or two ISO dates (validation start, test start), got '${spec}'`,
  );
}

/** The split holding a minute, or null outside the store. */
export function splitOf(minute: number, splits: Splits): SplitName | null {
  for (const s of SPLITS) if (minute >= splits[s].start && minute < splits[s].end) return s;
  return null;
}

/**
 * Start minutes of the windows of `length` minutes inside a range, every `stride` minutes from the
 * range start (stride = length: non-overlapping, the pre-training examples). A partial window at
 * the end is dropped.
 */
export function windowStarts(range: MinuteRange, length: number, stride = length): Int32Array {
  if (!(Number.isInteger(length) && length > 0))
    throw new Error(`window length must be a positive integer, got ${length}`);
  if (!(Number.isInteger(stride) && stride > 0))
    throw new Error(`window stride must be a positive integer, got ${stride}`);
  const n = range.end - range.start >= length ? Math.floor((range.end - range.start - length) / stride) + 1 : 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = range.start + i * stride;
  return out;
}

/**
 * (row, start) pairs of every window of every row, row-major: Int32Array [rows.length * starts.length, 2].
 */
export function windowPairs(rows: readonly number[], starts: Int32Array): Int32Array {
  const out = new Int32Array(rows.length * starts.length * 2);
  let i = 0;
  for (const r of rows)
    for (const s of starts) {
      out[i++] = r;
      out[i++] = s;
    }
  return out;
}

// ---- time features (model input only, SPEC §1) -----------------------------------------------

export const TIME_FEATURES = ['minuteOfHour', 'hourOfDay', 'dayOfWeek'] as const;
export const TIME_FEATURE_SIZES = [60, 24, 7] as const;

/** Minute of hour (0-59), hour of day (0-23), day of week (0-6, Monday = 0) of an epoch minute (UTC). */
export function timeFeatures(epochMinute: number): [number, number, number] {
  const mod = (a: number, b: number) => ((a % b) + b) % b;
  const day = Math.floor(epochMinute / 1440);
  // 1970-01-01 was a Thursday: day 0 -> 3 with Monday = 0.
  return [mod(epochMinute, 60), mod(Math.floor(epochMinute / 60), 24), mod(day + 3, 7)];
}

/** [minutes, 3] uint8 table of the time features from `startMinute` (epoch minutes). */
export function timeFeatureTable(startMinute: number, minutes: number): Uint8Array {
  const out = new Uint8Array(minutes * 3);
  for (let t = 0; t < minutes; t++) out.set(timeFeatures(startMinute + t), t * 3);
  return out;
}

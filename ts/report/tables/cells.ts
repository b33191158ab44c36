/** Small pieces the table modules share: a cell of ours (with the paper's number), a derived value, mean and median. */
import { formatValue, type Cell, type Fmt, type Value } from '../model.js';

/** Our value, with the paper's published number beside it when given. */
export const cell = (ours: Value, paper?: string): Cell => (paper === undefined ? { ours } : { ours, paper });

/** A value computed here from numbers read elsewhere (no single source). */
export const derived = (v: number | null, fmt: Fmt): Value => ({ v, fmt });

/** "2 inactive, 1 false positive" from a count record (non-zero counts, underscores as spaces), or `none`. */
export const countList = (counts: Record<string, number>, none: string): string =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`)
    .join(', ') || none;

export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function mean(xs: readonly number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** A cell as the headline prints it: our value, then the paper's in parentheses. */
export const cellText = (c: Cell): string =>
  `${formatValue(c.ours)}${c.paper !== undefined ? ` (paper ${c.paper})` : ''}`;

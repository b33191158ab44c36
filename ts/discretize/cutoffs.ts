/**
 * Discretization of one node-feature series (the paper's Algorithm 1, SPEC §3): zero alone in bin 0,
 * the non-zero values in N-1 bins of about equal population, repeated cutoffs refined away.
 *
 * Pure functions over typed arrays. Indexing, in the paper's terms: the sorted series is
 * x(0) <= ... <= x(n-1); k = number of zeros; M = n - k non-zero values. Working on the sorted
 * non-zero values s[0..M-1] (s[i] = x(k+i)), the paper's x(k-1+i*delta) is s[i*delta - 1].
 *
 * How the details the paper leaves open are resolved (docs/binned-dataset.md repeats them):
 *  - Round[a/b] is round half up: floor((2a + b) / 2b), in integers, so TS and numpy agree exactly.
 *  - delta and delta' are at least 1 (Round can give 0 when there are fewer non-zero values than
 *    about half the bins; a spacing of 0 would point at the last zero).
 *  - A tentative position past the last value reads the last value (the maximum).
 *  - After a repeated cutoff at step j (line 11-14), ALL remaining tentative cutoffs are re-spaced
 *    from m with delta': c'(j+i) = x(m-1+i*delta'). The paper writes the update for c'(j+1) only;
 *    leaving c'(j+2).. at their first positions can make cutoffs decrease (they may still sit inside
 *    the run of equal values that caused the repeat), which breaks monotone bins.
 *  - When no value exceeds the repeated cutoff (fewer distinct non-zero values than N-1), the
 *    remaining cutoffs are absent and stored as +Infinity. An all-zero series has no cutoffs at all.
 *  - Assignment: 0 -> bin 0; c(i-1) < v <= c(i) -> bin i for the K finite cutoffs; v above the last
 *    finite cutoff -> the top bin N-1 (SPEC §3), also when K < N-1 (bins K+1..N-2 then stay empty).
 */

/** The sorted non-zero values of a series and how many zeros it had. */
export interface SortedNonZero {
  /** Number of zero values (k in the paper). */
  zeros: number;
  /** The non-zero values, ascending. */
  sorted: Float64Array;
}

function badValue(v: number, i: number): Error {
  return new RangeError(`value ${v} at index ${i}: traffic counts must be finite and >= 0`);
}

/**
 * Splits a series into its zero count and its sorted non-zero values. Throws on NaN, negative or
 * infinite values. `scratch` (length >= values.length) avoids an allocation; the result's
 * `sorted` is then a view into it.
 */
export function sortNonZero(values: ArrayLike<number>, scratch?: Float64Array): SortedNonZero {
  const n = values.length;
  const buf = scratch && scratch.length >= n ? scratch : new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v > 0) {
      if (v === Infinity) throw badValue(v, i);
      buf[m++] = v;
    } else if (v !== 0) throw badValue(v, i);
  }
  const sorted = buf.subarray(0, m);
  sorted.sort();
  return { zeros: n - m, sorted };
}

/** round(a / b) half up, for integers a >= 0, b > 0. */
export function roundHalfUp(a: number, b: number): number {
  return Math.floor((2 * a + b) / (2 * b));
}

/** First index i in ascending `s` with s[i] > v (s.length when none). */
export function upperBound(s: Float64Array, v: number): number {
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid] > v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Algorithm 1, lines 2-16, on already sorted non-zero values: the N-1 cutoffs c(1)..c(N-1). */
export function cutoffsFromSorted(s: SortedNonZero, nBins: number): Float64Array {
  if (!Number.isInteger(nBins) || nBins < 2 || nBins > 256)
    throw new RangeError(`nBins must be an integer in 2..256, got ${nBins}`);
  const nc = nBins - 1;
  const out = new Float64Array(nc).fill(Infinity);
  const x = s.sorted;
  const M = x.length;
  if (M === 0) return out; // all zero: every cutoff absent
  const at = (p: number) => x[p < M ? p : M - 1];
  // Tentative cutoff of step j (1-based): at(base - 1 + (j - j0) * step). Initially base 0, j0 0.
  let base = 0;
  let j0 = 0;
  let step = Math.max(1, roundHalfUp(M, nc));
  out[0] = at(step - 1);
  for (let j = 2; j <= nc; j++) {
    const tentative = at(base - 1 + (j - j0) * step);
    const prev = out[j - 2];
    if (tentative > prev) {
      out[j - 1] = tentative;
      continue;
    }
    // Repeated cutoff: take the first value above it, re-space the rest over what is left.
    const m = upperBound(x, prev);
    if (m >= M) break; // nothing above: the remaining cutoffs stay absent (+Infinity)
    out[j - 1] = x[m];
    step = Math.max(1, roundHalfUp(M - m, nBins - j));
    base = m;
    j0 = j;
  }
  return out;
}

/** The N-1 cutoffs c(1)..c(N-1) of one training series (Algorithm 1); absent cutoffs are +Infinity. */
export function computeCutoffs(values: Float64Array, nBins: number): Float64Array {
  return cutoffsFromSorted(sortNonZero(values), nBins);
}

/** Number of finite (present) cutoffs: they come first, strictly increasing. */
export function presentCutoffs(cutoffs: Float64Array): number {
  let k = 0;
  while (k < cutoffs.length && cutoffs[k] !== Infinity) k++;
  return k;
}

/**
 * Algorithm 1, lines 17-20: bins of `values` under `cutoffs` (length N-1). 0 -> 0;
 * c(i-1) < v <= c(i) -> i; above the last finite cutoff -> N-1. `out` may be given to reuse memory.
 */
export function assignBins(values: ArrayLike<number>, cutoffs: Float64Array, out?: Uint8Array): Uint8Array {
  const n = values.length;
  const res = out ?? new Uint8Array(n);
  if (res.length < n) throw new RangeError(`assignBins: out has ${res.length} slots for ${n} values`);
  const top = cutoffs.length;
  const k = presentCutoffs(cutoffs);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v > 0) {
      if (v === Infinity) throw badValue(v, i);
      let b = 0;
      while (b < k && v > cutoffs[b]) b++;
      res[i] = b < k ? b + 1 : top;
    } else if (v === 0) res[i] = 0;
    else throw badValue(v, i);
  }
  return res;
}

/**
 * Quantile p in [0, 1] of the whole series (zeros included) from its sorted non-zero values, with
 * linear interpolation between order statistics (numpy's default: h = (n-1) p).
 */
export function quantileSorted(s: SortedNonZero, p: number): number {
  const n = s.zeros + s.sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const xl = lo < s.zeros ? 0 : s.sorted[lo - s.zeros];
  const xh = hi < s.zeros ? 0 : s.sorted[hi - s.zeros];
  return xl + (h - lo) * (xh - xl);
}

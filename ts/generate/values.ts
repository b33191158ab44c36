/**
 * A sampled bin becomes a traffic count: pure functions. A node's feature has N-1 cutoffs c(1)..c(N-1)
 * (docs/binned-dataset.md), K of them present (the rest +Infinity); with c(0) = 0 the bins are
 *
 *   bin 0                    the value 0
 *   bin b, 1 <= b <= K, b < N-1   (c(b-1), c(b)]
 *   bin N-1 (the top bin)    (c(N-2), inf) when K = N-1, else (c(K), inf): anything above the last present cutoff
 *   bins K+1..N-2 (K < N-1)  hold no value (no training value falls there); treated as the top bin
 *
 * The value of a bin is drawn uniformly from the node's own training values of that feature that
 * fall in its interval (so the values look like the node's: integers, the sampling rate's multiples,
 * its heavy top). When no training value falls there (an unseen node's borrowed cutoffs, a top bin
 * the rounding of Algorithm 1 left empty), the fallback (our reading) is uniform over the interval:
 * integers lo+1..hi when both ends are integers, else the real interval; for the open top bin the
 * interval (lo, lo + w] with w the width of the bin below (at least 1). A top bin with no cutoffs at
 * all (all-zero training data) becomes 1. Values are float32, as the series store holds them, and
 * stay inside the interval after rounding, so assignBins(values, cutoffs) gives the bins back (bins
 * K+1..N-2 come back as N-1).
 */
import { presentCutoffs, upperBound } from '../discretize/cutoffs.js';
import type { Rng } from '../common/rng.js';

/** The interval (lo, hi] of bin b (hi = Infinity for the top bin); lo = hi = 0 for bin 0. */
export function binInterval(
  bin: number,
  cutoffs: Float64Array,
  nBins: number,
): { lo: number; hi: number; realizable: boolean } {
  if (!(Number.isInteger(bin) && bin >= 0 && bin < nBins)) throw new RangeError(`bin ${bin} is not in 0..${nBins - 1}`);
  if (cutoffs.length !== nBins - 1) throw new RangeError(`${cutoffs.length} cutoffs for ${nBins} bins`);
  if (bin === 0) return { lo: 0, hi: 0, realizable: true };
  const K = presentCutoffs(cutoffs);
  const c = (i: number) => (i === 0 ? 0 : cutoffs[i - 1]);
  if (bin <= K && bin < nBins - 1) return { lo: c(bin - 1), hi: c(bin), realizable: true };
  const lo = K === nBins - 1 ? c(nBins - 2) : c(K);
  return { lo, hi: Infinity, realizable: bin === nBins - 1 };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The smallest float32 above x (x >= 0, finite). */
export function nextFloat32Up(x: number): number {
  f32[0] = x;
  if (f32[0] > x) return f32[0];
  u32[0] += 1;
  return f32[0];
}

/** A value in (lo, hi] as float32 (hi finite), from u in [0, 1): integers when both ends are. */
function uniformIn(lo: number, hi: number, u: number): number {
  let v: number;
  if (Number.isInteger(lo) && Number.isInteger(hi) && hi - lo >= 1) v = lo + 1 + Math.floor(u * (hi - lo));
  else v = lo + (1 - u) * (hi - lo); // (lo, hi]
  v = Math.fround(v);
  if (v <= lo) v = nextFloat32Up(lo);
  if (v > hi && Math.fround(hi) > lo) v = Math.fround(hi); // a cutoff is a store value, so a float32
  return v;
}

/**
 * The value of one bin. `sorted`: the node's training values of the feature, ascending (zeros may be
 * included), or null when unknown. Returns the value and whether it came from the fallback.
 */
export function valueForBin(
  bin: number,
  cutoffs: Float64Array,
  nBins: number,
  sorted: Float64Array | null,
  rng: Rng,
): { value: number; fallback: boolean } {
  const { lo, hi } = binInterval(bin, cutoffs, nBins);
  if (bin === 0) return { value: 0, fallback: false };
  if (sorted && sorted.length) {
    const a = upperBound(sorted, lo);
    const b = hi === Infinity ? sorted.length : upperBound(sorted, hi);
    if (b > a) return { value: Math.fround(sorted[a + rng.int(b - a)]), fallback: false };
  }
  if (hi !== Infinity) return { value: uniformIn(lo, hi, rng.float()), fallback: true };
  if (lo === 0) return { value: 1, fallback: true };
  const K = presentCutoffs(cutoffs);
  const at = K === nBins - 1 ? nBins - 2 : K; // lo = c(at)
  const below = at >= 2 ? cutoffs[at - 2] : 0; // c(at - 1)
  const width = Math.max(1, lo - below);
  return { value: uniformIn(lo, lo + width, rng.float()), fallback: true };
}

/** Sorted columns of a [T, F] series: F ascending Float64Arrays. */
export function sortedColumns(series: ArrayLike<number>, T: number, F: number): Float64Array[] {
  if (series.length !== T * F) throw new RangeError(`sortedColumns: ${series.length} values, expected ${T} x ${F}`);
  return Array.from({ length: F }, (_, f) => {
    const col = new Float64Array(T);
    for (let t = 0; t < T; t++) col[t] = series[t * F + f];
    return col.sort();
  });
}

/**
 * Values of a node's bins [T, F] (minute-major) under its cutoffs [F, N-1]; `sorted` per feature (or
 * null). Returns float32 values [T, F] and how many came from the fallback or from a bin that holds no
 * value (K < bin < N-1).
 */
export function binsToValues(
  bins: Uint8Array,
  T: number,
  F: number,
  cutoffs: Float64Array,
  nBins: number,
  sorted: (Float64Array | null)[] | null,
  rng: Rng,
): { values: Float32Array; fallbacks: number; unrealizable: number } {
  const nc = nBins - 1;
  if (bins.length !== T * F) throw new RangeError(`binsToValues: ${bins.length} bins, expected ${T} x ${F}`);
  if (cutoffs.length !== F * nc) throw new RangeError(`binsToValues: ${cutoffs.length} cutoffs, expected ${F} x ${nc}`);
  const values = new Float32Array(T * F);
  const cuts = Array.from({ length: F }, (_, f) => cutoffs.subarray(f * nc, (f + 1) * nc));
  const K = cuts.map((c) => presentCutoffs(c));
  let fallbacks = 0;
  let unrealizable = 0;
  for (let t = 0; t < T; t++)
    for (let f = 0; f < F; f++) {
      const b = bins[t * F + f];
      if (b === 0) continue;
      if (b > K[f] && b < nBins - 1) unrealizable++;
      const r = valueForBin(b, cuts[f], nBins, sorted?.[f] ?? null, rng);
      values[t * F + f] = r.value;
      if (r.fallback) fallbacks++;
    }
  return { values, fallbacks, unrealizable };
}

/**
 * The generators a sampled model is compared with, as pure functions over bins (minute-major
 * Uint8Array [T, F], as BinnedDataset.readBins gives them). Each sees what the model sees: the real
 * history before the generated span, nothing of the span itself.
 *
 *  - Bigram samples: every feature runs its own Markov chain P(bin at t | bin at t-1) (the bigram of
 *    Table 4, pooled over nodes, add-one smoothed: ts/baseline/bigram.ts), started from the node's last
 *    real minute before the span.
 *  - Seasonal resampling: the node's last real `period` minutes before the span (a day: 1,440, a
 *    week: 10,080), repeated, so that minute t of the span is the real minute t - period when that lies
 *    before the span, else the copy of it made earlier (our reading: a generator may not read the
 *    span it generates, so it repeats its last real period instead of reading the day before inside the span).
 */
import type { BigramModel } from '../baseline/bigram.js';
import type { Rng } from '../common/rng.js';

/** Cumulative next-bin probabilities of a bigram, [F, N, N]. */
export function bigramCumulative(model: BigramModel): Float64Array {
  const { nFeatures: F, nBins: N } = model;
  const cum = new Float64Array(F * N * N);
  for (let r = 0; r < F * N; r++) {
    let acc = 0;
    for (let b = 0; b < N; b++) {
      acc += Math.exp(model.logProb[r * N + b]);
      cum[r * N + b] = acc;
    }
  }
  return cum;
}

/** T minutes of bigram samples from the last real minute `last` [F]; `cum` from bigramCumulative. */
export function sampleBigram(
  model: BigramModel,
  last: Uint8Array,
  T: number,
  rng: Rng,
  cum = bigramCumulative(model),
): Uint8Array {
  const { nFeatures: F, nBins: N } = model;
  if (last.length !== F)
    throw new RangeError(`sampleBigram: the last minute has ${last.length} features, the bigram ${F}`);
  const out = new Uint8Array(T * F);
  const prev = Uint8Array.from(last);
  for (let t = 0; t < T; t++)
    for (let f = 0; f < F; f++) {
      const row = (f * N + prev[f]) * N;
      const b = rng.fromCumulative(cum.subarray(row, row + N));
      out[t * F + f] = b;
      prev[f] = b;
    }
  return out;
}

/** T minutes that repeat the `period` real minutes before the span (`history` [period, F]). */
export function seasonalRepeat(history: Uint8Array, period: number, F: number, T: number): Uint8Array {
  if (history.length !== period * F)
    throw new RangeError(`seasonalRepeat: ${history.length} values of history, expected ${period} x ${F}`);
  const out = new Uint8Array(T * F);
  for (let t = 0; t < T; t++) out.set(history.subarray((t % period) * F, ((t % period) + 1) * F), t * F);
  return out;
}

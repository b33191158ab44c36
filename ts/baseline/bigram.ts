/**
 * The bigram baseline of Table 4 (SPEC §5): for every feature, P(bin at t | bin at t-1) counted on
 * the training windows with add-one smoothing, scored on the validation windows with the model's
 * metrics: loss = mean negative log-likelihood (natural log) over (node, step, feature), perplexity =
 * exp(loss), accuracy = share of arg-max hits (ties: the lowest bin). The targets are the model's:
 * steps 1..W-1 of every window (step 0 has no previous minute inside the window). Pure functions
 * over bins laid out like the dataset: one row's [minutes, features] uint8, minute-major.
 */
import { FEATURE_GROUPS, type FeatureGroup } from '../catalogue/features.js';

/** Adds the transitions of the windows at `starts` (W minutes each) to `counts` [F, N, N] (from, to). */
export function countTransitions(
  bins: Uint8Array,
  nFeatures: number,
  nBins: number,
  starts: ArrayLike<number>,
  windowLength: number,
  counts: Float64Array,
): void {
  const F = nFeatures;
  const N = nBins;
  if (counts.length !== F * N * N)
    throw new RangeError(`counts has ${counts.length} cells, expected ${F} x ${N} x ${N}`);
  for (let w = 0; w < starts.length; w++) {
    const s = starts[w];
    if (s < 0 || (s + windowLength) * F > bins.length)
      throw new RangeError(`window at minute ${s} runs past the ${bins.length / F} minutes given`);
    for (let t = s + 1; t < s + windowLength; t++) {
      const prev = (t - 1) * F;
      const cur = t * F;
      for (let f = 0; f < F; f++) counts[(f * N + bins[prev + f]) * N + bins[cur + f]]++;
    }
  }
}

export interface BigramModel {
  nFeatures: number;
  nBins: number;
  /** log P(to | from) per feature: [F, N, N]. */
  logProb: Float64Array;
  /** Most likely next bin per feature and previous bin: [F, N]. */
  argmax: Uint8Array;
}

/** Add-one smoothed conditional probabilities from transition counts [F, N, N]. */
export function fitBigram(counts: Float64Array, nFeatures: number, nBins: number): BigramModel {
  const F = nFeatures;
  const N = nBins;
  const logProb = new Float64Array(F * N * N);
  const argmax = new Uint8Array(F * N);
  for (let f = 0; f < F; f++)
    for (let a = 0; a < N; a++) {
      const row = (f * N + a) * N;
      let total = 0;
      let best = 0;
      for (let b = 0; b < N; b++) {
        total += counts[row + b];
        if (counts[row + b] > counts[row + best]) best = b;
      }
      const logDen = Math.log(total + N);
      for (let b = 0; b < N; b++) logProb[row + b] = Math.log(counts[row + b] + 1) - logDen;
      argmax[f * N + a] = best;
    }
  return { nFeatures: F, nBins: N, logProb, argmax };
}

/** Running sums of a score: per feature, NLL and hits over `targets` (node, step) pairs each. */
export interface ScoreSums {
  nll: Float64Array;
  correct: Float64Array;
  /** Scored (node, step) pairs; each counts once per feature. */
  targets: number;
}

export function emptySums(nFeatures: number): ScoreSums {
  return { nll: new Float64Array(nFeatures), correct: new Float64Array(nFeatures), targets: 0 };
}

/**
 * Scores the windows at `starts` with the model, adding into `sums`. `onWindow`, when given, receives
 * each window's start and its mean NLL over its (step, feature) targets (the per-window loss that
 * python/score.py's step_loss.npy averages to, for paired comparisons).
 */
export function scoreWindows(
  bins: Uint8Array,
  model: BigramModel,
  starts: ArrayLike<number>,
  windowLength: number,
  sums: ScoreSums,
  onWindow?: (start: number, loss: number) => void,
): void {
  const F = model.nFeatures;
  const N = model.nBins;
  for (let w = 0; w < starts.length; w++) {
    const s = starts[w];
    let windowNll = 0;
    if (s < 0 || (s + windowLength) * F > bins.length)
      throw new RangeError(`window at minute ${s} runs past the ${bins.length / F} minutes given`);
    for (let t = s + 1; t < s + windowLength; t++) {
      const prev = (t - 1) * F;
      const cur = t * F;
      for (let f = 0; f < F; f++) {
        const a = bins[prev + f];
        const b = bins[cur + f];
        const lp = model.logProb[(f * N + a) * N + b];
        sums.nll[f] -= lp;
        windowNll -= lp;
        if (model.argmax[f * N + a] === b) sums.correct[f]++;
      }
      sums.targets++;
    }
    if (onWindow) onWindow(s, windowLength > 1 ? windowNll / ((windowLength - 1) * F) : Number.NaN);
  }
}

export interface Metrics {
  loss: number;
  perplexity: number;
  accuracy: number;
  /** (node, step, feature) targets. */
  targets: number;
}

export interface BigramMetrics extends Metrics {
  groups: Partial<Record<FeatureGroup, Metrics>>;
  perFeature: (Metrics & { feature: string; group: FeatureGroup })[];
}

function metrics(nll: number, correct: number, targets: number): Metrics {
  const loss = targets ? nll / targets : NaN;
  return { loss, perplexity: Math.exp(loss), accuracy: targets ? correct / targets : NaN, targets };
}

/** Overall, per-group and per-feature metrics from the sums. */
export function summarize(
  sums: ScoreSums,
  features: readonly string[],
  groups: readonly FeatureGroup[],
): BigramMetrics {
  const F = features.length;
  let nll = 0;
  let correct = 0;
  for (let f = 0; f < F; f++) {
    nll += sums.nll[f];
    correct += sums.correct[f];
  }
  const out: BigramMetrics = { ...metrics(nll, correct, sums.targets * F), groups: {}, perFeature: [] };
  for (const g of FEATURE_GROUPS) {
    const idx = groups.map((x, f) => (x === g ? f : -1)).filter((f) => f >= 0);
    if (!idx.length) continue;
    out.groups[g] = metrics(
      idx.reduce((s, f) => s + sums.nll[f], 0),
      idx.reduce((s, f) => s + sums.correct[f], 0),
      sums.targets * idx.length,
    );
  }
  out.perFeature = features.map((feature, f) => ({
    feature,
    group: groups[f],
    ...metrics(sums.nll[f], sums.correct[f], sums.targets),
  }));
  return out;
}

/**
 * Uncertainty of the detection metrics over fine-tuning seeds and test examples: a two-level
 * percentile bootstrap, pure functions over typed arrays.
 *
 * A model is R runs (seeds r = 1..R) judged on the same n evaluation examples at the tau each run chose
 * on its calibration split. Run r's outcome on example i is (label y_i, detected d_ri, effectiveness
 * e_ri, overhead o_ri, customer c_i). A metric M(r, w) is computed from run r's outcomes with example
 * weights w (w_i = how many times example i was drawn):
 *
 *   F1  = 2 TP / (2 TP + FP + FN)     TP = sum_i w_i y_i d_ri, FP = sum_i w_i (1 - y_i) d_ri, FN = sum_i w_i y_i (1 - d_ri)
 *   FPR = FP / sum_i w_i (1 - y_i)    FNR = FN / sum_i w_i y_i
 *   effectiveness = sum_i w_i y_i e_ri / sum_i w_i y_i
 *   overhead = the k-th smallest of the drawn customers' worst overheads, k = ceil(bound x customers)
 *
 * The estimate of a model is the mean over its runs of M(r, 1) (sd: the sample sd over runs). One
 * bootstrap replicate b draws examples with replacement (weights w_b) and R runs with replacement
 * (multiset S_b), and computes  M_b = mean_{r in S_b} M(r, w_b). The 95% interval is the 2.5 and 97.5
 * percentiles of M_b over B replicates: it carries both the test-set noise and the seed-to-seed noise.
 *
 * Examples are drawn by cluster when the outcomes name one (`cluster`: the example's node): a
 * replicate draws C of the C clusters with replacement, and w_i = how often example i's cluster was
 * drawn (a cluster or block bootstrap). The examples of one node (an alert's attack and non-attack
 * windows, the attacks on one victim) share that node's traffic, so drawing them one by one as if
 * independent gives intervals that are too narrow. Without clusters, each example is its own cluster.
 *
 * A paired difference A - B (two models judged on the same examples) uses the same w_b for both, and,
 * when both have the same number of runs, the same drawn run positions (seed k of A with seed k of B:
 * the same holdout pairs and batch order), so what the two models share cancels. With different run
 * counts the runs are drawn independently per model.
 */
import { Rng } from '../common/rng.js';
import { boundedOverhead } from './metrics.js';

/** One run's outcome on the evaluation examples (all arrays of length n, in the same example order for every run of a comparison). */
export interface RunOutcomes {
  /** Example ids (position in the evaluation split's file): runs are compared only on equal ids. */
  index: ArrayLike<number>;
  /** 1 attack, 0 non-attack. */
  label: ArrayLike<number>;
  /** 1 detected (some S_t < tau), 0 not. */
  detected: ArrayLike<number>;
  /** Effectiveness of attack examples (ignored for non-attack ones). */
  effectiveness: ArrayLike<number>;
  /** Overhead of every example. */
  overhead: ArrayLike<number>;
  /** Customer of each example (any integer id). */
  customer: ArrayLike<number>;
  /** Resampling cluster of each example (its node); absent: every example is its own cluster. */
  cluster?: ArrayLike<number>;
}

export type MetricName = 'f1' | 'effectiveness' | 'fpr' | 'fnr' | 'overhead';
export const METRIC_NAMES: readonly MetricName[] = ['effectiveness', 'overhead', 'fpr', 'fnr', 'f1'];

/** M(r, w) of one run: w = null means every example once. NaN where the metric is undefined (no attacks, ...). */
export function weightedMetric(o: RunOutcomes, metric: MetricName, w: ArrayLike<number> | null, bound = 0.8): number {
  const n = o.label.length;
  if (metric === 'overhead') {
    const worst = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      if (w && !w[i]) continue;
      const c = o.customer[i];
      const v = o.overhead[i];
      if (!(worst.get(c)! >= v)) worst.set(c, v);
    }
    return worst.size ? boundedOverhead(Float64Array.from(worst.values()), bound) : Number.NaN;
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let neg = 0;
  let pos = 0;
  let eff = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    if (!wi) continue;
    if (o.label[i] === 1) {
      pos += wi;
      if (o.detected[i]) tp += wi;
      else fn += wi;
      eff += wi * o.effectiveness[i];
    } else {
      neg += wi;
      if (o.detected[i]) fp += wi;
    }
  }
  switch (metric) {
    case 'f1':
      return 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : Number.NaN;
    case 'fpr':
      return neg > 0 ? fp / neg : Number.NaN;
    case 'fnr':
      return pos > 0 ? fn / pos : Number.NaN;
    case 'effectiveness':
      return pos > 0 ? eff / pos : Number.NaN;
  }
}

/** Mean of the finite values (NaN when there is none). */
export function finiteMean(xs: ArrayLike<number>): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < xs.length; i++)
    if (Number.isFinite(xs[i])) {
      s += xs[i];
      k++;
    }
  return k ? s / k : Number.NaN;
}

/** The q-quantile (0..1) of sorted finite values, linear between order statistics (type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (!n) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface Estimate {
  /** Mean over runs of the metric on every example. */
  mean: number | null;
  /** Sample standard deviation over runs (null with one run). */
  sd: number | null;
  /** 95% bootstrap interval (examples and runs). */
  lo: number | null;
  hi: number | null;
  runs: number;
  examples: number;
}

export interface BootstrapOptions {
  /** Replicates (default 2000). */
  replicates?: number;
  /** Seed of the resampling (default 1). */
  seed?: number;
  /** Interval level (default 0.95). */
  level?: number;
  /** Overhead bound for the 'overhead' metric (default 0.8). */
  bound?: number;
}

const nullable = (x: number) => (Number.isFinite(x) ? x : null);

/** Sample standard deviation of the finite values (null with fewer than two). */
export function sampleSd(xs: readonly number[]): number | null {
  const f = xs.filter(Number.isFinite);
  if (f.length < 2) return null;
  const m = f.reduce((a, b) => a + b, 0) / f.length;
  return Math.sqrt(f.reduce((a, b) => a + (b - m) * (b - m), 0) / (f.length - 1));
}

/** Checks that every run of every group is judged on the same examples, in the same order. */
export function checkSameExamples(groups: readonly (readonly RunOutcomes[])[]): number {
  const first = groups.find((g) => g.length)?.[0];
  if (!first) return 0;
  for (const g of groups)
    for (const o of g) {
      if (o.index.length !== first.index.length)
        throw new Error(
          `runs judged on different examples (${o.index.length} and ${first.index.length}): a comparison needs the same evaluation examples`,
        );
      for (let i = 0; i < o.index.length; i++)
        if (o.index[i] !== first.index[i])
          throw new Error(`runs judged on different examples (example ${i}: ${o.index[i]} and ${first.index[i]})`);
    }
  return first.index.length;
}

/**
 * The examples of each resampling cluster, from the first run that names clusters (every run of a
 * comparison must then name the same ones); null when none does: each example is its own cluster.
 */
export function clusterMembers(groups: readonly (readonly RunOutcomes[])[]): number[][] | null {
  const runs = groups.flat();
  const first = runs.find((o) => o.cluster)?.cluster;
  if (!first) return null;
  for (const o of runs) {
    const c = o.cluster;
    if (!c || c.length !== first.length || Array.prototype.some.call(c, (x: number, i: number) => x !== first[i]))
      throw new Error('runs name different resampling clusters (nodes) for the same examples');
  }
  return membersOf(first);
}

/** The positions of each distinct id, in order of first appearance. */
export function membersOf(ids: ArrayLike<number>): number[][] {
  const byId = new Map<number, number[]>();
  for (let i = 0; i < ids.length; i++) {
    const list = byId.get(ids[i]);
    if (list) list.push(i);
    else byId.set(ids[i], [i]);
  }
  return [...byId.values()];
}

/** Example weights of one replicate: n examples, or C clusters, drawn with replacement. */
function drawWeights(rng: Rng, n: number, w: Int32Array, clusters: number[][] | null): void {
  w.fill(0);
  if (!clusters) {
    for (let k = 0; k < n; k++) w[rng.int(n)]++;
    return;
  }
  for (let k = 0; k < clusters.length; k++) for (const i of clusters[rng.int(clusters.length)]) w[i]++;
}

/** R draws with replacement of run positions 0..R-1. */
function drawRuns(rng: Rng, R: number): number[] {
  return Array.from({ length: R }, () => rng.int(R));
}

/** Mean over the drawn runs of their metric with weights w. */
function replicateValue(
  runs: readonly RunOutcomes[],
  drawn: readonly number[],
  metric: MetricName,
  w: Int32Array,
  bound: number,
): number {
  return finiteMean(drawn.map((r) => weightedMetric(runs[r], metric, w, bound)));
}

function interval(values: number[], level: number): { lo: number | null; hi: number | null } {
  const f = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!f.length) return { lo: null, hi: null };
  const a = (1 - level) / 2;
  return { lo: quantileSorted(f, a), hi: quantileSorted(f, 1 - a) };
}

/** A model's estimate, sd over runs and bootstrap interval of one metric. */
export function bootstrapMetric(
  runs: readonly RunOutcomes[],
  metric: MetricName,
  opts: BootstrapOptions = {},
): Estimate {
  const n = checkSameExamples([runs]);
  const bound = opts.bound ?? 0.8;
  const perRun = runs.map((o) => weightedMetric(o, metric, null, bound));
  const out: Estimate = {
    mean: nullable(finiteMean(perRun)),
    sd: sampleSd(perRun),
    lo: null,
    hi: null,
    runs: runs.length,
    examples: n,
  };
  if (!runs.length || !n) return out;
  const B = opts.replicates ?? 2000;
  const rng = Rng.derive(opts.seed ?? 1, 'bootstrap', metric);
  const clusters = clusterMembers([runs]);
  const w = new Int32Array(n);
  const values: number[] = [];
  for (let b = 0; b < B; b++) {
    drawWeights(rng, n, w, clusters);
    values.push(replicateValue(runs, drawRuns(rng, runs.length), metric, w, bound));
  }
  return { ...out, ...interval(values, opts.level ?? 0.95) };
}

export interface Difference {
  /** Estimate of A minus estimate of B. */
  diff: number | null;
  lo: number | null;
  hi: number | null;
  /** Whether the runs were paired by position (same number of runs). */
  pairedRuns: boolean;
  examples: number;
}

/** The paired bootstrap difference A - B of one metric, on the same examples. */
export function pairedDifference(
  a: readonly RunOutcomes[],
  b: readonly RunOutcomes[],
  metric: MetricName,
  opts: BootstrapOptions = {},
): Difference {
  const n = checkSameExamples([a, b]);
  const bound = opts.bound ?? 0.8;
  const ma = finiteMean(a.map((o) => weightedMetric(o, metric, null, bound)));
  const mb = finiteMean(b.map((o) => weightedMetric(o, metric, null, bound)));
  const paired = a.length === b.length;
  const out: Difference = { diff: nullable(ma - mb), lo: null, hi: null, pairedRuns: paired, examples: n };
  if (!a.length || !b.length || !n) return out;
  const B = opts.replicates ?? 2000;
  const rng = Rng.derive(opts.seed ?? 1, 'paired', metric);
  const clusters = clusterMembers([a, b]);
  const w = new Int32Array(n);
  const values: number[] = [];
  for (let k = 0; k < B; k++) {
    drawWeights(rng, n, w, clusters);
    const ra = drawRuns(rng, a.length);
    const rb = paired ? ra : drawRuns(rng, b.length);
    values.push(replicateValue(a, ra, metric, w, bound) - replicateValue(b, rb, metric, w, bound));
  }
  return { ...out, ...interval(values, opts.level ?? 0.95) };
}

// ---------------------------------------------------------------- verdicts

export type Verdict = 'holds' | 'does not hold' | 'inconclusive';

/**
 * The verdict on a claim from the interval [lo, hi] of the difference A - B (signs already turned so
 * that positive favours the claim):
 *
 *   'better' (A beats B):          holds when lo > 0; does not hold when hi < 0 (B is better) or the
 *                                  whole interval lies within +-margin (no difference worth the name);
 *                                  else inconclusive.
 *   'not worse' (A at least as good as B, up to margin):
 *                                  holds when lo > -margin; does not hold when hi < -margin; else inconclusive.
 *
 * No interval (null): inconclusive.
 */
export function verdict(kind: 'better' | 'not worse', lo: number | null, hi: number | null, margin: number): Verdict {
  if (lo === null || hi === null) return 'inconclusive';
  if (kind === 'better') {
    // An interval inside +-margin: no difference worth the name, even when it excludes 0.
    if (lo >= -margin && hi <= margin) return 'does not hold';
    if (lo > 0) return 'holds';
    if (hi < 0) return 'does not hold';
    return 'inconclusive';
  }
  if (lo > -margin) return 'holds';
  if (hi < -margin) return 'does not hold';
  return 'inconclusive';
}

// ---------------------------------------------------------------- per-window losses (Table 4)

/**
 * The paired difference mean(b) - mean(a) of per-window losses, a: one array per seed of model A
 * (every array over the same n windows as b), b: model B's (one deterministic model, e.g. the bigram).
 * Positive when A's loss is lower. Replicates draw the windows (or, given `cluster`, the clusters of
 * windows: a node's windows share its traffic) and the seeds of A with replacement:
 * D_b = mean_{s in S_b} sum_i w_i (b_i - a_si) / sum_i w_i. 95% percentile interval; sd over seeds of A.
 */
export function pairedLossDifference(
  a: readonly ArrayLike<number>[],
  b: ArrayLike<number>,
  opts: BootstrapOptions & { cluster?: ArrayLike<number> } = {},
): Difference & { sd: number | null } {
  const n = b.length;
  for (const x of a)
    if (x.length !== n)
      throw new Error(`per-window losses of ${x.length} and ${n} windows: the comparison needs the same windows`);
  const diffOf = (s: number, w: Int32Array | null) => {
    let sum = 0;
    let weight = 0;
    for (let i = 0; i < n; i++) {
      const wi = w ? w[i] : 1;
      sum += wi * (b[i] - a[s][i]);
      weight += wi;
    }
    return sum / weight;
  };
  const perSeed = a.map((_, s) => diffOf(s, null));
  const out = {
    diff: nullable(finiteMean(perSeed)),
    lo: null as number | null,
    hi: null as number | null,
    pairedRuns: true,
    examples: n,
    sd: sampleSd(perSeed),
  };
  if (!a.length || !n) return out;
  const B = opts.replicates ?? 2000;
  const rng = Rng.derive(opts.seed ?? 1, 'loss');
  const cluster = opts.cluster;
  if (cluster && cluster.length !== n) throw new Error(`${cluster.length} clusters for ${n} windows`);
  const clusters = cluster ? membersOf(cluster) : null;
  const w = new Int32Array(n);
  const values: number[] = [];
  for (let k = 0; k < B; k++) {
    drawWeights(rng, n, w, clusters);
    values.push(finiteMean(drawRuns(rng, a.length).map((s) => diffOf(s, w))));
  }
  return { ...out, ...interval(values, opts.level ?? 0.95) };
}

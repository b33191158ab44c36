/**
 * The Xatu metrics of early DDoS detection (SPEC §7, paper Figure 4), as pure functions over typed
 * arrays. An example has, over its detection window of D minutes, a survival curve S_t (the model's),
 * an anomaly mask a_t and incoming bytes v_t (the EarlyDetect dataset's); a threshold tau turns the
 * curve into a detection step d, the first t with S_t < tau (-1: nothing detected). Then
 *
 *   A = sum_t a_t v_t                   anomalous traffic
 *   B = sum_{t >= d} a_t v_t            anomalous traffic caught      (0 when d = -1)
 *   C = sum_{t >= d} (1 - a_t) v_t      normal traffic scrubbed       (0 when d = -1)
 *   effectiveness = B / A  (attack examples)      overhead = C / sum_t v_t  (every example)
 *
 * and "detected / not detected" against the label gives FPR, FNR and F1. Readings where the paper and
 * SPEC leave a gap are marked "our reading" and listed in docs/finetune.md.
 */

/** One example's traffic split by a detection step. */
export interface TrafficSplit {
  /** A: anomalous traffic of the window. */
  anomalous: number;
  /** B: anomalous traffic at or after the detection step. */
  caught: number;
  /** C: normal traffic at or after the detection step (scrubbed by mistake). */
  scrubbed: number;
  /** sum of v_t over the window. */
  total: number;
}

/**
 * The detection step for threshold tau: the first t with S_t < tau, or -1 when there is none. With a
 * non-increasing curve (as the SAFE head gives), raising tau never makes detection later.
 */
export function detectionStep(survival: ArrayLike<number>, tau: number): number {
  for (let t = 0; t < survival.length; t++) if (survival[t] < tau) return t;
  return -1;
}

/** A, B, C and the total of one example for detection step d (-1 = not detected). */
export function trafficSplit(mask: ArrayLike<number>, traffic: ArrayLike<number>, d: number): TrafficSplit {
  let anomalous = 0;
  let caught = 0;
  let scrubbed = 0;
  let total = 0;
  for (let t = 0; t < traffic.length; t++) {
    const v = traffic[t];
    total += v;
    if (mask[t]) anomalous += v;
    if (d >= 0 && t >= d) {
      if (mask[t]) caught += v;
      else scrubbed += v;
    }
  }
  return { anomalous, caught, scrubbed, total };
}

/**
 * Effectiveness B / A of an attack example, in [0, 1]; 0 when nothing is detected. Our reading for an
 * attack window without anomalous bytes (A = 0): 1 when detected, 0 when not.
 */
export function effectiveness(mask: ArrayLike<number>, traffic: ArrayLike<number>, d: number): number {
  if (d < 0) return 0;
  const s = trafficSplit(mask, traffic, d);
  return s.anomalous > 0 ? s.caught / s.anomalous : 1;
}

/** Overhead C / sum v_t of any example, in [0, 1]; 0 when nothing is detected or the window carries no traffic. */
export function overhead(mask: ArrayLike<number>, traffic: ArrayLike<number>, d: number): number {
  if (d < 0) return 0;
  const s = trafficSplit(mask, traffic, d);
  return s.total > 0 ? s.scrubbed / s.total : 0;
}

/** |detection minute - onset minute| of a detected attack; null when not detected or not an attack (onset < 0). */
export function mitigationTime(d: number, onsetStep: number): number | null {
  return d >= 0 && onsetStep >= 0 ? Math.abs(d - onsetStep) : null;
}

/**
 * The overhead that at least a share `bound` of the customers stay at or below, each customer
 * counted by its worst example: the k-th smallest of the customers' worst overheads, k = ceil(bound x
 * customers). 0 without customers.
 */
export function boundedOverhead(customerWorst: ArrayLike<number>, bound: number): number {
  const n = customerWorst.length;
  if (!n) return 0;
  if (!(bound > 0 && bound <= 1)) throw new RangeError(`overhead bound ${bound} is not in (0, 1]`);
  const sorted = Float64Array.from(customerWorst).sort();
  const k = Math.min(n, Math.max(1, Math.ceil(bound * n - 1e-9)));
  return sorted[k - 1];
}

/** The worst (largest) overhead of each customer's examples; customers without examples get 0. */
export function customerWorstOverheads(
  overheads: ArrayLike<number>,
  customer: ArrayLike<number>,
  nCustomers: number,
): Float64Array {
  const worst = new Float64Array(nCustomers);
  for (let i = 0; i < overheads.length; i++) if (overheads[i] > worst[customer[i]]) worst[customer[i]] = overheads[i];
  return worst;
}

// ---------------------------------------------------------------- a set of examples

/**
 * The examples a model is judged on: n examples of D minutes, row-major [n, D] arrays as the
 * EarlyDetect dataset and python/score_detect.py write them.
 */
export interface DetectionSet {
  n: number;
  D: number;
  /** S_t, [n, D]. */
  survival: Float32Array;
  /** a_t, [n, D]. */
  mask: Uint8Array;
  /** v_t (incoming bytes), [n, D]. */
  traffic: Float32Array;
  /** 1 attack, 0 non-attack, [n]. */
  label: ArrayLike<number>;
  /** Onset step in the window (attack), -1 otherwise, [n]. */
  onsetStep: ArrayLike<number>;
  /** Customer index per example (0..nCustomers-1, every index used), [n]: the unit of the overhead bound. */
  customer: ArrayLike<number>;
  nCustomers: number;
}

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** FPR, FNR (shares, 0..1) and F1 of a confusion matrix; null where the denominator is 0. */
export function rates(c: Confusion): { fpr: number | null; fnr: number | null; f1: number | null } {
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  return { fpr: ratio(c.fp, c.fp + c.tn), fnr: ratio(c.fn, c.fn + c.tp), f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn) };
}

/** Everything about a set of examples at one threshold. */
export interface DetectionResult {
  tau: number;
  /** Per example: the detection step, -1 when not detected. */
  detection: Int32Array;
  /** Per example: overhead; per attack example: effectiveness (NaN for non-attack examples). */
  overhead: Float64Array;
  effectiveness: Float64Array;
  /** Mean effectiveness over the attack examples (0..1); null without attack examples. */
  meanEffectiveness: number | null;
  /** Per customer: its worst example's overhead. */
  customerWorst: Float64Array;
  confusion: Confusion;
  fpr: number | null;
  fnr: number | null;
  f1: number | null;
  /** |d - onset| of every detected attack example, in example order. */
  mitigationTimes: number[];
}

const row = <T extends Float32Array | Uint8Array>(a: T, i: number, D: number): T => a.subarray(i * D, (i + 1) * D) as T;

/** Detection steps of every example for threshold tau. */
export function detectAll(survival: Float32Array, D: number, tau: number): Int32Array {
  const n = D ? survival.length / D : 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = detectionStep(row(survival, i, D), tau);
  return out;
}

/** Metrics of a set of examples for given detection steps (one per example). */
export function judge(set: DetectionSet, detection: Int32Array, tau = Number.NaN): DetectionResult {
  const { n, D } = set;
  const over = new Float64Array(n);
  const eff = new Float64Array(n).fill(Number.NaN);
  const confusion: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const mitigationTimes: number[] = [];
  let effSum = 0;
  let attacks = 0;
  for (let i = 0; i < n; i++) {
    const d = detection[i];
    const mask = row(set.mask, i, D);
    const traffic = row(set.traffic, i, D);
    over[i] = overhead(mask, traffic, d);
    const attack = set.label[i] === 1;
    if (attack) {
      eff[i] = effectiveness(mask, traffic, d);
      effSum += eff[i];
      attacks++;
      const m = mitigationTime(d, set.onsetStep[i]);
      if (m !== null) mitigationTimes.push(m);
    }
    if (d >= 0) {
      if (attack) confusion.tp++;
      else confusion.fp++;
    } else if (attack) confusion.fn++;
    else confusion.tn++;
  }
  return {
    tau,
    detection,
    overhead: over,
    effectiveness: eff,
    meanEffectiveness: attacks ? effSum / attacks : null,
    customerWorst: customerWorstOverheads(over, set.customer, set.nCustomers),
    confusion,
    ...rates(confusion),
    mitigationTimes,
  };
}

/** Metrics of a set of examples at threshold tau. */
export function evaluateAt(set: DetectionSet, tau: number): DetectionResult {
  return judge(set, detectAll(set.survival, set.D, tau), tau);
}

// ---------------------------------------------------------------- choosing the threshold

/** One threshold the search considered. */
export interface Candidate {
  tau: number;
  meanEffectiveness: number;
  /** The bounded overhead at this tau (boundedOverhead of the customers' worst overheads). */
  overhead: number;
  /** False positives + false negatives. */
  errors: number;
}

export interface SelectOptions {
  /** Share of customers that must stay at or below the selected overhead (0.8 in Tables 5, 6, 9). */
  bound: number;
  /**
   * The overhead the bounded customers may not exceed (our reading; see docs/finetune.md). Default
   * 0.1: every overhead the paper reports (Tables 5, 6, 9) is at most 0.09.
   */
  budget?: number;
}

export interface Selection extends DetectionResult {
  bound: number;
  budget: number;
  /** The bounded overhead at the chosen tau ("the selected overhead" of the tables). */
  selectedOverhead: number;
  /** Distinct outcomes the search went through, and how many of them met the budget. */
  candidates: number;
  feasible: number;
}

export const DEFAULT_OVERHEAD_BUDGET = 0.1;

/** Is candidate a better choice than b? Highest effectiveness; then lowest overhead, fewest errors, lowest tau. */
export function better(a: Candidate, b: Candidate | undefined, eps = 1e-12): boolean {
  if (!b) return true;
  if (Math.abs(a.meanEffectiveness - b.meanEffectiveness) > eps) return a.meanEffectiveness > b.meanEffectiveness;
  if (Math.abs(a.overhead - b.overhead) > eps) return a.overhead < b.overhead;
  if (a.errors !== b.errors) return a.errors < b.errors;
  return a.tau < b.tau;
}

/**
 * Every threshold that gives a distinct outcome, in increasing order, with the effectiveness, bounded
 * overhead and errors at each, found in one sweep. A curve's detection step for tau is the first t
 * whose running minimum min_{k<=t} S_k is below tau (the same as detectionStep for a non-increasing
 * curve, and what detectionStep computes for any curve), so the outcome changes only when tau passes a
 * running minimum. The candidates are: 0 (nothing detected), the midpoint between each two successive
 * distinct running minima, and one value above the largest (everything detected at its first new
 * minimum, at the latest).
 */
export function thresholdCandidates(set: DetectionSet, bound: number): Candidate[] {
  const { n, D } = set;
  // Events (value, example, step): tau > value makes the example's detection step at most `step`.
  const values: number[] = [];
  const examples: number[] = [];
  const steps: number[] = [];
  for (let i = 0; i < n; i++) {
    let min = Number.POSITIVE_INFINITY;
    for (let t = 0; t < D; t++) {
      const s = set.survival[i * D + t];
      if (s < min) {
        min = s;
        values.push(s);
        examples.push(i);
        steps.push(t);
      }
    }
  }
  const order = Array.from(values.keys()).sort((a, b) => values[a] - values[b]);

  // Per example, the anomalous and the normal traffic at or after each step (suffix sums), so that
  // effectiveness and overhead at a new detection step cost O(1).
  const sufA = new Float64Array(n * (D + 1));
  const sufC = new Float64Array(n * (D + 1));
  const anomalous = new Float64Array(n);
  const total = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = D - 1; t >= 0; t--) {
      const v = set.traffic[i * D + t];
      const a = set.mask[i * D + t] ? 1 : 0;
      sufA[i * (D + 1) + t] = sufA[i * (D + 1) + t + 1] + a * v;
      sufC[i * (D + 1) + t] = sufC[i * (D + 1) + t + 1] + (1 - a) * v;
      total[i] += v;
    }
    anomalous[i] = sufA[i * (D + 1)];
  }
  const effAt = (i: number, d: number) => (d < 0 ? 0 : anomalous[i] > 0 ? sufA[i * (D + 1) + d] / anomalous[i] : 1);
  const overAt = (i: number, d: number) => (d < 0 || !(total[i] > 0) ? 0 : sufC[i * (D + 1) + d] / total[i]);

  const detection = new Int32Array(n).fill(-1);
  const worst = new Float64Array(set.nCustomers);
  let attacks = 0;
  for (let i = 0; i < n; i++) if (set.label[i] === 1) attacks++;
  let effSum = 0;
  let tp = 0;
  let fp = 0;
  const snapshot = (tau: number): Candidate => ({
    tau,
    meanEffectiveness: attacks ? effSum / attacks : 0,
    overhead: boundedOverhead(worst, bound),
    errors: fp + (attacks - tp),
  });

  const out: Candidate[] = [snapshot(0)];
  for (let j = 0; j < order.length;) {
    const v = values[order[j]];
    // apply every event of this value: tau is now just above v
    for (; j < order.length && values[order[j]] === v; j++) {
      const e = order[j];
      const i = examples[e];
      const d = steps[e];
      const old = detection[i];
      if (old >= 0 && old <= d) continue;
      detection[i] = d;
      if (set.label[i] === 1) {
        effSum += effAt(i, d) - effAt(i, old);
        if (old < 0) tp++;
      } else if (old < 0) fp++;
      const o = overAt(i, d);
      const c = set.customer[i];
      if (o > worst[c]) worst[c] = o;
    }
    const next = j < order.length ? values[order[j]] : v < 1 ? 1 : v + Math.max(1, Math.abs(v)) * 1e-9;
    out.push(snapshot(j < order.length ? (v + next) / 2 : v < 1 ? (v + 1) / 2 : next));
  }
  return out;
}

/**
 * The threshold under an overhead bound (SPEC §7): among the thresholds for which at least `bound`
 * of the customers (each by its worst example) have overhead at or below the bounded overhead, and
 * that bounded overhead is within the budget, the one with the highest mean effectiveness over the
 * attack examples; ties go to the lower overhead, then the fewer misclassified examples, then the
 * lower tau. tau = 0 (nothing detected) always qualifies, so there is always an answer. The returned
 * metrics are recomputed at the chosen tau with evaluateAt.
 */
export function selectThreshold(set: DetectionSet, opts: SelectOptions): Selection {
  const budget = opts.budget ?? DEFAULT_OVERHEAD_BUDGET;
  const candidates = thresholdCandidates(set, opts.bound);
  let best: Candidate | undefined;
  let feasible = 0;
  for (const c of candidates) {
    if (c.overhead > budget + 1e-12) continue;
    feasible++;
    if (better(c, best)) best = c;
  }
  const result = evaluateAt(set, best!.tau);
  return {
    ...result,
    bound: opts.bound,
    budget,
    selectedOverhead: boundedOverhead(result.customerWorst, opts.bound),
    candidates: candidates.length,
    feasible,
  };
}

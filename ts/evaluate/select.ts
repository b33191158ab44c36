/**
 * Threshold selection of the Xatu evaluation (SPEC §7), pure: which examples of a split belong to a run,
 * the DetectionSet of a subset of them, the size-matched calibration tau (the median over random
 * subsets of the evaluation set's size), each bound's metrics at the chosen tau, and the unseen-node
 * judgement. ts/evaluate/evaluate.ts reads the runs and writes the results.
 */
import { Rng } from '../common/rng.js';
import type { DatasetNode } from '../datasets/binned.js';
import { N_COLUMNS } from '../earlydetect/summary.js';
import type { DetectSplit } from '../earlydetect/data.js';
import { inAttackTypes } from '../train/finetune.js';
import {
  boundedOverhead,
  detectAll,
  evaluateAt,
  judge,
  selectThreshold,
  type DetectionResult,
  type DetectionSet,
} from './metrics.js';
import { summary, type BoundMetrics, type UnseenMetrics } from './tables.js';

export type EvalSplit = 'train' | 'valid' | 'test';

/**
 * The split a run's threshold is chosen on: labelled examples it did not train on and that are not
 * test. The paper's small set trains on the EarlyDetect validation split, so it calibrates on train;
 * the _MoreData rows train on train and calibrate on validation. A run may name its own.
 */
export function calibrationSplitOf(r: { trainSplit?: string | null; calibrationSplit?: string | null }): EvalSplit {
  if (r.calibrationSplit) return r.calibrationSplit as EvalSplit;
  return r.trainSplit === 'valid' ? 'train' : 'valid';
}

/**
 * The examples `idx` of a set of per-example arrays (survival, mask and traffic D steps each; label,
 * onset step and customer one each) as a DetectionSet of their own, customers numbered densely in
 * order of first appearance (the overhead bound counts them).
 */
function gather(
  src: { D: number; survival: Float32Array; mask: Uint8Array; traffic: Float32Array },
  idx: readonly number[],
  at: (i: number) => { label: number; onsetStep: number; customer: number },
): DetectionSet {
  const { D } = src;
  const n = idx.length;
  const out: DetectionSet = {
    n,
    D,
    survival: new Float32Array(n * D),
    mask: new Uint8Array(n * D),
    traffic: new Float32Array(n * D),
    label: new Int32Array(n),
    onsetStep: new Int32Array(n),
    customer: new Int32Array(n),
    nCustomers: 0,
  };
  const dense = new Map<number, number>();
  idx.forEach((i, k) => {
    out.survival.set(src.survival.subarray(i * D, (i + 1) * D), k * D);
    out.mask.set(src.mask.subarray(i * D, (i + 1) * D), k * D);
    out.traffic.set(src.traffic.subarray(i * D, (i + 1) * D), k * D);
    const e = at(i);
    (out.label as Int32Array)[k] = e.label;
    (out.onsetStep as Int32Array)[k] = e.onsetStep;
    if (!dense.has(e.customer)) dense.set(e.customer, dense.size);
    (out.customer as Int32Array)[k] = dense.get(e.customer)!;
  });
  out.nCustomers = dense.size;
  return out;
}

/**
 * A DetectionSet of the examples `indices` of a split: their survival curves, masks, traffic, labels,
 * onsets, and customers numbered densely over the customers present (the overhead bound counts them).
 */
export function subsetSet(
  split: DetectSplit,
  survival: Float32Array,
  indices: readonly number[],
  customerOfRow: (row: number) => number,
): DetectionSet {
  return gather({ D: split.D, survival, mask: split.mask, traffic: split.traffic }, indices, (i) => {
    const e = split.examples.subarray(i * N_COLUMNS, (i + 1) * N_COLUMNS);
    return { label: e[2], onsetStep: e[3], customer: customerOfRow(e[0]) };
  });
}

/** The examples `idx` of a set as a set of their own (customers renumbered densely). */
export function pickExamples(set: DetectionSet, idx: readonly number[]): DetectionSet {
  return gather(set, idx, (i) => ({ label: set.label[i], onsetStep: set.onsetStep[i], customer: set.customer[i] }));
}

/** Indices of a split's examples that belong to a run (its attack types; never unseen-node examples). */
export function runExamples(
  split: DetectSplit,
  types: readonly string[] | null | undefined,
  names: readonly string[],
): number[] {
  const out: number[] = [];
  for (let i = 0; i < split.n; i++)
    if (inAttackTypes(split.examples[i * N_COLUMNS + 4], split.examples[i * N_COLUMNS + 5], types ?? undefined, names))
      out.push(i);
  return out;
}

/** Indices of a split's unseen-node examples (no alert behind them). */
export function unseenExamples(split: DetectSplit): number[] {
  const out: number[] = [];
  for (let i = 0; i < split.n; i++) if (split.examples[i * N_COLUMNS + 5] < 0) out.push(i);
  return out;
}

function boundMetrics(
  r: DetectionResult,
  bound: number,
  budget: number,
  selectedOn: string,
  candidates: number,
  feasible: number,
): BoundMetrics {
  return {
    bound,
    budget,
    selectedOn,
    tau: r.tau,
    effectiveness: r.meanEffectiveness,
    overhead: boundedOverhead(r.customerWorst, bound),
    fpr: r.fpr,
    fnr: r.fnr,
    f1: r.f1,
    confusion: r.confusion,
    candidates,
    feasible,
    mitigation: summary(r.mitigationTimes),
  };
}

/** Draws of the size-matched calibration (an odd number: the median is one of them). */
export const CALIBRATION_DRAWS = 21;

/**
 * Tau chosen on a calibration set for an evaluation set of `n` examples. The overhead bound counts
 * each customer by its worst example, and a worst grows with the number of examples, so a tau chosen
 * on a larger split is more conservative on the evaluated one, on a smaller split looser. The
 * calibration is therefore size-matched: `draws` random subsets of n calibration examples (without
 * replacement; with replacement when the calibration set is smaller), tau chosen on each, and the
 * median taken. Only the evaluation set's size is used, never its labels or scores.
 */
export function sizeMatchedTau(
  select: DetectionSet,
  n: number,
  opts: { bound: number; budget: number; draws?: number; seed?: number },
): { tau: number; taus: number[]; draws: number[][] } {
  const draws = opts.draws ?? CALIBRATION_DRAWS;
  const rng = Rng.derive(opts.seed ?? 1, 'calibration', select.n, n, opts.bound, opts.budget);
  const taus: number[] = [];
  const drawn: number[][] = [];
  const all = Array.from({ length: select.n }, (_, i) => i);
  for (let d = 0; d < draws; d++) {
    let idx: number[];
    if (select.n >= n) {
      const pool = all.slice();
      for (let k = 0; k < n; k++) {
        const j = k + rng.int(pool.length - k);
        [pool[k], pool[j]] = [pool[j], pool[k]];
      }
      idx = pool.slice(0, n);
    } else idx = Array.from({ length: n }, () => rng.int(select.n));
    drawn.push(idx);
    taus.push(selectThreshold(pickExamples(select, idx), { bound: opts.bound, budget: opts.budget }).tau);
  }
  const sorted = [...taus].sort((a, b) => a - b);
  return { tau: sorted[(sorted.length - 1) >> 1], taus, draws: drawn };
}

/**
 * A run's metrics at each bound: tau chosen on `select` (the same set as `evaluate`, or another split's),
 * then judged on `evaluate`. Also the per-example effectiveness and mitigation times (Figure 5).
 */
export function evaluateBounds(
  evaluate: DetectionSet,
  select: DetectionSet,
  bounds: readonly number[],
  budget: number,
  sameSet: boolean,
  selectedOn: string,
  tauOf: (bound: number, budget: number) => number = (bound, b) =>
    sizeMatchedTau(select, evaluate.n, { bound, budget: b }).tau,
): { metrics: BoundMetrics[]; figure: { bound: number; effectiveness: number[]; mitigationTime: number[] }[] } {
  const metrics: BoundMetrics[] = [];
  const figure: { bound: number; effectiveness: number[]; mitigationTime: number[] }[] = [];
  for (const bound of bounds) {
    const s = selectThreshold(select, { bound, budget });
    const r = sameSet ? s : evaluateAt(evaluate, tauOf(bound, budget));
    metrics.push(boundMetrics(r, bound, budget, selectedOn, s.candidates, s.feasible));
    const eff: number[] = [];
    for (let i = 0; i < evaluate.n; i++) if (evaluate.label[i] === 1) eff.push(r.effectiveness[i]);
    figure.push({ bound, effectiveness: eff, mitigationTime: r.mitigationTimes });
  }
  return { metrics, figure };
}

/** Unseen-node examples of a split at tau: the confusion matrix and its breakdown by mapped training node. */
export function judgeUnseen(
  split: DetectSplit,
  survival: Float32Array,
  indices: readonly number[],
  tau: number,
  nodes: readonly DatasetNode[],
): UnseenMetrics {
  const set = subsetSet(split, survival, indices, () => 0);
  const r = judge(set, detectAll(set.survival, set.D, tau), tau);
  const groups = new Map<number, { mappedTo: number; address: string; examples: number; tn: number; fp: number }>();
  indices.forEach((i, k) => {
    const node = nodes[split.examples[i * N_COLUMNS]];
    const to = node.mappedTo ?? node.nodeId;
    const g = groups.get(to) ?? { mappedTo: to, address: nodes[to]?.address ?? String(to), examples: 0, tn: 0, fp: 0 };
    g.examples++;
    if (set.label[k] !== 1) {
      if (r.detection[k] >= 0) g.fp++;
      else g.tn++;
    }
    groups.set(to, g);
  });
  return {
    split: split.split,
    tau,
    examples: indices.length,
    confusion: r.confusion,
    byMappedNode: [...groups.values()].sort((a, b) => b.examples - a.examples || a.mappedTo - b.mappedTo),
  };
}

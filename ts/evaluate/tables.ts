/**
 * The detection tables of the paper from evaluated runs, as JSON rows and Markdown. Pure functions.
 *
 *   Table 5  every model on all attack types at the table bound (80%): effectiveness, overhead, FPR, FNR, F1
 *   Table 6  the same per attack type (runs fine-tuned on one type)
 *   Table 9  NetFlowGen on 86 features against NetFlowGen_Light on the 6 volume features
 *   Table 8  confusion matrices of the unseen-node examples (all non-attack), per split, and per mapped node
 *   Figure 5 (summary) effectiveness and mitigation time per model and bound; the arrays are in the JSON
 *
 * Units as in the paper: effectiveness, FPR and FNR in percent, overhead as a share, F1 in 0..1.
 */
import { markdownTable } from '../train/tables.js';

/** A model's metrics at one overhead bound. Shares are 0..1 (the tables print percent). */
export interface BoundMetrics {
  bound: number;
  budget: number;
  /** The split tau was chosen on, and tau. */
  selectedOn: string;
  tau: number;
  /** Mean effectiveness over the attack examples; null without attacks. */
  effectiveness: number | null;
  /** The bounded overhead at tau (the selected overhead). */
  overhead: number;
  fpr: number | null;
  fnr: number | null;
  f1: number | null;
  confusion: { tp: number; fp: number; tn: number; fn: number };
  /** Thresholds with distinct outcomes on the selection split, and how many met the budget. */
  candidates: number;
  feasible: number;
  /** Mitigation time (minutes) of the detected attacks. */
  mitigation: { count: number; mean: number | null; median: number | null; max: number | null };
}

/** Unseen-node examples (all non-attack) of one split, at the table bound's tau. */
export interface UnseenMetrics {
  split: string;
  tau: number;
  examples: number;
  /** Actual attack rows are 0 (no unseen example is an attack); kept so the matrix is whole. */
  confusion: { tp: number; fp: number; tn: number; fn: number };
  /** Per training node the unseen nodes map to (nearest neighbour, SPEC §4). */
  byMappedNode: { mappedTo: number; address: string; examples: number; tn: number; fp: number }[];
}

/** One point of an operating-point curve: tau chosen on the calibration split under (bound, budget), judged on the evaluation split. */
export interface BudgetPoint {
  bound: number;
  budget: number;
  tau: number;
  effectiveness: number | null;
  overhead: number;
  f1: number | null;
  fpr: number | null;
  fnr: number | null;
}

/** Per-example outcomes of a run at the table bound's tau, for the bootstrap (ts/evaluate/uncertainty.ts). */
export interface ExampleOutcomesJson {
  bound: number;
  tau: number;
  /** Position of each example in the evaluation split's file. */
  index: number[];
  label: number[];
  /** Detection step, -1 when not detected. */
  detection: number[];
  /** Effectiveness (attack examples; null for the others). */
  effectiveness: (number | null)[];
  overhead: number[];
  /** Customer id (the binned dataset's customerId). */
  customer: number[];
  /**
   * Node of each example (its row in the binned dataset): the bootstrap resamples nodes, not
   * examples, since the examples of one node (an alert's attack and non-attack pair among them) are
   * not independent. Absent in evaluations written before it existed.
   */
  node?: number[];
}

export interface RunEvaluation {
  run: string;
  name: string;
  label: string;
  arch: string;
  trainSplit: string | null;
  attackTypes: string[] | null;
  featureSet: string;
  nFeatures: number;
  trainExamples: number;
  /** Updates of the final model, and updates x batch size: the example passes it actually trained on. */
  finalUpdates?: number;
  examplesSeen?: number;
  split: string;
  /** The split tau was chosen on (the run's calibration split unless asked otherwise). */
  selectSplit: string;
  examples: { total: number; attacks: number; normal: number; customers: number };
  /** Per bound: tau chosen on selectSplit, judged on split (the headline numbers). */
  bounds: BoundMetrics[];
  /** Per bound: tau chosen on the evaluation split itself ("oracle tau"; optimistic, secondary). */
  oracle: BoundMetrics[];
  /** Effectiveness and overhead against the overhead budget, per bound (tau on selectSplit). */
  budgetCurve: BudgetPoint[];
  /** Per-example outcomes at the table bound's tau (for the bootstrap over examples and seeds). */
  outcomes: ExampleOutcomesJson;
  unseen: UnseenMetrics[];
}

/** Figure 5's data: per model and bound, the effectiveness of every attack example and the mitigation time of every detected one. */
export interface Figure5 {
  bounds: number[];
  models: {
    run: string;
    label: string;
    byBound: { bound: number; effectiveness: number[]; mitigationTime: number[] }[];
  }[];
}

export interface MetricsRow {
  model: string;
  run: string;
  trainingSamples: number;
  /** Percent. */
  effectiveness: number | null;
  overhead: number;
  /** Percent. */
  fpr: number | null;
  fnr: number | null;
  f1: number | null;
}

const pct = (x: number | null) => (x === null ? null : 100 * x);

export function metricsRow(e: RunEvaluation, bound: number): MetricsRow {
  const b = boundOf(e, bound);
  return {
    model: e.label,
    run: e.name,
    trainingSamples: e.trainExamples,
    effectiveness: pct(b.effectiveness),
    overhead: b.overhead,
    fpr: pct(b.fpr),
    fnr: pct(b.fnr),
    f1: b.f1,
  };
}

export function boundOf(e: RunEvaluation, bound: number): BoundMetrics {
  const b = e.bounds.find((x) => x.bound === bound);
  if (!b) throw new Error(`${e.run}: not evaluated at the ${bound} bound`);
  return b;
}

/** Numbers as the tables print them. */
export const format = {
  effectiveness: (x: number | null) => (x === null ? '-' : x.toFixed(2)),
  overhead: (x: number | null) => (x === null ? '-' : x.toFixed(2)),
  rate: (x: number | null) => (x === null ? '-' : x.toFixed(2)),
  f1: (x: number | null) => (x === null ? '-' : x.toFixed(2)),
};

const METRIC_HEADERS = ['Effectiveness ↑', 'Overhead ↓', 'FPR ↓', 'FNR ↓', 'F1 score ↑'];
const metricCells = (r: MetricsRow) => [
  format.effectiveness(r.effectiveness),
  format.overhead(r.overhead),
  format.rate(r.fpr),
  format.rate(r.fnr),
  format.f1(r.f1),
];

// ---------------------------------------------------------------- Table 5

/** Runs fine-tuned on every attack type. */
export function table5Rows(evals: readonly RunEvaluation[], bound: number): MetricsRow[] {
  return evals.filter((e) => e.attackTypes === null).map((e) => metricsRow(e, bound));
}

export function table5Markdown(rows: readonly MetricsRow[]): string {
  return markdownTable(
    ['Model', 'Training samples', ...METRIC_HEADERS],
    rows.map((r) => [r.model, r.trainingSamples, ...metricCells(r)]),
  );
}

// ---------------------------------------------------------------- Table 6

export interface Table6Row extends MetricsRow {
  attackType: string;
}

/** Runs fine-tuned on one attack type, grouped by type (types in order of first appearance). */
export function table6Rows(evals: readonly RunEvaluation[], bound: number): Table6Row[] {
  const single = evals.filter((e) => e.attackTypes !== null && e.attackTypes.length === 1);
  const types = [...new Set(single.map((e) => e.attackTypes![0]))];
  return types.flatMap((t) =>
    single.filter((e) => e.attackTypes![0] === t).map((e) => ({ attackType: t, ...metricsRow(e, bound) })),
  );
}

export function table6Markdown(rows: readonly Table6Row[]): string {
  return markdownTable(
    ['Attack type', 'Model', 'Training samples', ...METRIC_HEADERS],
    rows.map((r) => [r.attackType, r.model, r.trainingSamples, ...metricCells(r)]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

// ---------------------------------------------------------------- Table 9

export interface Table9Row extends MetricsRow {
  trafficFeatures: number;
}

/** Pre-trained (netflowgen_safe) runs on every attack type: full against light features. */
export function table9Rows(evals: readonly RunEvaluation[], bound: number): Table9Row[] {
  return evals
    .filter((e) => e.arch === 'netflowgen_safe' && e.attackTypes === null)
    .map((e) => ({ trafficFeatures: e.nFeatures, ...metricsRow(e, bound) }));
}

export function table9Markdown(rows: readonly Table9Row[]): string {
  return markdownTable(
    ['Model', 'Traffic feats', ...METRIC_HEADERS],
    rows.map((r) => [r.model, r.trafficFeatures, ...metricCells(r)]),
  );
}

// ---------------------------------------------------------------- Table 8

export interface Table8Row {
  model: string;
  run: string;
  split: string;
  actual: 'True' | 'False';
  predictedTrue: number;
  predictedFalse: number;
  total: number;
}

/** A run's name in tables that mix runs of all and of single attack types: the label, and the types it was fine-tuned on. */
export function runTitle(e: Pick<RunEvaluation, 'label' | 'attackTypes'>): string {
  return e.attackTypes ? `${e.label} (${e.attackTypes.join(', ')})` : e.label;
}

/** The paper's layout: per model and split, the rows Actual True (TP, FN) and Actual False (FP, TN). */
export function table8Rows(evals: readonly RunEvaluation[]): Table8Row[] {
  return evals.flatMap((e) =>
    e.unseen.flatMap((u) => [
      {
        model: runTitle(e),
        run: e.name,
        split: u.split,
        actual: 'True' as const,
        predictedTrue: u.confusion.tp,
        predictedFalse: u.confusion.fn,
        total: u.confusion.tp + u.confusion.fn,
      },
      {
        model: runTitle(e),
        run: e.name,
        split: u.split,
        actual: 'False' as const,
        predictedTrue: u.confusion.fp,
        predictedFalse: u.confusion.tn,
        total: u.confusion.fp + u.confusion.tn,
      },
    ]),
  );
}

export function table8Markdown(rows: readonly Table8Row[]): string {
  return markdownTable(
    ['Model', 'Split', 'Actual', 'Predicted True', 'Predicted False', 'Total'],
    rows.map((r) => [r.model, r.split, r.actual, r.predictedTrue, r.predictedFalse, r.total]),
    ['l', 'l', 'l', 'r', 'r', 'r'],
  );
}

export interface Table8NodeRow {
  model: string;
  split: string;
  mappedTo: string;
  examples: number;
  tn: number;
  fp: number;
}

export function table8NodeRows(evals: readonly RunEvaluation[]): Table8NodeRow[] {
  return evals.flatMap((e) =>
    e.unseen.flatMap((u) =>
      u.byMappedNode.map((g) => ({
        model: runTitle(e),
        split: u.split,
        mappedTo: `${g.address} (row ${g.mappedTo})`,
        examples: g.examples,
        tn: g.tn,
        fp: g.fp,
      })),
    ),
  );
}

export function table8NodeMarkdown(rows: readonly Table8NodeRow[]): string {
  return markdownTable(
    ['Model', 'Split', 'Mapped to', 'Examples', 'TN', 'FP'],
    rows.map((r) => [r.model, r.split, r.mappedTo, r.examples, r.tn, r.fp]),
    ['l', 'l', 'l', 'r', 'r', 'r'],
  );
}

// ---------------------------------------------------------------- Figure 5

/** Mean and median of a list; null when empty. */
export function summary(xs: readonly number[]): {
  count: number;
  mean: number | null;
  median: number | null;
  max: number | null;
} {
  if (!xs.length) return { count: 0, mean: null, median: null, max: null };
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return {
    count: n,
    mean: s.reduce((a, b) => a + b, 0) / n,
    median: n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2,
    max: s[n - 1],
  };
}

export interface Figure5Row {
  model: string;
  bound: number;
  attacks: number;
  /** Percent. */
  meanEffectiveness: number | null;
  medianEffectiveness: number | null;
  detected: number;
  meanMitigation: number | null;
  medianMitigation: number | null;
}

export function figure5Rows(fig: Figure5): Figure5Row[] {
  return fig.models.flatMap((m) =>
    m.byBound.map((b) => {
      const e = summary(b.effectiveness);
      const t = summary(b.mitigationTime);
      return {
        model: m.label,
        bound: b.bound,
        attacks: e.count,
        meanEffectiveness: pct(e.mean),
        medianEffectiveness: pct(e.median),
        detected: t.count,
        meanMitigation: t.mean,
        medianMitigation: t.median,
      };
    }),
  );
}

export function figure5Markdown(rows: readonly Figure5Row[]): string {
  const f = (x: number | null) => (x === null ? '-' : x.toFixed(2));
  return markdownTable(
    [
      'Model',
      'Bound',
      'Attacks',
      'Mean effectiveness',
      'Median effectiveness',
      'Detected',
      'Mean mitigation time (min)',
      'Median mitigation time (min)',
    ],
    rows.map((r) => [
      r.model,
      `${Math.round(r.bound * 1000) / 10}%`,
      r.attacks,
      f(r.meanEffectiveness),
      f(r.medianEffectiveness),
      r.detected,
      f(r.meanMitigation),
      f(r.medianMitigation),
    ]),
  );
}

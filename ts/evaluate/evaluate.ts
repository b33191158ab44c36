/**
 * `netflowgen evaluate-detect RUN...`: the Xatu evaluation (SPEC §7) of fine-tuning runs. For each
 * run, its survival curves on the evaluation split (RUN/eval/<split>/survival.f32 of
 * python/score_detect.py; scored here when missing) and the EarlyDetect arrays (labels, onsets, masks,
 * traffic) give, at each overhead bound, the threshold, effectiveness, selected overhead, FPR, FNR, F1
 * and mitigation times (ts/evaluate/metrics.ts). Out:
 *
 *   OUT/results.json   every run's metrics per bound, the tables' rows, Figure 5's arrays
 *   OUT/tables.md      Tables 5, 6, 9, 8 and a Figure 5 summary, laid out like the paper's
 *
 * A run's examples are those of its attack types (all, or the one it was fine-tuned on, Table 6);
 * unseen-node examples (alert -1) are left out of them and judged on their own (Table 8) at the
 * threshold chosen for the run at the table bound.
 */
import { promises as fsp, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { Rng } from '../common/rng.js';
import { VERSION } from '../common/version.js';
import { BinnedDataset, type DatasetNode } from '../datasets/binned.js';
import type { EarlyDetectManifest } from '../earlydetect/build.js';
import { N_COLUMNS } from '../earlydetect/summary.js';
import { BEST_CHECKPOINT, RESULT_FILE } from '../train/run.js';
import { EVAL_DIR, inAttackTypes, scoreDetect } from '../train/finetune.js';
import { readDetectSplit, readEarlyDetectManifest, type DetectSplit } from '../earlydetect/data.js';
import { hasScore, readSurvival } from '../earlydetect/scores.js';
import {
  DEFAULT_OVERHEAD_BUDGET,
  boundedOverhead,
  detectAll,
  evaluateAt,
  judge,
  selectThreshold,
  type DetectionResult,
  type DetectionSet,
} from './metrics.js';
import {
  figure5Markdown,
  figure5Rows,
  summary,
  table5Markdown,
  table5Rows,
  table6Markdown,
  table6Rows,
  table8Markdown,
  table8NodeMarkdown,
  table8NodeRows,
  table8Rows,
  table9Markdown,
  table9Rows,
  runTitle,
  type BoundMetrics,
  type Figure5,
  type RunEvaluation,
  type UnseenMetrics,
} from './tables.js';

export type EvalSplit = 'train' | 'valid' | 'test';
/** What the reproduce chain's evaluate-detect stage writes: {evaluation, figure} of evaluateRun. */
export const EVALUATION_FILE = 'evaluation.json';
export const DEFAULT_BOUNDS = [0.8, 0.9, 0.99];
/** Overhead budgets of the operating-point curves (effectiveness against budget, per bound). */
export const DEFAULT_BUDGETS = [0.01, 0.02, 0.05, 0.1, 0.2];

/**
 * The split a run's threshold is chosen on: labelled examples it did not train on and that are not
 * test. The paper's small set trains on the EarlyDetect validation split, so it calibrates on train;
 * the _MoreData rows train on train and calibrate on validation. A run may name its own.
 */
export function calibrationSplitOf(r: { trainSplit?: string | null; calibrationSplit?: string | null }): EvalSplit {
  if (r.calibrationSplit) return r.calibrationSplit as EvalSplit;
  return r.trainSplit === 'valid' ? 'train' : 'valid';
}

export interface EvaluateDetectOptions {
  /** Folder for results.json and tables.md. */
  out: string;
  /** Overhead bounds (default 0.8, 0.9, 0.99). */
  bounds?: number[];
  /** The bound of Tables 5, 6, 9 and 8 (default 0.8, or the first bound). */
  tableBound?: number;
  /** Evaluation split (default test). */
  split?: EvalSplit;
  /**
   * Split the threshold is chosen on (default: each run's calibration split, calibrationSplitOf). The
   * evaluation split itself gives the oracle threshold, which is also always reported as a secondary
   * "oracle tau" result.
   */
  selectSplit?: EvalSplit;
  /** Overhead budget of the selection (default 0.1; our reading, docs/finetune.md). */
  budget?: number;
  /** Budgets of the operating-point curves (default DEFAULT_BUDGETS). */
  budgets?: number[];
  /** Evaluate on these attack types only (default: the run's own; for untrained detectors, a Table 6 type). */
  attackTypes?: string[];
  /** Score splits that have no survival curves yet (default true); false: fail instead. */
  score?: boolean;
  threads?: number;
  signal?: AbortSignal;
  log?: (msg: string) => void;
}

export interface DetectEvaluation {
  kind: 'netflowgen.detect-evaluation';
  createdBy: string;
  split: EvalSplit;
  /** The split tau was chosen on, when every run used the same one; 'calibration' when each used its own. */
  selectSplit: EvalSplit | 'calibration';
  bounds: number[];
  tableBound: number;
  budget: number;
  runs: RunEvaluation[];
  table5: ReturnType<typeof table5Rows>;
  table6: ReturnType<typeof table6Rows>;
  table9: ReturnType<typeof table9Rows>;
  table8: ReturnType<typeof table8Rows>;
  table8Nodes: ReturnType<typeof table8NodeRows>;
  figure5: Figure5;
}

// ---------------------------------------------------------------- pure pieces

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
  const { D } = split;
  const n = indices.length;
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
  indices.forEach((i, k) => {
    out.survival.set(survival.subarray(i * D, (i + 1) * D), k * D);
    out.mask.set(split.mask.subarray(i * D, (i + 1) * D), k * D);
    out.traffic.set(split.traffic.subarray(i * D, (i + 1) * D), k * D);
    const e = split.examples.subarray(i * N_COLUMNS, (i + 1) * N_COLUMNS);
    (out.label as Int32Array)[k] = e[2];
    (out.onsetStep as Int32Array)[k] = e[3];
    const c = customerOfRow(e[0]);
    if (!dense.has(c)) dense.set(c, dense.size);
    (out.customer as Int32Array)[k] = dense.get(c)!;
  });
  out.nCustomers = dense.size;
  return out;
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

/**
 * A run's metrics at each bound: tau chosen on `select` (the same set as `evaluate`, or another split's),
 * then judged on `evaluate`. Also the per-example effectiveness and mitigation times (Figure 5).
 */
/** The examples `idx` of a set as a set of their own (customers renumbered densely). */
export function pickExamples(set: DetectionSet, idx: readonly number[]): DetectionSet {
  const { D } = set;
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
    out.survival.set(set.survival.subarray(i * D, (i + 1) * D), k * D);
    out.mask.set(set.mask.subarray(i * D, (i + 1) * D), k * D);
    out.traffic.set(set.traffic.subarray(i * D, (i + 1) * D), k * D);
    (out.label as Int32Array)[k] = set.label[i];
    (out.onsetStep as Int32Array)[k] = set.onsetStep[i];
    const c = set.customer[i];
    if (!dense.has(c)) dense.set(c, dense.size);
    (out.customer as Int32Array)[k] = dense.get(c)!;
  });
  out.nCustomers = dense.size;
  return out;
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

// ---------------------------------------------------------------- reading runs

/**
 * What the evaluation needs of a scored model folder: result.json of `netflowgen finetune`
 * (kind netflowgen.finetune-result) or of `netflowgen simple-detect` (netflowgen.detector-result),
 * and RUN/eval/<split>/ survival curves.
 */
export interface ScoredModel {
  kind: string;
  name: string;
  label: string;
  arch: string;
  dataset: string;
  featureSet: string;
  nFeatures: number;
  trainSplit: string | null;
  calibrationSplit?: string | null;
  attackTypes: string[] | null;
  trainExamples: number;
  /** The checkpoint scored (fine-tuning runs): relative to the run folder. */
  finalCheckpoint?: string;
  /** Updates of the final model (fine-tuning runs; the refit's when there is one). */
  updates?: number;
  refitRun?: { updates: number } | null;
}

const SCORED_KINDS = ['netflowgen.finetune-result', 'netflowgen.detector-result'];

interface LoadedRun {
  runDir: string;
  result: ScoredModel;
  manifest: EarlyDetectManifest;
  nodes: DatasetNode[];
}

/** result.json of a finished fine-tuning run or simple detector. */
export function readScoredModel(runDir: string): ScoredModel {
  const path = join(runDir, RESULT_FILE);
  let r: ScoredModel;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as ScoredModel;
  } catch {
    throw new Error(
      `${runDir}: training has not finished (no readable ${RESULT_FILE}); run netflowgen finetune (or simple-detect) first`,
    );
  }
  if (!SCORED_KINDS.includes(r.kind))
    throw new Error(
      `${path}: kind ${JSON.stringify(r.kind)} is not a fine-tuning run or a simple detector (${SCORED_KINDS.join(', ')})`,
    );
  return r;
}

function loadRun(runDir: string): LoadedRun {
  const result = readScoredModel(runDir);
  const manifest = readEarlyDetectManifest(result.dataset);
  const nodes = BinnedDataset.open(manifest.dataset).manifest.nodes;
  return { runDir, result, manifest, nodes };
}

async function survivalOf(run: LoadedRun, split: DetectSplit, opts: EvaluateDetectOptions): Promise<Float32Array> {
  const dir = join(run.runDir, EVAL_DIR, split.split);
  if (!hasScore(dir)) {
    const ckpt = join(run.runDir, run.result.finalCheckpoint ?? BEST_CHECKPOINT);
    if (opts.score === false || run.result.kind !== 'netflowgen.finetune-result')
      throw new Error(
        `${dir}: no survival curves (score.json); run netflowgen finetune again, or evaluate without --no-score`,
      );
    (opts.log ?? (() => {}))(`scoring ${split.split} with ${ckpt}`);
    await scoreDetect(ckpt, run.result.dataset, split.split as EvalSplit, dir, {
      threads: opts.threads,
      signal: opts.signal,
    });
  }
  return readSurvival(dir, { n: split.n, D: split.D, split: split.split }).survival;
}

/**
 * How much training the final model had: its updates (the refit's, else the run's) times the batch
 * size of the run's spec. With a max_update cap, example passes can fall short of one epoch.
 */
function examplesSeen(runDir: string, result: ScoredModel): { finalUpdates?: number; examplesSeen?: number } {
  if (result.kind !== 'netflowgen.finetune-result') return {};
  const updates = result.refitRun?.updates ?? result.updates;
  let batch: number | undefined;
  try {
    batch = (JSON.parse(readFileSync(join(runDir, 'spec.resolved.json'), 'utf8')) as { batch_size?: number })
      .batch_size;
  } catch {
    // a run folder without its spec: the count alone
  }
  return updates === undefined ? {} : { finalUpdates: updates, ...(batch ? { examplesSeen: updates * batch } : {}) };
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
}

/** Evaluates one run folder (scoring missing splits), returning its metrics and Figure 5 arrays. */
export async function evaluateRun(
  runDir: string,
  opts: EvaluateDetectOptions,
): Promise<{ evaluation: RunEvaluation; figure: Figure5['models'][number] }> {
  const split = opts.split ?? 'test';
  const bounds = opts.bounds ?? DEFAULT_BOUNDS;
  const tableBound = opts.tableBound ?? (bounds.includes(0.8) ? 0.8 : bounds[0]);
  const budget = opts.budget ?? DEFAULT_OVERHEAD_BUDGET;
  const budgets = opts.budgets ?? DEFAULT_BUDGETS;
  const run = loadRun(runDir);
  const { result, manifest, nodes } = run;
  const selectSplit = opts.selectSplit ?? calibrationSplitOf(result);
  if (result.trainSplit && selectSplit === result.trainSplit)
    throw new Error(`${runDir}: the threshold cannot be chosen on ${selectSplit}, the split the model was trained on`);
  const types = opts.attackTypes ?? result.attackTypes;
  const customerOfRow = (row: number) => nodes[row].customerId;
  // Each split's arrays, and its survival curves (scored on first use), read once.
  const data = new Map<EvalSplit, DetectSplit>();
  const curves = new Map<EvalSplit, Float32Array>();
  const dataOf = (s: EvalSplit) => data.get(s) ?? data.set(s, readDetectSplit(result.dataset, manifest, s)).get(s)!;
  const get = async (s: EvalSplit) => {
    if (!curves.has(s)) curves.set(s, await survivalOf(run, dataOf(s), opts));
    return { data: dataOf(s), survival: curves.get(s)! };
  };
  const setOf = async (s: EvalSplit) => {
    const d = await get(s);
    const idx = runExamples(d.data, types, manifest.attackTypes);
    if (!idx.length)
      throw new Error(
        `${runDir}: the ${s} split of ${result.dataset} has no examples${types ? ` of ${types.join(', ')}` : ''} to ${s === split ? 'evaluate' : 'choose the threshold on'}`,
      );
    return { idx, data: d.data, set: subsetSet(d.data, d.survival, idx, customerOfRow) };
  };

  const ev = await setOf(split);
  const evalSet = ev.set;
  const selectSet = selectSplit === split ? evalSet : (await setOf(selectSplit)).set;
  // Size-matched taus, each (bound, budget) computed once for the tables and the operating points.
  const taus = new Map<string, number>();
  const tauOf = (bound: number, b: number): number => {
    const key = `${bound}/${b}`;
    if (!taus.has(key)) taus.set(key, sizeMatchedTau(selectSet, evalSet.n, { bound, budget: b }).tau);
    return taus.get(key)!;
  };
  const { metrics, figure } = evaluateBounds(
    evalSet,
    selectSet,
    bounds,
    budget,
    selectSplit === split,
    selectSplit,
    tauOf,
  );
  const oracle =
    selectSplit === split ? metrics : evaluateBounds(evalSet, evalSet, bounds, budget, true, split).metrics;
  const tau = metrics[bounds.indexOf(tableBound)].tau;

  const budgetCurve: BudgetPoint[] = [];
  for (const bound of bounds)
    for (const b of budgets) {
      const s = selectSplit === split ? selectThreshold(selectSet, { bound, budget: b }) : undefined;
      const r = s ?? evaluateAt(evalSet, tauOf(bound, b));
      budgetCurve.push({
        bound,
        budget: b,
        tau: r.tau,
        effectiveness: r.meanEffectiveness,
        overhead: boundedOverhead(r.customerWorst, bound),
        f1: r.f1,
        fpr: r.fpr,
        fnr: r.fnr,
      });
    }

  const atTau = evaluateAt(evalSet, tau);
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  const outcomes: ExampleOutcomesJson = {
    bound: tableBound,
    tau,
    index: ev.idx,
    label: Array.from(evalSet.label),
    detection: Array.from(atTau.detection),
    effectiveness: Array.from(atTau.effectiveness, (x) => (Number.isNaN(x) ? null : round(x))),
    overhead: Array.from(atTau.overhead, round),
    customer: ev.idx.map((i) => customerOfRow(ev.data.examples[i * N_COLUMNS])),
  };

  const unseen: UnseenMetrics[] = [];
  for (const s of ['valid', 'test'] as const) {
    if (!manifest.splits[s].count) continue;
    const idx = unseenExamples(dataOf(s));
    if (!idx.length) continue;
    const { survival } = await get(s);
    unseen.push(judgeUnseen(dataOf(s), survival, idx, tau, nodes));
  }

  let attacks = 0;
  for (let i = 0; i < evalSet.n; i++) if (evalSet.label[i] === 1) attacks++;
  const evaluation: RunEvaluation = {
    run: resolve(runDir),
    name: result.name,
    label: result.label,
    arch: result.arch,
    trainSplit: result.trainSplit,
    attackTypes: types ?? null,
    featureSet: result.featureSet,
    nFeatures: result.nFeatures,
    trainExamples: result.trainExamples,
    ...examplesSeen(runDir, result),
    split,
    selectSplit,
    examples: { total: evalSet.n, attacks, normal: evalSet.n - attacks, customers: evalSet.nCustomers },
    bounds: metrics,
    oracle,
    budgetCurve,
    outcomes,
    unseen,
  };
  return { evaluation, figure: { run: evaluation.run, label: runTitle(evaluation), byBound: figure } };
}

/** Evaluates the runs and writes OUT/results.json and OUT/tables.md. */
export async function evaluateDetect(
  runDirs: readonly string[],
  opts: EvaluateDetectOptions,
): Promise<{ evaluation: DetectEvaluation; markdown: string; files: { json: string; md: string } }> {
  if (!runDirs.length) throw new Error('give at least one run folder of netflowgen finetune');
  const bounds = opts.bounds ?? DEFAULT_BOUNDS;
  for (const b of bounds) if (!(b > 0 && b <= 1)) throw new Error(`overhead bound ${b} is not in (0, 1]`);
  const tableBound = opts.tableBound ?? (bounds.includes(0.8) ? 0.8 : bounds[0]);
  if (!bounds.includes(tableBound))
    throw new Error(`the table bound ${tableBound} is not among the bounds ${bounds.join(', ')}`);
  const budget = opts.budget ?? DEFAULT_OVERHEAD_BUDGET;
  const split = opts.split ?? 'test';
  const runs: RunEvaluation[] = [];
  const figure5: Figure5 = { bounds, models: [] };
  for (const r of runDirs) {
    const { evaluation, figure } = await evaluateRun(r, { ...opts, bounds, tableBound, budget, split });
    runs.push(evaluation);
    figure5.models.push(figure);
  }
  const evaluation: DetectEvaluation = {
    kind: 'netflowgen.detect-evaluation',
    createdBy: `netflowgen ${VERSION}`,
    split,
    selectSplit:
      opts.selectSplit ??
      (new Set(runs.map((r) => r.selectSplit)).size === 1 ? (runs[0].selectSplit as EvalSplit) : 'calibration'),
    bounds,
    tableBound,
    budget,
    runs,
    table5: table5Rows(runs, tableBound),
    table6: table6Rows(runs, tableBound),
    table9: table9Rows(runs, tableBound),
    table8: table8Rows(runs),
    table8Nodes: table8NodeRows(runs),
    figure5,
  };
  const markdown = detectionMarkdown(evaluation);
  await fsp.mkdir(opts.out, { recursive: true });
  const files = { json: join(opts.out, 'results.json'), md: join(opts.out, 'tables.md') };
  await writeFileAtomic(files.json, JSON.stringify(evaluation, null, 2) + '\n');
  await writeFileAtomic(files.md, markdown);
  return { evaluation, markdown, files };
}

/** tables.md: every table with a line on how it was made. */
export function detectionMarkdown(e: DetectEvaluation): string {
  const pctText = (b: number) => `${Math.round(b * 1000) / 10}%`;
  const chosen =
    e.selectSplit === e.split
      ? 'the same split (an oracle threshold: optimistic)'
      : e.selectSplit === 'calibration'
        ? "each run's calibration split (train for the small set, valid for _MoreData)"
        : `the ${e.selectSplit} split`;
  const how = `Split: ${e.split}; threshold chosen on ${chosen}; overhead bound ${pctText(e.tableBound)} of the customers (each by its worst example), overhead budget ${e.budget}. Effectiveness, FPR and FNR in percent; overhead as a share of the traffic.`;
  const parts = [`# Early DDoS detection\n\n${how}\n`];
  parts.push(
    `## Table 5: all attack types\n\n${e.table5.length ? table5Markdown(e.table5) : 'No run fine-tuned on every attack type.\n'}`,
  );
  parts.push(
    `## Table 6: per attack type\n\n${e.table6.length ? table6Markdown(e.table6) : 'No run fine-tuned on a single attack type.\n'}`,
  );
  parts.push(
    `## Table 9: traffic features\n\n${e.table9.length ? table9Markdown(e.table9) : 'No pre-trained (netflowgen_safe) run on every attack type.\n'}`,
  );
  parts.push(
    `## Table 8: unseen nodes (all non-attack), at each run's ${pctText(e.tableBound)} threshold\n\n${
      e.table8.length
        ? `${table8Markdown(e.table8)}\nBy the training node each unseen node maps to:\n\n${table8NodeMarkdown(e.table8Nodes)}`
        : 'No unseen-node examples (netflowgen detect-dataset --unseen-examples N).\n'
    }`,
  );
  parts.push(
    `## Figure 5: effectiveness and mitigation time per overhead bound (the arrays are in results.json)\n\n${figure5Markdown(figure5Rows(e.figure5))}`,
  );
  return parts.join('\n');
}

/** Default output folder: beside the first run, `detection/`. */
export function defaultOut(runDirs: readonly string[]): string {
  return join(dirname(resolve(runDirs[0])), 'detection');
}

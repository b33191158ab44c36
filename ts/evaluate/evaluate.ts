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
import { promises as fsp } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { VERSION } from '../common/version.js';
import { N_COLUMNS } from '../earlydetect/summary.js';
import { readDetectSplit, type DetectSplit } from '../earlydetect/data.js';
import { DEFAULT_OVERHEAD_BUDGET, boundedOverhead, evaluateAt, selectThreshold } from './metrics.js';
import { examplesSeen, loadRun, survivalOf } from './runs.js';
import {
  calibrationSplitOf,
  evaluateBounds,
  judgeUnseen,
  runExamples,
  sizeMatchedTau,
  subsetSet,
  unseenExamples,
  type EvalSplit,
} from './select.js';
import {
  figure5Markdown,
  figure5Rows,
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
  type BudgetPoint,
  type ExampleOutcomesJson,
  type Figure5,
  type RunEvaluation,
  type UnseenMetrics,
} from './tables.js';

// The pieces moved out of this file stay importable from here.
export * from './select.js';
export { readScoredModel, type ScoredModel } from './runs.js';
export type { BudgetPoint, ExampleOutcomesJson } from './tables.js';

/** What the reproduce chain's evaluate-detect stage writes: {evaluation, figure} of evaluateRun. */
export const EVALUATION_FILE = 'evaluation.json';
export const DEFAULT_BOUNDS = [0.8, 0.9, 0.99];
/** Overhead budgets of the operating-point curves (effectiveness against budget, per bound). */
export const DEFAULT_BUDGETS = [0.01, 0.02, 0.05, 0.1, 0.2];

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
    node: ev.idx.map((i) => ev.data.examples[i * N_COLUMNS]),
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

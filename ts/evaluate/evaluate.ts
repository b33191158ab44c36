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
import { BinnedDataset, type DatasetNode } from '../datasets/binned.js';
import type { EarlyDetectManifest } from '../earlydetect/build.js';
import { N_COLUMNS } from '../earlydetect/summary.js';
import { BEST_CHECKPOINT } from '../train/run.js';
import { EVAL_DIR, inAttackTypes, readFinetuneResult, readFinetuneSpec, scoreDetect, type FinetuneResult, type FinetuneSpec } from '../train/finetune.js';
import { hasScore, readDetectSplit, readEarlyDetectManifest, readSurvival, type DetectSplit } from './data.js';
import { DEFAULT_OVERHEAD_BUDGET, boundedOverhead, detectAll, evaluateAt, judge, selectThreshold, type DetectionResult, type DetectionSet } from './metrics.js';
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

export type EvalSplit = 'valid' | 'test';
export const DEFAULT_BOUNDS = [0.8, 0.9, 0.99];

export interface EvaluateDetectOptions {
  /** Folder for results.json and tables.md. */
  out: string;
  /** Overhead bounds (default 0.8, 0.9, 0.99). */
  bounds?: number[];
  /** The bound of Tables 5, 6, 9 and 8 (default 0.8, or the first bound). */
  tableBound?: number;
  /** Evaluation split (default test). */
  split?: EvalSplit;
  /** Split the threshold is chosen on (default: the evaluation split, as the paper reports). */
  selectSplit?: EvalSplit;
  /** Overhead budget of the selection (default 0.1; our reading, docs/finetune.md). */
  budget?: number;
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
  selectSplit: EvalSplit;
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
export function subsetSet(split: DetectSplit, survival: Float32Array, indices: readonly number[], customerOfRow: (row: number) => number): DetectionSet {
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
export function runExamples(split: DetectSplit, types: readonly string[] | null | undefined, names: readonly string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < split.n; i++) if (inAttackTypes(split.examples[i * N_COLUMNS + 4], split.examples[i * N_COLUMNS + 5], types ?? undefined, names)) out.push(i);
  return out;
}

/** Indices of a split's unseen-node examples (no alert behind them). */
export function unseenExamples(split: DetectSplit): number[] {
  const out: number[] = [];
  for (let i = 0; i < split.n; i++) if (split.examples[i * N_COLUMNS + 5] < 0) out.push(i);
  return out;
}

function boundMetrics(r: DetectionResult, bound: number, budget: number, selectedOn: string, candidates: number, feasible: number): BoundMetrics {
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
export function evaluateBounds(evaluate: DetectionSet, select: DetectionSet, bounds: readonly number[], budget: number, sameSet: boolean, selectedOn: string): { metrics: BoundMetrics[]; figure: { bound: number; effectiveness: number[]; mitigationTime: number[] }[] } {
  const metrics: BoundMetrics[] = [];
  const figure: { bound: number; effectiveness: number[]; mitigationTime: number[] }[] = [];
  for (const bound of bounds) {
    const s = selectThreshold(select, { bound, budget });
    const r = sameSet ? s : evaluateAt(evaluate, s.tau);
    metrics.push(boundMetrics(r, bound, budget, selectedOn, s.candidates, s.feasible));
    const eff: number[] = [];
    for (let i = 0; i < evaluate.n; i++) if (evaluate.label[i] === 1) eff.push(r.effectiveness[i]);
    figure.push({ bound, effectiveness: eff, mitigationTime: r.mitigationTimes });
  }
  return { metrics, figure };
}

/** Unseen-node examples of a split at tau: the confusion matrix and its breakdown by mapped training node. */
export function judgeUnseen(split: DetectSplit, survival: Float32Array, indices: readonly number[], tau: number, nodes: readonly DatasetNode[]): UnseenMetrics {
  const set = subsetSet(split, survival, indices, () => 0);
  const r = judge(set, detectAll(set.survival, set.D, tau), tau);
  const groups = new Map<number, { mappedTo: number; address: string; examples: number; tn: number; fp: number }>();
  indices.forEach((i, k) => {
    const node = nodes[split.examples[i * N_COLUMNS]];
    const to = node.mappedTo ?? node.nodeId;
    const g = groups.get(to) ?? { mappedTo: to, address: nodes[to]?.address ?? String(to), examples: 0, tn: 0, fp: 0 };
    g.examples++;
    if (set.label[k] !== 1) r.detection[k] >= 0 ? g.fp++ : g.tn++;
    groups.set(to, g);
  });
  return { split: split.split, tau, examples: indices.length, confusion: r.confusion, byMappedNode: [...groups.values()].sort((a, b) => b.examples - a.examples || a.mappedTo - b.mappedTo) };
}

// ---------------------------------------------------------------- reading runs

interface LoadedRun {
  runDir: string;
  spec: FinetuneSpec;
  result: FinetuneResult;
  manifest: EarlyDetectManifest;
  nodes: DatasetNode[];
}

function loadRun(runDir: string): LoadedRun {
  const spec = readFinetuneSpec(runDir);
  const result = readFinetuneResult(runDir);
  if (!result) throw new Error(`${runDir}: training has not finished (no result.json); run netflowgen finetune on its spec first`);
  const manifest = readEarlyDetectManifest(spec.dataset);
  const nodes = BinnedDataset.open(manifest.dataset).manifest.nodes;
  return { runDir, spec, result, manifest, nodes };
}

async function survivalOf(run: LoadedRun, split: DetectSplit, opts: EvaluateDetectOptions): Promise<Float32Array> {
  const dir = join(run.runDir, EVAL_DIR, split.split);
  if (!hasScore(dir)) {
    if (opts.score === false) throw new Error(`${dir}: no survival curves (score.json); run netflowgen finetune again, or evaluate without --no-score`);
    (opts.log ?? (() => {}))(`scoring ${split.split} with ${join(run.runDir, BEST_CHECKPOINT)}`);
    await scoreDetect(join(run.runDir, BEST_CHECKPOINT), run.spec.dataset, split.split as EvalSplit, dir, { threads: opts.threads, signal: opts.signal });
  }
  return readSurvival(dir, { n: split.n, D: split.D, split: split.split }).survival;
}

/** Evaluates one run folder (scoring missing splits), returning its metrics and Figure 5 arrays. */
export async function evaluateRun(runDir: string, opts: EvaluateDetectOptions): Promise<{ evaluation: RunEvaluation; figure: Figure5['models'][number] }> {
  const split = opts.split ?? 'test';
  const selectSplit = opts.selectSplit ?? split;
  const bounds = opts.bounds ?? DEFAULT_BOUNDS;
  const tableBound = opts.tableBound ?? (bounds.includes(0.8) ? 0.8 : bounds[0]);
  const budget = opts.budget ?? DEFAULT_OVERHEAD_BUDGET;
  const run = loadRun(runDir);
  const { spec, result, manifest, nodes } = run;
  const customerOfRow = (row: number) => nodes[row].customerId;
  // Each split's arrays, and its survival curves (scored on first use), read once.
  const data = new Map<EvalSplit, DetectSplit>();
  const curves = new Map<EvalSplit, Float32Array>();
  const dataOf = (s: EvalSplit) => data.get(s) ?? data.set(s, readDetectSplit(spec.dataset, manifest, s)).get(s)!;
  const get = async (s: EvalSplit) => {
    if (!curves.has(s)) curves.set(s, await survivalOf(run, dataOf(s), opts));
    return { data: dataOf(s), survival: curves.get(s)! };
  };

  const ev = await get(split);
  const evIdx = runExamples(ev.data, spec.attack_types, manifest.attackTypes);
  if (!evIdx.length) throw new Error(`${runDir}: the ${split} split of ${spec.dataset} has no examples${spec.attack_types ? ` of ${spec.attack_types.join(', ')}` : ''} to evaluate`);
  const evalSet = subsetSet(ev.data, ev.survival, evIdx, customerOfRow);
  let selectSet = evalSet;
  if (selectSplit !== split) {
    const sel = await get(selectSplit);
    const idx = runExamples(sel.data, spec.attack_types, manifest.attackTypes);
    if (!idx.length) throw new Error(`${runDir}: the ${selectSplit} split has no examples to choose the threshold on`);
    selectSet = subsetSet(sel.data, sel.survival, idx, customerOfRow);
  }
  const { metrics, figure } = evaluateBounds(evalSet, selectSet, bounds, budget, selectSplit === split, selectSplit);
  const tau = metrics[bounds.indexOf(tableBound)].tau;

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
    name: spec.name,
    label: result.label,
    arch: spec.arch,
    trainSplit: spec.train_split,
    attackTypes: spec.attack_types ?? null,
    featureSet: result.featureSet,
    nFeatures: result.nFeatures,
    trainExamples: result.trainExamples,
    split,
    examples: { total: evalSet.n, attacks, normal: evalSet.n - attacks, customers: evalSet.nCustomers },
    bounds: metrics,
    unseen,
  };
  return { evaluation, figure: { run: evaluation.run, label: runTitle(evaluation), byBound: figure } };
}

/** Evaluates the runs and writes OUT/results.json and OUT/tables.md. */
export async function evaluateDetect(runDirs: readonly string[], opts: EvaluateDetectOptions): Promise<{ evaluation: DetectEvaluation; markdown: string; files: { json: string; md: string } }> {
  if (!runDirs.length) throw new Error('give at least one run folder of netflowgen finetune');
  const bounds = opts.bounds ?? DEFAULT_BOUNDS;
  for (const b of bounds) if (!(b > 0 && b <= 1)) throw new Error(`overhead bound ${b} is not in (0, 1]`);
  const tableBound = opts.tableBound ?? (bounds.includes(0.8) ? 0.8 : bounds[0]);
  if (!bounds.includes(tableBound)) throw new Error(`the table bound ${tableBound} is not among the bounds ${bounds.join(', ')}`);
  const budget = opts.budget ?? DEFAULT_OVERHEAD_BUDGET;
  const split = opts.split ?? 'test';
  const selectSplit = opts.selectSplit ?? split;
  const runs: RunEvaluation[] = [];
  const figure5: Figure5 = { bounds, models: [] };
  for (const r of runDirs) {
    const { evaluation, figure } = await evaluateRun(r, { ...opts, bounds, tableBound, budget, split, selectSplit });
    runs.push(evaluation);
    figure5.models.push(figure);
  }
  const evaluation: DetectEvaluation = {
    kind: 'netflowgen.detect-evaluation',
    createdBy: `netflowgen ${VERSION}`,
    split,
    selectSplit,
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
  const how = `Split: ${e.split}; threshold chosen on ${e.selectSplit === e.split ? 'the same split' : `the ${e.selectSplit} split`}; overhead bound ${pctText(e.tableBound)} of the customers (each by its worst example), overhead budget ${e.budget}. Effectiveness, FPR and FNR in percent; overhead as a share of the traffic.`;
  const parts = [`# Early DDoS detection\n\n${how}\n`];
  parts.push(`## Table 5: all attack types\n\n${e.table5.length ? table5Markdown(e.table5) : 'No run fine-tuned on every attack type.\n'}`);
  parts.push(`## Table 6: per attack type\n\n${e.table6.length ? table6Markdown(e.table6) : 'No run fine-tuned on a single attack type.\n'}`);
  parts.push(`## Table 9: traffic features\n\n${e.table9.length ? table9Markdown(e.table9) : 'No pre-trained (netflowgen_safe) run on every attack type.\n'}`);
  parts.push(
    `## Table 8: unseen nodes (all non-attack), at each run's ${pctText(e.tableBound)} threshold\n\n${
      e.table8.length ? `${table8Markdown(e.table8)}\nBy the training node each unseen node maps to:\n\n${table8NodeMarkdown(e.table8Nodes)}` : 'No unseen-node examples (netflowgen detect-dataset --unseen-examples N).\n'
    }`,
  );
  parts.push(`## Figure 5: effectiveness and mitigation time per overhead bound (the arrays are in results.json)\n\n${figure5Markdown(figure5Rows(e.figure5))}`);
  return parts.join('\n');
}

/** Default output folder: beside the first run, `detection/`. */
export function defaultOut(runDirs: readonly string[]): string {
  return join(dirname(resolve(runDirs[0])), 'detection');
}

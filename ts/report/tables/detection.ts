/**
 * What the detection tables (5, 6, 8, 9) and Figure 5 share: each model's evaluation.json (what
 * evaluateRun of ts/evaluate/evaluate.ts returns, written by the chain's evaluate-detect stage) and its
 * entry in the table's summary.json (DetectSummary of ts/evaluate/summary.ts: mean, sd and intervals
 * over seeds), the metric rows, and the notes and warnings in words.
 */
import { join } from 'node:path';
import { EVALUATION_FILE, type evaluateRun } from '../../evaluate/evaluate.js';
import { SUMMARY_FILE, type DetectSummary } from '../../evaluate/summary.js';
import type { Cell, Fmt, TableRow } from '../model.js';
import type { PlannedModel, PlannedTable } from '../plan.js';
import type { SourceReader } from '../source.js';
import { cell, derived, mean } from './cells.js';
import type { ChainRecipe, CollectContext, Collected, TableModule } from './types.js';

/** The file an evaluate-detect stage writes: {evaluation, figure} of evaluateRun. */
export type EvaluationFile = Awaited<ReturnType<typeof evaluateRun>>;

/** The paper's numbers of one detection model at one bound, as printed. */
export interface PaperMetrics {
  effectiveness: string;
  overhead: string;
  fpr: string;
  fnr: string;
  f1: string;
}

export interface LoadedEval {
  file: string;
  data: EvaluationFile;
  boundIndex: (b: number) => number;
  m: PlannedModel;
  /** The model's entry in the table's summary.json (mean, sd, intervals over seeds), when the table has one. */
  summary?: { file: string; index: number; model: DetectSummary['models'][number] };
}

export function loadEval(r: SourceReader, m: PlannedModel, dirs: Record<string, string>, t?: PlannedTable): LoadedEval {
  const file = join(dirs[m.evaluation], EVALUATION_FILE);
  const data = r.json<EvaluationFile>(file);
  const bounds = data.evaluation.bounds.map((b) => b.bound);
  let summary: LoadedEval['summary'];
  if (t?.summary && dirs[t.summary]) {
    const sf = join(dirs[t.summary], SUMMARY_FILE);
    const models = r.json<DetectSummary>(sf).models;
    const index = models.findIndex((x) => x.model === m.name && x.attackType === (m.attackType ?? null));
    if (index < 0) throw new Error(`${sf}: no model ${m.name}${m.attackType ? ` (${m.attackType})` : ''}`);
    summary = { file: sf, index, model: models[index] };
  }
  return {
    file,
    data,
    m,
    summary,
    boundIndex: (b) => {
      const i = bounds.findIndex((x) => Math.abs(x - b) < 1e-12);
      if (i < 0) throw new Error(`${file}: not evaluated at the ${b} bound (it has ${bounds.join(', ')})`);
      return i;
    },
  };
}

export type MetricKey = keyof PaperMetrics;

export const METRICS: { key: MetricKey; label: string; fmt: Fmt; scale?: number }[] = [
  { key: 'effectiveness', label: 'Effectiveness ↑', fmt: 'pct', scale: 100 },
  { key: 'overhead', label: 'Overhead ↓', fmt: 'f2' },
  { key: 'fpr', label: 'FPR ↓', fmt: 'pct', scale: 100 },
  { key: 'fnr', label: 'FNR ↓', fmt: 'pct', scale: 100 },
  { key: 'f1', label: 'F1 score ↑', fmt: 'f2' },
];

/** One metric of one model: the mean over seeds ± sd [interval] with a summary, else the first seed's number at the bound. */
export function metricCell(
  r: SourceReader,
  e: LoadedEval,
  bound: number,
  mt: (typeof METRICS)[number],
  paper?: PaperMetrics,
): Cell {
  const s = e.summary;
  if (s) {
    const v = (k: 'mean' | 'sd' | 'lo' | 'hi') =>
      r.value<DetectSummary>(s.file, (d) => d.models[s.index].metrics[mt.key][k], mt.fmt, mt.scale);
    return { ...cell(v('mean'), paper?.[mt.key]), spread: { sd: v('sd'), lo: v('lo'), hi: v('hi') } };
  }
  const k = e.boundIndex(bound);
  return cell(
    r.value<EvaluationFile>(e.file, (d) => d.evaluation.bounds[k][mt.key], mt.fmt, mt.scale),
    paper?.[mt.key],
  );
}

/** The metric rows of a table (one column per model), each with its label. */
export function metricRows(
  r: SourceReader,
  evals: LoadedEval[],
  bound: number,
  paper: (e: LoadedEval) => PaperMetrics | undefined,
): (TableRow & { key: MetricKey })[] {
  return METRICS.map((mt) => ({
    key: mt.key,
    label: [mt.label],
    cells: evals.map((e) => metricCell(r, e, bound, mt, paper(e))),
  }));
}

/** The secondary numbers of a summary-backed table: example passes, F1 with the test-tuned (oracle) tau, the seeds. */
export function summaryRows(r: SourceReader, evals: LoadedEval[]): TableRow[] {
  const all = evals.map((e) => e.summary).filter((s): s is NonNullable<LoadedEval['summary']> => Boolean(s));
  if (all.length < evals.length) return [];
  return [
    {
      label: ['Example passes of the final model (updates × batch, mean over seeds)'],
      cells: all.map((s) =>
        cell(derived(mean((s.model.examplesSeen ?? []).filter((x): x is number => typeof x === 'number')), 'int')),
      ),
    },
    {
      label: ['F1 with oracle τ (chosen on test; optimistic)'],
      cells: all.map((s) => cell(r.value<DetectSummary>(s.file, (d) => d.models[s.index].oracle.f1.mean, 'f2'))),
    },
    { label: ['Seeds'], cells: all.map((s) => cell(derived(s.model.seeds.length, 'int'))) },
  ];
}

/** The training-samples cell: the examples the final model trained on (the same for every seed). */
export function samplesCell(r: SourceReader, e: LoadedEval, paper?: string): Cell {
  const s = e.summary;
  return s
    ? cell(
        r.value<DetectSummary>(s.file, (d) => d.models[s.index].trainExamples[0], 'int'),
        paper,
      )
    : cell(
        r.value<EvaluationFile>(e.file, (d) => d.evaluation.trainExamples, 'int'),
        paper,
      );
}

export function evalWarnings(evals: LoadedEval[]): string[] {
  const out: string[] = [];
  for (const e of evals)
    if (!e.data.evaluation.examples.attacks)
      out.push(
        `${e.m.name}${e.m.attackType ? ` (${e.m.attackType})` : ''}: the evaluation split has no attack example, so effectiveness and FNR are undefined.`,
      );
  return out;
}

export function detectionNote(evals: LoadedEval[], bound: number, split: string): string {
  const e0 = evals[0];
  const budget = e0 ? e0.data.evaluation.bounds[e0.boundIndex(bound)].budget : undefined;
  const sizes = evals
    .map(
      (e) =>
        `${e.m.name}${e.m.attackType ? ` ${e.m.attackType}` : ''}: ${e.data.evaluation.examples.attacks} attacks / ${e.data.evaluation.examples.normal} normal`,
    )
    .join('; ');
  const selected: string | undefined = e0?.data.evaluation.selectSplit;
  const how =
    selected && selected !== split
      ? `each model's threshold τ is chosen on its calibration split (train for the models fine-tuned on the small validation set, valid for the _MoreData models and the simple detectors' own choice as documented), never on ${split}, and the metrics are computed on the ${split} split`
      : `the threshold τ is chosen and the metrics computed on the ${split} split (an oracle threshold: optimistic)`;
  const seeds = evals.every((e) => e.summary)
    ? ' Each cell is the mean over the fine-tuning seeds ± their sd, and [the 95% bootstrap interval over test examples and seeds] (summary.json of the table).'
    : '';
  return (
    `Overhead bound ${Math.round(bound * 1000) / 10}% of the customers (each by its worst example)${budget !== undefined ? `, overhead budget ${budget}` : ''}; ${how} (SPEC §7).${seeds} ` +
    `Effectiveness, FPR and FNR in percent, overhead as a share of the traffic. Test examples: ${sizes}. From each model's evaluation.json (netflowgen evaluate-detect).`
  );
}

/** What a detection table's collect gets: its bound (default 80%), each model's evaluation, the note and warnings. */
export interface DetectionInputs {
  bound: number;
  evals: LoadedEval[];
  /** detectionNote of the models at the bound on the table's split (default test). */
  note: string;
  warnings: string[];
}

/**
 * A results table of detection models (Tables 5, 6, 9): trained, read with the table's summary.json over
 * the seeds, whose paired comparisons the report lists; `collect` gets the models' evaluations loaded.
 */
export function detectionTable<K extends string>(
  m: { kind: K; chain: ChainRecipe; paper: unknown },
  collect: (d: DetectionInputs, ctx: CollectContext, t: PlannedTable) => Collected,
): TableModule<K> {
  return {
    ...m,
    section: 'results',
    trained: true,
    summary: true,
    comparisons: true,
    collect(ctx, t) {
      const bound = t.bound ?? 0.8;
      const evals = (t.models ?? []).map((x) => loadEval(ctx.r, x, ctx.dirs, t));
      const note = detectionNote(evals, bound, t.split ?? 'test');
      return collect({ bound, evals, note, warnings: evalWarnings(evals) }, ctx, t);
    },
  };
}

/** The rows of a table with one column per model: training samples (the paper's, by model), the metrics, the summary's. */
export function modelColumnRows(
  r: SourceReader,
  evals: LoadedEval[],
  metrics: TableRow[],
  paperSamples: (e: LoadedEval) => string | undefined = () => undefined,
): TableRow[] {
  return [
    { label: ['Training samples'], cells: evals.map((e) => samplesCell(r, e, paperSamples(e))) },
    ...metrics.map(({ label, cells }) => ({ label, cells })),
    ...summaryRows(r, evals),
  ];
}

/**
 * A detection table's models over their seeds: mean, sd and 95% bootstrap interval of every metric
 * (ts/evaluate/uncertainty.ts), the oracle-tau numbers beside them, the operating-point curves averaged
 * over seeds, the pooled Figure 5 arrays, and the paired differences behind the paper's claims
 * (ts/evaluate/claims.ts) with their verdicts. Input: each seed's evaluation.json (evaluateRun). Out:
 *
 *   OUT/summary.json   kind netflowgen.detect-summary (read by the report)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { VERSION } from '../common/version.js';
import { CLAIMS, type Claim } from './claims.js';
import type { RunEvaluation } from './tables.js';
import { readNpy } from '../common/npy.js';
import {
  bootstrapMetric,
  finiteMean,
  METRIC_NAMES,
  pairedDifference,
  pairedLossDifference,
  sampleSd,
  verdict,
  type Estimate,
  type MetricName,
  type RunOutcomes,
  type Verdict,
} from './uncertainty.js';

export const SUMMARY_FILE = 'summary.json';

/** One model of a table: its seeds' evaluations (evaluation.json files or the evaluations themselves). */
export interface SummaryModel {
  model: string;
  attackType?: string;
  seeds: { seed: number; pretrainSeed?: number; evaluation: RunEvaluation }[];
}

export interface ModelSummary {
  model: string;
  attackType: string | null;
  seeds: number[];
  pretrainSeeds: (number | null)[];
  /** Examples the final model trained on, per seed. */
  trainExamples: number[];
  /** Updates of the final model x batch size, per seed (null for the untrained detectors). */
  examplesSeen: (number | null)[];
  examples: RunEvaluation['examples'];
  selectSplit: string;
  tau: { mean: number; values: number[] };
  /** Shares 0..1 (the tables print percent where the paper does). */
  metrics: Record<MetricName, Estimate>;
  /** Tau chosen on the evaluation split itself: optimistic, for reference only. */
  oracle: Record<MetricName, { mean: number | null; sd: number | null }>;
  budgetCurve: {
    bound: number;
    budget: number;
    effectiveness: { mean: number | null; sd: number | null };
    overhead: number | null;
    f1: number | null;
  }[];
  /** Figure 5 arrays pooled over seeds. */
  figure: { bound: number; effectiveness: number[]; mitigationTime: number[] }[];
}

export interface Comparison {
  a: string;
  b: string;
  attackType: string | null;
  metric: MetricName;
  diff: number | null;
  lo: number | null;
  hi: number | null;
  pairedRuns: boolean;
}

export interface ClaimResult extends Claim {
  attackType: string | null;
  measured: { a: number | null; b: number | null; diff: number | null; lo: number | null; hi: number | null };
  verdict: Verdict;
}

export interface DetectSummary {
  kind: 'netflowgen.detect-summary';
  createdBy: string;
  table: string;
  bound: number;
  replicates: number;
  level: number;
  models: ModelSummary[];
  comparisons: Comparison[];
  claims: ClaimResult[];
}

export interface SummaryOptions {
  table: string;
  bound: number;
  replicates?: number;
  seed?: number;
  /** The simple detectors' names: every learned model is compared with them (beyond the paper). */
  detectors?: string[];
}

const mean = (xs: readonly number[]): number | null => {
  const m = finiteMean(xs);
  return Number.isFinite(m) ? m : null;
};
const sd = sampleSd;
const num = (x: number | null | undefined) => (x === null || x === undefined ? Number.NaN : x);

/** A run's outcomes in the bootstrap's form. */
export function outcomesOf(e: RunEvaluation): RunOutcomes {
  const o = e.outcomes;
  return {
    index: o.index,
    label: o.label,
    detected: o.detection.map((d) => (d >= 0 ? 1 : 0)),
    effectiveness: o.effectiveness.map((x) => (x === null ? 0 : x)),
    overhead: o.overhead,
    customer: o.customer,
    cluster: o.node,
  };
}

function summarizeModel(m: SummaryModel, bound: number, replicates: number, seed: number): ModelSummary {
  const evals = m.seeds.map((s) => s.evaluation);
  if (!evals.length) throw new Error(`${m.model}: no evaluated seed`);
  for (const e of evals)
    if (Math.abs(e.outcomes.bound - bound) > 1e-12)
      throw new Error(`${e.run}: outcomes are at the ${e.outcomes.bound} bound, the table's is ${bound}`);
  const runs = evals.map(outcomesOf);
  const metrics = Object.fromEntries(
    METRIC_NAMES.map((k) => [k, bootstrapMetric(runs, k, { replicates, seed, bound })]),
  ) as Record<MetricName, Estimate>;
  const oracleAt = (e: RunEvaluation) => e.oracle.find((b) => Math.abs(b.bound - bound) < 1e-12);
  const oracle = Object.fromEntries(
    METRIC_NAMES.map((k) => {
      const xs = evals.map((e) => num(oracleAt(e)?.[k] as number | null | undefined));
      return [k, { mean: mean(xs), sd: sd(xs) }];
    }),
  ) as ModelSummary['oracle'];
  const budgetCurve = evals[0].budgetCurve.map((p, i) => {
    const at = evals.map((e) => e.budgetCurve[i]);
    return {
      bound: p.bound,
      budget: p.budget,
      effectiveness: { mean: mean(at.map((x) => num(x?.effectiveness))), sd: sd(at.map((x) => num(x?.effectiveness))) },
      overhead: mean(at.map((x) => num(x?.overhead))),
      f1: mean(at.map((x) => num(x?.f1))),
    };
  });
  return {
    model: m.model,
    attackType: m.attackType ?? null,
    seeds: m.seeds.map((s) => s.seed),
    pretrainSeeds: m.seeds.map((s) => s.pretrainSeed ?? null),
    trainExamples: evals.map((e) => e.trainExamples),
    examplesSeen: evals.map((e) => e.examplesSeen ?? null),
    examples: evals[0].examples,
    selectSplit: [...new Set(evals.map((e) => e.selectSplit))].join(', '),
    tau: { mean: mean(evals.map((e) => e.outcomes.tau)) ?? Number.NaN, values: evals.map((e) => e.outcomes.tau) },
    metrics,
    oracle,
    budgetCurve,
    figure: [],
  };
}

/** The table's summary: every model over its seeds, the comparisons and the claims. */
export function summarizeDetection(
  models: readonly SummaryModel[],
  figures: readonly {
    model: string;
    attackType?: string;
    byBound: { bound: number; effectiveness: number[]; mitigationTime: number[] }[];
  }[],
  opts: SummaryOptions,
): DetectSummary {
  const replicates = opts.replicates ?? 2000;
  const seed = opts.seed ?? 1;
  const out = models.map((m) => summarizeModel(m, opts.bound, replicates, seed));
  for (const s of out) {
    const mine = figures.filter((f) => f.model === s.model && (f.attackType ?? null) === s.attackType);
    const bounds = [...new Set(mine.flatMap((f) => f.byBound.map((b) => b.bound)))].sort((a, b) => a - b);
    s.figure = bounds.map((bound) => ({
      bound,
      effectiveness: mine.flatMap((f) => f.byBound.find((b) => b.bound === bound)?.effectiveness ?? []),
      mitigationTime: mine.flatMap((f) => f.byBound.find((b) => b.bound === bound)?.mitigationTime ?? []),
    }));
  }
  const find = (name: string, type: string | null) =>
    models.find((m) => m.model === name && (m.attackType ?? null) === type);
  const types = [...new Set(models.map((m) => m.attackType ?? null))];
  const compare = (a: SummaryModel, b: SummaryModel, metric: MetricName): Comparison => {
    const d = pairedDifference(
      a.seeds.map((s) => outcomesOf(s.evaluation)),
      b.seeds.map((s) => outcomesOf(s.evaluation)),
      metric,
      { replicates, seed, bound: opts.bound },
    );
    return {
      a: a.model,
      b: b.model,
      attackType: a.attackType ?? null,
      metric,
      diff: d.diff,
      lo: d.lo,
      hi: d.hi,
      pairedRuns: d.pairedRuns,
    };
  };
  const comparisons: Comparison[] = [];
  const claims: ClaimResult[] = [];
  const seen = new Map<string, Comparison>();
  /** Each (A, B, type, metric) once. */
  const compareOnce = (a: SummaryModel, b: SummaryModel, metric: MetricName): Comparison => {
    const key = JSON.stringify([a.model, b.model, a.attackType ?? null, metric]);
    if (!seen.has(key)) {
      const c = compare(a, b, metric);
      seen.set(key, c);
      comparisons.push(c);
    }
    return seen.get(key)!;
  };
  for (const type of types) {
    for (const c of CLAIMS) {
      if (c.metric === 'loss') continue;
      const metric = c.metric;
      const a = find(c.a, type);
      const b = find(c.b, type);
      if (!a || !b) continue;
      const cmp = compareOnce(a, b, metric);
      if (c.table !== opts.table) continue;
      const ea = out.find((s) => s.model === c.a && s.attackType === type)!.metrics[metric].mean;
      const eb = out.find((s) => s.model === c.b && s.attackType === type)!.metrics[metric].mean;
      claims.push({
        ...c,
        attackType: type,
        measured: { a: ea, b: eb, diff: cmp.diff, lo: cmp.lo, hi: cmp.hi },
        verdict: verdict(c.kind, cmp.lo, cmp.hi, c.margin),
      });
    }
    // Beyond the paper: every learned model against each simple detector, and NetFlowGen against every other model of a per-type table.
    const detectors = new Set(opts.detectors ?? []);
    for (const a of models.filter((m) => (m.attackType ?? null) === type && !detectors.has(m.model)))
      for (const d of detectors) {
        const b = find(d, type);
        if (b) compareOnce(a, b, 'f1');
      }
    if (opts.table === 'table6') {
      const a = find('NetFlowGen', type);
      if (a)
        for (const b of models.filter(
          (m) => (m.attackType ?? null) === type && m.model !== 'NetFlowGen' && !detectors.has(m.model),
        ))
          compareOnce(a, b, 'f1');
    }
  }
  return {
    kind: 'netflowgen.detect-summary',
    createdBy: `netflowgen ${VERSION}`,
    table: opts.table,
    bound: opts.bound,
    replicates,
    level: 0.95,
    models: out,
    comparisons,
    claims,
  };
}

/** Reads each seed's evaluation.json ({evaluation, figure}) and writes OUT/summary.json. */
export async function writeDetectSummary(
  inputs: readonly {
    model: string;
    attackType?: string;
    seeds: { seed: number; pretrainSeed?: number; file: string }[];
  }[],
  out: string,
  opts: SummaryOptions,
): Promise<DetectSummary> {
  const figures: {
    model: string;
    attackType?: string;
    byBound: { bound: number; effectiveness: number[]; mitigationTime: number[] }[];
  }[] = [];
  const models: SummaryModel[] = inputs.map((m) => ({
    model: m.model,
    attackType: m.attackType,
    seeds: m.seeds.map((s) => {
      const doc = JSON.parse(readFileSync(s.file, 'utf8')) as {
        evaluation: RunEvaluation;
        figure: { byBound: { bound: number; effectiveness: number[]; mitigationTime: number[] }[] };
      };
      figures.push({ model: m.model, attackType: m.attackType, byBound: doc.figure.byBound });
      return { seed: s.seed, pretrainSeed: s.pretrainSeed, evaluation: doc.evaluation };
    }),
  }));
  const summary = summarizeDetection(models, figures, opts);
  await writeFileAtomic(join(out, SUMMARY_FILE), JSON.stringify(summary, null, 1) + '\n');
  return summary;
}

// ---------------------------------------------------------------- Table 4: pre-training against the bigram

export interface PretrainSummary {
  kind: 'netflowgen.pretrain-summary';
  createdBy: string;
  table: 'table4';
  split: string;
  windows: number;
  replicates: number;
  level: number;
  /** The pre-trained model over its seeds (loss: mean NLL per (step, feature), nats), and the bigram. */
  models: { model: string; seeds: number[]; loss: { mean: number | null; sd: number | null; values: number[] } }[];
  claims: ClaimResult[];
}

/**
 * The Table 4 claim from per-window losses: each pre-training seed's RUN/eval/<split>/step_loss.npy
 * and windows.npy (python/score.py) against the bigram's per-window losses of the same windows
 * (netflowgen baseline: bigram.<split>.windows.json), joined by (row, start).
 */
export function summarizePretrain(
  seeds: readonly { seed: number; stepLoss: Float32Array; steps: number; windows: Int32Array }[],
  bigram: { rows: number[]; starts: number[]; loss: number[] },
  opts: { split: string; replicates?: number; seed?: number },
): PretrainSummary {
  const replicates = opts.replicates ?? 2000;
  const key = (row: number, start: number) => `${row}:${start}`;
  const bigramAt = new Map(bigram.rows.map((r, i) => [key(r, bigram.starts[i]), bigram.loss[i]]));
  // Windows in the first seed's order; every seed scores the same windows of the same dataset.
  const first = seeds[0];
  const n = first ? first.windows.length / 2 : 0;
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = bigramAt.get(key(first.windows[2 * i], first.windows[2 * i + 1]));
    if (v === undefined)
      throw new Error(
        `window (row ${first.windows[2 * i]}, start ${first.windows[2 * i + 1]}) has no bigram loss: the baseline and the pre-trained model scored different windows`,
      );
    b[i] = v;
  }
  const a = seeds.map((s) => {
    if (s.windows.length !== first.windows.length || s.windows.some((x, i) => x !== first.windows[i]))
      throw new Error(`pre-training seed ${s.seed} scored other windows than seed ${first.seed}`);
    const perWindow = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let t = 0; t < s.steps; t++) sum += s.stepLoss[i * s.steps + t];
      perWindow[i] = sum / s.steps;
    }
    return perWindow;
  });
  const meanOf = (x: ArrayLike<number>) => {
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += x[i];
    return x.length ? sum / x.length : Number.NaN;
  };
  const losses = a.map(meanOf);
  // Resampled by node: the windows of one node are not independent draws.
  const cluster = Int32Array.from({ length: n }, (_, i) => first.windows[2 * i]);
  const d = pairedLossDifference(a, b, { replicates, seed: opts.seed ?? 1, cluster });
  const claim = CLAIMS.find((c) => c.id === 'pretrained-vs-bigram')!;
  const ma = mean(losses);
  const mb = meanOf(b);
  return {
    kind: 'netflowgen.pretrain-summary',
    createdBy: `netflowgen ${VERSION}`,
    table: 'table4',
    split: opts.split,
    windows: n,
    replicates,
    level: 0.95,
    models: [
      { model: 'Pre-trained', seeds: seeds.map((s) => s.seed), loss: { mean: ma, sd: sd(losses), values: losses } },
      { model: 'Bigram', seeds: [], loss: { mean: Number.isFinite(mb) ? mb : null, sd: null, values: [mb] } },
    ],
    claims: [
      {
        ...claim,
        attackType: null,
        measured: { a: ma, b: Number.isFinite(mb) ? mb : null, diff: d.diff, lo: d.lo, hi: d.hi },
        verdict: verdict(claim.kind, d.lo, d.hi, claim.margin),
      },
    ],
  };
}

/** Reads the seeds' scores and the bigram's per-window losses, and writes OUT/summary.json. */
export async function writePretrainSummary(
  seedRuns: readonly { seed: number; scoreDir: string }[],
  bigramWindowsFile: string,
  out: string,
  opts: { split: string; replicates?: number },
): Promise<PretrainSummary> {
  const seeds = seedRuns.map((r) => {
    const loss = readNpy(join(r.scoreDir, 'step_loss.npy'));
    const windows = readNpy(join(r.scoreDir, 'windows.npy'));
    return {
      seed: r.seed,
      stepLoss: loss.data as Float32Array,
      steps: loss.shape[1],
      windows: windows.data as Int32Array,
    };
  });
  const bigram = JSON.parse(readFileSync(bigramWindowsFile, 'utf8')) as {
    rows: number[];
    starts: number[];
    loss: number[];
  };
  const summary = summarizePretrain(seeds, bigram, opts);
  await writeFileAtomic(join(out, SUMMARY_FILE), JSON.stringify(summary, null, 1) + '\n');
  return summary;
}

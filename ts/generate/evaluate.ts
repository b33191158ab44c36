/**
 * `netflowgen evaluate-generation`: how real the model's samples are, against two baselines and the
 * real-vs-real floor (docs/generate.md). For the same nodes and span (by default the test split, which
 * no model trained on):
 *
 *  - each model (a pretrain run) samples the span with `generate`, after reading the real minutes
 *    before it (up to its context);
 *  - Bigram: every feature's own chain from the last real minute before the span (baselines.ts);
 *  - Seasonal (previous day / previous week): the last real day / week before the span, repeated
 *    (absent when the dataset has no such day or week before the span);
 *  - Real vs real (floor): the first half of the real span against its second half.
 *
 * So that the floor is comparable, every row is measured on the same lengths: a generator's metrics
 * are the mean of (first half of its samples vs first half of the real span) and (second vs second);
 * the floor is (first real half vs second real half). The span is an even number of minutes (whole
 * days per half when it is at least two days long). Metrics: metrics.ts.
 *
 * Writes OUT/generation.json (schemas/generation-eval.schema.json: every row's metrics, a verdict per
 * model, and a few nodes' real and generated series for plots), OUT/generation.md, and each model's
 * samples under OUT/samples/ (reused by a later run with the same request unless `force`).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { Rng } from '../common/rng.js';
import { validateWithSchema } from '../common/schema.js';
import { VERSION } from '../common/version.js';
import type { FeatureGroup } from '../catalogue/features.js';
import { countTransitions, fitBigram } from '../baseline/bigram.js';
import { startsByRow } from '../baseline/run.js';
import { BinnedDataset } from '../datasets/binned.js';
import { minuteToIso, SeriesStore } from '../serialize/store.js';
import { bigramCumulative, sampleBigram, seasonalRepeat } from './baselines.js';
import {
  FLOOR_FACTOR,
  GENERATION_EVAL_SCHEMA,
  GENERATION_JSON,
  GENERATION_MD,
  generationMarkdown,
  nonFiniteNumbers,
  verdictsOf,
  type GenerationEvaluation,
  type GenerationRow,
  type PlotSeries,
} from './generation.js';
import { generate, GeneratedSeries, resolveRows, resolveRun, datasetMinute, GENERATED_MANIFEST } from './generate.js';
import {
  compareStats,
  DAILY_LAG,
  equalCounts,
  meanMetrics,
  seriesStats,
  SHORT_LAGS,
  type GenerationMetrics,
} from './metrics.js';

// The rows, verdicts and Markdown live in generation.ts; importable from here as before.
export {
  FLOOR_FACTOR,
  GENERATION_EVAL_SCHEMA,
  GENERATION_JSON,
  GENERATION_MD,
  generationMarkdown,
  floorVerdict,
  generationTable,
  nonFiniteNumbers,
  verdictsOf,
  type GenerationEvaluation,
  type GenerationRow,
  type GenerationVerdict,
  type PlotSeries,
  type RowKind,
} from './generation.js';

export interface EvaluateGenerationOptions {
  /** Run folders of `netflowgen pretrain`, one row each; all must share the dataset's shape and feature set. */
  models: string[];
  /** Output folder (generation.json, generation.md, samples/). */
  out: string;
  /** Binned dataset (default: the first model's). */
  dataset?: string;
  /** Node addresses or rows (default: the first `maxNodes` training rows). */
  nodes?: (string | number)[];
  maxNodes?: number;
  /** Split whose minutes are generated when `from` is not given (default 'test'). */
  split?: 'valid' | 'test';
  /** First minute of the span (ISO or dataset index) and its length (default: the split). */
  from?: string | number;
  minutes?: number;
  /** Real minutes before the span a model reads (default: as many as its context takes). */
  history?: number;
  temperature?: number;
  topK?: number;
  seed?: number;
  cache?: boolean;
  batchSize?: number;
  device?: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  plot?: { nodes?: number; feature?: string; minutes?: number };
  /** Sample again even when OUT/samples holds samples of the same request. */
  force?: boolean;
  signal?: AbortSignal;
  log?: (msg: string) => void;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
}

/** Columns [T, Fall] -> [T, cols.length] (the same array when every column is taken in order). */
function selectColumns(bins: Uint8Array, T: number, Fall: number, cols: readonly number[]): Uint8Array {
  if (cols.length === Fall && cols.every((c, i) => c === i)) return bins;
  const F = cols.length;
  const out = new Uint8Array(T * F);
  for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) out[t * F + f] = bins[t * Fall + cols[f]];
  return out;
}

/** The span: [from, from + minutes), even, whole days per half when at least two days. */
export function evaluationSpan(
  ds: BinnedDataset,
  opts: { split?: 'valid' | 'test'; from?: string | number; minutes?: number },
): { split: string | null; from: number; minutes: number } {
  const m = ds.manifest;
  const split = opts.from === undefined ? (opts.split ?? 'test') : null;
  const from =
    opts.from === undefined ? m.splits[split ?? 'test'].start : datasetMinute(opts.from, m.startMinute, '--from');
  const end =
    opts.from === undefined && opts.minutes === undefined
      ? m.splits[split ?? 'test'].end
      : from + (opts.minutes ?? m.minutes - from);
  if (from < 1 || end > m.minutes)
    throw new Error(
      `the span ${from}..${end - 1} must lie inside the dataset (minutes 1..${m.minutes - 1}: the generators read at least one real minute before it)`,
    );
  let minutes = end - from;
  minutes = minutes >= 2 * DAILY_LAG ? 2 * DAILY_LAG * Math.floor(minutes / (2 * DAILY_LAG)) : minutes - (minutes % 2);
  if (minutes < 4)
    throw new Error(`the span from minute ${from} has ${end - from} minutes: too short to compare halves`);
  return { split, from, minutes };
}

export async function evaluateGeneration(
  opts: EvaluateGenerationOptions,
): Promise<{ result: GenerationEvaluation; files: { json: string; md: string } }> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  if (!opts.models.length) throw new Error('name at least one pre-training run to sample from');
  const runs = opts.models.map((r) => ({ dir: resolve(r), ...resolveRun(resolve(r), undefined, opts.dataset) }));
  const dataset = runs[0].dataset;
  const ds = BinnedDataset.open(dataset);
  const m = ds.manifest;
  const span = evaluationSpan(ds, opts);
  const N = span.minutes;
  const h = N / 2;
  const rows = (opts.nodes?.length ? resolveRows(ds, opts.nodes) : resolveRows(ds)).slice(
    0,
    opts.nodes?.length ? undefined : (opts.maxNodes ?? 64),
  );
  if (!rows.length)
    throw new Error(
      `${dataset}: no nodes to evaluate (${m.nodeIds ? `--max-nodes ${opts.maxNodes}` : 'the dataset has no training nodes'})`,
    );
  const out = resolve(opts.out);
  mkdirSync(join(out, 'samples'), { recursive: true });
  const seed = opts.seed ?? 1;
  const sampling = { temperature: opts.temperature ?? 1, topK: opts.topK ?? 0, seed, cache: opts.cache ?? true };
  const check = () => {
    if (opts.signal?.aborted) {
      const e = new Error('interrupted: no generation.json was written');
      e.name = 'AbortError';
      throw e;
    }
  };

  // ---- models: sample (or reuse samples of the same request) ----
  const modelRows: GenerationRow[] = [];
  const generated = new Map<string, Uint8Array[]>(); // bins [N, F] per node, by row label
  const samplesOf = new Map<string, GeneratedSeries>();
  let features: string[] | null = null;
  let groups: FeatureGroup[] = [];
  for (const [i, run] of runs.entries()) {
    check();
    if (run.dataset !== dataset)
      throw new Error(
        `${run.dir} was trained on ${run.dataset}, not ${dataset}: compare models of one dataset (or pass --dataset)`,
      );
    const label = `NetFlowGen (${run.name})`;
    const rel = join('samples', `${i + 1}-${slug(run.name)}`);
    const dir = join(out, rel);
    const historyFrom = opts.history === undefined ? 0 : Math.max(0, span.from - opts.history);
    const request = { checkpoint: run.checkpoint, from: span.from, minutes: N, rows };
    let series: GeneratedSeries | null = null;
    if (!opts.force && existsSync(join(dir, GENERATED_MANIFEST))) {
      try {
        const s = GeneratedSeries.open(dir);
        const gm = s.manifest;
        const same =
          gm.model.checkpoint === request.checkpoint &&
          gm.from === span.from &&
          gm.minutes === N &&
          gm.nodes.map((n) => n.row).join(',') === rows.join(',') &&
          gm.sampling.temperature === sampling.temperature &&
          gm.sampling.topK === sampling.topK &&
          gm.sampling.seed === seed &&
          gm.sampling.cache === sampling.cache &&
          gm.history.from === Math.max(historyFrom, span.from - gm.model.context) &&
          statSync(join(dir, GENERATED_MANIFEST)).mtimeMs >= statSync(run.checkpoint).mtimeMs;
        if (same) {
          series = s;
          log(`${label}: reusing the samples in ${dir}`);
        }
      } catch {
        series = null;
      }
    }
    if (!series) {
      log(`${label}: sampling ${rows.length} nodes x ${N} minutes`);
      await generate({
        model: run.dir,
        checkpoint: run.checkpoint,
        dataset,
        nodes: rows,
        from: span.from,
        minutes: N,
        historyFrom: span.from > historyFrom ? historyFrom : undefined,
        ...sampling,
        batchSize: opts.batchSize,
        device: opts.device,
        threads: opts.threads,
        out: dir,
        force: true,
        signal: opts.signal,
        log,
      });
      series = GeneratedSeries.open(dir);
    }
    const gm = series.manifest;
    if (features === null) {
      features = gm.features;
      groups = gm.featureGroups;
    } else if (gm.features.join(',') !== features.join(','))
      throw new Error(
        `${run.dir} generates other features (${gm.features.length}) than ${runs[0].dir} (${features.length}): compare models of one feature set`,
      );
    const opened = series;
    generated.set(
      label,
      rows.map((_, j) => opened.readBins(j)),
    );
    samplesOf.set(label, opened);
    modelRows.push({
      label,
      kind: 'model',
      source: run.dir,
      available: true,
      metrics: null,
      samples: rel,
      nodeMinutesPerSecond: gm.timing.nodeMinutesPerSecond,
    });
  }
  const names = features ?? m.features;
  const cols = names.map((n) => m.features.indexOf(n));
  const F = cols.length;
  const K = m.nBins;
  const Fall = m.features.length;

  // ---- real span and history ----
  check();
  const real = rows.map((r) => selectColumns(ds.readBins(r, span.from, span.from + N), N, Fall, cols));

  // ---- baselines ----
  const baselineRows: GenerationRow[] = [];
  const bigramCounts = new Float64Array(F * K * K);
  for (const [row, starts] of startsByRow(ds.readWindows('train'))) {
    check();
    countTransitions(
      selectColumns(ds.readBins(row), m.minutes, Fall, cols),
      F,
      K,
      starts,
      m.windowLength,
      bigramCounts,
    );
  }
  const bigram = fitBigram(bigramCounts, F, K);
  const cum = bigramCumulative(bigram);
  generated.set(
    'Bigram',
    rows.map((r) =>
      sampleBigram(
        bigram,
        selectColumns(ds.readBins(r, span.from - 1, span.from), 1, Fall, cols),
        N,
        Rng.derive(seed, 'bigram', r),
        cum,
      ),
    ),
  );
  baselineRows.push({
    label: 'Bigram',
    kind: 'baseline',
    source: "per-feature bigram of the training windows (Table 4's), sampled from the last real minute",
    available: true,
    metrics: null,
  });
  for (const [label, period, what] of [
    ['Seasonal (previous day)', DAILY_LAG, 'day'],
    ['Seasonal (previous week)', 7 * DAILY_LAG, 'week'],
  ] as const) {
    const ok = span.from >= period;
    if (ok)
      generated.set(
        label,
        rows.map((r) =>
          seasonalRepeat(
            selectColumns(ds.readBins(r, span.from - period, span.from), period, Fall, cols),
            period,
            F,
            N,
          ),
        ),
      );
    baselineRows.push({
      label,
      kind: 'baseline',
      source: `the last real ${what} before the span, repeated`,
      available: ok,
      ...(ok ? {} : { note: `the dataset has ${span.from} minutes before the span, less than a ${what}` }),
      metrics: null,
    });
  }

  // ---- metrics on halves ----
  check();
  const groupList = groups.length ? groups : m.featureGroups;
  const half = (list: Uint8Array[], k: 0 | 1) => list.map((s) => s.subarray(k * h * F, (k + 1) * h * F));
  const realHalves = [half(real, 0), half(real, 1)];
  const realStats = realHalves.map((x) => seriesStats(x, h, F, K));
  const rowMetrics = (label: string): GenerationMetrics => {
    const bins = generated.get(label) as Uint8Array[];
    return meanMetrics(
      ([0, 1] as const).map((k) => {
        const gh = half(bins, k);
        return compareStats(realStats[k], seriesStats(gh, h, F, K), groupList, equalCounts(realHalves[k], gh, F));
      }),
    );
  };
  for (const r of [...modelRows, ...baselineRows]) if (r.available) r.metrics = rowMetrics(r.label);
  const floor: GenerationRow = {
    label: 'Real vs real (floor)',
    kind: 'floor',
    source: `the first ${h} real minutes against the next ${h}`,
    available: true,
    metrics: compareStats(realStats[0], realStats[1], groupList, equalCounts(realHalves[0], realHalves[1], F)),
  };
  const allRows = [...modelRows, ...baselineRows, floor];

  // ---- verdicts ----
  const verdicts = verdictsOf(modelRows, baselineRows, floor);

  // ---- series for plots ----
  const plotNodes = Math.min(rows.length, opts.plot?.nodes ?? 3);
  const feature = opts.plot?.feature ?? (names.includes('in.byt') ? 'in.byt' : names[0]);
  const fi = names.indexOf(feature);
  if (fi < 0) throw new Error(`--plot-feature ${feature} is not one of the generated features`);
  const M = Math.min(N, opts.plot?.minutes ?? DAILY_LAG);
  const srcStore = existsSync(join(m.source.store, 'manifest.json')) ? SeriesStore.open(m.source.store) : null;
  const column = (s: Uint8Array) => Array.from({ length: M }, (_, t) => s[t * F + fi]);
  const storeColumn = (store: SeriesStore, node: number, from: number, name: string): number[] | null => {
    const c = store.manifest.features.indexOf(name);
    if (c < 0) return null;
    const x = store.readNode(node, from, from + M);
    return Array.from({ length: M }, (_, t) => x[t * store.nFeatures + c]);
  };
  const series: PlotSeries[] = rows.slice(0, plotNodes).map((r, i) => {
    const gen: PlotSeries['generated'] = {};
    for (const row of [...modelRows, ...baselineRows]) {
      if (!row.available) continue;
      const bins = generated.get(row.label) as Uint8Array[];
      const sg = samplesOf.get(row.label);
      const st = sg?.manifest.files.store ? SeriesStore.open(join(sg.dir, sg.manifest.files.store)) : null;
      gen[row.label] = { bins: column(bins[i]), values: st ? storeColumn(st, i, 0, feature) : null };
    }
    return {
      row: r,
      node: m.nodes[r].address,
      feature,
      startMinute: m.startMinute + span.from,
      firstMinute: minuteToIso(m.startMinute + span.from),
      minutes: M,
      real: {
        bins: column(real[i]),
        values: srcStore ? storeColumn(srcStore, m.nodes[r].storeIndex, span.from, feature) : null,
      },
      generated: gen,
    };
  });

  const result: GenerationEvaluation = {
    kind: 'netflowgen.generation-evaluation',
    schemaVersion: 1,
    createdBy: `netflowgen ${VERSION}`,
    dataset,
    span: {
      split: span.split,
      from: span.from,
      to: span.from + N,
      minutes: N,
      halfMinutes: h,
      startMinute: m.startMinute + span.from,
      firstMinute: minuteToIso(m.startMinute + span.from),
    },
    nodes: rows.map((r) => ({ row: r, address: m.nodes[r].address })),
    features: names,
    featureGroups: groupList,
    nBins: K,
    sampling,
    lags: { short: [...SHORT_LAGS].filter((k) => 2 * k <= h), daily: DAILY_LAG, dailyUsed: 2 * DAILY_LAG <= h },
    floorFactor: FLOOR_FACTOR,
    rows: allRows,
    verdicts,
    series,
  };
  // A metric that is not measured is null already (metrics.ts, verdictsOf); a NaN or an infinity here
  // is a bug, which JSON.stringify would hide as a null the schema allows elsewhere: refuse it instead.
  const bad = nonFiniteNumbers(result);
  if (bad.length)
    throw new Error(
      `evaluate-generation: non-finite numbers at ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}; no generation.json was written`,
    );
  const clean = JSON.parse(JSON.stringify(result)) as GenerationEvaluation;
  const files = { json: join(out, GENERATION_JSON), md: join(out, GENERATION_MD) };
  validateWithSchema(GENERATION_EVAL_SCHEMA, clean, files.json);
  await writeFileAtomic(files.json, JSON.stringify(clean) + '\n');
  await writeFileAtomic(files.md, generationMarkdown(clean));
  return { result: clean, files };
}

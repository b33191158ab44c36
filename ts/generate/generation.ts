/**
 * What evaluate-generation concludes and writes (schemas/generation-eval.schema.json): its rows (models,
 * baselines, the real-vs-real floor), a verdict per model (better than each available baseline on
 * each metric; mean JSD within FLOOR_FACTOR of the floor's), the plot series, and generation.md.
 */
import type { FeatureGroup } from '../catalogue/features.js';
import { markdownTable } from '../train/tables.js';
import { metricBetter, METRIC_KEYS, type GenerationMetrics, type MetricKey } from './metrics.js';

export const GENERATION_EVAL_SCHEMA = 'generation-eval.schema.json';
export const GENERATION_JSON = 'generation.json';
export const GENERATION_MD = 'generation.md';
/** The goal of issue 14: a model's mean JSD within this factor of the floor's. */
export const FLOOR_FACTOR = 1.5;

export type RowKind = 'model' | 'baseline' | 'floor';

export interface GenerationRow {
  label: string;
  kind: RowKind;
  /** A run folder for a model; a description for the others. */
  source: string;
  available: boolean;
  /** Why a row is not available. */
  note?: string;
  metrics: GenerationMetrics | null;
  /** A model's samples, relative to the output folder. */
  samples?: string;
  nodeMinutesPerSecond?: number | null;
}

export interface GenerationVerdict {
  model: string;
  /** Per metric: better than every available baseline (null when the metric is not measured). */
  beatsBaselines: Record<MetricKey, boolean | null>;
  beatsAllBaselines: boolean;
  /** Per available baseline (by label) and metric: better than it (null when either is not measured). */
  byBaseline: Record<string, Record<MetricKey, boolean | null>>;
  jsdToFloor: number | null;
  jsdWithinFloorFactor: boolean | null;
}

export interface PlotSeries {
  row: number;
  node: string;
  feature: string;
  startMinute: number;
  firstMinute: string;
  minutes: number;
  real: { bins: number[]; values: number[] | null };
  /** By row label (not the floor). */
  generated: Record<string, { bins: number[]; values: number[] | null }>;
}

export interface GenerationEvaluation {
  kind: 'netflowgen.generation-evaluation';
  schemaVersion: 1;
  createdBy: string;
  dataset: string;
  span: {
    split: string | null;
    from: number;
    to: number;
    minutes: number;
    halfMinutes: number;
    startMinute: number;
    firstMinute: string;
  };
  nodes: { row: number; address: string }[];
  features: string[];
  featureGroups: FeatureGroup[];
  nBins: number;
  sampling: { temperature: number; topK: number; seed: number; cache: boolean };
  lags: { short: number[]; daily: number; dailyUsed: boolean };
  floorFactor: number;
  rows: GenerationRow[];
  verdicts: GenerationVerdict[];
  series: PlotSeries[];
}

/**
 * Each model row's verdict against the available baselines and the floor: per metric, better than
 * every available baseline (false when worse than one, null when none compares), and its mean JSD
 * over the floor's.
 */
export function verdictsOf(
  modelRows: readonly GenerationRow[],
  baselineRows: readonly GenerationRow[],
  floor: GenerationRow,
): GenerationVerdict[] {
  const available = baselineRows.filter((b) => b.available && b.metrics);
  return modelRows.map((r) => {
    const mm = r.metrics as GenerationMetrics;
    const beats = Object.fromEntries(
      METRIC_KEYS.map((k) => {
        const v = mm[k];
        if (v === null || Number.isNaN(v)) return [k, null];
        const cmp = available.map((b) => metricBetter(k, v, (b.metrics as GenerationMetrics)[k]));
        return [k, cmp.some((c) => c === false) ? false : cmp.some((c) => c === true) ? true : null];
      }),
    ) as Record<MetricKey, boolean | null>;
    const byBaseline = Object.fromEntries(
      available.map((b) => [
        b.label,
        Object.fromEntries(
          METRIC_KEYS.map((k) => [k, metricBetter(k, mm[k], (b.metrics as GenerationMetrics)[k])]),
        ) as Record<MetricKey, boolean | null>,
      ]),
    );
    const fl = (floor.metrics as GenerationMetrics).jsd;
    const ratio = fl > 0 ? mm.jsd / fl : null;
    return {
      model: r.label,
      beatsBaselines: beats,
      beatsAllBaselines: Object.values(beats).every((b) => b !== false),
      byBaseline,
      jsdToFloor: ratio,
      jsdWithinFloorFactor: ratio === null ? null : ratio <= FLOOR_FACTOR,
    };
  });
}

/**
 * The floor part of a verdict line, as generation.md ('md') or the report ('report', with × and ≤) says
 * it. A floor JSD of 0 has no ratio (jsdToFloor and jsdWithinFloorFactor null): the goal is then
 * neither met nor missed, so the line says n/a.
 */
export function floorVerdict(
  v: Pick<GenerationVerdict, 'jsdToFloor' | 'jsdWithinFloorFactor'>,
  floorFactor: number,
  style: 'md' | 'report' = 'md',
): string {
  const [times, le, floor] = style === 'report' ? ['×', '≤', "the floor's"] : ['x', '<=', 'the floor'];
  if (v.jsdToFloor === null || v.jsdWithinFloorFactor === null)
    return `mean JSD n/a ${times} ${floor} (the floor's JSD is 0; goal ${le} ${floorFactor}: n/a)`;
  return `mean JSD ${v.jsdToFloor.toFixed(2)} ${times} ${floor} (goal ${le} ${floorFactor}: ${v.jsdWithinFloorFactor ? 'met' : 'not met'})`;
}

/**
 * Where a value holds a number that JSON cannot say (NaN, an infinity), as '$.rows[0].metrics.jsd'.
 * generation.json has none: a metric that is not measured is null, deliberately.
 */
export function nonFiniteNumbers(value: unknown, path = '$'): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${path} (${value})`];
  if (Array.isArray(value) || ArrayBuffer.isView(value))
    return Array.from(value as ArrayLike<unknown>).flatMap((x, i) => nonFiniteNumbers(x, `${path}[${i}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, x]) => nonFiniteNumbers(x, `${path}.${k}`));
  return [];
}

const fmt = (x: number | null | undefined, d = 4) =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d);

/** The metrics table (Markdown) and one line per model verdict. */
export function generationTable(e: Pick<GenerationEvaluation, 'rows'>): string {
  const head = [
    'Generator',
    'Mean JSD',
    'JSD volume',
    'JSD protocol',
    'JSD port',
    'JSD flag',
    'ACF MSE (1-60)',
    'ACF err. (1440)',
    'Corr. error',
    'Equal bins',
    'Node-min/s',
  ];
  const body = e.rows.map((r) => {
    const x = r.metrics;
    if (!x) return [r.label, ...head.slice(1, -1).map(() => '–'), '–'];
    return [
      r.label,
      fmt(x.jsd),
      fmt(x.jsdByGroup.volume),
      fmt(x.jsdByGroup.protocol),
      fmt(x.jsdByGroup.port),
      fmt(x.jsdByGroup.flag),
      fmt(x.acfMse),
      fmt(x.acf1440),
      fmt(x.corrError),
      fmt(x.equalShare),
      r.nodeMinutesPerSecond ? Math.round(r.nodeMinutesPerSecond).toLocaleString('en-US') : '',
    ];
  });
  return markdownTable(head, body);
}

export function generationMarkdown(e: GenerationEvaluation): string {
  const lines = [
    `# Generation: ${e.nodes.length} nodes x ${e.span.minutes} minutes from ${e.span.firstMinute}${e.span.split ? ` (${e.span.split} split)` : ''}`,
    '',
    `Metrics are means over the two halves of ${e.span.halfMinutes} minutes (generated half against the same real half); the floor sets the real halves against each other. JSD in bits per node and feature; lower is better except Equal bins. Sampling: temperature ${e.sampling.temperature}, top-k ${e.sampling.topK || 'all'}, seed ${e.sampling.seed}.`,
    '',
    generationTable(e),
    '',
    ...e.verdicts.map((v) => {
      const lost = Object.entries(v.byBaseline)
        .map(
          ([b, ms]) =>
            [
              b,
              Object.entries(ms)
                .filter(([, x]) => x === false)
                .map(([k]) => k),
            ] as const,
        )
        .filter(([, ks]) => ks.length)
        .map(([b, ks]) => `${b} on ${ks.join(', ')}`);
      return `- ${v.model}: ${v.beatsAllBaselines ? 'beats every available baseline on every measured metric' : `not better than ${lost.join('; ')}`}; ${floorVerdict(v, e.floorFactor)}.`;
    }),
    '',
  ];
  return lines.join('\n');
}

/**
 * The report's plots, drawn as SVG by Vega-Lite (compiled to Vega, rendered by a headless Vega view:
 * no browser, no canvas). Two kinds:
 *   - violins (Figure 5): one small panel per model (columns) and overhead bound (rows), the kernel
 *     density of the values mirrored around the panel's centre, a tick at the median;
 *   - training curves: per run, the training loss over fractional epochs and the validation loss at
 *     the end of each epoch;
 *   - generation: a few nodes' real bins against each generator's sampled bins, minute by minute.
 * The specs are plain data (exported for tests); svgOf() renders one.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Curve, GenerationReport, ViolinSeries } from './model.js';

const FONT = 'Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  header: { labelFontSize: 11, titleFontSize: 11 },
  legend: { labelFontSize: 11 },
};

export interface ViolinOptions {
  /** Axis title of the values. */
  title: string;
  /** Range of the density estimate. */
  extent: [number, number];
  /** Kernel bandwidth in value units (set: a fixed width keeps degenerate data, all values equal, drawable). */
  bandwidth: number;
}

/** The rows a violin chart plots: one per value. */
export function violinRows(series: readonly ViolinSeries[]): { model: string; bound: string; value: number }[] {
  return series.flatMap((s) => s.values.map((value) => ({ model: s.model, bound: boundLabel(s.bound), value })));
}

export const boundLabel = (b: number) => `bound ${Math.round(b * 1000) / 10}%`;

export function violinSpec(series: readonly ViolinSeries[], opts: ViolinOptions): TopLevelSpec {
  const models = [...new Set(series.map((s) => s.model))];
  const bounds = [...new Set(series.map((s) => s.bound))].sort((a, b) => a - b).map(boundLabel);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { values: violinRows(series) },
    facet: {
      row: {
        field: 'bound',
        type: 'nominal',
        sort: bounds,
        title: opts.title,
        header: { labelAngle: 0, labelAlign: 'left', titleFontWeight: 'bold' },
      },
      column: { field: 'model', type: 'nominal', sort: models, title: null },
    },
    spacing: { row: 8, column: 0 },
    spec: {
      width: 90,
      height: 120,
      layer: [
        {
          transform: [
            {
              density: 'value',
              groupby: ['model', 'bound'],
              extent: opts.extent,
              bandwidth: opts.bandwidth,
              steps: 100,
              as: ['value', 'density'],
            },
          ],
          mark: { type: 'area', orient: 'horizontal', opacity: 0.75 },
          encoding: {
            y: { field: 'value', type: 'quantitative', title: null, scale: { domain: opts.extent } },
            x: {
              field: 'density',
              type: 'quantitative',
              stack: 'center',
              impute: null,
              title: null,
              axis: { labels: false, values: [0], grid: false, ticks: false },
            },
            color: { field: 'model', type: 'nominal', sort: models, legend: null },
          },
        },
        {
          transform: [{ aggregate: [{ op: 'median', field: 'value', as: 'median' }], groupby: ['model', 'bound'] }],
          mark: { type: 'tick', color: 'black', thickness: 2, size: 40 },
          encoding: { y: { field: 'median', type: 'quantitative' } },
        },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  } as TopLevelSpec;
}

/** The rows a curves chart plots. */
export function curveRows(curves: readonly Curve[]): { run: string; epoch: number; loss: number; series: string }[] {
  return curves.flatMap((c) =>
    c.points.map((p) => ({
      run: c.label,
      epoch: p.x,
      loss: p.loss,
      series: p.series === 'train' ? 'training' : 'validation',
    })),
  );
}

export function curvesSpec(curves: readonly Curve[]): TopLevelSpec {
  const runs = curves.map((c) => c.label);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { values: curveRows(curves) },
    facet: { field: 'run', type: 'nominal', sort: runs, title: null, header: { labelLimit: 220 } },
    columns: Math.min(3, Math.max(1, runs.length)),
    spec: {
      width: 220,
      height: 130,
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1.5 },
          encoding: {
            x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
            y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
            color: {
              field: 'series',
              type: 'nominal',
              scale: { domain: ['training', 'validation'], range: ['#4c78a8', '#e45756'] },
              title: null,
            },
          },
        },
        {
          transform: [{ filter: "datum.series === 'validation'" }],
          mark: { type: 'point', filled: true, size: 30 },
          encoding: {
            x: { field: 'epoch', type: 'quantitative' },
            y: { field: 'loss', type: 'quantitative' },
            color: {
              field: 'series',
              type: 'nominal',
              scale: { domain: ['training', 'validation'], range: ['#4c78a8', '#e45756'] },
              title: null,
            },
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent', x: 'independent' } },
  } as TopLevelSpec;
}

/** Effectiveness (%) against the overhead budget (log scale), one panel per bound, one line per model. */
export function budgetSpec(
  series: readonly { model: string; bound: number; budget: number; effectiveness: number }[],
): TopLevelSpec {
  const bounds = [...new Set(series.map((s) => s.bound))].sort((a, b) => a - b);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { values: series.map((s) => ({ ...s, boundLabel: `bound ${Math.round(s.bound * 1000) / 10}%` })) },
    facet: {
      field: 'boundLabel',
      type: 'nominal',
      sort: bounds.map((b) => `bound ${Math.round(b * 1000) / 10}%`),
      title: null,
    },
    columns: Math.min(3, Math.max(1, bounds.length)),
    spec: {
      width: 220,
      height: 160,
      mark: { type: 'line', point: true, strokeWidth: 1.5 },
      encoding: {
        x: { field: 'budget', type: 'quantitative', scale: { type: 'log' }, title: 'overhead budget' },
        y: {
          field: 'effectiveness',
          type: 'quantitative',
          scale: { domain: [0, 100] },
          title: 'mean effectiveness (%)',
        },
        color: { field: 'model', type: 'nominal', title: null },
      },
    },
  } as TopLevelSpec;
}

/** The rows a generation chart plots: one per (node, series, minute). */
export function generationRows(
  plot: GenerationReport['plot'],
): { node: string; series: string; minute: number; bin: number }[] {
  return plot.flatMap((p) =>
    p.lines.flatMap((l) =>
      l.bins.map((bin, minute) => ({ node: `${p.node} (${p.feature})`, series: l.label, minute, bin })),
    ),
  );
}

/** Real against sampled bins, minute by minute: one panel per node, one line per series (the real one first, in black). */
export function generationSpec(plot: GenerationReport['plot']): TopLevelSpec {
  const series = [...new Set(plot.flatMap((p) => p.lines.map((l) => l.label)))];
  const nodes = plot.map((p) => `${p.node} (${p.feature})`);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    data: { values: generationRows(plot) },
    facet: {
      row: { field: 'node', type: 'nominal', sort: nodes, title: null, header: { labelAngle: 0, labelAlign: 'left' } },
    },
    spacing: { row: 8 },
    spec: {
      width: 640,
      height: 110,
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1, opacity: 0.8 },
      encoding: {
        x: { field: 'minute', type: 'quantitative', title: 'minute of the span' },
        y: { field: 'bin', type: 'quantitative', title: 'bin' },
        // the real series in black, the samples in the usual colours
        color: {
          field: 'series',
          type: 'nominal',
          sort: series,
          title: null,
          scale: { domain: series, range: ['#222222', '#e45756', '#4c78a8', '#f58518', '#54a24b'] },
        },
      },
    },
  } as TopLevelSpec;
}

/**
 * Renders a Vega-Lite spec to SVG text. `idPrefix` makes the SVG's internal ids (clip paths,
 * gradients) unique, so that several plots can sit inline in one HTML page.
 */
export async function svgOf(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  // Vega and Vega-Lite load on the first plot, not with the module: every command of the CLI imports
  // this file through the report, and loading them costs about a second of CPU per start.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return uniqueIds(svg, idPrefix);
  } finally {
    view.finalize();
  }
}

/** Prefixes every id="x" and its references (url(#x), href="#x") in an SVG text. */
export function uniqueIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${prefix}-${id}"`);
}

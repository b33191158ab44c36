/**
 * Figure 5: violins of each model's per-example effectiveness and |mitigation time| per overhead
 * bound, pooled over the seeds when the figure has a summary (summary.json's `figure`), else the first
 * seed's evaluation.json (`figure.byBound`). The paper publishes no numbers for it.
 */
import type { DetectSummary } from '../../evaluate/summary.js';
import type { Source, ViolinSeries } from '../model.js';
import type { SourceReader } from '../source.js';
import { cell, derived, mean, median } from './cells.js';
import { loadEval, type EvaluationFile, type LoadedEval } from './detection.js';
import type { TableModule } from './types.js';

type FigurePoint = { bound: number; effectiveness: number[]; mitigationTime: number[] };

/** The figure's per-bound arrays of one model, and the Source of each bound's arrays. */
function figureOf(e: LoadedEval, r: SourceReader) {
  const s = e.summary;
  if (s) {
    const points: FigurePoint[] = s.model.figure;
    return {
      points,
      eff: (k: number): Source =>
        r.source<DetectSummary>(s.file, (d) => d.models[s.index].figure[k].effectiveness, 100),
      mit: (k: number): Source => r.source<DetectSummary>(s.file, (d) => d.models[s.index].figure[k].mitigationTime),
      file: s.file,
    };
  }
  return {
    points: e.data.figure.byBound as FigurePoint[],
    eff: (k: number): Source => r.source<EvaluationFile>(e.file, (d) => d.figure.byBound[k].effectiveness, 100),
    mit: (k: number): Source => r.source<EvaluationFile>(e.file, (d) => d.figure.byBound[k].mitigationTime),
    file: e.file,
  };
}

export const figure5: TableModule<'figure5'> = {
  kind: 'figure5',
  section: 'figures',
  chain: 'detection',
  trained: true,
  summary: true,
  collect({ r, dirs }, t) {
    const evals = (t.models ?? []).map((m) => loadEval(r, m, dirs, t));
    const bounds = t.bounds ?? [0.8, 0.9, 0.99];
    const effectiveness: ViolinSeries[] = [];
    const mitigation: ViolinSeries[] = [];
    const rows = [];
    for (const e of evals) {
      const fig = figureOf(e, r);
      for (const b of bounds) {
        const k = fig.points.findIndex((x) => Math.abs(x.bound - b) < 1e-12);
        if (k < 0) throw new Error(`${fig.file}: no Figure 5 data at the ${b} bound`);
        const effValues = fig.points[k].effectiveness.map((x) => 100 * x);
        const mitValues = fig.points[k].mitigationTime;
        effectiveness.push({ model: e.m.name, bound: b, values: effValues, src: fig.eff(k) });
        mitigation.push({ model: e.m.name, bound: b, values: mitValues, src: fig.mit(k) });
        rows.push({
          label: [e.m.name, `${Math.round(b * 1000) / 10}%`],
          cells: [
            cell(derived(effValues.length, 'int')),
            cell(derived(median(effValues), 'pct')),
            cell(derived(mean(effValues), 'pct')),
            cell(derived(mitValues.length, 'int')),
            cell(derived(median(mitValues), 'f2')),
            cell(derived(mean(mitValues), 'f2')),
          ],
        });
      }
    }
    const head = [
      'Model',
      'Bound',
      'Attacks',
      'Median effectiveness',
      'Mean effectiveness',
      'Detected',
      'Median |mitigation| (min)',
      'Mean |mitigation| (min)',
    ];
    return {
      figure: {
        id: t.id,
        caption: t.caption,
        note: `Violins: the distribution over the ${t.split ?? 'test'} split's attack examples of each model's effectiveness (percent of the anomalous traffic caught) and, for the detected ones, of the absolute mitigation time |detection minute - onset minute|, at the threshold chosen under each overhead bound. The paper publishes no numbers for this figure. From each model's evaluation.json.`,
        effectiveness,
        mitigation,
        summary: { title: 'summary of the violins', head: [head.map((text) => ({ text }))], rows },
      },
    };
  },
};

/**
 * Generation (beyond the paper): the preset's pre-trained model samples the series of a split it did
 * not train on, and netflowgen evaluate-generation (ts/generate/evaluate.ts) sets them against the real
 * series, two baselines (bigram, seasonal repeats) and the real-vs-real floor. This module reads its
 * generation.json: the metrics table (one row per generator, the columns of generationTable), one
 * verdict line per model, and a few nodes' real and sampled bins for the plot. The paper has no
 * numbers for it: it never samples from its model.
 */
import { join } from 'node:path';
import { floorVerdict, GENERATION_JSON, type GenerationEvaluation } from '../../generate/evaluate.js';
import type { GenerationMetrics } from '../../generate/metrics.js';
import type { Fmt, GenerationLine, TableRow } from '../model.js';
import { cell, derived } from './cells.js';
import type { TableModule } from './types.js';

const COLUMNS: { head: string; pick: (m: GenerationMetrics) => unknown; fmt: Fmt }[] = [
  { head: 'Mean JSD ↓', pick: (m) => m.jsd, fmt: 'f4' },
  { head: 'JSD volume', pick: (m) => m.jsdByGroup.volume, fmt: 'f4' },
  { head: 'JSD protocol', pick: (m) => m.jsdByGroup.protocol, fmt: 'f4' },
  { head: 'JSD port', pick: (m) => m.jsdByGroup.port, fmt: 'f4' },
  { head: 'JSD flag', pick: (m) => m.jsdByGroup.flag, fmt: 'f4' },
  { head: 'ACF MSE (1-60) ↓', pick: (m) => m.acfMse, fmt: 'f4' },
  { head: 'ACF err. (1440) ↓', pick: (m) => m.acf1440, fmt: 'f4' },
  { head: 'Corr. error ↓', pick: (m) => m.corrError, fmt: 'f4' },
  { head: 'Equal bins ↑', pick: (m) => m.equalShare, fmt: 'f4' },
];

export const generation: TableModule<'generation'> = {
  kind: 'generation',
  section: 'generation',
  chain: 'generation',
  trained: true,
  collect({ r, need }, t) {
    const f = join(need(t.generation, t.id), GENERATION_JSON);
    const g = r.json<GenerationEvaluation>(f);
    const v = (pick: (d: GenerationEvaluation) => unknown, fmt: Fmt) => r.value<GenerationEvaluation>(f, pick, fmt);
    const rows: TableRow[] = g.rows.map((row, i) => ({
      label: [row.label],
      cells: COLUMNS.map((c) => cell(row.metrics ? v((d) => c.pick(d.rows[i].metrics!), c.fmt) : derived(null, c.fmt))),
    }));
    const unavailable = g.rows.filter((x) => !x.available).map((x) => `${x.label}: ${x.note ?? 'not available'}.`);
    const verdicts = g.verdicts.map((x) => {
      const lost = Object.entries(x.byBaseline)
        .map(([b, ms]) => [b, Object.keys(ms).filter((k) => ms[k as keyof typeof ms] === false)] as const)
        .filter(([, ks]) => ks.length)
        .map(([b, ks]) => `${b} on ${ks.join(', ')}`);
      return `${x.model}: ${x.beatsAllBaselines ? 'beats every available baseline on every measured metric' : `not better than ${lost.join('; ')}`}; ${floorVerdict(x, g.floorFactor, 'report')}.`;
    });
    const plot = g.series.map((s, i) => ({
      node: s.node,
      feature: s.feature,
      firstMinute: s.firstMinute,
      lines: [
        { label: 'Real', bins: s.real.bins, src: r.source<GenerationEvaluation>(f, (d) => d.series[i].real.bins) },
        // The models' samples only: the baselines are in the table (four series in one panel would hide each other).
        ...Object.keys(s.generated)
          .filter((label) => g.rows.some((x) => x.label === label && x.kind === 'model'))
          .map((label): GenerationLine => ({
            label,
            bins: s.generated[label].bins,
            src: r.source<GenerationEvaluation>(f, (d) => d.series[i].generated[label].bins),
          })),
      ],
    }));
    const span = g.span;
    // A speed, not a result: in the note, so that a results file does not compare it.
    const speed = g.rows
      .filter((x) => x.nodeMinutesPerSecond)
      .map((x) => `${x.label} ${Math.round(x.nodeMinutesPerSecond!).toLocaleString('en-US')} node-minutes/s`)
      .join(', ');
    return {
      generation: {
        id: t.id,
        caption: t.caption,
        note: `${g.nodes.length} nodes × ${span.minutes.toLocaleString('en-US')} minutes from ${span.firstMinute}${span.split ? ` (the ${span.split} split, which no model trained on)` : ''}, ${g.features.length} features of ${g.nBins} bins. Each model samples the span minute by minute after reading the real minutes before it (temperature ${g.sampling.temperature}, top-k ${g.sampling.topK || 'all'}, seed ${g.sampling.seed}). Metrics are means over the two halves of ${span.halfMinutes.toLocaleString('en-US')} minutes (generated half against the same real half); the floor sets the real halves against each other, so no generator is expected below it. JSD in bits per node and feature; lower is better except Equal bins.${speed ? ` Sampling speed: ${speed}.` : ''} From ${r.rel(f)} (netflowgen evaluate-generation; docs/generate.md).`,
        table: {
          id: t.id,
          kind: t.kind,
          caption: t.caption,
          note: '',
          blocks: [
            {
              head: [[{ text: 'Generator' }, ...COLUMNS.map((c) => ({ text: c.head }))]],
              rows,
            },
          ],
          warnings: unavailable,
        },
        verdicts,
        plot,
      },
    };
  },
};

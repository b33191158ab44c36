/**
 * The generation recipe (beyond the paper; docs/generate.md):
 *
 *   bin, pretrain:<name> -> evaluate-generation:<name>
 *
 * The pre-trained model samples the minutes of a split it did not train on (the test split by
 * default), for the first `maxNodes` training nodes, after reading the real minutes before it; the
 * stage sets its samples against the bigram, the seasonal repeats and the real-vs-real floor
 * (evaluateGeneration of ts/generate/evaluate.ts, which writes generation.json into the stage folder).
 */
import { evaluateGeneration } from '../../generate/evaluate.js';
import type { PlannedTable } from '../../report/plan.js';
import type { TableSpec } from '../config.js';
import type { ChainBuilder } from './builder.js';

/** Defaults of a generation table spec: every node up to 64, the whole split, 3 nodes x 240 minutes plotted. */
export const GENERATION_DEFAULTS = { split: 'test', maxNodes: 64, plotNodes: 3, plotMinutes: 240, seed: 1 } as const;

export function generationTable(b: ChainBuilder, t: TableSpec, base: PlannedTable): PlannedTable {
  const ref = t.pretrain ?? { name: 'main' };
  const run = b.pretrainStage(ref);
  const config = {
    split: t.split ?? GENERATION_DEFAULTS.split,
    maxNodes: t.maxNodes ?? GENERATION_DEFAULTS.maxNodes,
    ...(t.minutes !== undefined ? { minutes: t.minutes } : {}),
    plot: {
      nodes: t.plotNodes ?? GENERATION_DEFAULTS.plotNodes,
      minutes: t.plotMinutes ?? GENERATION_DEFAULTS.plotMinutes,
    },
    seed: GENERATION_DEFAULTS.seed,
  };
  const id = b.add({
    id: `evaluate-generation:${ref.name}`,
    kind: 'evaluate-generation',
    label: `evaluate-generation ${ref.name}: samples of the ${config.split} split against the bigram, seasonal repeats and the floor`,
    version: b.V.evaluateGeneration,
    config,
    inputs: { run, dataset: 'bin' },
    run: async (ctx) => {
      ctx.progress(`sampling up to ${config.maxNodes} nodes`);
      await evaluateGeneration({
        models: [ctx.input('run')],
        dataset: ctx.input('dataset'),
        out: ctx.dir,
        split: config.split,
        maxNodes: config.maxNodes,
        minutes: config.minutes,
        seed: config.seed,
        plot: config.plot,
        threads: b.opts.threads,
        force: true,
        signal: ctx.signal,
        log: ctx.log,
      });
    },
  });
  return { ...base, generation: id };
}

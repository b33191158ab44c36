/**
 * The pre-training recipes of the chain:
 *  - pretrain-evaluation (Table 4): bin -> baseline (the bigram on the validation and test windows);
 *    bin -> pretrain:<name> (one per pre-training seed) -> evaluate-pretrain:<name>; and the summary of
 *    the pre-trained model against the bigram on the same windows over the seeds;
 *  - sweep (Table 10): bin -> size:<point>[@s<seed>], one pre-training per point of the preset's size
 *    sweep and pre-training seed.
 */
import { promises as fsp } from 'node:fs';
import { join, relative } from 'node:path';
import { runBigram, windowsFileOf } from '../../baseline/run.js';
import { writePretrainSummary } from '../../evaluate/summary.js';
import { evaluatePretrain } from '../../train/evaluate.js';
import { BEST_CHECKPOINT, SPEC_FILE } from '../../train/folder.js';
import { archSizes } from '../../train/run.js';
import { composeSpec, expandSweep } from '../../train/spec.js';
import type { PlannedTable } from '../../report/plan.js';
import type { TableSpec } from '../config.js';
import { pretrainStageSpec, type ChainBuilder } from './builder.js';

/** The bigram baseline of Table 4 on the validation and test windows. */
function baselineStage(b: ChainBuilder): string {
  return b.add({
    id: 'baseline',
    kind: 'baseline',
    label: 'baseline: bigram on the validation and test windows',
    version: b.V.baseline,
    config: { splits: ['valid', 'test'], perNode: false },
    inputs: { dataset: 'bin' },
    run: async (ctx) => {
      for (const split of ['valid', 'test'] as const) {
        ctx.progress(split);
        await runBigram({
          dataset: ctx.input('dataset'),
          split,
          out: join(ctx.dir, `bigram.${split}.json`),
          signal: ctx.signal,
        });
      }
    },
  });
}

export function pretrainEvaluationTable(b: ChainBuilder, t: TableSpec, base: PlannedTable): PlannedTable {
  const { seeds, opts } = b;
  const ref = t.pretrain ?? { name: 'main' };
  const baseline = baselineStage(b);
  const splits = t.splits ?? ['valid', 'test'];
  // One evaluation per pre-training seed; the table's rows are the first seed's, the summary has them all.
  const evaluations = seeds.pretrain.map((seed, k) => {
    const run = b.pretrainStage(ref, seed);
    return {
      seed,
      evaluation: b.add({
        id: `evaluate-pretrain:${ref.name}${k === 0 ? '' : `@s${seed}`}`,
        kind: 'evaluate-pretrain',
        label: `evaluate-pretrain ${ref.name}${k === 0 ? '' : ` (seed ${seed})`}: against the bigram (${splits.join(', ')})`,
        version: b.V.evaluatePretrain,
        config: { splits },
        inputs: { run, baseline },
        run: async (ctx) => {
          // evaluatePretrain reads a run folder and writes into it: give it a folder of its own
          // whose spec and checkpoint link to the (finished, untouched) pre-training stage.
          for (const f of [SPEC_FILE, BEST_CHECKPOINT])
            await fsp.symlink(relative(ctx.dir, join(ctx.input('run'), f)), join(ctx.dir, f));
          const bl = ctx.input('baseline');
          await evaluatePretrain(ctx.dir, {
            baselines: splits.map((s) => join(bl, `bigram.${s}.json`)),
            splits,
            threads: opts.threads,
            signal: ctx.signal,
            log: ctx.log,
          });
        },
      }),
    };
  });
  const claimSplit = splits.includes('valid') ? 'valid' : splits[0];
  const light = b.pretrainSpec(ref).feature_set === 'light';
  const summary = light
    ? undefined
    : b.add({
        id: 'summary:table4',
        kind: 'pretrain-summary',
        label: `summary table4: pre-trained against the bigram on the same ${claimSplit} windows, over ${evaluations.length} pre-training seed(s)`,
        version: b.V.summary,
        config: { split: claimSplit, replicates: seeds.bootstrap, seeds: evaluations.map((e) => e.seed) },
        inputs: { baseline, ...Object.fromEntries(evaluations.map((e) => [e.evaluation, e.evaluation])) },
        run: async (ctx) => {
          await writePretrainSummary(
            evaluations.map((e) => ({
              seed: e.seed,
              scoreDir: join(ctx.input(e.evaluation), 'eval', claimSplit),
            })),
            windowsFileOf(join(ctx.input('baseline'), `bigram.${claimSplit}.json`)),
            ctx.dir,
            { split: claimSplit, replicates: seeds.bootstrap },
          );
        },
      });
  return { ...base, evaluation: evaluations[0].evaluation, splits, ...(summary ? { summary } : {}) };
}

/**
 * Table 10: every point of the preset's size sweep pre-trained once per pre-training seed (seeds.pretrain,
 * as the main model), so that a size's row is a mean over seeds on the presets that have several. A sweep
 * that sets its own seed (sizes.set.seed, or seed in its grid) keeps it: one run per point, as written.
 */
export function sweepTable(b: ChainBuilder, base: PlannedTable): PlannedTable {
  const composed = composeSpec(b.preset.sizes.sweep, [...b.presetLayer(b.preset.sizes.set, 'sizes.set'), ...b.train]);
  const { points } = expandSweep(composed);
  const ownSeed =
    (composed.data.grid as Record<string, unknown> | undefined)?.seed !== undefined ||
    b.preset.sizes.set?.seed !== undefined;
  return {
    ...base,
    points: points.map((p) => {
      const replicates = (ownSeed ? [p.spec.seed] : b.seeds.pretrain).map((seed, k) => ({
        seed,
        run: b.add(
          pretrainStageSpec(
            b,
            k === 0 ? `size:${p.label}` : `size:${p.label}@s${seed}`,
            `pretrain size ${p.label}${k === 0 ? '' : ` (seed ${seed})`} (Table 10)`,
            ownSeed ? p.spec : { ...p.spec, seed },
          ),
        ),
      }));
      return {
        label: p.label,
        run: replicates[0].run,
        replicates,
        arch: p.spec.arch,
        sizes: archSizes(p.spec),
        learning_rate: p.spec.learning_rate,
        dropout: p.spec.dropout,
      };
    }),
  };
}

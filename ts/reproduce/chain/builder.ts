/**
 * What the chain's recipes share while they add stages (ts/reproduce/chain.ts builds one): the preset
 * and options, the stage list (the first stage of an id wins: two tables asking for the same stage
 * share it), the stage versions, the seeds, the override layers, and the pre-training stages by name.
 */
import { basename } from 'node:path';
import type { JobOptions } from '../../train/job.js';
import type { RunRecord } from '../../train/log.js';
import { archSizes, runPretrain } from '../../train/run.js';
import { SpecError, type OverrideLayer } from '../../config/compose.js';
import { loadSpec, type ExperimentSpec } from '../../train/spec.js';
import type { Preset, PretrainRef } from '../config.js';
import type { StageContext, StageSpec } from '../graph.js';
import type { ChainOptions, StageVersions } from '../chain.js';

export interface ChainBuilder {
  opts: ChainOptions;
  preset: Preset;
  V: StageVersions;
  stages: Map<string, StageSpec>;
  /** Adds a stage unless one of that id is there; returns the id. */
  add(s: StageSpec): string;
  /** A preset's values as an override layer (none when empty). */
  presetLayer(values: Record<string, unknown> | undefined, what: string): OverrideLayer[];
  /** Layers laid over every pre-training and fine-tuning spec (--device, --bf16 ...). */
  train: OverrideLayer[];
  seeds: { finetune: number[]; pretrain: number[]; bootstrap: number };
  /** The preset's pretrain spec with a reference's overrides (and a seed). */
  pretrainSpec(ref: PretrainRef, seed?: number): ExperimentSpec;
  /** The main pre-trained model's spec. */
  mainSpec: ExperimentSpec;
  /** The stage of a pre-trained model by name and seed (the first seed keeps the plain id). */
  pretrainStage(ref: PretrainRef, seed?: number): string;
}

/** The resolved spec without what does not decide the result (names, text) or comes in as an input (paths). */
export function specConfig(spec: object, drop: string[]): Record<string, unknown> {
  const out = { ...(spec as Record<string, unknown>) };
  for (const k of ['name', 'description', 'label', ...drop]) delete out[k];
  return out;
}

export function sizeLabel(s: { layers: number; heads: number; width: number; ffn: number }): string {
  return `${s.layers}-${s.heads}-${s.width}-${s.ffn}`;
}

/** Progress of a training stage from its run records: epoch, updates, loss. */
export function trainingProgress(ctx: StageContext, maxEpoch: number): (r: RunRecord) => void {
  let perEpoch = 0;
  return (r) => {
    // The refit (a second fairseq-train on the whole training split, docs/finetune.md) has its own count.
    if (r.phase === 'refit') {
      const total = Number(r.refit_updates) || 0;
      const updates = Number(r.num_updates) || 0;
      if (r.event === 'train_inner')
        ctx.progress(`refit on the whole split | update ${updates}/${total}`, total ? updates / total : undefined);
      return;
    }
    if (r.event === 'epoch_size') perEpoch = Number(r.updates) || perEpoch;
    if (r.event !== 'train_inner' && r.event !== 'valid') return;
    const updates = Number(r.num_updates ?? r.valid_num_updates) || 0;
    const loss = Number(r.loss ?? r.valid_loss);
    const total = perEpoch * maxEpoch;
    ctx.progress(
      `epoch ${r.epoch}/${maxEpoch} | ${r.event === 'valid' ? 'valid ' : ''}loss ${Number.isFinite(loss) ? loss.toFixed(3) : '-'}`,
      total ? updates / total : undefined,
    );
  };
}

/** A training stage's run name: its id, made a safe folder name. */
export const runName = (id: string): string => id.replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * How a training stage runs its job: in the stage folder, with the chain's --check (off by default)
 * and --threads, the stage's signal and log, and progress from the run records.
 */
export function stageJobOptions(b: ChainBuilder, ctx: StageContext, maxEpoch: number): JobOptions {
  return {
    runDir: ctx.dir,
    check: b.opts.check ?? false,
    threads: b.opts.threads,
    signal: ctx.signal,
    log: ctx.log,
    onRecord: trainingProgress(ctx, maxEpoch),
  };
}

/** A pre-training stage: runPretrain in the stage folder, on the bin stage's dataset. */
export function pretrainStageSpec(b: ChainBuilder, id: string, label: string, spec: ExperimentSpec): StageSpec {
  return {
    id,
    kind: 'pretrain',
    label,
    version: b.V.pretrain,
    config: specConfig(spec, ['dataset']),
    inputs: { dataset: 'bin' },
    resumable: true,
    run: async (ctx) => {
      const s: ExperimentSpec = { ...spec, name: runName(id), dataset: ctx.input('dataset') };
      await runPretrain(s, stageJobOptions(b, ctx, s.max_epoch));
    },
  };
}

export function createBuilder(opts: ChainOptions, V: StageVersions): ChainBuilder {
  const { preset } = opts;
  const stages = new Map<string, StageSpec>();
  const presetLayer = (values: Record<string, unknown> | undefined, what: string): OverrideLayer[] =>
    values && Object.keys(values).length ? [{ source: `${preset.name} preset: ${what}`, values }] : [];
  const train = opts.trainOverrides ?? [];
  const seeds = {
    finetune: preset.seeds?.finetune ?? [1],
    pretrain: preset.seeds?.pretrain ?? [1],
    bootstrap: preset.seeds?.bootstrap ?? 2000,
  };
  const mainLayers = [...presetLayer(preset.pretrain.set, 'pretrain.set')];
  const pretrainSpec = (ref: PretrainRef, seed?: number): ExperimentSpec =>
    loadSpec(preset.pretrain.spec, [
      ...mainLayers,
      ...presetLayer(ref.set, `pretrain ${ref.name}`),
      ...(seed !== undefined ? [{ source: `${preset.name} preset: seeds.pretrain`, values: { seed } }] : []),
      ...train,
    ]).spec;
  const pretrainRefs = new Map<string, string>();
  const b: ChainBuilder = {
    opts,
    preset,
    V,
    stages,
    add: (s) => {
      if (!stages.has(s.id)) stages.set(s.id, s);
      return s.id;
    },
    presetLayer,
    train,
    seeds,
    pretrainSpec,
    mainSpec: pretrainSpec({ name: 'main' }),
    pretrainStage: (ref, seed = seeds.pretrain[0]) => {
      const key = JSON.stringify(ref.set ?? {});
      const known = pretrainRefs.get(ref.name);
      if (known !== undefined && known !== key)
        throw new SpecError([
          `two tables name the pre-trained model '${ref.name}' with different settings (${known} and ${key}): give them different names`,
        ]);
      pretrainRefs.set(ref.name, key);
      const spec = pretrainSpec(ref, seed);
      const id = seed === seeds.pretrain[0] ? `pretrain:${ref.name}` : `pretrain:${ref.name}@s${seed}`;
      return b.add(
        pretrainStageSpec(
          b,
          id,
          `pretrain ${ref.name}${seed === seeds.pretrain[0] ? '' : ` (seed ${seed})`}: ${basename(preset.pretrain.spec)} (${sizeLabel(archSizes(spec))}${spec.feature_set === 'light' ? ', light' : ''})`,
          spec,
        ),
      );
    },
  };
  return b;
}

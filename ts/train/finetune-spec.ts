/**
 * Fine-tuning specs (schemas/finetune.schema.json, experiments/finetune/): early DDoS detection with
 * the SAFE loss on an EarlyDetect dataset, composed and checked by ts/config/ like pre-training specs,
 * and their fairseq-train commands (experiments/templates/fairseq-finetune.njk): the run's, and the
 * refit's on the whole training split. Also the choices a spec implies: the pre-trained checkpoint and
 * its feature set, the model's name in the tables, the calibration split and the splits scored.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  acceptSpec,
  checkResolved,
  composeLayers,
  specHash,
  type ComposedSpec,
  type SpecLoader,
} from '../config/compose.js';
import type { AttackType } from '../splits/alerts.js';
import type { SplitName } from '../splits/splits.js';
import { BEST_CHECKPOINT, SPEC_FILE } from './folder.js';
import { renderCommand, type RenderedCommand } from './render.js';
import type { TrainingSettings } from './settings.js';
import type { ExperimentSpec } from './spec.js';

export const FINETUNE_SCHEMA = 'finetune.schema.json';
export const FINETUNE_TEMPLATE = 'fairseq-finetune.njk';
export const FINETUNE_ARCHS = ['netflowgen_safe', 'netflowgen_tf', 'ms_lstm'] as const;
export type FinetuneArch = (typeof FINETUNE_ARCHS)[number];
export type ScoreSplit = 'train' | 'valid' | 'test';

/** A resolved fine-tuning spec: every file merged, defaults filled, paths absolute. */
export interface FinetuneSpec extends TrainingSettings {
  label?: string;
  /** EarlyDetect folder. */
  dataset: string;
  /** Pre-training run folder or checkpoint (netflowgen_safe). */
  pretrained?: string;
  arch: FinetuneArch;
  lstm?: { embed_dim?: number; hidden?: number; layers?: number; scales?: number[] };
  head_hidden?: number;
  train_split: SplitName;
  valid_split: SplitName | 'holdout';
  holdout_share?: number;
  /** With valid_split holdout: train the final model on the whole training split for the updates the holdout chose (default true). */
  refit: boolean;
  attack_types?: AttackType[];
  eval_splits: ScoreSplit[];
  /** Where tau is chosen (default: calibrationSplit()). */
  calibration_split?: ScoreSplit;
}

// ---------------------------------------------------------------- specs

/** The composed spec checked for required keys and consistency, defaults filled, paths absolute. */
export function resolveFinetuneSpec(c: ComposedSpec, cwd = process.cwd()): FinetuneSpec {
  const spec = checkResolved(c, structuredClone(c.data), FINETUNE_SCHEMA) as unknown as FinetuneSpec;
  spec.dataset = resolve(cwd, spec.dataset);
  if (spec.pretrained !== undefined) spec.pretrained = resolve(cwd, spec.pretrained);
  const problems: string[] = [];
  if (spec.arch === 'netflowgen_safe') {
    if (spec.pretrained === undefined)
      problems.push(
        `${c.file}: arch netflowgen_safe needs 'pretrained' (a pre-training run folder or checkpoint; --pretrained on the command line)`,
      );
    if (spec.model !== undefined)
      problems.push(`${c.file}: arch netflowgen_safe takes the pre-trained model's sizes; remove 'model'`);
  } else if (spec.pretrained !== undefined)
    problems.push(
      `${c.file}: arch ${spec.arch} trains from random initialisation; 'pretrained' is for netflowgen_safe`,
    );
  if (spec.arch !== 'ms_lstm' && spec.lstm !== undefined) problems.push(`${c.file}: 'lstm' is for arch ms_lstm`);
  if (spec.arch === 'ms_lstm' && spec.model !== undefined)
    problems.push(`${c.file}: 'model' (Transformer sizes) is for arch netflowgen_tf; ms_lstm takes 'lstm'`);
  // bf16 runs on the CPU too (the fairseq patch: --bf16 no longer implies a TPU); fp16 needs CUDA.
  if (spec.precision === 'fp16' && spec.device !== 'cuda') problems.push(`${c.file}: precision fp16 needs device cuda`);
  if (spec.model?.width !== undefined && spec.model.heads !== undefined && spec.model.width % spec.model.heads !== 0)
    problems.push(`${c.file}: model width ${spec.model.width} is not a multiple of the number of heads`);
  if (spec.calibration_split === 'test')
    problems.push(
      `${c.file}: calibration_split test: the threshold is never chosen on the test split, which only scores; choose ${spec.train_split === 'valid' ? 'train' : 'valid'} (or leave it out)`,
    );
  else if (spec.calibration_split !== undefined && spec.calibration_split === spec.train_split)
    problems.push(
      `${c.file}: calibration_split ${spec.calibration_split} is the training split (train_split): the threshold must be chosen on examples the model did not train on; choose ${spec.train_split === 'valid' ? 'train' : 'valid'} (or leave it out)`,
    );
  return acceptSpec(spec, problems, FINETUNE_SCHEMA);
}

/** Composes (schemas/finetune.schema.json) and resolves a fine-tuning spec. */
export const loadFinetuneSpec: SpecLoader<FinetuneSpec> = (file, overrides = [], cwd = process.cwd()) => {
  const composed = composeLayers(file, overrides, FINETUNE_SCHEMA);
  return { spec: resolveFinetuneSpec(composed, cwd), composed };
};

export function finetuneHash(spec: FinetuneSpec): string {
  return specHash(spec);
}

/** The checkpoint of `pretrained`: the file itself, or a run folder's checkpoint_best.pt. */
export function pretrainedCheckpoint(spec: Pick<FinetuneSpec, 'pretrained'>): string | undefined {
  if (spec.pretrained === undefined) return undefined;
  try {
    if (statSync(spec.pretrained).isDirectory()) return join(spec.pretrained, BEST_CHECKPOINT);
  } catch {
    // not there (yet): a dry run may print the command anyway
  }
  return /\.pt$/.test(spec.pretrained) ? spec.pretrained : join(spec.pretrained, BEST_CHECKPOINT);
}

/** The resolved pre-training spec beside the pre-trained checkpoint, when there is one. */
export function pretrainedSpec(
  spec: Pick<FinetuneSpec, 'pretrained'>,
): (ExperimentSpec & { hash?: string }) | undefined {
  const ckpt = pretrainedCheckpoint(spec);
  if (!ckpt) return undefined;
  try {
    return JSON.parse(readFileSync(join(dirname(ckpt), SPEC_FILE), 'utf8')) as ExperimentSpec & { hash?: string };
  } catch {
    return undefined;
  }
}

/** The feature set the model reads: the spec's, else (netflowgen_safe) the pre-trained run's, else full. */
export function effectiveFeatureSet(spec: FinetuneSpec): 'full' | 'light' {
  if (spec.feature_set) return spec.feature_set;
  if (spec.arch === 'netflowgen_safe') return pretrainedSpec(spec)?.feature_set ?? 'full';
  return 'full';
}

/** The model's name in the tables: the spec's label, else NetFlowGen[_Light] / TF / MS-LSTM, _MoreData on the train split. */
export function modelLabel(
  spec: Pick<FinetuneSpec, 'label' | 'arch' | 'train_split'>,
  featureSet: 'full' | 'light' = 'full',
): string {
  if (spec.label) return spec.label;
  const base =
    spec.arch === 'netflowgen_safe'
      ? featureSet === 'light'
        ? 'NetFlowGen_Light'
        : 'NetFlowGen'
      : spec.arch === 'netflowgen_tf'
        ? 'TF'
        : 'MS-LSTM';
  return spec.train_split === 'train' ? `${base}_MoreData` : base;
}

/** The rendered fairseq-train command of a fine-tuning spec in a run folder (what --dry-run prints). */
export function planFinetuneCommand(spec: FinetuneSpec, runDir: string): RenderedCommand {
  return renderFinetune(spec, runDir, false);
}

/** Does the run train a final model on the whole training split after the holdout run (spec refit, valid_split holdout)? */
export function usesRefit(spec: Pick<FinetuneSpec, 'refit' | 'valid_split'>): boolean {
  return (spec.refit ?? true) && spec.valid_split === 'holdout';
}

/**
 * The refit's fairseq-train command (RUN/refit/): the spec's, on the whole training split
 * (--disable-validation: no holdout, no patience), for exactly `updates` updates (--max-update), with
 * the spec's max_epoch. That is never the limit: U* <= ceil(kept / batch) x max_epoch <=
 * ceil(all / batch) x max_epoch, since the holdout run reached U* within max_epoch epochs of fewer examples.
 */
export function planRefitCommand(spec: FinetuneSpec, runDir: string, updates: number): RenderedCommand {
  return renderFinetune({ ...spec, max_update: updates, patience: -1 }, join(runDir, REFIT_DIR), true);
}

function renderFinetune(spec: FinetuneSpec, saveDir: string, refitRun: boolean): RenderedCommand {
  const vars = {
    lstm: spec.lstm ?? {},
    attack_types: spec.attack_types ?? null,
    pretrained_checkpoint: pretrainedCheckpoint(spec) ?? '',
    feature_set: effectiveFeatureSet(spec),
    refit_run: refitRun,
  };
  return renderCommand(spec, { saveDir, vars }, FINETUNE_TEMPLATE);
}

/**
 * The split the detection threshold tau is chosen on (SPEC §7, our reading): labelled examples the model
 * did not train on and not test. The spec's calibration_split, else train for a model trained on the
 * validation split (the paper's small setting), else valid (the _MoreData rows).
 */
export function calibrationSplit(spec: Pick<FinetuneSpec, 'train_split' | 'calibration_split'>): ScoreSplit {
  return spec.calibration_split ?? (spec.train_split === 'valid' ? 'train' : 'valid');
}

/** The splits scored after training by default: eval_splits, then the calibration split, each once. */
export function scoreSplits(
  spec: Pick<FinetuneSpec, 'eval_splits' | 'train_split' | 'calibration_split'>,
): ScoreSplit[] {
  return [...new Set<ScoreSplit>([...spec.eval_splits, calibrationSplit(spec)])];
}

/** The refit's run folder, inside the run folder. */
export const REFIT_DIR = 'refit';

/** A fine-tuning run folder's resolved spec (spec.resolved.json), refusing other folders. */
export function readFinetuneSpec(runDir: string): FinetuneSpec & { hash: string } {
  const path = join(runDir, SPEC_FILE);
  let spec: FinetuneSpec & { hash: string };
  try {
    spec = JSON.parse(readFileSync(path, 'utf8')) as FinetuneSpec & { hash: string };
  } catch {
    throw new Error(`${runDir}: not a run folder (no readable ${SPEC_FILE}); give a folder netflowgen finetune wrote`);
  }
  if (!FINETUNE_ARCHS.includes(spec.arch))
    throw new Error(
      `${path}: arch ${spec.arch} is not a fine-tuning arch (${FINETUNE_ARCHS.join(', ')}): is this a pre-training run?`,
    );
  return spec;
}

/**
 * `netflowgen finetune`: early DDoS detection (SPEC §6) with fairseq-train, the task netflow_detect
 * and the SAFE loss, from a fine-tuning spec (schemas/finetune.schema.json, experiments/finetune/),
 * then the survival curves of the final model on the evaluation and calibration splits
 * (python/score_detect.py, one process for all of them). A run folder holds what a pre-training run's
 * does (spec.resolved.json, command.txt, run.jsonl, train.log, checkpoints, result.json) plus
 *
 *   RUN/refit/                 with `refit` (and valid_split holdout): the second fairseq-train, on the
 *                              whole training split for the U* updates the holdout chose (a run folder
 *                              of its own: spec.resolved.json, command.txt, run.jsonl, train.log,
 *                              checkpoint_last.pt)
 *   RUN/checkpoint_final.pt    the final model: RUN/refit/checkpoint_last.pt with refit, else
 *                              checkpoint_best.pt (a hard link, made atomically once training is done)
 *   RUN/eval/<split>/survival.f32, hazard.f32, score.json    the scores netflowgen evaluate-detect reads
 *
 * Resume, refusal of a different spec and Ctrl-C work as for pre-training (ts/train/run.ts), for both
 * phases: a run stopped during the refit finds the first phase finished in run.jsonl and resumes (or
 * redoes) the refit alone. A finished run is not trained again, but a missing score is made.
 */
import { existsSync, promises as fsp, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { createProgress } from '../common/progress.js';
import { VERSION } from '../common/version.js';
import { withBridge } from '../bridge/bridge.js';
import { defaultThreads, pythonEnv, runPythonScript } from '../bridge/python.js';
import { BinnedDataset } from '../datasets/binned.js';
import type { AttackType } from '../splits/alerts.js';
import { readDetectSplit, readEarlyDetectManifest } from '../earlydetect/data.js';
import { hasScore, SCORE_FILE } from '../earlydetect/scores.js';
import type { SplitName } from '../splits/splits.js';
import { lastPythonError, summarizeRun, type RunRecord, type RunSummary } from './log.js';
import { renderCommand, type RenderedCommand } from './render.js';
import {
  BEST_CHECKPOINT,
  COMMAND_FILE,
  LAST_CHECKPOINT,
  RESULT_FILE,
  RUN_LOG,
  RunInterrupted,
  SPEC_FILE,
  TRAIN_LOG,
  launchTraining,
  planRun,
  readFolderState,
  readRunLog,
  removeRunFiles,
} from './run.js';
import {
  composeSpec,
  describeErrors,
  getValidators,
  specDiff,
  specHash,
  SpecError,
  type ComposedSpec,
  type ExperimentSpec,
  type ModelOverrides,
  type OverrideLayer,
} from './spec.js';

export const FINETUNE_SCHEMA = 'finetune.schema.json';
export const FINETUNE_TEMPLATE = 'fairseq-finetune.njk';
export const FINETUNE_ARCHS = ['netflowgen_safe', 'netflowgen_tf', 'ms_lstm'] as const;
export type FinetuneArch = (typeof FINETUNE_ARCHS)[number];
export const EVAL_DIR = 'eval';
/** The refit's run folder, inside the run folder. */
export const REFIT_DIR = 'refit';
/** The run's final model (what is scored and evaluated), relative to the run folder. */
export const FINAL_CHECKPOINT = 'checkpoint_final.pt';
const FINAL_PARTIAL = `.${FINAL_CHECKPOINT}.partial`;
/** What --force (start over) removes from a fine-tuning run folder. */
export const FINETUNE_RUN_FILES = [
  SPEC_FILE,
  COMMAND_FILE,
  RUN_LOG,
  TRAIN_LOG,
  RESULT_FILE,
  LAST_CHECKPOINT,
  BEST_CHECKPOINT,
  FINAL_CHECKPOINT,
  FINAL_PARTIAL,
  REFIT_DIR,
  EVAL_DIR,
];
/** Splits python/score_detect.py scores. */
export type ScoreSplit = 'train' | 'valid' | 'test';

/** A resolved fine-tuning spec: every file merged, defaults filled, paths absolute. */
export interface FinetuneSpec {
  name: string;
  description?: string;
  label?: string;
  /** EarlyDetect folder. */
  dataset: string;
  /** Pre-training run folder or checkpoint (netflowgen_safe). */
  pretrained?: string;
  arch: FinetuneArch;
  model?: ModelOverrides;
  lstm?: { embed_dim?: number; hidden?: number; layers?: number; scales?: number[] };
  head_hidden?: number;
  feature_set?: 'full' | 'light';
  train_split: SplitName;
  valid_split: SplitName | 'holdout';
  holdout_share?: number;
  /** With valid_split holdout: train the final model on the whole training split for the updates the holdout chose (default true). */
  refit: boolean;
  attack_types?: AttackType[];
  eval_splits: ScoreSplit[];
  /** Where tau is chosen (default: calibrationSplit()). */
  calibration_split?: ScoreSplit;
  learning_rate: number;
  lr_scheduler: 'fixed' | 'inverse_sqrt';
  warmup_updates: number;
  adam_betas: [number, number];
  weight_decay: number;
  clip_norm: number;
  dropout?: number;
  batch_size: number;
  max_epoch: number;
  max_update: number;
  patience: number;
  seed: number;
  log_interval: number;
  device: 'cpu' | 'cuda';
  precision: 'fp32' | 'bf16' | 'fp16';
  fairseq_args: string[];
}

// ---------------------------------------------------------------- specs

/** The composed spec checked for required keys and consistency, defaults filled, paths absolute. */
export function resolveFinetuneSpec(c: ComposedSpec, cwd = process.cwd()): FinetuneSpec {
  const data = structuredClone(c.data);
  const { resolved, schema } = getValidators(FINETUNE_SCHEMA);
  if (!resolved(data)) {
    const chain = c.sources.map((s) => basename(s)).join(', ');
    throw new SpecError(
      describeErrors(resolved.errors ?? [], c.file).map((m) =>
        m.includes('missing key') ? `${m}: set it in the spec or in a file it extends (${chain})` : m,
      ),
    );
  }
  const spec = data as unknown as FinetuneSpec;
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
  if (problems.length) throw new SpecError(problems);
  const order = Object.keys(schema.properties ?? {});
  return Object.fromEntries(
    order.filter((k) => k in spec).map((k) => [k, (spec as unknown as Record<string, unknown>)[k]]),
  ) as unknown as FinetuneSpec;
}

/** Composes (schemas/finetune.schema.json) and resolves a fine-tuning spec. */
export function loadFinetuneSpec(
  file: string,
  overrides: OverrideLayer[] = [],
  cwd = process.cwd(),
): { spec: FinetuneSpec; composed: ComposedSpec } {
  const composed = composeSpec(file, overrides, FINETUNE_SCHEMA);
  return { spec: resolveFinetuneSpec(composed, cwd), composed };
}

export function finetuneHash(spec: FinetuneSpec): string {
  return specHash(spec as unknown as ExperimentSpec);
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
  const vars = {
    lstm: spec.lstm ?? {},
    attack_types: spec.attack_types ?? null,
    pretrained_checkpoint: pretrainedCheckpoint(spec) ?? '',
    feature_set: effectiveFeatureSet(spec),
    refit_run: false,
  };
  return renderCommand(spec, { saveDir: runDir, vars }, FINETUNE_TEMPLATE);
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
  const vars = {
    lstm: spec.lstm ?? {},
    attack_types: spec.attack_types ?? null,
    pretrained_checkpoint: pretrainedCheckpoint(spec) ?? '',
    feature_set: effectiveFeatureSet(spec),
    refit_run: true,
  };
  return renderCommand(
    { ...spec, max_update: updates, patience: -1 },
    { saveDir: join(runDir, REFIT_DIR), vars },
    FINETUNE_TEMPLATE,
  );
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

/**
 * U*, the updates of checkpoint_best.pt, from the "Saved checkpoint ... (epoch E @ U updates, score S)"
 * records of run.jsonl (every launch, in order), by fairseq's own rule (checkpoint_utils.save_checkpoint):
 * a save writes checkpoint_best.pt when its score (the validation loss, rounded as logged, printed with
 * Python's repr so read back exactly) is <= the lowest score so far; a tie goes to the later save. (A
 * resumed fairseq-train restores that lowest score from the checkpoint, so the rule runs on across
 * launches.) Undefined when no save had a score.
 */
export function selectedUpdates(records: readonly RunRecord[]): number | undefined {
  let best: number | undefined; // fairseq's save_checkpoint.best
  let updates: number | undefined;
  for (const r of records) {
    if (r.event !== 'checkpoint' || typeof r.score !== 'number') continue; // score None: no validation
    const score = r.score;
    const prev = best ?? score;
    best = prev < score ? prev : score; // Python's min(score, prev), NaN included
    if (score <= best) updates = Number(r.updates);
  }
  return updates;
}

/** Did the last fairseq-train launch recorded in run.jsonl end normally (exit code 0, not interrupted)? */
export function launchFinished(records: readonly RunRecord[]): boolean {
  let i = records.length - 1;
  while (i >= 0 && records[i].event !== 'start') i--;
  if (i < 0) return false;
  const after = records.slice(i);
  return !after.some((r) => r.event === 'interrupted') && after.some((r) => r.event === 'end' && r.exitCode === 0);
}

/** The examples of each subset the task loaded, from its `subset NAME: N examples of SPLIT` lines in train.log (the last launch's). */
export function subsetSizes(runDir: string): Map<string, number> {
  const out = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(join(runDir, TRAIN_LOG), 'utf8');
  } catch {
    return out;
  }
  for (const m of text.matchAll(/^\S+ \S+ \| INFO \| [\w.]*netflow_detect \| subset (\w+): (\d+) examples of \w+$/gm))
    out.set(m[1], Number(m[2]));
  return out;
}

/** The final model of a finished run folder (absolute): result.json's finalCheckpoint, else (older runs) checkpoint_best.pt. */
export function finalCheckpointPath(
  runDir: string,
  result: Pick<FinetuneResult, 'finalCheckpoint'> | undefined = readFinetuneResult(runDir),
): string {
  return join(runDir, result?.finalCheckpoint ?? BEST_CHECKPOINT);
}

/** Does an example (row of <split>.examples.i32) belong to the run's examples? Unseen-node examples (alert -1) never do. */
export function inAttackTypes(
  attackType: number,
  alert: number,
  types: readonly string[] | undefined,
  names: readonly string[],
): boolean {
  if (alert < 0 || attackType < 0) return false;
  return !types || types.includes(names[attackType]);
}

// ---------------------------------------------------------------- scoring

export interface ScoreOptions {
  threads?: number;
  signal?: AbortSignal;
  batchSize?: number;
}

/**
 * Runs python/score_detect.py on one split: OUT/survival.f32, hazard.f32 and, last, score.json.
 * Returns the parsed score.json.
 */
export async function scoreDetect(
  checkpoint: string,
  earlyDetect: string,
  split: ScoreSplit,
  out: string,
  opts: ScoreOptions = {},
): Promise<Record<string, unknown>> {
  await runScorer(checkpoint, earlyDetect, [split], ['--out', out], opts);
  return JSON.parse(readFileSync(join(out, SCORE_FILE), 'utf8')) as Record<string, unknown>;
}

/**
 * Runs python/score_detect.py once for several splits (the model is loaded once): OUT_ROOT/<split>/
 * survival.f32, hazard.f32 and, last, score.json for each. Returns each split's parsed score.json. An
 * interruption or a failure leaves the splits scored before it complete (with their score.json).
 */
export async function scoreDetectSplits(
  checkpoint: string,
  earlyDetect: string,
  splits: readonly ScoreSplit[],
  outRoot: string,
  opts: ScoreOptions = {},
): Promise<Record<string, Record<string, unknown>>> {
  const list = [...new Set(splits)];
  if (!list.length) return {};
  await runScorer(checkpoint, earlyDetect, list, ['--out-root', outRoot], opts);
  return Object.fromEntries(
    list.map((s) => [s, JSON.parse(readFileSync(join(outRoot, s, SCORE_FILE), 'utf8')) as Record<string, unknown>]),
  );
}

async function runScorer(
  checkpoint: string,
  earlyDetect: string,
  splits: ScoreSplit[],
  outArgs: string[],
  opts: ScoreOptions,
): Promise<void> {
  const args = ['--checkpoint', checkpoint, '--data', earlyDetect, '--split', splits.join(','), ...outArgs];
  if (opts.batchSize) args.push('--batch-size', String(opts.batchSize));
  // One bar over all splits: each split's examples from the manifest (else from its progress lines).
  const counts = new Map<string, number>();
  try {
    const m = readEarlyDetectManifest(earlyDetect);
    for (const s of splits) counts.set(s, m.splits[s]?.count ?? 0);
  } catch {
    // the scorer names what is wrong with the folder
  }
  const offset = (split: string) =>
    splits.slice(0, Math.max(0, splits.indexOf(split as ScoreSplit))).reduce((a, s) => a + (counts.get(s) ?? 0), 0);
  const total = () => splits.reduce((a, s) => a + (counts.get(s) ?? 0), 0);
  const what = splits.join(', ');
  const bar = createProgress(
    `score ${splits.join(',')}`,
    Math.max(1, total()),
    '{bar} {percentage}% | {split} {value}/{total} examples | ETA {eta_formatted}',
  );
  const done: string[] = [];
  const res = await runPythonScript('score_detect.py', args, {
    threads: opts.threads,
    signal: opts.signal,
    onRecord: (r) => {
      const split = typeof r.split === 'string' ? r.split : splits[0];
      if (r.event === 'done') done.push(split);
      // python/score_detect.py's progress lines: {"event": "progress", "split", "examples_done", "examples"}
      const n = Number(r.examples_done);
      const of = Number(r.examples);
      if (r.event === 'progress' && of > 0 && Number.isFinite(n)) {
        if (!counts.get(split)) {
          counts.set(split, of);
          bar.setTotal(total());
        }
        bar.update(offset(split) + n, { split });
      }
    },
  });
  bar.stop();
  const kept = done.length ? `; ${done.join(', ')} ${done.length > 1 ? 'are' : 'is'} complete` : '';
  if (res.canceled)
    throw new RunInterrupted(
      `interrupted while scoring ${what}${kept}; nothing incomplete carries a score.json: run the same command again`,
    );
  if (res.exitCode !== 0)
    throw new Error(
      `python/score_detect.py failed on ${what}${kept} (exit code ${res.exitCode}): ${lastPythonError(res.tail) ?? res.tail.slice(-3).join('\n')}`,
    );
}

// ---------------------------------------------------------------- the run

export interface FinetuneResult {
  kind: 'netflowgen.finetune-result';
  createdBy: string;
  name: string;
  hash: string;
  label: string;
  arch: FinetuneArch;
  /** EarlyDetect folder, and the binned dataset it was made from. */
  dataset: string;
  binnedDataset: string;
  pretrained: string | null;
  featureSet: 'full' | 'light';
  /** Input features of the model (Table 9's "Traffic feats"). */
  nFeatures: number;
  trainSplit: SplitName;
  attackTypes: AttackType[] | null;
  /**
   * Examples the final model was trained on: the whole training split's selection with refit (or
   * without a holdout), the kept share (all but the holdout) without refit. Tables show this number.
   */
  trainExamples: number;
  /** The training split's examples of the run's attack types (unseen-node examples excluded), before any holdout. */
  splitExamples: number;
  /** Examples held out to choose the number of updates (valid_split holdout), else 0. */
  holdoutExamples: number;
  /** U*: the updates of checkpoint_best.pt, chosen on the validation subset (the holdout); null when there was no validation. */
  selectedUpdates: number | null;
  /** Whether the final model was refit on the whole training split for selectedUpdates updates (RUN/refit/). */
  refit: boolean;
  /** The refit's fairseq-train (RUN/refit/run.jsonl): updates (= selectedUpdates), epochs, launches, seconds; null without refit. */
  refitRun: { updates: number; epochs: number; attempts: number; wallSeconds: number } | null;
  /** The final model, relative to the run folder: checkpoint_final.pt (= refit/checkpoint_last.pt with refit, else checkpoint_best.pt). */
  finalCheckpoint: string;
  /** The split tau is chosen on (calibrationSplit()). */
  calibrationSplit: ScoreSplit;
  /** The splits scored after training by default (scoreSplits()): eval_splits and the calibration split. */
  scoreSplits: ScoreSplit[];
  /** fairseq's count: all parameters, and the trained ones (the head alone for netflowgen_safe). */
  params: { total: number; trained: number | null } | null;
  /** best, last, epochs, updates, stopReason, attempts: the first (holdout) run's, as fairseq logged them in run.jsonl. */
  best: RunSummary['best'];
  last: RunSummary['last'];
  epochs: number;
  updates: number;
  stopReason: RunSummary['stopReason'];
  attempts: number;
  /** Seconds of training, both runs together (the refit's alone: refitRun.wallSeconds). */
  wallSeconds: number;
  finishedAt: string;
}

export interface FinetuneOptions {
  runDir: string;
  resume?: boolean;
  force?: boolean;
  /** Check the argv with fairseq's parser (builds task, model, criterion) first (default true). */
  check?: boolean;
  threads?: number;
  /** Score these splits after training (default: scoreSplits(spec), the eval_splits and the calibration split); [] = none. */
  score?: ScoreSplit[];
  signal?: AbortSignal;
  /**
   * Every record as it is written to run.jsonl. The refit's records (RUN/refit/run.jsonl) come after the
   * first run's, the same events with `phase: 'refit'` and `refit_updates` (U*, the refit's total) added:
   * its num_updates count from 0 to U* again, over epochs of the whole training split.
   */
  onRecord?: (r: RunRecord) => void;
  log?: (msg: string) => void;
}

export interface FinetuneOutcome {
  runDir: string;
  status: 'trained' | 'resumed' | 'skipped';
  result: FinetuneResult;
  /** Splits scored now (not those already scored). */
  scored: string[];
}

export function readFinetuneResult(runDir: string): FinetuneResult | undefined {
  try {
    const r = JSON.parse(readFileSync(join(runDir, RESULT_FILE), 'utf8')) as FinetuneResult;
    return r.kind === 'netflowgen.finetune-result' ? r : undefined;
  } catch {
    return undefined;
  }
}

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

const canonical = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};

/** Facts the run needs from its inputs, checked before anything is written. */
function inspectInputs(spec: FinetuneSpec): {
  binned: string;
  nFeatures: number;
  featureSet: 'full' | 'light';
  trainExamples: number;
} {
  const m = readEarlyDetectManifest(spec.dataset);
  if (spec.attack_types) {
    const missing = spec.attack_types.filter((t) => !m.attackTypes.includes(t));
    if (missing.length)
      throw new Error(
        `${spec.dataset}: attack types ${missing.join(', ')} are not in this EarlyDetect dataset (${m.attackTypes.join(', ')})`,
      );
  }
  if (spec.arch === 'netflowgen_safe') {
    const ckpt = pretrainedCheckpoint(spec)!;
    if (!existsSync(ckpt))
      throw new Error(
        `${ckpt}: the pre-trained checkpoint is missing (train it with netflowgen pretrain, or point 'pretrained' / --pretrained at a checkpoint)`,
      );
    const pre = pretrainedSpec(spec);
    if (pre && canonical(pre.dataset) !== canonical(m.dataset))
      throw new Error(
        `${spec.pretrained} was pre-trained on ${pre.dataset}, but ${spec.dataset} was made from ${m.dataset}: node ids and bins would not match`,
      );
  }
  const featureSet = effectiveFeatureSet(spec);
  const ds = BinnedDataset.open(m.dataset);
  const nFeatures =
    featureSet === 'light'
      ? ds.manifest.featureGroups.filter((g) => g === 'volume').length
      : ds.manifest.features.length;
  const split = readDetectSplit(spec.dataset, m, spec.train_split);
  let trainExamples = 0;
  for (let i = 0; i < split.n; i++)
    if (inAttackTypes(split.examples[i * 6 + 4], split.examples[i * 6 + 5], spec.attack_types, m.attackTypes))
      trainExamples++;
  if (!trainExamples)
    throw new Error(
      `${spec.dataset}: the ${spec.train_split} split has no examples${spec.attack_types ? ` of ${spec.attack_types.join(', ')}` : ''} to train on`,
    );
  return { binned: m.dataset, nFeatures, featureSet, trainExamples };
}

/**
 * Trains (or resumes, or skips) the spec's model in opts.runDir, refits it on the whole training split
 * when the spec says so, then scores the final model on the splits that have no score yet (one process).
 */
export async function runFinetune(spec: FinetuneSpec, opts: FinetuneOptions): Promise<FinetuneOutcome> {
  const { runDir } = opts;
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const hash = finetuneHash(spec);
  const state = readFolderState(runDir);
  const plan = planRun(state, hash, { resume: opts.resume ?? true, force: opts.force ?? false });
  if (plan.action === 'refuse') {
    const diff = state.previousSpec
      ? specDiff(
          state.previousSpec as unknown as Record<string, unknown>,
          { ...spec, hash } as unknown as Record<string, unknown>,
        ).filter((k) => k !== 'hash')
      : [];
    throw new Error(
      `${runDir}: ${plan.reason}${diff.length ? ` (differs in ${diff.join(', ')})` : ''}; pass --force to start it over, or choose another --out`,
    );
  }
  const splits = opts.score ?? scoreSplits(spec);
  let status: FinetuneOutcome['status'];
  let result = plan.action === 'done' ? readFinetuneResult(runDir) : undefined;
  if (result) status = 'skipped';
  else {
    if (plan.action === 'restart') {
      log(`${runDir}: starting over (${plan.reason})`);
      await removeRunFiles(runDir, FINETUNE_RUN_FILES);
    }
    const facts = inspectInputs(spec);
    const threads = opts.threads ?? defaultThreads();
    const env = pythonEnv(threads);
    const cmd = planFinetuneCommand(spec, runDir);
    if (opts.check ?? true) {
      await withBridge(async (b) => {
        const check = await b.checkTrainArgs(cmd.argv.slice(1));
        if (!check.ok)
          throw new Error(
            `fairseq rejects the command of ${spec.name} (netflowgen finetune --dry-run shows it):\n${check.errors.map((e) => `  ${e}`).join('\n')}`,
          );
      });
    }
    // Phase 1: the run on the training split minus the holdout. Finished when run.jsonl says so (a run
    // stopped during the refit must not train it further: fairseq would go on from checkpoint_last.pt).
    const resuming = plan.action === 'resume';
    let summary: RunSummary;
    if (resuming && launchFinished(readRunLog(runDir))) {
      summary = summarizeRun(readRunLog(runDir));
      log(`${runDir}: the first run is finished (run.jsonl); going on with what follows it`);
    } else {
      summary = await launchTraining({
        runDir,
        name: spec.name,
        spec,
        hash,
        cmd,
        env,
        threads,
        resuming,
        label: `finetune ${spec.name}`,
        perEpochGuess: Math.max(1, Math.ceil(facts.trainExamples / spec.batch_size)),
        maxEpoch: spec.max_epoch,
        maxUpdate: spec.max_update,
        signal: opts.signal,
        onRecord: opts.onRecord,
        log,
      });
    }
    const sizes = subsetSizes(runDir);
    const holdout = spec.valid_split === 'holdout';
    if (holdout && !(sizes.has('holdout') && sizes.has(spec.train_split)))
      throw new Error(
        `${join(runDir, TRAIN_LOG)}: no 'subset holdout: N examples' and 'subset ${spec.train_split}: N examples' lines of the task netflow_detect, so the examples trained on are unknown`,
      );
    const holdoutExamples = holdout ? sizes.get('holdout')! : 0;
    const kept = holdout ? sizes.get(spec.train_split)! : facts.trainExamples;
    const selected = selectedUpdates(readRunLog(runDir)) ?? null;

    // Phase 2: the refit on the whole training split for U* updates.
    let refitRun: FinetuneResult['refitRun'] = null;
    let trainExamples = kept;
    const refit = usesRefit(spec);
    if (refit) {
      if (selected === null)
        throw new Error(
          `${join(runDir, RUN_LOG)}: no validated checkpoint, so no number of updates to refit for (did the holdout run validate?)`,
        );
      const r = await runRefit(spec, hash, runDir, selected, {
        facts,
        env,
        threads,
        signal: opts.signal,
        onRecord: opts.onRecord,
        log,
      });
      refitRun = r.run;
      trainExamples = r.examples;
      if (trainExamples !== facts.trainExamples)
        log(
          `warning: the refit trained on ${trainExamples} examples, the ${spec.train_split} split holds ${facts.trainExamples} of the run's attack types`,
        );
    }
    await publishFinal(runDir, refit ? join(runDir, REFIT_DIR, LAST_CHECKPOINT) : join(runDir, BEST_CHECKPOINT));

    const paramsRecord = summaryParams(runDir);
    result = {
      kind: 'netflowgen.finetune-result',
      createdBy: `netflowgen ${VERSION}`,
      name: spec.name,
      hash,
      label: modelLabel(spec, facts.featureSet),
      arch: spec.arch,
      dataset: spec.dataset,
      binnedDataset: facts.binned,
      pretrained: pretrainedCheckpoint(spec) ?? null,
      featureSet: facts.featureSet,
      nFeatures: facts.nFeatures,
      trainSplit: spec.train_split,
      attackTypes: spec.attack_types ?? null,
      trainExamples,
      splitExamples: facts.trainExamples,
      holdoutExamples,
      selectedUpdates: selected,
      refit,
      refitRun,
      finalCheckpoint: FINAL_CHECKPOINT,
      calibrationSplit: calibrationSplit(spec),
      scoreSplits: scoreSplits(spec),
      params: paramsRecord,
      best: summary.best,
      last: summary.last,
      epochs: summary.epochs,
      updates: summary.updates,
      stopReason: summary.stopReason,
      attempts: summary.attempts,
      wallSeconds: Math.round((summary.wallSeconds + (refitRun?.wallSeconds ?? 0)) * 10) / 10,
      finishedAt: new Date().toISOString(),
    };
    await writeFileAtomic(join(runDir, RESULT_FILE), JSON.stringify(result, null, 2) + '\n');
    status = resuming ? 'resumed' : 'trained';
  }
  const missing = splits.filter((s) => !hasScore(join(runDir, EVAL_DIR, s)));
  if (missing.length) {
    const ckpt = finalCheckpointPath(runDir, result);
    log(`scoring ${missing.join(', ')} with ${ckpt}`);
    await scoreDetectSplits(ckpt, spec.dataset, missing, join(runDir, EVAL_DIR), {
      threads: opts.threads,
      signal: opts.signal,
    });
  }
  return { runDir, status, result, scored: missing };
}

interface RefitContext {
  facts: { trainExamples: number };
  env: Record<string, string>;
  threads: number;
  signal?: AbortSignal;
  onRecord?: (r: RunRecord) => void;
  log: (msg: string) => void;
}

/**
 * The refit in RUN/refit/: fairseq-train from scratch on the whole training split for exactly `updates`
 * updates (planRefitCommand). Its spec.resolved.json is the run's spec with max_update = U*, patience -1,
 * and refit_of (the run's hash): a folder of another U* or run starts over. Done when its run.jsonl shows
 * a finished launch whose last save is at U* updates; otherwise resumed from its checkpoint_last.pt (fairseq
 * restores model, optimiser, epoch and batch order, so the end is the one of an uninterrupted refit), or
 * started. A refit that ended anywhere but at U* (a save not logged before a kill) is redone once.
 */
async function runRefit(
  spec: FinetuneSpec,
  hash: string,
  runDir: string,
  updates: number,
  ctx: RefitContext,
): Promise<{ run: NonNullable<FinetuneResult['refitRun']>; examples: number }> {
  const dir = join(runDir, REFIT_DIR);
  const recordSpec = { ...spec, max_update: updates, patience: -1, phase: 'refit', refit_of: hash };
  const refitHash = specHash(recordSpec as unknown as ExperimentSpec);
  const cmd = planRefitCommand(spec, runDir, updates);
  const lastSave = (records: RunRecord[]) => records.filter((r) => r.event === 'checkpoint').pop();
  const complete = () => {
    const records = readRunLog(dir);
    return launchFinished(records) && Number(lastSave(records)?.updates) === updates;
  };
  const onRecord = ctx.onRecord && ((r: RunRecord) => ctx.onRecord!({ ...r, phase: 'refit', refit_updates: updates }));
  for (let attempt = 0; ; attempt++) {
    const state = readFolderState(dir);
    if (state.previousHash !== undefined && state.previousHash !== refitHash) {
      ctx.log(`${dir}: another refit (another spec or number of updates); starting it over`);
      await fsp.rm(dir, { recursive: true, force: true });
    }
    if (!complete()) {
      const resuming = existsSync(join(dir, LAST_CHECKPOINT));
      ctx.log(
        `${spec.name}: ${resuming ? 'resuming the refit' : 'refit'} on the whole ${spec.train_split} split for ${updates} updates (the holdout run's best checkpoint)`,
      );
      await launchTraining({
        runDir: dir,
        name: `${spec.name} (refit)`,
        spec: recordSpec,
        hash: refitHash,
        cmd,
        env: ctx.env,
        threads: ctx.threads,
        resuming,
        label: `refit ${spec.name}`,
        perEpochGuess: Math.max(1, Math.ceil(ctx.facts.trainExamples / spec.batch_size)),
        maxEpoch: spec.max_epoch,
        maxUpdate: updates,
        signal: ctx.signal,
        onRecord,
        log: ctx.log,
      });
    }
    if (complete()) break;
    const got = lastSave(readRunLog(dir))?.updates;
    if (attempt >= 1)
      throw new Error(
        `${dir}: the refit ended at ${got} updates, not the ${updates} the holdout run chose; see ${join(dir, TRAIN_LOG)}`,
      );
    ctx.log(`${dir}: the refit ended at ${got} updates, not ${updates}; redoing it`);
    await fsp.rm(dir, { recursive: true, force: true });
  }
  const s = summarizeRun(readRunLog(dir));
  const examples = subsetSizes(dir).get(spec.train_split);
  if (examples === undefined)
    throw new Error(`${join(dir, TRAIN_LOG)}: no 'subset ${spec.train_split}: N examples' line of the task`);
  return {
    run: {
      updates: s.updates,
      epochs: s.epochs,
      attempts: s.attempts,
      wallSeconds: Math.round(s.wallSeconds * 10) / 10,
    },
    examples,
  };
}

/** RUN/checkpoint_final.pt: a hard link to (else a copy of) the final model, put in place by a rename. */
async function publishFinal(runDir: string, source: string): Promise<void> {
  if (!existsSync(source)) throw new Error(`${source}: the final model is missing`);
  const tmp = join(runDir, FINAL_PARTIAL);
  await fsp.rm(tmp, { force: true });
  try {
    await fsp.link(source, tmp);
  } catch {
    await fsp.copyFile(source, tmp);
  }
  await fsp.rename(tmp, join(runDir, FINAL_CHECKPOINT));
}

/** fairseq's parameter count (all, trained) from run.jsonl's last 'params' record. */
function summaryParams(runDir: string): FinetuneResult['params'] {
  let text = '';
  try {
    text = readFileSync(join(runDir, RUN_LOG), 'utf8');
  } catch {
    return null;
  }
  let out: FinetuneResult['params'] = null;
  for (const line of text.split('\n')) {
    if (!line.includes('"params"')) continue;
    const r = JSON.parse(line) as RunRecord;
    if (r.event === 'params')
      out = { total: Number(r.total), trained: r.trained === undefined ? null : Number(r.trained) };
  }
  return out;
}

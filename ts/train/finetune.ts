/**
 * `netflowgen finetune`: early DDoS detection (SPEC §6) with fairseq-train, the task netflow_detect
 * and the SAFE loss, from a fine-tuning spec (finetune-spec.ts), by the one job runner (job.ts), then
 * the survival curves of the final model on the evaluation and calibration splits (score.ts, one
 * process for all of them). A run folder holds what a pre-training run's does (folder.ts) plus
 *
 *   RUN/refit/                 with `refit` (and valid_split holdout): the second fairseq-train, on the
 *                              whole training split for the U* updates the holdout chose (refit.ts)
 *   RUN/checkpoint_final.pt    the final model: RUN/refit/checkpoint_last.pt with refit, else
 *                              checkpoint_best.pt (a hard link, made atomically once training is done)
 *   RUN/eval/<split>/survival.f32, hazard.f32, score.json    the scores netflowgen evaluate-detect reads
 *
 * Resume, refusal of a different spec and Ctrl-C work as for pre-training, for both phases: a run
 * stopped during the refit finds the first phase finished in run.jsonl and resumes (or redoes) the
 * refit alone. A finished run is not trained again, but a missing score is made.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BinnedDataset } from '../datasets/binned.js';
import { readDetectSplit, readEarlyDetectManifest } from '../earlydetect/data.js';
import { hasScore } from '../earlydetect/scores.js';
import type { AttackType } from '../splits/alerts.js';
import type { SplitName } from '../splits/splits.js';
import {
  calibrationSplit,
  effectiveFeatureSet,
  finetuneHash,
  modelLabel,
  planFinetuneCommand,
  pretrainedCheckpoint,
  pretrainedSpec,
  REFIT_DIR,
  scoreSplits,
  usesRefit,
  type FinetuneArch,
  type FinetuneSpec,
  type ScoreSplit,
} from './finetune-spec.js';
import { BEST_CHECKPOINT, LAST_CHECKPOINT, RESULT_FILE, RUN_FILES, RUN_LOG, TRAIN_LOG, readRunLog } from './folder.js';
import { runJob, type JobKind, type JobOptions, type JobOutcome, type JobResult } from './job.js';
import type { RunRecord } from './log.js';
import {
  FINAL_CHECKPOINT,
  FINAL_PARTIAL,
  publishFinal,
  runRefit,
  selectedUpdates,
  subsetSizes,
  type RefitRun,
} from './refit.js';
import { scoreDetectSplits } from './score.js';

export const EVAL_DIR = 'eval';
/** What --force (start over) removes from a fine-tuning run folder. */
export const FINETUNE_RUN_FILES = [...RUN_FILES, FINAL_CHECKPOINT, FINAL_PARTIAL, REFIT_DIR, EVAL_DIR];

/**
 * RUN/result.json of a fine-tuning run: the fields of every result (job.ts; best, last, epochs,
 * updates, stopReason and attempts are the first (holdout) run's, as fairseq logged them in run.jsonl;
 * wallSeconds is both runs' training together, the refit's alone in refitRun) and these.
 */
export interface FinetuneResult extends JobResult {
  kind: 'netflowgen.finetune-result';
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
  refitRun: RefitRun | null;
  /** The final model, relative to the run folder: checkpoint_final.pt (= refit/checkpoint_last.pt with refit, else checkpoint_best.pt). */
  finalCheckpoint: string;
  /** The split tau is chosen on (calibrationSplit()). */
  calibrationSplit: ScoreSplit;
  /** The splits scored after training by default (scoreSplits()): eval_splits and the calibration split. */
  scoreSplits: ScoreSplit[];
  /** fairseq's count: all parameters, and the trained ones (the head alone for netflowgen_safe). */
  params: { total: number; trained: number | null } | null;
}

export interface FinetuneOptions extends JobOptions {
  /** Score these splits after training (default: scoreSplits(spec), the eval_splits and the calibration split); [] = none. */
  score?: ScoreSplit[];
  /**
   * Every record as it is written to run.jsonl. The refit's records (RUN/refit/run.jsonl) come after the
   * first run's, the same events with `phase: 'refit'` and `refit_updates` (U*, the refit's total) added:
   * its num_updates count from 0 to U* again, over epochs of the whole training split.
   */
  onRecord?: (r: RunRecord) => void;
}

export interface FinetuneOutcome extends JobOutcome<FinetuneResult> {
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

const canonical = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};

interface FinetuneFacts {
  binned: string;
  nFeatures: number;
  featureSet: 'full' | 'light';
  trainExamples: number;
}

/** Facts the run needs from its inputs, checked before anything is written. */
function inspectInputs(spec: FinetuneSpec): FinetuneFacts {
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

const FINETUNE: JobKind<FinetuneSpec, FinetuneFacts, null, FinetuneResult> = {
  command: 'finetune',
  resultKind: 'netflowgen.finetune-result',
  runFiles: FINETUNE_RUN_FILES,
  hash: finetuneHash,
  readResult: readFinetuneResult,
  inputs: inspectInputs,
  render: planFinetuneCommand,
  examples: (facts) => facts.trainExamples,
  // Phase 1, the run on the training split minus the holdout, is finished when run.jsonl says so (a run
  // stopped during the refit must not train it further: fairseq would go on from checkpoint_last.pt).
  keepsFinishedLaunch: true,
  finish: finishFinetune,
};

/** After the first run: U* from its saves, the refit (phase 2), the final checkpoint, result.json's fields. */
async function finishFinetune(
  ctx: Parameters<typeof FINETUNE.finish>[0],
): Promise<{ fields: Omit<FinetuneResult, keyof JobResult>; seconds: number }> {
  const { spec, runDir, hash, facts, log } = ctx;
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
  let refitRun: RefitRun | null = null;
  let trainExamples = kept;
  const refit = usesRefit(spec);
  if (refit) {
    if (selected === null)
      throw new Error(
        `${join(runDir, RUN_LOG)}: no validated checkpoint, so no number of updates to refit for (did the holdout run validate?)`,
      );
    const r = await runRefit(spec, hash, runDir, selected, ctx);
    refitRun = r.run;
    trainExamples = r.examples;
    if (trainExamples !== facts.trainExamples)
      log(
        `warning: the refit trained on ${trainExamples} examples, the ${spec.train_split} split holds ${facts.trainExamples} of the run's attack types`,
      );
  }
  await publishFinal(runDir, refit ? join(runDir, REFIT_DIR, LAST_CHECKPOINT) : join(runDir, BEST_CHECKPOINT));
  const fields = {
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
    params: summaryParams(runDir),
  };
  return { fields, seconds: refitRun?.wallSeconds ?? 0 };
}

/**
 * Trains (or resumes, or skips) the spec's model in opts.runDir, refits it on the whole training split
 * when the spec says so, then scores the final model on the splits that have no score yet (one process).
 */
export async function runFinetune(spec: FinetuneSpec, opts: FinetuneOptions): Promise<FinetuneOutcome> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const { runDir, status, result } = await runJob(FINETUNE, spec, { ...opts, log });
  const missing = (opts.score ?? scoreSplits(spec)).filter((s) => !hasScore(join(runDir, EVAL_DIR, s)));
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

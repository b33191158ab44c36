/**
 * `netflowgen finetune`: early DDoS detection (SPEC §6) with fairseq-train, the task netflow_detect
 * and the SAFE loss, from a fine-tuning spec (schemas/finetune.schema.json, experiments/finetune/),
 * then the survival curves of the best checkpoint on the evaluation splits (python/score_detect.py).
 * A run folder holds what a pre-training run's does (spec.resolved.json, command.txt, run.jsonl,
 * train.log, checkpoints, result.json) plus
 *
 *   RUN/eval/<split>/survival.f32, hazard.f32, score.json    the scores netflowgen evaluate-detect reads
 *
 * Resume, refusal of a different spec and Ctrl-C work as for pre-training (ts/train/run.ts); a
 * finished run is not trained again, but a missing score is made.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { writeFileAtomic } from '../common/atomic.js';
import { createProgress } from '../common/progress.js';
import { VERSION } from '../common/version.js';
import { withBridge } from '../bridge/bridge.js';
import { defaultThreads, pythonBin, pythonEnv, pythonScript } from '../bridge/python.js';
import { BinnedDataset } from '../datasets/binned.js';
import type { AttackType } from '../earlydetect/alerts.js';
import { readDetectSplit, readEarlyDetectManifest, hasScore, SCORE_FILE } from '../evaluate/data.js';
import type { SplitName } from '../splits/splits.js';
import { lastPythonError, type RunRecord, type RunSummary } from './log.js';
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
  removeRunFiles,
} from './run.js';
import { composeSpec, describeErrors, getValidators, specDiff, specHash, SpecError, type ComposedSpec, type ExperimentSpec, type ModelOverrides, type OverrideLayer } from './spec.js';

export const FINETUNE_SCHEMA = 'finetune.schema.json';
export const FINETUNE_TEMPLATE = 'fairseq-finetune.njk';
export const FINETUNE_ARCHS = ['netflowgen_safe', 'netflowgen_tf', 'ms_lstm'] as const;
export type FinetuneArch = (typeof FINETUNE_ARCHS)[number];
export const EVAL_DIR = 'eval';
const FINETUNE_RUN_FILES = [SPEC_FILE, COMMAND_FILE, RUN_LOG, TRAIN_LOG, RESULT_FILE, LAST_CHECKPOINT, BEST_CHECKPOINT, EVAL_DIR];

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
  attack_types?: AttackType[];
  eval_splits: ('valid' | 'test')[];
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
    throw new SpecError(describeErrors(resolved.errors ?? [], c.file).map((m) => (m.includes('missing key') ? `${m}: set it in the spec or in a file it extends (${chain})` : m)));
  }
  const spec = data as unknown as FinetuneSpec;
  spec.dataset = resolve(cwd, spec.dataset);
  if (spec.pretrained !== undefined) spec.pretrained = resolve(cwd, spec.pretrained);
  const problems: string[] = [];
  if (spec.arch === 'netflowgen_safe') {
    if (spec.pretrained === undefined) problems.push(`${c.file}: arch netflowgen_safe needs 'pretrained' (a pre-training run folder or checkpoint; --pretrained on the command line)`);
    if (spec.model !== undefined) problems.push(`${c.file}: arch netflowgen_safe takes the pre-trained model's sizes; remove 'model'`);
  } else if (spec.pretrained !== undefined) problems.push(`${c.file}: arch ${spec.arch} trains from random initialisation; 'pretrained' is for netflowgen_safe`);
  if (spec.arch !== 'ms_lstm' && spec.lstm !== undefined) problems.push(`${c.file}: 'lstm' is for arch ms_lstm`);
  if (spec.arch === 'ms_lstm' && spec.model !== undefined) problems.push(`${c.file}: 'model' (Transformer sizes) is for arch netflowgen_tf; ms_lstm takes 'lstm'`);
  if (spec.precision !== 'fp32' && spec.device !== 'cuda') problems.push(`${c.file}: precision ${spec.precision} needs device cuda`);
  if (spec.model?.width !== undefined && spec.model.heads !== undefined && spec.model.width % spec.model.heads !== 0)
    problems.push(`${c.file}: model width ${spec.model.width} is not a multiple of the number of heads`);
  if (problems.length) throw new SpecError(problems);
  const order = Object.keys(schema.properties ?? {});
  return Object.fromEntries(order.filter((k) => k in spec).map((k) => [k, (spec as unknown as Record<string, unknown>)[k]])) as unknown as FinetuneSpec;
}

/** Composes (schemas/finetune.schema.json) and resolves a fine-tuning spec. */
export function loadFinetuneSpec(file: string, overrides: OverrideLayer[] = [], cwd = process.cwd()): { spec: FinetuneSpec; composed: ComposedSpec } {
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
export function pretrainedSpec(spec: Pick<FinetuneSpec, 'pretrained'>): (ExperimentSpec & { hash?: string }) | undefined {
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
export function modelLabel(spec: Pick<FinetuneSpec, 'label' | 'arch' | 'train_split'>, featureSet: 'full' | 'light' = 'full'): string {
  if (spec.label) return spec.label;
  const base = spec.arch === 'netflowgen_safe' ? (featureSet === 'light' ? 'NetFlowGen_Light' : 'NetFlowGen') : spec.arch === 'netflowgen_tf' ? 'TF' : 'MS-LSTM';
  return spec.train_split === 'train' ? `${base}_MoreData` : base;
}

/** The rendered fairseq-train command of a fine-tuning spec in a run folder (what --dry-run prints). */
export function planFinetuneCommand(spec: FinetuneSpec, runDir: string): RenderedCommand {
  const vars = { lstm: spec.lstm ?? {}, attack_types: spec.attack_types ?? null, pretrained_checkpoint: pretrainedCheckpoint(spec) ?? '', feature_set: effectiveFeatureSet(spec) };
  return renderCommand(spec, { saveDir: runDir, vars }, FINETUNE_TEMPLATE);
}

/** Does an example (row of <split>.examples.i32) belong to the run's examples? Unseen-node examples (alert -1) never do. */
export function inAttackTypes(attackType: number, alert: number, types: readonly string[] | undefined, names: readonly string[]): boolean {
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
export async function scoreDetect(checkpoint: string, earlyDetect: string, split: 'valid' | 'test' | 'train', out: string, opts: ScoreOptions = {}): Promise<Record<string, unknown>> {
  const args = [pythonScript('score_detect.py'), '--checkpoint', checkpoint, '--data', earlyDetect, '--split', split, '--out', out];
  if (opts.batchSize) args.push('--batch-size', String(opts.batchSize));
  const bar = createProgress(`score ${split}`, 1, '{bar} {percentage}% | {value}/{total} examples | ETA {eta_formatted}');
  const child = execa(pythonBin(), args, { env: pythonEnv(opts.threads), all: true, buffer: false, reject: false, stdin: 'ignore', cancelSignal: opts.signal });
  const tail: string[] = [];
  try {
    for await (const line of child.iterable({ from: 'all' })) {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (!line.startsWith('{')) continue;
      try {
        const r = JSON.parse(line) as Record<string, unknown>;
        const done = Number(r.done ?? r.examples_done ?? r.n_done);
        const total = Number(r.total ?? r.examples ?? r.n);
        if (r.event === 'progress' && total > 0 && Number.isFinite(done)) {
          bar.setTotal(total);
          bar.update(done);
        }
      } catch {
        // not a progress line
      }
    }
  } catch {
    // cancelled: see below
  }
  const res = await child;
  bar.stop();
  if (opts.signal?.aborted || res.isCanceled) throw new RunInterrupted(`interrupted while scoring ${split}; nothing complete was written to ${out}`);
  if (res.exitCode !== 0) throw new Error(`python/score_detect.py failed on ${split} (exit code ${res.exitCode}): ${lastPythonError(tail) ?? tail.slice(-3).join('\n')}`);
  return JSON.parse(readFileSync(join(out, SCORE_FILE), 'utf8')) as Record<string, unknown>;
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
  /** Examples of the training split the run learns from (before any monitoring share the task keeps aside). */
  trainExamples: number;
  /** fairseq's count: all parameters, and the trained ones (the head alone for netflowgen_safe). */
  params: { total: number; trained: number | null } | null;
  best: RunSummary['best'];
  last: RunSummary['last'];
  epochs: number;
  updates: number;
  stopReason: RunSummary['stopReason'];
  attempts: number;
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
  /** Score these splits after training (default: the spec's eval_splits); [] = none. */
  score?: ('valid' | 'test')[];
  signal?: AbortSignal;
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
  if (!FINETUNE_ARCHS.includes(spec.arch)) throw new Error(`${path}: arch ${spec.arch} is not a fine-tuning arch (${FINETUNE_ARCHS.join(', ')}): is this a pre-training run?`);
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
function inspectInputs(spec: FinetuneSpec): { binned: string; nFeatures: number; featureSet: 'full' | 'light'; trainExamples: number } {
  const m = readEarlyDetectManifest(spec.dataset);
  if (spec.attack_types) {
    const missing = spec.attack_types.filter((t) => !m.attackTypes.includes(t));
    if (missing.length) throw new Error(`${spec.dataset}: attack types ${missing.join(', ')} are not in this EarlyDetect dataset (${m.attackTypes.join(', ')})`);
  }
  if (spec.arch === 'netflowgen_safe') {
    const ckpt = pretrainedCheckpoint(spec)!;
    if (!existsSync(ckpt)) throw new Error(`${ckpt}: the pre-trained checkpoint is missing (train it with netflowgen pretrain, or point 'pretrained' / --pretrained at a checkpoint)`);
    const pre = pretrainedSpec(spec);
    if (pre && canonical(pre.dataset) !== canonical(m.dataset))
      throw new Error(`${spec.pretrained} was pre-trained on ${pre.dataset}, but ${spec.dataset} was made from ${m.dataset}: node ids and bins would not match`);
  }
  const featureSet = effectiveFeatureSet(spec);
  const ds = BinnedDataset.open(m.dataset);
  const nFeatures = featureSet === 'light' ? ds.manifest.featureGroups.filter((g) => g === 'volume').length : ds.manifest.features.length;
  const split = readDetectSplit(spec.dataset, m, spec.train_split);
  let trainExamples = 0;
  for (let i = 0; i < split.n; i++) if (inAttackTypes(split.examples[i * 6 + 4], split.examples[i * 6 + 5], spec.attack_types, m.attackTypes)) trainExamples++;
  if (!trainExamples) throw new Error(`${spec.dataset}: the ${spec.train_split} split has no examples${spec.attack_types ? ` of ${spec.attack_types.join(', ')}` : ''} to train on`);
  return { binned: m.dataset, nFeatures, featureSet, trainExamples };
}

/** Trains (or resumes, or skips) the spec's model in opts.runDir, then scores the best checkpoint. */
export async function runFinetune(spec: FinetuneSpec, opts: FinetuneOptions): Promise<FinetuneOutcome> {
  const { runDir } = opts;
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const hash = finetuneHash(spec);
  const state = readFolderState(runDir);
  const plan = planRun(state, hash, { resume: opts.resume ?? true, force: opts.force ?? false });
  if (plan.action === 'refuse') {
    const diff = state.previousSpec ? specDiff(state.previousSpec as unknown as Record<string, unknown>, { ...spec, hash } as unknown as Record<string, unknown>).filter((k) => k !== 'hash') : [];
    throw new Error(`${runDir}: ${plan.reason}${diff.length ? ` (differs in ${diff.join(', ')})` : ''}; pass --force to start it over, or choose another --out`);
  }
  const splits = opts.score ?? spec.eval_splits;
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
        if (!check.ok) throw new Error(`fairseq rejects the command of ${spec.name} (netflowgen finetune --dry-run shows it):\n${check.errors.map((e) => `  ${e}`).join('\n')}`);
      });
    }
    const resuming = plan.action === 'resume';
    const summary = await launchTraining({
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
      trainExamples: facts.trainExamples,
      params: paramsRecord,
      best: summary.best,
      last: summary.last,
      epochs: summary.epochs,
      updates: summary.updates,
      stopReason: summary.stopReason,
      attempts: summary.attempts,
      wallSeconds: Math.round(summary.wallSeconds * 10) / 10,
      finishedAt: new Date().toISOString(),
    };
    await writeFileAtomic(join(runDir, RESULT_FILE), JSON.stringify(result, null, 2) + '\n');
    status = resuming ? 'resumed' : 'trained';
  }
  const scored: string[] = [];
  for (const split of splits) {
    const out = join(runDir, EVAL_DIR, split);
    if (hasScore(out)) continue;
    log(`scoring ${split} with ${join(runDir, BEST_CHECKPOINT)}`);
    await scoreDetect(join(runDir, BEST_CHECKPOINT), spec.dataset, split, out, { threads: opts.threads, signal: opts.signal });
    scored.push(split);
  }
  return { runDir, status, result, scored };
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
    if (r.event === 'params') out = { total: Number(r.total), trained: r.trained === undefined ? null : Number(r.trained) };
  }
  return out;
}

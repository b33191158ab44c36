/**
 * The scored models the Xatu evaluation reads: a run folder's result.json (`netflowgen finetune` or
 * `netflowgen simple-detect`), its EarlyDetect dataset and binned nodes, and its survival curves per
 * split (RUN/eval/<split>/, scored with python/score_detect.py on first use when missing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinnedDataset, type DatasetNode } from '../datasets/binned.js';
import type { EarlyDetectManifest } from '../earlydetect/build.js';
import { readEarlyDetectManifest, type DetectSplit } from '../earlydetect/data.js';
import { hasScore, readSurvival } from '../earlydetect/scores.js';
import { EVAL_DIR } from '../train/finetune.js';
import { BEST_CHECKPOINT, RESULT_FILE } from '../train/folder.js';
import { scoreDetect } from '../train/score.js';

/** How missing survival curves are scored (a subset of EvaluateDetectOptions). */
export interface ScoreOptions {
  /** Score splits that have no survival curves yet (default true); false: fail instead. */
  score?: boolean;
  threads?: number;
  signal?: AbortSignal;
  log?: (msg: string) => void;
}

/**
 * What the evaluation needs of a scored model folder: result.json of `netflowgen finetune`
 * (kind netflowgen.finetune-result) or of `netflowgen simple-detect` (netflowgen.detector-result),
 * and RUN/eval/<split>/ survival curves.
 */
export interface ScoredModel {
  kind: string;
  name: string;
  label: string;
  arch: string;
  dataset: string;
  featureSet: string;
  nFeatures: number;
  trainSplit: string | null;
  calibrationSplit?: string | null;
  attackTypes: string[] | null;
  trainExamples: number;
  /** The checkpoint scored (fine-tuning runs): relative to the run folder. */
  finalCheckpoint?: string;
  /** Updates of the final model (fine-tuning runs; the refit's when there is one). */
  updates?: number;
  refitRun?: { updates: number } | null;
}

const SCORED_KINDS = ['netflowgen.finetune-result', 'netflowgen.detector-result'];

export interface LoadedRun {
  runDir: string;
  result: ScoredModel;
  manifest: EarlyDetectManifest;
  nodes: DatasetNode[];
}

/** result.json of a finished fine-tuning run or simple detector. */
export function readScoredModel(runDir: string): ScoredModel {
  const path = join(runDir, RESULT_FILE);
  let r: ScoredModel;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as ScoredModel;
  } catch {
    throw new Error(
      `${runDir}: training has not finished (no readable ${RESULT_FILE}); run netflowgen finetune (or simple-detect) first`,
    );
  }
  if (!SCORED_KINDS.includes(r.kind))
    throw new Error(
      `${path}: kind ${JSON.stringify(r.kind)} is not a fine-tuning run or a simple detector (${SCORED_KINDS.join(', ')})`,
    );
  return r;
}

export function loadRun(runDir: string): LoadedRun {
  const result = readScoredModel(runDir);
  const manifest = readEarlyDetectManifest(result.dataset);
  const nodes = BinnedDataset.open(manifest.dataset).manifest.nodes;
  return { runDir, result, manifest, nodes };
}

export async function survivalOf(run: LoadedRun, split: DetectSplit, opts: ScoreOptions): Promise<Float32Array> {
  const dir = join(run.runDir, EVAL_DIR, split.split);
  if (!hasScore(dir)) {
    const ckpt = join(run.runDir, run.result.finalCheckpoint ?? BEST_CHECKPOINT);
    if (opts.score === false || run.result.kind !== 'netflowgen.finetune-result')
      throw new Error(
        `${dir}: no survival curves (score.json); run netflowgen finetune again, or evaluate without --no-score`,
      );
    (opts.log ?? (() => {}))(`scoring ${split.split} with ${ckpt}`);
    await scoreDetect(ckpt, run.result.dataset, split.split as 'train' | 'valid' | 'test', dir, {
      threads: opts.threads,
      signal: opts.signal,
    });
  }
  return readSurvival(dir, { n: split.n, D: split.D, split: split.split }).survival;
}

/**
 * How much training the final model had: its updates (the refit's, else the run's) times the batch
 * size of the run's spec. With a max_update cap, example passes can fall short of one epoch.
 */
export function examplesSeen(runDir: string, result: ScoredModel): { finalUpdates?: number; examplesSeen?: number } {
  if (result.kind !== 'netflowgen.finetune-result') return {};
  const updates = result.refitRun?.updates ?? result.updates;
  let batch: number | undefined;
  try {
    batch = (JSON.parse(readFileSync(join(runDir, 'spec.resolved.json'), 'utf8')) as { batch_size?: number })
      .batch_size;
  } catch {
    // a run folder without its spec: the count alone
  }
  return updates === undefined ? {} : { finalUpdates: updates, ...(batch ? { examplesSeen: updates * batch } : {}) };
}

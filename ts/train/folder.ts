/**
 * A training run folder and what to do with it. Every fairseq-train run (pre-training, fine-tuning, a
 * fine-tuning's refit) lives in a folder of its own:
 *
 *   RUN/spec.resolved.json  the spec that runs (its hash decides whether RUN may be resumed)
 *   RUN/command.txt         the rendered command, pasteable into a shell
 *   RUN/run.jsonl           every parsed fairseq record and our own events (start, resume, end, interrupted)
 *   RUN/train.log           fairseq's raw output
 *   RUN/checkpoint_best.pt, checkpoint_last.pt   fairseq's checkpoints (--save-dir RUN)
 *   RUN/result.json         written when training ends
 *
 * planRun() decides from the folder's state alone: the same spec resumes (or is done), a different
 * spec or a folder of unknown origin is refused unless forced, --no-resume and --force start over.
 */
import { existsSync, promises as fsp, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { specHash } from '../config/compose.js';
import type { RunRecord } from './log.js';

export const SPEC_FILE = 'spec.resolved.json';
export const COMMAND_FILE = 'command.txt';
export const RUN_LOG = 'run.jsonl';
export const TRAIN_LOG = 'train.log';
export const RESULT_FILE = 'result.json';
export const LAST_CHECKPOINT = 'checkpoint_last.pt';
export const BEST_CHECKPOINT = 'checkpoint_best.pt';
/** The files of every run folder: what "start over" removes (with a kind's own; nothing else is touched). */
export const RUN_FILES = [SPEC_FILE, COMMAND_FILE, RUN_LOG, TRAIN_LOG, RESULT_FILE, LAST_CHECKPOINT, BEST_CHECKPOINT];

export interface RunFolderState {
  /** Hash in an existing spec.resolved.json, if any. */
  previousHash?: string;
  hasCheckpoint: boolean;
  hasResult: boolean;
}

export type RunPlan =
  | { action: 'fresh' }
  | { action: 'resume' }
  | { action: 'done' }
  | { action: 'restart'; reason: string }
  | { action: 'refuse'; reason: string };

/**
 * The decision, from the folder's state alone: the same spec resumes (or is done); a different spec
 * or a folder of unknown origin is refused unless forced; --no-resume and --force start over.
 */
export function planRun(state: RunFolderState, hash: string, opts: { resume: boolean; force: boolean }): RunPlan {
  const used = state.hasCheckpoint || state.hasResult;
  if (state.previousHash === undefined) {
    if (!used) return { action: 'fresh' };
    return opts.force
      ? { action: 'restart', reason: 'forced; the folder held checkpoints without a spec' }
      : { action: 'refuse', reason: `it holds checkpoints but no ${SPEC_FILE}` };
  }
  if (state.previousHash !== hash) {
    if (!used) return { action: 'restart', reason: 'the spec changed; the folder held no checkpoint' };
    return opts.force
      ? { action: 'restart', reason: 'forced; the spec changed' }
      : { action: 'refuse', reason: 'it holds a run of a different spec' };
  }
  if (opts.force) return used ? { action: 'restart', reason: 'forced' } : { action: 'fresh' };
  if (!opts.resume) return used ? { action: 'restart', reason: '--no-resume' } : { action: 'fresh' };
  if (state.hasResult) return { action: 'done' };
  return state.hasCheckpoint ? { action: 'resume' } : { action: 'fresh' };
}

export function readFolderState(runDir: string): RunFolderState & { previousSpec?: Record<string, unknown> } {
  let previousSpec: Record<string, unknown> | undefined;
  try {
    previousSpec = JSON.parse(readFileSync(join(runDir, SPEC_FILE), 'utf8')) as Record<string, unknown>;
  } catch {
    previousSpec = undefined;
  }
  let previousHash: string | undefined;
  if (previousSpec) {
    const { hash: _h, ...rest } = previousSpec;
    previousHash = specHash(rest);
  }
  return {
    previousSpec,
    previousHash,
    hasCheckpoint: existsSync(join(runDir, LAST_CHECKPOINT)),
    hasResult: existsSync(join(runDir, RESULT_FILE)),
  };
}

/** An interruption (Ctrl-C or an aborted signal): the run can be resumed. */
export class RunInterrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbortError';
  }
}

export function readRunLog(runDir: string): RunRecord[] {
  let text: string;
  try {
    text = readFileSync(join(runDir, RUN_LOG), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as RunRecord;
      } catch {
        throw new Error(`${join(runDir, RUN_LOG)}:${i + 1}: not a JSON line`);
      }
    });
}

/** Removes a run's own files (nothing else in the folder). */
export async function removeRunFiles(runDir: string, files: readonly string[]): Promise<void> {
  for (const f of files) await fsp.rm(join(runDir, f), { recursive: true, force: true });
}

/** Events of fairseq's training (those a resume repeats); the others are per launch or ours. */
const TRAINING_EVENTS = new Set([
  'train_inner',
  'train',
  'valid',
  'checkpoint',
  'epoch_start',
  'epoch_size',
  'early_stop',
  'stop',
  'done',
]);

/**
 * On resume from a checkpoint saved at `updates`: the training records earlier launches logged after
 * that checkpoint (work the resumed launch redoes) are taken out of run.jsonl, so that it reads like
 * an uninterrupted run's; a `resume_point` record says how many were taken out. Returns that number
 * (-1 when no earlier launch logged that checkpoint: its records were lost, nothing is taken out).
 * One difference remains, fairseq's own: the first `train_inner` after the resume averages the
 * updates since the resume, where an uninterrupted run's averages the whole log interval (which may
 * reach back into the previous epoch); its position is the same, its loss may differ slightly.
 */
export function pruneAfterCheckpoint(runDir: string, updates: number): number {
  const path = join(runDir, RUN_LOG);
  const records = readRunLog(runDir);
  let current = records.length - 1;
  while (current >= 0 && records[current].event !== 'start') current--;
  let saved = -1;
  for (let i = 0; i < current; i++)
    if (records[i].event === 'checkpoint' && Number(records[i].updates) === updates) saved = i;
  if (saved < 0) return -1;
  // fairseq prints an epoch's summary ('train') after its last save: that one stays
  const savedEpoch = Number(records[saved].epoch);
  const kept = records.filter(
    (r, i) =>
      i <= saved ||
      i >= current ||
      !TRAINING_EVENTS.has(r.event) ||
      (r.event === 'train' && Number(r.epoch) <= savedEpoch),
  );
  const dropped = records.length - kept.length;
  if (dropped > 0) {
    writeFileSync(`${path}.partial`, kept.map((r) => JSON.stringify(r)).join('\n') + '\n');
    renameSync(`${path}.partial`, path);
  }
  return dropped;
}

/** Did the last fairseq-train launch recorded in run.jsonl end normally (exit code 0, not interrupted)? */
export function launchFinished(records: readonly RunRecord[]): boolean {
  let i = records.length - 1;
  while (i >= 0 && records[i].event !== 'start') i--;
  if (i < 0) return false;
  const after = records.slice(i);
  return !after.some((r) => r.event === 'interrupted') && after.some((r) => r.event === 'end' && r.exitCode === 0);
}

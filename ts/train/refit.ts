/**
 * The refit of a fine-tuning run (docs/finetune.md): with valid_split holdout, the run on the training
 * split minus the holdout chooses U* (the updates of its checkpoint_best.pt, by fairseq's own rule);
 * a second fairseq-train then trains from the start on the whole training split for exactly U*
 * updates in RUN/refit/ (a run folder of its own). Its checkpoint_last.pt, or without refit the first
 * run's checkpoint_best.pt, becomes RUN/checkpoint_final.pt: the model that is scored and evaluated.
 */
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { specHash } from '../config/compose.js';
import { LAST_CHECKPOINT, TRAIN_LOG, launchFinished, readFolderState, readRunLog } from './folder.js';
import { REFIT_DIR, planRefitCommand, type FinetuneSpec } from './finetune-spec.js';
import { launchTraining } from './launch.js';
import { summarizeRun, type RunRecord } from './log.js';

/** The run's final model (what is scored and evaluated), relative to the run folder. */
export const FINAL_CHECKPOINT = 'checkpoint_final.pt';
export const FINAL_PARTIAL = `.${FINAL_CHECKPOINT}.partial`;

/** The refit's own numbers (result.json's refitRun). */
export interface RefitRun {
  updates: number;
  epochs: number;
  attempts: number;
  wallSeconds: number;
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

export interface RefitContext {
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
export async function runRefit(
  spec: FinetuneSpec,
  hash: string,
  runDir: string,
  updates: number,
  ctx: RefitContext,
): Promise<{ run: RefitRun; examples: number }> {
  const dir = join(runDir, REFIT_DIR);
  const recordSpec = { ...spec, max_update: updates, patience: -1, phase: 'refit', refit_of: hash };
  const refitHash = specHash(recordSpec);
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
export async function publishFinal(runDir: string, source: string): Promise<void> {
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

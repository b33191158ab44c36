/**
 * One job runner for every fairseq-train job: pre-training (run.ts; also each point of a size sweep)
 * and fine-tuning (finetune.ts). A kind of job supplies its spec's hash, its run files, its input
 * checks, its command, what it counts while checking, and its further steps and result fields; the
 * steps themselves exist once:
 *
 *   plan     the run folder's state and the spec's hash decide (folder.ts, planRun): fresh, resume,
 *            done (the result is returned, nothing runs), restart, or refuse (one message, naming
 *            the keys in which the folder's spec differs)
 *   restart  the kind's run files are removed, nothing else
 *   inputs   the kind's checks of its inputs, before anything is written
 *   check    the argv through fairseq's own parser (the bridge), and the kind's counts (--no-check skips)
 *   launch   fairseq-train in the run folder (launch.ts), resumed from checkpoint_last.pt when planned
 *   finish   the kind's further steps (a fine-tuning's refit) and its result fields
 *   result   RUN/result.json, written atomically: kind, createdBy, name, hash, the kind's fields, then
 *            the training summary (best, last, epochs, updates, stopReason, attempts, wallSeconds,
 *            finishedAt)
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { VERSION } from '../common/version.js';
import { withBridge, type PythonBridge } from '../bridge/bridge.js';
import { defaultThreads, pythonEnv } from '../bridge/python.js';
import { specDiff } from '../config/compose.js';
import {
  RESULT_FILE,
  launchFinished,
  planRun,
  readFolderState,
  readRunLog,
  removeRunFiles,
  type RunPlan,
} from './folder.js';
import { launchTraining } from './launch.js';
import { summarizeRun, type RunRecord, type RunSummary } from './log.js';
import type { RenderedCommand } from './render.js';
import type { TrainingSettings } from './settings.js';

/** A resolved spec a job runs (world_size: data-parallel GPUs, pre-training only). */
export type JobSpec = TrainingSettings & { world_size?: number };

export interface JobOptions {
  /** The run folder (created). */
  runDir: string;
  /** Resume from checkpoint_last.pt when the spec is the same (default true). */
  resume?: boolean;
  /** Start over even when the folder holds another spec's run. */
  force?: boolean;
  /** Check the argv with fairseq's parser through the bridge first (default true). */
  check?: boolean;
  /** OMP_NUM_THREADS of fairseq-train (default: OMP_NUM_THREADS or the number of cores). */
  threads?: number;
  /** Aborting stops fairseq-train (SIGTERM); run.jsonl records 'interrupted'; a later run resumes. */
  signal?: AbortSignal;
  /** Every record as it is written to run.jsonl. */
  onRecord?: (r: RunRecord) => void;
  /** Status lines (default: stderr). */
  log?: (msg: string) => void;
}

/** The fields of every result.json; a kind adds its own between `hash` and `best`. */
export interface JobResult {
  kind: string;
  createdBy: string;
  name: string;
  hash: string;
  best: RunSummary['best'];
  last: RunSummary['last'];
  epochs: number;
  updates: number;
  stopReason: RunSummary['stopReason'];
  attempts: number;
  wallSeconds: number;
  finishedAt: string;
}

/** What a kind's finishing step is handed. */
export interface JobContext<S, F> {
  spec: S;
  runDir: string;
  hash: string;
  facts: F;
  env: Record<string, string>;
  threads: number;
  resuming: boolean;
  signal?: AbortSignal;
  onRecord?: (r: RunRecord) => void;
  log: (msg: string) => void;
}

export interface JobKind<S extends JobSpec, F, C, R extends JobResult> {
  /** The CLI command (netflowgen pretrain, finetune): messages, and the progress bar's label. */
  command: 'pretrain' | 'finetune';
  resultKind: R['kind'];
  /** What "start over" removes from the run folder. */
  runFiles: readonly string[];
  hash(spec: S): string;
  readResult(runDir: string): R | undefined;
  /** Checks the inputs and reads the facts the job needs from them; throws before anything is written. */
  inputs(spec: S): F;
  render(spec: S, runDir: string): RenderedCommand;
  /** Examples of an epoch (the progress bar's guess until fairseq logs the epoch's size). */
  examples(facts: F): number;
  /** What is counted through the bridge after fairseq's parser accepted the command (--check). */
  count?(bridge: PythonBridge, spec: S, facts: F): Promise<C>;
  /** A resumed run whose last launch ended normally is not launched again: the finishing step goes on. */
  keepsFinishedLaunch?: boolean;
  /** Steps after the launch, and the result's own fields (seconds: training time beyond the launch's). */
  finish(
    ctx: JobContext<S, F>,
    summary: RunSummary,
    counted: C | null,
  ): Promise<{ fields: Omit<R, keyof JobResult>; seconds?: number }>;
}

export interface JobOutcome<R> {
  runDir: string;
  /** 'skipped': the folder already held a finished run of this spec. */
  status: 'trained' | 'resumed' | 'skipped';
  result: R;
}

/** The plan for a run folder; refuses (throws) a folder of another spec or of unknown origin unless forced. */
export function planJob(
  runDir: string,
  spec: object,
  hash: string,
  opts: Pick<JobOptions, 'resume' | 'force'>,
): RunPlan {
  const state = readFolderState(runDir);
  const plan = planRun(state, hash, { resume: opts.resume ?? true, force: opts.force ?? false });
  if (plan.action === 'refuse') {
    const diff = state.previousSpec
      ? specDiff(state.previousSpec, { ...spec, hash } as Record<string, unknown>).filter((k) => k !== 'hash')
      : [];
    throw new Error(
      `${runDir}: ${plan.reason}${diff.length ? ` (differs in ${diff.join(', ')})` : ''}; pass --force to start it over, or choose another --out`,
    );
  }
  return plan;
}

/** Runs (or resumes, or skips) a job of `kind` in opts.runDir, and writes its result.json. */
export async function runJob<S extends JobSpec, F, C, R extends JobResult>(
  kind: JobKind<S, F, C, R>,
  spec: S,
  opts: JobOptions,
): Promise<JobOutcome<R>> {
  const { runDir } = opts;
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const hash = kind.hash(spec);
  const plan = planJob(runDir, spec, hash, opts);
  if (plan.action === 'done') {
    const result = kind.readResult(runDir);
    if (result) return { runDir, status: 'skipped', result };
  }
  if (plan.action === 'restart') {
    log(`${runDir}: starting over (${plan.reason})`);
    await removeRunFiles(runDir, kind.runFiles);
  }
  const facts = kind.inputs(spec);
  const threads = opts.threads ?? defaultThreads();
  const env = pythonEnv(threads);
  const cmd = kind.render(spec, runDir);
  // Checked before anything is written, so that a rejected spec leaves no trace in the run folder.
  let counted: C | null = null;
  if (opts.check ?? true)
    counted = await withBridge(async (b) => {
      const check = await b.checkTrainArgs(cmd.argv.slice(1));
      if (!check.ok)
        throw new Error(
          `fairseq rejects the command of ${spec.name} (netflowgen ${kind.command} --dry-run shows it):\n${check.errors.map((e) => `  ${e}`).join('\n')}`,
        );
      return kind.count ? kind.count(b, spec, facts) : null;
    });
  const resuming = plan.action === 'resume';
  let summary: RunSummary;
  if (kind.keepsFinishedLaunch && resuming && launchFinished(readRunLog(runDir))) {
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
      label: `${kind.command} ${spec.name}`,
      perEpochGuess: Math.max(1, Math.ceil(kind.examples(facts) / spec.batch_size / (spec.world_size ?? 1))),
      maxEpoch: spec.max_epoch,
      maxUpdate: spec.max_update,
      signal: opts.signal,
      onRecord: opts.onRecord,
      log,
    });
  }
  const ctx = { spec, runDir, hash, facts, env, threads, resuming, signal: opts.signal, onRecord: opts.onRecord, log };
  const { fields, seconds = 0 } = await kind.finish(ctx, summary, counted);
  const result = {
    kind: kind.resultKind,
    createdBy: `netflowgen ${VERSION}`,
    name: spec.name,
    hash,
    ...fields,
    best: summary.best,
    last: summary.last,
    epochs: summary.epochs,
    updates: summary.updates,
    stopReason: summary.stopReason,
    attempts: summary.attempts,
    wallSeconds: Math.round((summary.wallSeconds + seconds) * 10) / 10,
    finishedAt: new Date().toISOString(),
  } as R;
  await writeFileAtomic(join(runDir, RESULT_FILE), JSON.stringify(result, null, 2) + '\n');
  return { runDir, status: resuming ? 'resumed' : 'trained', result };
}

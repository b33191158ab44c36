/**
 * `netflowgen pretrain`: one fairseq-train run of a resolved spec, in its own run folder.
 *
 *   RUN/spec.resolved.json  the spec that runs (its hash decides whether RUN may be resumed)
 *   RUN/command.txt         the rendered command, pasteable into a shell
 *   RUN/run.jsonl           every parsed fairseq record and our own events (start, resume, end, interrupted)
 *   RUN/train.log           fairseq's raw output
 *   RUN/checkpoint_best.pt, checkpoint_last.pt   fairseq's checkpoints (--save-dir RUN)
 *   RUN/result.json         written when training ends: best validation metrics, epochs, updates, time, parameters
 *
 * Resuming needs nothing from us but the same --save-dir: fairseq-train loads checkpoint_last.pt by
 * itself (--restore-file defaults to it), and seeds every update with seed + update number and every
 * epoch's shuffle with seed + epoch, so a resumed run ends where an uninterrupted one does.
 */
import { appendFileSync, existsSync, promises as fsp, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeFileAtomic } from '../common/atomic.js';
import { createProgress } from '../common/progress.js';
import { VERSION } from '../common/version.js';
import { BinnedDataset } from '../datasets/binned.js';
import { withBridge, type ArchOverrides, type ModelDims, type ParameterCount } from '../bridge/bridge.js';
import { pythonBin, pythonEnv, defaultThreads } from '../bridge/python.js';
import { lastPythonError, parseLogLine, summarizeRun, type RunRecord, type RunSummary } from './log.js';
import { commandText, renderCommand, type RenderedCommand } from './render.js';
import { ARCH_SIZES, specDiff, specHash, type ExperimentSpec } from './spec.js';

export const SPEC_FILE = 'spec.resolved.json';
export const COMMAND_FILE = 'command.txt';
export const RUN_LOG = 'run.jsonl';
export const TRAIN_LOG = 'train.log';
export const RESULT_FILE = 'result.json';
export const LAST_CHECKPOINT = 'checkpoint_last.pt';
export const BEST_CHECKPOINT = 'checkpoint_best.pt';
/** What "start over" removes from a run folder (nothing else is touched). */
const RUN_FILES = [
  SPEC_FILE,
  COMMAND_FILE,
  RUN_LOG,
  TRAIN_LOG,
  RESULT_FILE,
  LAST_CHECKPOINT,
  BEST_CHECKPOINT,
  'eval',
  'table4.json',
  'table4.md',
];

// ---------------------------------------------------------------- what to do with a run folder

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

export function readFolderState(runDir: string): RunFolderState & { previousSpec?: ExperimentSpec } {
  let previousSpec: (ExperimentSpec & { hash?: string }) | undefined;
  try {
    previousSpec = JSON.parse(readFileSync(join(runDir, SPEC_FILE), 'utf8')) as ExperimentSpec & { hash?: string };
  } catch {
    previousSpec = undefined;
  }
  return {
    previousSpec,
    previousHash: previousSpec ? specHash(stripHash(previousSpec)) : undefined,
    hasCheckpoint: existsSync(join(runDir, LAST_CHECKPOINT)),
    hasResult: existsSync(join(runDir, RESULT_FILE)),
  };
}

function stripHash(s: ExperimentSpec & { hash?: string }): ExperimentSpec {
  const { hash: _h, ...rest } = s;
  return rest as ExperimentSpec;
}

// ---------------------------------------------------------------- dataset facts the model needs

/** The sizes a model is built for, from the dataset's manifest and the spec. */
export function modelDims(spec: ExperimentSpec, ds: BinnedDataset): ModelDims {
  const m = ds.manifest;
  const nFeatures =
    spec.feature_set === 'light' ? m.featureGroups.filter((g) => g === 'volume').length : m.features.length;
  return {
    nNodeIds: m.nodeIds,
    nCustomers: m.customers.length,
    nFeatures,
    nBins: m.nBins,
    window: spec.window ?? m.windowLength,
  };
}

/** The spec's size overrides as fairseq argument names. */
export function archOverrides(spec: ExperimentSpec): ArchOverrides {
  const o: ArchOverrides = { dropout: spec.dropout };
  if (spec.model?.layers) o.decoder_layers = spec.model.layers;
  if (spec.model?.heads) o.decoder_attention_heads = spec.model.heads;
  if (spec.model?.width) o.decoder_embed_dim = spec.model.width;
  if (spec.model?.ffn) o.decoder_ffn_embed_dim = spec.model.ffn;
  return o;
}

export function archSizes(spec: ExperimentSpec): { layers: number; heads: number; width: number; ffn: number } {
  return { ...ARCH_SIZES[spec.arch], ...(spec.model ?? {}) };
}

// ---------------------------------------------------------------- the run

export interface RunResult {
  kind: 'netflowgen.pretrain-result';
  createdBy: string;
  name: string;
  hash: string;
  dataset: string;
  arch: string;
  sizes: { layers: number; heads: number; width: number; ffn: number };
  learning_rate: number;
  dropout: number;
  batch_size: number;
  /** From the bridge (python/bridge.py count_parameters); null when the check was skipped. */
  params: ParameterCount | null;
  /** What fairseq-train printed as the model's parameter count. */
  fairseqParams: number | null;
  best: RunSummary['best'];
  last: RunSummary['last'];
  epochs: number;
  updates: number;
  stopReason: RunSummary['stopReason'];
  attempts: number;
  wallSeconds: number;
  finishedAt: string;
}

export interface PretrainOptions {
  /** The run folder (created). */
  runDir: string;
  /** Resume from checkpoint_last.pt when the spec is the same (default true). */
  resume?: boolean;
  /** Start over even when the folder holds another spec's run. */
  force?: boolean;
  /** Check the argv with fairseq's parser and count parameters through the bridge first (default true). */
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

export interface PretrainOutcome {
  runDir: string;
  /** 'skipped': the folder already held a finished run of this spec. */
  status: 'trained' | 'resumed' | 'skipped';
  result: RunResult;
}

/** An interruption (Ctrl-C or an aborted signal): the run can be resumed. */
export class RunInterrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbortError';
  }
}

/** The rendered command of a spec in a run folder (what --dry-run prints). */
export function planCommand(spec: ExperimentSpec, runDir: string): RenderedCommand {
  return renderCommand(spec, { saveDir: runDir });
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

export function readResult(runDir: string): RunResult | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, RESULT_FILE), 'utf8')) as RunResult;
  } catch {
    return undefined;
  }
}

/** Removes a run's own files (nothing else in the folder). */
export async function removeRunFiles(runDir: string, files: readonly string[] = RUN_FILES): Promise<void> {
  for (const f of files) await fsp.rm(join(runDir, f), { recursive: true, force: true });
}

/**
 * Starts a command so that it dies with us: on Linux the child asks for SIGTERM when its parent dies
 * (prctl PR_SET_PDEATHSIG, kept across exec), then execs the command. Without it, a `kill -9` of
 * netflowgen left fairseq-train training on with nobody reading its output: its epochs were saved
 * in checkpoint_last.pt but never logged, and the resumed run reported 1 epoch of 3.
 */
const DIE_WITH_PARENT = [
  'import ctypes, os, signal, sys',
  'try:',
  '    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)',
  'except Exception:',
  '    pass',
  'if os.getppid() != int(sys.argv[1]):',
  '    sys.exit(1)',
  'os.execvp(sys.argv[2], sys.argv[2:])',
].join('\n');

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

/** One fairseq-train launch in a run folder: what to run and how to show its progress. */
export interface TrainingLaunch {
  runDir: string;
  /** Run name, for messages. */
  name: string;
  /** Written to spec.resolved.json (the resolved spec; its hash is added). */
  spec: object;
  hash: string;
  cmd: RenderedCommand;
  env: Record<string, string>;
  threads: number;
  /** Resuming from checkpoint_last.pt (recorded in run.jsonl). */
  resuming: boolean;
  /** Progress bar label, and the updates per epoch to assume until fairseq says. */
  label: string;
  perEpochGuess: number;
  maxEpoch: number;
  /** 0 = no limit. */
  maxUpdate: number;
  signal?: AbortSignal;
  onRecord?: (r: RunRecord) => void;
  log: (msg: string) => void;
}

/**
 * Writes spec.resolved.json and command.txt, runs fairseq-train with its output parsed into run.jsonl
 * and kept in train.log, a progress bar in updates, and Ctrl-C stopping it cleanly (RunInterrupted).
 * Throws on a failed run, naming Python's error line; returns the summary of run.jsonl.
 */
export async function launchTraining(job: TrainingLaunch): Promise<RunSummary> {
  const { runDir, cmd, env, log } = job;
  await fsp.mkdir(runDir, { recursive: true });
  await writeFileAtomic(join(runDir, SPEC_FILE), JSON.stringify({ ...job.spec, hash: job.hash }, null, 2) + '\n');
  await writeFileAtomic(join(runDir, COMMAND_FILE), commandText(cmd, env));

  const write = (r: RunRecord) => {
    appendFileSync(join(runDir, RUN_LOG), JSON.stringify(r) + '\n');
    job.onRecord?.(r);
    if (r.event === 'checkpoint_loaded' && job.resuming) {
      const dropped = pruneAfterCheckpoint(runDir, Number(r.updates));
      const note: RunRecord = {
        event: 'resume_point',
        time: new Date().toISOString(),
        epoch: r.epoch,
        updates: r.updates,
        redone: Math.max(0, dropped),
        logged: dropped >= 0,
      };
      appendFileSync(join(runDir, RUN_LOG), JSON.stringify(note) + '\n');
      job.onRecord?.(note);
      if (dropped < 0)
        log(
          `warning: ${runDir}: the checkpoint resumed from (${r.updates} updates) was saved after the last logged record; run.jsonl misses that part of the run`,
        );
    }
  };
  const t0 = Date.now();
  write({
    event: 'start',
    time: new Date(t0).toISOString(),
    hash: job.hash,
    resume: job.resuming,
    argv: cmd.argv,
    threads: job.threads,
    netflowgen: VERSION,
  });
  if (job.resuming) {
    write({ event: 'resume', time: new Date(t0).toISOString(), checkpoint: join(runDir, LAST_CHECKPOINT) });
    log(`${runDir}: resuming from ${LAST_CHECKPOINT}`);
  }

  // Progress in updates: the epoch size is known once fairseq logs it; until then, the caller's guess.
  const totalOf = (perEpoch: number) =>
    job.maxUpdate > 0 ? Math.min(job.maxUpdate, perEpoch * job.maxEpoch) : perEpoch * job.maxEpoch;
  const bar = createProgress(
    job.label,
    totalOf(job.perEpochGuess),
    '{bar} {percentage}% | epoch {epoch} | step {value}/{total} | loss {loss} | {ups} steps/s | ETA {eta_formatted}',
  );
  const payload = { epoch: '-', loss: '-', ups: '-' };
  let step = 0;
  bar.update(0, payload);

  const tail: string[] = [];
  const trainLog = join(runDir, TRAIN_LOG);
  const child = execa(pythonBin(), ['-c', DIE_WITH_PARENT, String(process.pid), ...cmd.argv], {
    env,
    all: true,
    buffer: false,
    reject: false,
    stdin: 'ignore',
    cancelSignal: job.signal,
    killSignal: 'SIGTERM',
    forceKillAfterDelay: 15_000,
  });
  try {
    for await (const line of child.iterable({ from: 'all' })) {
      appendFileSync(trainLog, line + '\n');
      tail.push(line);
      if (tail.length > 60) tail.shift();
      const r = parseLogLine(line);
      if (!r) continue;
      write(r);
      if (r.event === 'epoch_size') bar.setTotal(totalOf(Number(r.updates)));
      else if (r.event === 'train_inner') {
        payload.epoch = String(r.epoch);
        payload.loss = typeof r.loss === 'number' ? r.loss.toFixed(3) : String(r.loss);
        payload.ups = String(r.ups);
        step = Number(r.num_updates);
        bar.update(step, payload);
      } else if (r.event === 'checkpoint_loaded') {
        payload.epoch = String(r.epoch);
        step = Number(r.updates);
        bar.update(step, payload);
      } else if (r.event === 'train') {
        step = Number(r.train_num_updates) || step;
        bar.update(step, payload);
      }
    }
  } catch {
    // the iterable throws when the child is cancelled; the result below says what happened
  }
  const res = await child;
  bar.stop();
  const seconds = (Date.now() - t0) / 1000;
  // Ours (abort), a signal to fairseq-train alone, or Ctrl-C reaching it first (KeyboardInterrupt).
  const interrupted =
    Boolean(job.signal?.aborted) ||
    res.isCanceled ||
    res.signal === 'SIGINT' ||
    res.signal === 'SIGTERM' ||
    lastPythonError(tail) === 'KeyboardInterrupt';
  if (interrupted) {
    const last = readRunLog(runDir)
      .filter((r) => r.event === 'checkpoint')
      .pop();
    write({
      event: 'interrupted',
      time: new Date().toISOString(),
      signal: res.signal ?? 'abort',
      lastCheckpointEpoch: last?.epoch ?? null,
    });
    write({
      event: 'end',
      time: new Date().toISOString(),
      exitCode: res.exitCode ?? null,
      signal: res.signal ?? null,
      seconds,
    });
    throw new RunInterrupted(
      last
        ? `interrupted; ${runDir} holds the checkpoint of epoch ${last.epoch}: run the same command again to resume`
        : `interrupted before the first checkpoint; running the same command again starts ${job.name} from the beginning`,
    );
  }
  write({
    event: 'end',
    time: new Date().toISOString(),
    exitCode: res.exitCode ?? null,
    signal: res.signal ?? null,
    seconds,
  });
  if (res.exitCode !== 0) {
    const why = lastPythonError(tail) ?? tail.slice(-5).join('\n');
    throw new Error(
      `fairseq-train failed (exit code ${res.exitCode}): ${why}\n  full output: ${trainLog}\n  command: ${join(runDir, COMMAND_FILE)}`,
    );
  }
  return summarizeRun(readRunLog(runDir));
}

/** Runs (or resumes, or skips) the spec's training in `opts.runDir`. */
export async function runPretrain(spec: ExperimentSpec, opts: PretrainOptions): Promise<PretrainOutcome> {
  const { runDir } = opts;
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const hash = specHash(spec);
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
  if (plan.action === 'done') {
    const result = readResult(runDir);
    if (result) return { runDir, status: 'skipped', result };
  }
  if (plan.action === 'restart') {
    log(`${runDir}: starting over (${plan.reason})`);
    await removeRunFiles(runDir);
  }
  const threads = opts.threads ?? defaultThreads();
  const env = pythonEnv(threads);
  const cmd = planCommand(spec, runDir);
  const ds = BinnedDataset.open(spec.dataset);
  const dims = modelDims(spec, ds);
  // Checked before anything is written, so that a rejected spec leaves no trace in the run folder.
  let params: ParameterCount | null = null;
  if (opts.check ?? true) {
    params = await withBridge(async (b) => {
      const check = await b.checkTrainArgs(cmd.argv.slice(1));
      if (!check.ok)
        throw new Error(
          `fairseq rejects the command of ${spec.name} (netflowgen pretrain --dry-run shows it):\n${check.errors.map((e) => `  ${e}`).join('\n')}`,
        );
      return b.countParameters(spec.arch, archOverrides(spec), dims);
    });
  }
  const resuming = plan.action === 'resume';
  const windows = ds.manifest.windows.train.count;
  const summary = await launchTraining({
    runDir,
    name: spec.name,
    spec,
    hash,
    cmd,
    env,
    threads,
    resuming,
    label: `pretrain ${spec.name}`,
    perEpochGuess: Math.max(1, Math.ceil(windows / spec.batch_size / spec.world_size)),
    maxEpoch: spec.max_epoch,
    maxUpdate: spec.max_update,
    signal: opts.signal,
    onRecord: opts.onRecord,
    log,
  });

  const result: RunResult = {
    kind: 'netflowgen.pretrain-result',
    createdBy: `netflowgen ${VERSION}`,
    name: spec.name,
    hash,
    dataset: spec.dataset,
    arch: spec.arch,
    sizes: archSizes(spec),
    learning_rate: spec.learning_rate,
    dropout: spec.dropout,
    batch_size: spec.batch_size,
    params,
    fairseqParams: summary.fairseqParams,
    best: summary.best,
    last: summary.last,
    epochs: summary.epochs,
    updates: summary.updates,
    stopReason: summary.stopReason,
    attempts: summary.attempts,
    wallSeconds: Math.round(summary.wallSeconds * 10) / 10,
    finishedAt: new Date().toISOString(),
  };
  if (params && summary.fairseqParams !== null && params.total !== summary.fairseqParams)
    log(`warning: the bridge counts ${params.total} parameters, fairseq-train printed ${summary.fairseqParams}`);
  await writeFileAtomic(join(runDir, RESULT_FILE), JSON.stringify(result, null, 2) + '\n');
  return { runDir, status: resuming ? 'resumed' : 'trained', result };
}

/**
 * One fairseq-train launch in a run folder (ts/train/folder.ts): spec.resolved.json and command.txt
 * written, fairseq's output parsed into run.jsonl (log.ts) and kept in train.log, a progress bar in
 * updates, and Ctrl-C or an aborted signal stopping it cleanly (RunInterrupted; a later launch resumes).
 *
 * Resuming needs nothing from us but the same --save-dir: fairseq-train loads checkpoint_last.pt by
 * itself (--restore-file defaults to it), and seeds every update with seed + update number and every
 * epoch's shuffle with seed + epoch, so a resumed run ends where an uninterrupted one does.
 */
import { appendFileSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeFileAtomic } from '../common/atomic.js';
import { createProgress } from '../common/progress.js';
import { VERSION } from '../common/version.js';
import { jobArgv, pythonBin } from '../bridge/python.js';
import {
  COMMAND_FILE,
  LAST_CHECKPOINT,
  RUN_LOG,
  RunInterrupted,
  SPEC_FILE,
  TRAIN_LOG,
  pruneAfterCheckpoint,
  readRunLog,
} from './folder.js';
import { lastPythonError, parseLogLine, summarizeRun, type RunRecord, type RunSummary } from './log.js';
import { commandText, type RenderedCommand } from './render.js';

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
  const argv = await jobArgv(cmd.argv);
  const child = execa(pythonBin(), ['-c', DIE_WITH_PARENT, String(process.pid), ...argv], {
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
  const end = (): RunRecord => ({
    event: 'end',
    time: new Date().toISOString(),
    exitCode: res.exitCode ?? null,
    signal: res.signal ?? null,
    seconds,
  });
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
    write(end());
    throw new RunInterrupted(
      last
        ? `interrupted; ${runDir} holds the checkpoint of epoch ${last.epoch}: run the same command again to resume`
        : `interrupted before the first checkpoint; running the same command again starts ${job.name} from the beginning`,
    );
  }
  write(end());
  if (res.exitCode !== 0) {
    const why = lastPythonError(tail) ?? tail.slice(-5).join('\n');
    throw new Error(
      `fairseq-train failed (exit code ${res.exitCode}): ${why}\n  full output: ${trainLog}\n  command: ${join(runDir, COMMAND_FILE)}`,
    );
  }
  return summarizeRun(readRunLog(runDir));
}

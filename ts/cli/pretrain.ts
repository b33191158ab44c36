import { join, resolve } from 'node:path';
import { findSpecFile } from './spec-file.js';
import type { Argv, CommandModule } from 'yargs';
import { parseSetArgs, type OverrideLayer } from '../config/compose.js';
import { commandText, type RenderedCommand } from '../train/render.js';
import type { JobOptions } from '../train/job.js';
import { planCommand, runPretrain, type RunResult } from '../train/run.js';
import { loadSpec } from '../train/spec.js';
import { pythonEnv, defaultThreads } from '../bridge/python.js';
import { refuseInputsInside } from '../common/atomic.js';
import { interruptSignal, PRECISION_OPTIONS, runCommand, runFolderOptions } from './util.js';

/** Ctrl-C stops fairseq-train; the same command resumes from the last checkpoint. */
export const trainInterruptSignal = (): AbortSignal =>
  interruptSignal('stopping fairseq-train; the same command resumes from the last checkpoint');

/** Options shared by pretrain and sweep: where runs go and what the command line overrides in the spec. */
export interface TrainArgs {
  spec: string;
  out: string;
  dataset?: string;
  set?: string[];
  device?: string;
  bf16?: boolean;
  fp16?: boolean;
  'world-size'?: number;
  threads?: number;
  resume: boolean;
  force: boolean;
  check: boolean;
}

export function trainOptions<T>(y: Argv<T>) {
  return y
    .positional('spec', { type: 'string', demandOption: true, describe: 'experiment spec (JSON, see experiments/)' })
    .option('out', {
      alias: 'o',
      type: 'string',
      default: 'runs',
      describe: 'runs folder: each run goes to OUT/<spec name>',
    })
    .option('dataset', { type: 'string', describe: "binned dataset folder (overrides the spec's dataset)" })
    .option('set', {
      type: 'string',
      array: true,
      describe: 'override a spec key: key=value (JSON value), e.g. learning_rate=1e-4 model.layers=6',
    })
    .options(PRECISION_OPTIONS)
    .option('world-size', { type: 'number', describe: 'GPUs for distributed training (--distributed-world-size)' })
    .option('threads', {
      type: 'number',
      describe: 'OMP_NUM_THREADS of fairseq-train (default: OMP_NUM_THREADS or the number of cores)',
    })
    .options(runFolderOptions("check the command with fairseq's parser and count parameters"))
    .conflicts('bf16', 'fp16');
}

/** The command line's changes to the spec, as override layers (validated like spec files). */
export function cliOverrides(a: Omit<TrainArgs, 'spec' | 'out'>): OverrideLayer[] {
  const values: Record<string, unknown> = {};
  if (a.dataset !== undefined) values.dataset = resolve(a.dataset);
  if (a.device !== undefined) values.device = a.device;
  if (a.bf16) values.precision = 'bf16';
  if (a.fp16) values.precision = 'fp16';
  if ((a.bf16 || a.fp16) && a.device === undefined) values.device = 'cuda';
  if (a['world-size'] !== undefined) values.world_size = a['world-size'];
  return [parseSetArgs(a.set ?? []), { source: 'command line', values }];
}

export function resultLine(r: RunResult): string {
  const b = r.best;
  const metrics = b
    ? `best valid loss ${b.loss.toFixed(4)}, ppl ${b.ppl.toFixed(4)}, acc ${b.acc?.toFixed(4) ?? '-'} (epoch ${b.epoch})`
    : 'no validation';
  const params = r.params ? `, ${r.params.total.toLocaleString('en-US')} parameters` : '';
  return `${r.name}: ${metrics}; ${r.epochs} epochs, ${r.updates} updates, ${r.wallSeconds} s${params}${r.stopReason ? `, stopped by ${r.stopReason}` : ''}`;
}

interface Args extends TrainArgs {
  'dry-run': boolean;
}

/**
 * The steps a training command shares (pretrain, finetune): the run folder OUT/<spec name>; --dry-run
 * prints the fairseq-train command and stops (no outcome); --force and --no-resume never start over in
 * a folder holding one of the spec's inputs; a finished run of the same spec is skipped, and said so.
 */
export async function trainRun<S extends { name: string }, O extends { status: string }>(
  a: Pick<TrainArgs, 'out' | 'threads' | 'resume' | 'force' | 'check'> & { 'dry-run': boolean },
  spec: S,
  job: {
    plan: (spec: S, runDir: string) => RenderedCommand;
    inputs: (string | undefined)[];
    run: (spec: S, opts: JobOptions) => Promise<O>;
  },
): Promise<{ runDir: string; outcome?: O }> {
  const runDir = resolve(join(a.out, spec.name));
  if (a['dry-run']) {
    process.stdout.write(commandText(job.plan(spec, runDir), pythonEnv(a.threads ?? defaultThreads())));
    return { runDir };
  }
  if (a.force || !a.resume) await refuseInputsInside(runDir, job.inputs);
  const { resume, force, check, threads } = a;
  const outcome = await job.run(spec, { runDir, resume, force, check, threads, signal: trainInterruptSignal() });
  if (outcome.status === 'skipped')
    process.stderr.write(`${runDir} already holds this finished run (--force to train again)\n`);
  return { runDir, outcome };
}

export const pretrainCommand: CommandModule<object, Args> = {
  command: 'pretrain <spec>',
  describe: 'Pre-train the model of an experiment spec with fairseq-train (resumable; run folder OUT/<name>)',
  builder: (y) =>
    trainOptions(y)
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the fairseq-train command and stop' })
      .example(
        '$0 pretrain experiments/pretrain/tiny.json --dataset out/binned --dry-run',
        'show the command that would run',
      )
      .example(
        '$0 pretrain experiments/pretrain/tiny.json --dataset out/binned',
        'train on the CPU; Ctrl-C stops, the same command resumes',
      )
      .example(
        '$0 pretrain experiments/pretrain/netflowgen-4-4-512-2048.json --device cuda --bf16',
        'a Table 10 size on a GPU',
      )
      .example(
        '$0 pretrain experiments/pretrain/tiny.json --set learning_rate=1e-3 --set max_epoch=20 --force',
        'change the spec from the command line',
      ),
  handler: runCommand(async (a) => {
    const { spec } = loadSpec(findSpecFile(a.spec), cliOverrides(a));
    const { runDir, outcome } = await trainRun(a, spec, {
      plan: planCommand,
      inputs: [spec.dataset],
      run: runPretrain,
    });
    if (outcome) process.stdout.write(`${resultLine(outcome.result)}\n  ${join(runDir, 'result.json')}\n`);
  }),
};

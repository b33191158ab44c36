/** `netflowgen reproduce`: the paper's tables and figures from one command (ts/reproduce/). */
import { relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { formatSeconds } from '../reproduce/progress.js';
import { reproduce, type ReproduceOptions } from '../reproduce/reproduce.js';
import { interruptSignal, runCommand } from './util.js';

/** The command line: the reproduce options under their own names, and the flags the CLI turns into options. */
interface Args extends Pick<
  ReproduceOptions,
  'preset' | 'only' | 'set' | 'out' | 'threads' | 'jobs' | 'redo' | 'device'
> {
  'save-results': boolean;
  check: boolean;
  bf16?: boolean;
  fp16?: boolean;
  'dry-run': boolean;
}

export const rel = (p: string) => {
  const r = relative(process.cwd(), p);
  return r.startsWith('..') ? p : r;
};

export const reproduceCommand: CommandModule<object, Args> = {
  command: 'reproduce',
  describe:
    "Reproduce the paper's tables and figures: synth (or your flows), serialize, bin, datasets, baseline, pretrain, finetune, evaluate, report; cached and resumable stage by stage",
  builder: (y) =>
    y
      .option('preset', {
        alias: 'p',
        type: 'string',
        default: 'tiny',
        describe:
          'micro (tests, seconds), tiny (the CPU demo, minutes), small (CPU, about an hour), paper (GPU), or a preset file (experiments/presets/)',
      })
      .option('only', {
        type: 'string',
        array: true,
        describe:
          'tables and figures to make, e.g. table4,table10 (default: all of the preset\u2019s: table1 table2 table7 table4 table10 table5 table6 table8 table9 figure5)',
      })
      .option('set', {
        type: 'string',
        array: true,
        describe:
          'override a preset key: key.path=value (JSON value), e.g. data.synth.seed=2 pretrain.set.max_epoch=10',
      })
      .option('out', {
        alias: 'o',
        type: 'string',
        describe: 'output folder (default out/<preset>): stages/, report/, reproduce.json',
      })
      .option('threads', {
        type: 'number',
        describe:
          'OMP threads of training and scoring (default: OMP_NUM_THREADS or the number of cores; with --jobs N, cores / N)',
      })
      .option('jobs', {
        alias: 'j',
        type: 'number',
        describe:
          "stages (trainings, scorings) run side by side when their inputs are ready (default: the preset's jobs, else 1)",
      })
      .option('check', {
        type: 'boolean',
        default: false,
        describe: "check every training command with fairseq's parser before it runs (a few seconds each)",
      })
      .option('redo', {
        type: 'string',
        array: true,
        describe:
          'stages to run again although they are done (a kind such as pretrain, or a stage id such as pretrain:main), and everything after them',
      })
      .option('device', {
        type: 'string',
        choices: ['cpu', 'cuda'] as const,
        describe: 'device of every training run (default: the specs\u2019, cpu; the paper preset: cuda)',
      })
      .option('bf16', { type: 'boolean', describe: 'train in bfloat16 (cuda, or the cpu with --device cpu)' })
      .option('fp16', { type: 'boolean', describe: 'train in float16 (cuda)' })
      .option('save-results', {
        type: 'boolean',
        default: false,
        describe:
          "also write the run's numbers to experiments/results/<preset>.json and .md (committed beside the presets: a change that moves results shows in the diff)",
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'list the stages and which are already done; run nothing',
      })
      .example(
        '$0 reproduce',
        'the tiny synthetic preset on the CPU: every table and figure, report in out/tiny/report/',
      )
      .example('$0 reproduce --preset tiny --only table4,table10', 'only the pre-training tables (no fine-tuning)')
      .example(
        '$0 reproduce --preset small --set sizes.set.grid.arch=\'["netflowgen_4_4_128_512","netflowgen_4_4_256_1024"]\' --only table10',
        'sweep two model sizes on the small preset',
      )
      .example('$0 reproduce --preset paper --device cuda --bf16', "the paper's sizes on a GPU machine")
      .example('$0 reproduce --dry-run', 'what would run, what is cached'),
  handler: runCommand(async (a) => {
    if (a.bf16 && a.fp16) throw new Error('give --bf16 or --fp16, not both');
    const r = await reproduce({
      preset: a.preset,
      only: a.only,
      set: a.set,
      out: a.out,
      threads: a.threads,
      jobs: a.jobs,
      saveResults: a['save-results'],
      check: a.check,
      redo: a.redo,
      device: a.device,
      precision: a.bf16 ? 'bf16' : a.fp16 ? 'fp16' : undefined,
      dryRun: a['dry-run'],
      signal: interruptSignal('stopping; finished stages are kept, the running one resumes or restarts next time'),
    });
    if (a['dry-run']) {
      const done = r.outcomes.filter((o) => o.cached).length;
      process.stdout.write(`${r.plan.length} stages in ${rel(r.out)} (${done} done):\n`);
      for (const [i, s] of r.plan.entries())
        process.stdout.write(
          `  ${r.outcomes[i].cached ? 'done ' : 'to do'}  ${s.id.padEnd(34)} ${rel(s.dir)}${s.sameAs ? ` (same as ${s.sameAs})` : ''}\n`,
        );
      return;
    }
    const ran = r.outcomes.filter((o) => !o.cached).length;
    process.stdout.write(
      `\nreproduce: ${ran} stage(s) run, ${r.outcomes.length - ran} found done, ${formatSeconds(r.seconds)}\n`,
    );
    if (r.report) {
      for (const h of r.report.data.headline) process.stdout.write(`  ${h}\n`);
      process.stdout.write(`report: ${rel(r.report.html)}\n        ${rel(r.report.md)}\n`);
    }
  }),
};

import { join, resolve } from 'node:path';
import { findSpecFile } from './spec-file.js';
import type { CommandModule } from 'yargs';
import { parseSetArgs, type OverrideLayer } from '../config/compose.js';
import { runFinetune, type FinetuneResult } from '../train/finetune.js';
import { loadFinetuneSpec, planFinetuneCommand } from '../train/finetune-spec.js';
import { trainRun } from './pretrain.js';
import { PRECISION_OPTIONS, runCommand, runFolderOptions } from './util.js';

interface Args {
  spec: string;
  out: string;
  dataset?: string;
  pretrained?: string;
  set?: string[];
  device?: string;
  bf16?: boolean;
  fp16?: boolean;
  threads?: number;
  resume: boolean;
  force: boolean;
  check: boolean;
  score: boolean;
  'dry-run': boolean;
}

/** The command line's changes to a fine-tuning spec, as override layers (validated like spec files). */
export function finetuneOverrides(
  a: Pick<Args, 'dataset' | 'pretrained' | 'set' | 'device' | 'bf16' | 'fp16'>,
): OverrideLayer[] {
  const values: Record<string, unknown> = {};
  if (a.dataset !== undefined) values.dataset = resolve(a.dataset);
  if (a.pretrained !== undefined) values.pretrained = resolve(a.pretrained);
  if (a.device !== undefined) values.device = a.device;
  if (a.bf16) values.precision = 'bf16';
  if (a.fp16) values.precision = 'fp16';
  if ((a.bf16 || a.fp16) && a.device === undefined) values.device = 'cuda';
  return [parseSetArgs(a.set ?? []), { source: 'command line', values }];
}

export function finetuneResultLine(r: FinetuneResult): string {
  const b = r.best;
  const metrics = b
    ? `best valid loss ${b.loss.toFixed(4)}${typeof b.acc === 'number' ? `, acc ${b.acc.toFixed(4)}` : ''} (epoch ${b.epoch})`
    : 'no validation';
  const params = r.params
    ? `, ${r.params.total.toLocaleString('en-US')} parameters${r.params.trained !== null && r.params.trained !== r.params.total ? ` (${r.params.trained.toLocaleString('en-US')} trained)` : ''}`
    : '';
  return `${r.name} (${r.label}): ${metrics}; ${r.epochs} epochs, ${r.updates} updates on ${r.trainExamples} ${r.trainSplit} examples, ${r.wallSeconds} s${params}${r.stopReason ? `, stopped by ${r.stopReason}` : ''}`;
}

export const finetuneCommand: CommandModule<object, Args> = {
  command: 'finetune <spec>',
  describe:
    'Fine-tune for early DDoS detection (SAFE head on a pre-trained run, TF or MS-LSTM baseline) from a spec, then score the best checkpoint',
  builder: (y) =>
    y
      .positional('spec', {
        type: 'string',
        demandOption: true,
        describe: 'fine-tuning spec (JSON, see experiments/finetune/)',
      })
      .option('out', {
        alias: 'o',
        type: 'string',
        default: 'runs',
        describe: 'runs folder: the run goes to OUT/<spec name>',
      })
      .option('dataset', { type: 'string', describe: "EarlyDetect folder (overrides the spec's dataset)" })
      .option('pretrained', {
        type: 'string',
        describe: "pre-training run folder or checkpoint (overrides the spec's pretrained; netflowgen_safe)",
      })
      .option('set', {
        type: 'string',
        array: true,
        describe: 'override a spec key: key=value (JSON value), e.g. learning_rate=1e-3 attack_types=["DNS"]',
      })
      .options(PRECISION_OPTIONS)
      .option('threads', {
        type: 'number',
        describe: 'OMP_NUM_THREADS of fairseq-train and the scorer (default: OMP_NUM_THREADS or the number of cores)',
      })
      .options(runFolderOptions("check the command with fairseq's parser"))
      .option('score', {
        type: 'boolean',
        default: true,
        describe: "score the best checkpoint on the spec's eval_splits after training (--no-score skips)",
      })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the fairseq-train command and stop' })
      .conflicts('bf16', 'fp16')
      .example('$0 finetune experiments/finetune/netflowgen.json --dry-run', 'show the command that would run')
      .example(
        '$0 finetune experiments/finetune/netflowgen.json --pretrained runs/netflowgen-4-4-128-512',
        'the SAFE head on a pre-trained run (small split)',
      )
      .example(
        '$0 finetune experiments/finetune/tf-moredata.json --device cuda',
        'the from-scratch Transformer on the 5x larger split',
      )
      .example(
        '$0 finetune experiments/finetune/per-type/netflowgen-dns.json',
        'fine-tune on DNS attacks only (Table 6)',
      ),
  handler: runCommand(async (a) => {
    const { spec } = loadFinetuneSpec(findSpecFile(a.spec), finetuneOverrides(a));
    const { runDir, outcome } = await trainRun(a, spec, {
      plan: planFinetuneCommand,
      inputs: [spec.pretrained, spec.dataset],
      run: (s, opts) => runFinetune(s, { ...opts, score: a.score ? undefined : [] }),
    });
    if (!outcome) return;
    const scores = spec.eval_splits.filter(() => a.score).map((s) => join(runDir, 'eval', s, 'survival.f32'));
    process.stdout.write(
      `${finetuneResultLine(outcome.result)}\n  ${join(runDir, 'result.json')}\n${scores.map((s) => `  ${s}\n`).join('')}`,
    );
  }),
};

import type { CommandModule } from 'yargs';
import { formatBigram, runBigram } from '../baseline/run.js';
import { interruptSignal, QUIET_OPTION, DATASET_OPTION, runCommand } from './util.js';

interface Args {
  dataset: string;
  split: 'valid' | 'test';
  'per-node': boolean;
  out?: string;
  quiet: boolean;
}

export const baselineCommand: CommandModule<object, Args> = {
  command: 'baseline',
  describe:
    'Fit the bigram baseline (Table 4) on the training windows of a binned dataset and score it on the validation windows',
  builder: (y) =>
    y
      .option('dataset', DATASET_OPTION)
      .option('split', {
        type: 'string',
        choices: ['valid', 'test'] as const,
        default: 'valid' as const,
        describe: 'windows to score',
      })
      .option('per-node', {
        type: 'boolean',
        default: false,
        describe: 'one bigram table per node and feature instead of per feature pooled over nodes',
      })
      .option('out', { alias: 'o', type: 'string', describe: 'JSON result file (default DATASET/bigram.<split>.json)' })
      .option('quiet', QUIET_OPTION)
      .example('$0 baseline -d dataset', 'pooled bigram, validation loss, perplexity and accuracy per feature group')
      .example('$0 baseline -d dataset --per-node -o runs/bigram-per-node.json', 'one table per node'),
  handler: runCommand(async (a) => {
    const { result, out } = await runBigram({
      dataset: a.dataset,
      split: a.split,
      perNode: a['per-node'],
      out: a.out,
      signal: interruptSignal(),
    });
    if (a.quiet) return;
    process.stdout.write(
      `${formatBigram(result, result.perNode ? 'Bigram (per node)' : 'Bigram (pooled)')}wrote ${out}\n`,
    );
  }),
};

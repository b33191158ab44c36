import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { evaluatePretrain, type EvalSplit } from '../train/evaluate.js';
import { table4Markdown } from '../train/tables.js';
import { trainInterruptSignal } from './pretrain.js';
import { runCommand } from './util.js';

interface Args {
  run: string;
  baseline?: string[];
  split?: string[];
  checkpoint: string;
  'batch-size'?: number;
  threads?: number;
}

export const evaluatePretrainCommand: CommandModule<object, Args> = {
  command: 'evaluate-pretrain <run>',
  describe:
    "Table 4: a pre-training run's validation and test loss, perplexity and accuracy against the bigram baseline",
  builder: (y) =>
    y
      .positional('run', {
        type: 'string',
        demandOption: true,
        describe: 'run folder of netflowgen pretrain (runs/<name>)',
      })
      .option('baseline', {
        type: 'string',
        array: true,
        describe:
          'bigram result JSON of netflowgen baseline, one per split (default: DATASET/bigram.<split>.json, else computed)',
      })
      .option('split', {
        type: 'string',
        array: true,
        choices: ['valid', 'test'],
        describe: 'splits to score (default: valid and test)',
      })
      .option('checkpoint', {
        type: 'string',
        default: 'checkpoint_best.pt',
        describe: 'checkpoint file in the run folder',
      })
      .option('batch-size', { type: 'number', describe: 'windows per forward pass of python/score.py' })
      .option('threads', { type: 'number', describe: 'OMP_NUM_THREADS of python/score.py' })
      .example(
        '$0 evaluate-pretrain runs/tiny',
        'score the best checkpoint; bigram from the dataset folder or computed',
      )
      .example(
        '$0 evaluate-pretrain runs/tiny --baseline out/bigram.valid.json out/bigram.test.json',
        'with given baseline results',
      ),
  handler: runCommand(async (a) => {
    const { table, files } = await evaluatePretrain(resolve(a.run), {
      baselines: a.baseline,
      splits: a.split as EvalSplit[] | undefined,
      checkpoint: a.checkpoint,
      batchSize: a['batch-size'],
      threads: a.threads,
      signal: trainInterruptSignal(),
    });
    process.stdout.write(`${table4Markdown(table.rows)}\nwrote ${files.md} and ${files.json}\n`);
  }),
};

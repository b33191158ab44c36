import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { DEFAULT_BOUNDS, defaultOut, evaluateDetect, type EvalSplit } from '../evaluate/evaluate.js';
import { DEFAULT_OVERHEAD_BUDGET } from '../evaluate/metrics.js';
import { trainInterruptSignal } from './pretrain.js';
import { runCommand } from './util.js';

interface Args {
  runs: string[];
  out?: string;
  bounds: string;
  'table-bound'?: number;
  split: EvalSplit;
  'select-split'?: EvalSplit;
  budget: number;
  score: boolean;
  threads?: number;
}

/** '0.8,0.9,0.99' or '80,90,99' (percent) -> [0.8, 0.9, 0.99]. */
export function parseBounds(text: string): number[] {
  const out = text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((t) => {
      const x = Number(t.replace(/%$/, ''));
      const b = t.endsWith('%') || x > 1 ? x / 100 : x;
      if (!Number.isFinite(b) || !(b > 0 && b <= 1))
        throw new Error(`--bounds: '${t}' is not a share in (0, 1] (or a percent)`);
      return b;
    });
  if (!out.length) throw new Error('--bounds: give at least one bound, e.g. 0.8,0.9,0.99');
  return out;
}

export const evaluateDetectCommand: CommandModule<object, Args> = {
  command: 'evaluate-detect <runs..>',
  describe:
    'Xatu evaluation of fine-tuning runs: effectiveness, overhead, FPR, FNR, F1 under overhead bounds (Tables 5, 6, 8, 9; Figure 5 data)',
  builder: (y) =>
    y
      .positional('runs', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'run folders of netflowgen finetune',
      })
      .option('out', {
        alias: 'o',
        type: 'string',
        describe: 'folder for results.json and tables.md (default: detection/ beside the first run)',
      })
      .option('bounds', {
        type: 'string',
        default: DEFAULT_BOUNDS.join(','),
        describe: 'overhead bounds: shares of the customers kept within the selected overhead',
      })
      .option('table-bound', { type: 'number', describe: 'the bound of Tables 5, 6, 9 and 8 (default 0.8)' })
      .option('split', {
        type: 'string',
        choices: ['test', 'valid'] as const,
        default: 'test' as const,
        describe: 'evaluation split',
      })
      .option('select-split', {
        type: 'string',
        choices: ['train', 'valid', 'test'] as const,
        describe:
          "split the threshold is chosen on (default: each run's calibration split: train for a model fine-tuned on valid, valid for one fine-tuned on train; test gives the optimistic oracle tau, which results.json always keeps beside it as 'oracle')",
      })
      .option('budget', {
        type: 'number',
        default: DEFAULT_OVERHEAD_BUDGET,
        describe: 'overhead budget: the selected overhead may not exceed it (our reading, docs/finetune.md)',
      })
      .option('score', {
        type: 'boolean',
        default: true,
        describe:
          'score splits that have no survival curves yet with python/score_detect.py (--no-score: fail instead)',
      })
      .option('threads', { type: 'number', describe: 'OMP_NUM_THREADS of the scorer' })
      .example(
        '$0 evaluate-detect runs/netflowgen runs/tf runs/ms-lstm',
        'Table 5 at the 80% bound, Figure 5 data at 80/90/99%',
      )
      .example(
        '$0 evaluate-detect runs/netflowgen runs/netflowgen-light --out runs/table9',
        'Table 9: 86 against 6 features',
      )
      .example(
        '$0 evaluate-detect runs/netflowgen-dns runs/tf-dns runs/ms-lstm-dns --bounds 0.8',
        'Table 6 for DNS attacks',
      ),
  handler: runCommand(async (a) => {
    const bounds = parseBounds(a.bounds);
    const out = resolve(a.out ?? defaultOut(a.runs));
    const { markdown, files } = await evaluateDetect(a.runs, {
      out,
      bounds,
      tableBound: a['table-bound'],
      split: a.split,
      selectSplit: a['select-split'],
      budget: a.budget,
      score: a.score,
      threads: a.threads,
      signal: trainInterruptSignal(),
    });
    process.stdout.write(`${markdown}\nwrote ${files.md} and ${files.json}\n`);
  }),
};

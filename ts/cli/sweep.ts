import { resolve } from 'node:path';
import { findSpecFile } from './spec-file.js';
import type { CommandModule } from 'yargs';
import { composeSpec } from '../train/spec.js';
import { runSweep } from '../train/sweep.js';
import { table10Markdown } from '../train/tables.js';
import { cliOverrides, trainInterruptSignal, trainOptions, type TrainArgs } from './pretrain.js';
import { runCommand } from './util.js';

interface Args extends TrainArgs {
  'table-only': boolean;
}

export const sweepCommand: CommandModule<object, Args> = {
  command: 'sweep <spec>',
  describe: 'Run every point of a sweep spec (Table 10 grid), one resumable run each, then tabulate them',
  builder: (y) =>
    trainOptions(y)
      .option('table-only', {
        type: 'boolean',
        default: false,
        describe: 'train nothing: tabulate the runs already in OUT/<sweep name>',
      })
      .example(
        '$0 sweep experiments/sweeps/tiny.json --dataset out/binned',
        'two learning rates of the tiny model, one epoch each (CPU)',
      )
      .example(
        '$0 sweep experiments/sweeps/table10.json --dataset out/binned --device cuda --bf16',
        'Table 10: 4 sizes x 2 learning rates x 2 dropouts',
      )
      .example(
        '$0 sweep experiments/sweeps/table10.json --dataset out/binned --table-only',
        'the table of whatever has finished so far',
      ),
  handler: runCommand(async (a) => {
    const composed = composeSpec(findSpecFile(a.spec), cliOverrides(a));
    const out = await runSweep(composed, {
      out: resolve(a.out),
      resume: a.resume,
      force: a.force,
      check: a.check,
      threads: a.threads,
      tableOnly: a['table-only'],
      signal: trainInterruptSignal(),
    });
    process.stdout.write(
      `${table10Markdown(out.rows)}\n${out.trained} trained, ${out.skipped} already done; wrote ${out.files.md} and ${out.files.json}\n`,
    );
  }),
};

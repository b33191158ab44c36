import type { CommandModule } from 'yargs';
import { mergeStores } from '../serialize/merge.js';
import { LAYOUT_CHOICES, convertStoreLayout, layoutOf, type LayoutChoice } from '../serialize/layout.js';
import { QUIET_OPTION, runCommand } from './util.js';

interface Args {
  stores: string[];
  out: string;
  force: boolean;
  quiet: boolean;
  layout: LayoutChoice;
}

export const mergeCommand: CommandModule<object, Args> = {
  command: 'merge <stores..>',
  describe:
    'Merge series stores of adjacent time partitions (each a serialize --from --to) into the store one whole run would write',
  builder: (y) =>
    y
      .positional('stores', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'series store folders, in any order; their ranges must meet exactly',
      })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'series store folder to write' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe:
          'replace a previous netflowgen output (its manifest says so); a folder holding an input store, or anything else, is never replaced',
      })
      .option('quiet', QUIET_OPTION)
      .option('layout', {
        choices: LAYOUT_CHOICES,
        default: 'dense' as LayoutChoice,
        describe: 'layout of the merged store (the partitions are dense): dense or zarr (docs/series-store.md)',
      })
      .example(
        '$0 merge -o store parts/day-*',
        'one store from the daily partitions of a job array (docs/series-store.md)',
      ),
  handler: runCommand(async (a) => {
    let m = await mergeStores({ stores: a.stores, out: a.out, force: a.force });
    if (a.layout !== 'dense') m = await convertStoreLayout(a.out, layoutOf(a.layout));
    if (!a.quiet) {
      const r = m.records;
      const rej = Object.values(r.rejected).reduce((x, y) => x + y, 0);
      process.stdout.write(
        `wrote ${a.out}: ${a.stores.length} stores merged, ${m.nodes.length} nodes x ${m.minutes} minutes x ${m.features.length} features from ${m.firstMinute}; ${r.read} records read, ${r.used} used, ${r.unmatched} matched no node, ${r.outsideRange} outside --from/--to, ${rej} rejected\n`,
      );
    }
  }),
};

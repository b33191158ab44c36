import type { CommandModule } from 'yargs';
import { buildBinnedDataset } from '../datasets/build.js';
import { formatTable1 } from '../splits/summary.js';
import { formatTable7 } from '../unseen/report.js';
import { interruptSignal, FORCE_OPTION, QUIET_OPTION, runCommand } from './util.js';

interface Args {
  store: string;
  out: string;
  features: string;
  bins: number;
  split: string;
  window: number;
  'min-active': number;
  'exclude-customers'?: string[];
  'top-k'?: number;
  unseen: boolean;
  alerts?: string;
  force: boolean;
  quiet: boolean;
}

export const binCommand: CommandModule<object, Args> = {
  command: 'bin',
  describe:
    'Discretize a series store (Algorithm 1, training cutoffs per node and feature) into the binned dataset the model reads',
  builder: (y) =>
    y
      .option('store', {
        alias: 's',
        type: 'string',
        demandOption: true,
        describe: 'series store folder (netflowgen serialize)',
      })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'dataset folder to write' })
      .option('features', {
        type: 'string',
        default: 'full',
        describe: "feature set ('full': 86, 'light': the 6 volume features) or comma-separated catalogue names",
      })
      .option('bins', {
        type: 'number',
        default: 10,
        describe: 'bins per feature N: zero alone in bin 0, N-1 equal-population bins above',
      })
      .option('split', {
        type: 'string',
        default: '0.72,0.08,0.2',
        describe: 'train,valid,test fractions of the time axis, or two ISO dates (validation start, test start)',
      })
      .option('window', {
        type: 'number',
        default: 512,
        describe: 'pre-training window length in minutes (non-overlapping windows per node)',
      })
      .option('min-active', {
        type: 'number',
        default: 0,
        describe: 'drop nodes active (any traffic) in less than this share of training minutes',
      })
      .option('exclude-customers', { type: 'string', array: true, describe: 'customers to drop with all their nodes' })
      .option('top-k', { type: 'number', describe: 'keep only the K nodes with the most training bytes' })
      .option('unseen', {
        type: 'boolean',
        default: false,
        describe:
          'add the filtered-out nodes of kept customers as unseen rows, mapped to their nearest training node (SPEC §4)',
      })
      .option('alerts', { type: 'string', describe: 'alert feed (JSON lines), to count the attacks of Table 7' })
      .option('force', FORCE_OPTION)
      .option('quiet', QUIET_OPTION)
      .example('$0 bin -s store -o dataset', "all 86 features, 10 bins, the paper's 72/8/20 split, 512-minute windows")
      .example(
        '$0 bin -s store -o light --features light --window 128 --split 0.6,0.2,0.2',
        'NetFlowGen_Light on a short synthetic store',
      )
      .example(
        '$0 bin -s store -o dataset --min-active 0.05 --exclude-customers big1 big2 --top-k 520 --unseen --alerts alerts.jsonl',
        'filtered like the paper, with unseen nodes and Table 7',
      ),
  handler: runCommand(async (a) => {
    const { manifest: m, unseen } = await buildBinnedDataset({
      store: a.store,
      out: a.out,
      features: a.features,
      nBins: a.bins,
      split: a.split,
      windowLength: a.window,
      minActive: a['min-active'],
      excludeCustomers: a['exclude-customers']?.flatMap((c) => c.split(',')).filter(Boolean),
      topK: a['top-k'],
      unseen: a.unseen,
      alerts: a.alerts,
      force: a.force,
      signal: interruptSignal(),
    });
    if (a.quiet) return;
    process.stdout.write(
      `wrote ${a.out}: ${m.nodes.length} rows (${m.nodeIds} training nodes, ${m.unseen.rows} unseen) x ${m.minutes} minutes x ${m.features.length} features, ${m.nBins} bins\n\n` +
        `Table 1 (pre-training data)\n${formatTable1(m.table1)}`,
    );
    if (m.unseen.included)
      process.stdout.write(`\nTable 7 (unseen nodes by nearest training node)\n${formatTable7(unseen.table7)}`);
  }),
};

import type { CommandModule } from 'yargs';
import { canonicalAddress } from '../serialize/inventory.js';
import { findNode, nodeCsvRows, nodeSummary, storeSummary } from '../inspect/inspect.js';
import { SeriesStore } from '../serialize/store.js';
import { runCommand } from './util.js';

interface Args {
  store: string;
  node?: string;
  features?: string;
  from?: string;
  to?: string;
  csv: boolean;
  top: number;
}

export const inspectCommand: CommandModule<object, Args> = {
  command: 'inspect <store>',
  describe: 'Summarise a series store, or print one node\u2019s minutes as CSV',
  builder: (y) =>
    y
      .positional('store', { type: 'string', demandOption: true, describe: 'series store folder' })
      .option('node', { type: 'string', describe: 'node address (or #ID)' })
      .option('features', { type: 'string', describe: 'comma-separated feature names, or a set name (full, light)' })
      .option('from', { type: 'string', describe: 'first minute, ISO 8601 UTC' })
      .option('to', { type: 'string', describe: 'end minute (exclusive), ISO 8601 UTC' })
      .option('csv', { type: 'boolean', default: false, describe: 'print minute rows as CSV (needs --node)' })
      .option('top', { type: 'number', default: 10, describe: 'how many of the busiest nodes the summary lists' })
      .example('$0 inspect store', 'what is in the store')
      .example(
        '$0 inspect store --node 10.10.10.10 --features in.byt,in.udp.byt --csv',
        'one node, two features, one row per minute',
      )
      .check((a) => {
        if (a.csv && !a.node) throw new Error('--csv needs --node');
        return true;
      }),
  handler: runCommand(async (a) => {
    const store = SeriesStore.open(a.store);
    if (!a.node) {
      process.stdout.write(storeSummary(store, a.top) + '\n');
      return;
    }
    const id = findNode(store, a.node, canonicalAddress);
    if (!a.csv) {
      process.stdout.write(nodeSummary(store, id) + '\n');
      return;
    }
    let buf = '';
    for (const row of nodeCsvRows(store, id, { features: a.features, from: a.from, to: a.to })) {
      buf += row + '\n';
      if (buf.length > 1 << 16) {
        if (!process.stdout.write(buf)) await new Promise((r) => process.stdout.once('drain', r));
        buf = '';
      }
    }
    process.stdout.write(buf);
  }),
};

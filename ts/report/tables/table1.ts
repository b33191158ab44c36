/**
 * Table 1: statistics of the pre-training data, raw and after the activity filter, in node-windows
 * (netflowgen bin's manifest.json, its `table1` and `filters`).
 */
import { DATASET_MANIFEST, type BinnedManifest } from '../../datasets/binned.js';
import { cell, countList } from './cells.js';
import { dataTable, type TableModule } from './types.js';

/** The paper's Table 1 (node-windows of 512 minutes). The paper prints no test size. */
export const PAPER_TABLE1: Record<'customers' | 'nodes' | 'train' | 'valid', { raw: string; filtered: string }> = {
  customers: { raw: '87', filtered: '80' },
  nodes: { raw: '6,975', filtered: '520' },
  train: { raw: '1,297,350', filtered: '96,720' },
  valid: { raw: '146,475', filtered: '10,920' },
};

type Column = BinnedManifest['table1']['raw'];
const ROWS: { label: string; pick: (c: Column) => number; paper?: keyof typeof PAPER_TABLE1 }[] = [
  { label: 'Customer', pick: (c) => c.customers, paper: 'customers' },
  { label: 'Node (IP)', pick: (c) => c.nodes, paper: 'nodes' },
  { label: 'Training Size', pick: (c) => c.windows.train, paper: 'train' },
  { label: 'Validation Size', pick: (c) => c.windows.valid, paper: 'valid' },
  { label: 'Test Size', pick: (c) => c.windows.test },
];

export const table1: TableModule<'table1'> = dataTable<'table1', BinnedManifest>(
  { kind: 'table1', chain: 'data', paper: PAPER_TABLE1, stage: (plan) => plan.data.bin, file: DATASET_MANIFEST },
  (man, m, { r }, t) => {
    const minutes = man.table1.minutes;
    return {
      table: {
        id: t.id,
        kind: t.kind,
        caption: t.caption,
        note: `Sizes in node-windows of ${man.table1.windowLength} minutes (the paper's: 512); splits of ${minutes.train.toLocaleString('en-US')} / ${minutes.valid.toLocaleString('en-US')} / ${minutes.test.toLocaleString('en-US')} minutes. Filtered: ${countList(man.filters.dropped, 'nothing dropped')}. From ${r.rel(m)} (netflowgen bin).`,
        blocks: [
          {
            head: [[{ text: '' }, { text: 'Raw' }, { text: 'Filtered' }]],
            rows: ROWS.map((x) => ({
              label: [x.label],
              cells: [
                cell(
                  r.value<BinnedManifest>(m, (d) => x.pick(d.table1.raw), 'int'),
                  x.paper && PAPER_TABLE1[x.paper].raw,
                ),
                cell(
                  r.value<BinnedManifest>(m, (d) => x.pick(d.table1.filtered), 'int'),
                  x.paper && PAPER_TABLE1[x.paper].filtered,
                ),
              ],
            })),
          },
        ],
        warnings: [],
      },
    };
  },
);

/**
 * The paper's Table 1: customers, nodes and pre-training sizes (node-windows) before and after
 * filtering. In the paper, "Training Size" 96,720 = 520 nodes x 186 windows of 512 minutes.
 */
import type { SplitName, Splits } from './splits.js';
import { SPLITS } from './splits.js';
import { formatTable } from './table.js';

export interface Table1Column {
  customers: number;
  nodes: number;
  /** Node-windows per split (nodes x windows of the split). */
  windows: Record<SplitName, number>;
}

export interface Table1 {
  windowLength: number;
  minutes: Record<SplitName, number>;
  windowsPerNode: Record<SplitName, number>;
  raw: Table1Column;
  filtered: Table1Column;
}

export function table1(
  raw: { customers: readonly string[] },
  kept: { customers: readonly string[] },
  splits: Splits,
  windowLength: number,
): Table1 {
  const minutes = {} as Record<SplitName, number>;
  const perNode = {} as Record<SplitName, number>;
  for (const s of SPLITS) {
    minutes[s] = splits[s].end - splits[s].start;
    perNode[s] = minutes[s] >= windowLength ? Math.floor(minutes[s] / windowLength) : 0;
  }
  const col = (customers: readonly string[]): Table1Column => ({
    customers: new Set(customers).size,
    nodes: customers.length,
    windows: {
      train: customers.length * perNode.train,
      valid: customers.length * perNode.valid,
      test: customers.length * perNode.test,
    },
  });
  return { windowLength, minutes, windowsPerNode: perNode, raw: col(raw.customers), filtered: col(kept.customers) };
}

export function formatTable1(t: Table1): string {
  const row = (name: string, f: (c: Table1Column) => number) => [name, f(t.raw), f(t.filtered)];
  return (
    formatTable(
      ['', 'Raw', 'Filtered'],
      [
        row('Customer', (c) => c.customers),
        row('Node (IP)', (c) => c.nodes),
        row('Training Size', (c) => c.windows.train),
        row('Validation Size', (c) => c.windows.valid),
        row('Test Size', (c) => c.windows.test),
      ],
    ) +
    `(sizes in node-windows of ${t.windowLength} minutes; splits of ${t.minutes.train.toLocaleString('en-US')} / ${t.minutes.valid.toLocaleString('en-US')} / ${t.minutes.test.toLocaleString('en-US')} minutes = ${t.windowsPerNode.train} / ${t.windowsPerNode.valid} / ${t.windowsPerNode.test} windows per node)\n`
  );
}

/**
 * `netflowgen baseline`: the bigram baseline fitted on a binned dataset's training windows and scored
 * on its validation (or test) windows. Streams row by row; pooled over nodes by default, per node as
 * an option (SPEC §5).
 */
import { dirname, join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomic.js';
import { VERSION } from '../common/version.js';
import { BinnedDataset } from '../datasets/binned.js';
import type { SplitName } from '../splits/splits.js';
import { formatTable } from '../splits/table.js';
import { countTransitions, emptySums, fitBigram, scoreWindows, summarize, type BigramMetrics } from './bigram.js';

export interface BigramOptions {
  dataset: string;
  /** Split to score (default 'valid'). */
  split?: Exclude<SplitName, 'train'>;
  /** One table per node instead of one per feature pooled over nodes. */
  perNode?: boolean;
  /** Result file (default DATASET/bigram.<split>.json). */
  out?: string;
  signal?: AbortSignal;
}

export interface BigramResult extends BigramMetrics {
  kind: 'netflowgen.bigram-result';
  schemaVersion: 1;
  createdBy: string;
  dataset: string;
  split: string;
  perNode: boolean;
  nBins: number;
  windowLength: number;
  windows: { train: number; scored: number };
}

/** Window starts per row from an Int32Array of (row, start) pairs. */
export function startsByRow(pairs: Int32Array): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (let i = 0; i < pairs.length; i += 2) {
    const list = m.get(pairs[i]) ?? [];
    list.push(pairs[i + 1]);
    m.set(pairs[i], list);
  }
  return m;
}

export async function runBigram(opts: BigramOptions): Promise<{ result: BigramResult; out: string }> {
  const ds = BinnedDataset.open(opts.dataset);
  const m = ds.manifest;
  const split = opts.split ?? 'valid';
  const F = ds.nFeatures;
  const N = m.nBins;
  const W = m.windowLength;
  const train = startsByRow(ds.readWindows('train'));
  const scored = startsByRow(ds.readWindows(split));
  if (!train.size)
    throw new Error(`${opts.dataset}: no training windows (window length ${W} is longer than the training split?)`);
  if (!scored.size)
    throw new Error(
      `${opts.dataset}: no ${split} windows to score (window length ${W} is longer than the ${split} split?)`,
    );
  const check = () => {
    if (opts.signal?.aborted) {
      const e = new Error('interrupted: no result was written');
      e.name = 'AbortError';
      throw e;
    }
  };
  const sums = emptySums(F);
  // Per-window losses (row, start, mean NLL), for comparisons paired by window (windowsFileOf).
  const windowLoss: BigramWindows = { rows: [], starts: [], loss: [] };
  const perWindow = (row: number) => (start: number, loss: number) => {
    windowLoss.rows.push(row);
    windowLoss.starts.push(start);
    windowLoss.loss.push(loss);
  };
  if (opts.perNode) {
    for (const row of new Set([...train.keys(), ...scored.keys()])) {
      check();
      const bins = ds.readBins(row);
      const counts = new Float64Array(F * N * N);
      countTransitions(bins, F, N, train.get(row) ?? [], W, counts);
      scoreWindows(bins, fitBigram(counts, F, N), scored.get(row) ?? [], W, sums, perWindow(row));
    }
  } else {
    const counts = new Float64Array(F * N * N);
    for (const [row, starts] of train) {
      check();
      countTransitions(ds.readBins(row), F, N, starts, W, counts);
    }
    const model = fitBigram(counts, F, N);
    for (const [row, starts] of scored) {
      check();
      scoreWindows(ds.readBins(row), model, starts, W, sums, perWindow(row));
    }
  }
  const count = (mp: Map<number, number[]>) => [...mp.values()].reduce((s, l) => s + l.length, 0);
  const result: BigramResult = {
    kind: 'netflowgen.bigram-result',
    schemaVersion: 1,
    createdBy: `netflowgen ${VERSION}`,
    dataset: resolve(opts.dataset),
    split,
    perNode: Boolean(opts.perNode),
    nBins: N,
    windowLength: W,
    windows: { train: count(train), scored: count(scored) },
    ...summarize(sums, m.features, m.featureGroups),
  };
  const out = opts.out ?? join(opts.dataset, `bigram.${split}.json`);
  mkdirSync(dirname(out), { recursive: true });
  await writeFileAtomic(windowsFileOf(out), JSON.stringify(windowLoss) + '\n');
  await writeFileAtomic(out, JSON.stringify(result, null, 1) + '\n');
  return { result, out };
}

/** The bigram's loss of each scored window, beside its result file: FILE.json -> FILE.windows.json. */
export interface BigramWindows {
  rows: number[];
  starts: number[];
  /** Mean NLL (nats) over the window's (step, feature) targets. */
  loss: number[];
}

export function windowsFileOf(resultFile: string): string {
  return resultFile.replace(/(\.json)?$/, '.windows.json');
}

/** Table 4 style rows: overall, then per feature group. */
export function formatBigram(r: BigramMetrics, name = 'Bigram baseline'): string {
  const f = (x: number) => x.toFixed(4);
  return formatTable(
    ['', 'Loss', 'Perplexity', 'Accuracy', 'Targets'],
    [
      [name, f(r.loss), f(r.perplexity), f(r.accuracy), r.targets],
      ...Object.entries(r.groups).map(([g, m]) => [`  ${g}`, f(m.loss), f(m.perplexity), f(m.accuracy), m.targets]),
    ],
  );
}

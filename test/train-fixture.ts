/**
 * A small binned dataset with a learnable pattern, made with the project's own pipeline
 * (writeSeriesStore -> buildBinnedDataset), for the training tests and the training bench.
 *
 * Every feature of every node repeats a period-4 pattern 0, 0, 300, 900 (phase by node and feature).
 * After a 0 the next value is 0 or 300 with equal odds, so a bigram (previous minute only) gets 3 of
 * 4 steps right at best, while a model that sees two steps back (or the minute of the hour) can get all
 * 4. Bins: 0 -> 0, 300 and 900 -> one non-zero bin each.
 */
import { FEATURE_NAMES } from '../ts/catalogue/features.js';
import { buildBinnedDataset } from '../ts/datasets/build.js';
import { isoToMinute } from '../ts/serialize/store.js';
import { writeHandMadeStore } from './helpers/store.js';

export interface TinyDatasetOptions {
  nodes?: number;
  minutes?: number;
  windowLength?: number;
  /** 'light' (6 volume features, default: fast) or 'full' (86). */
  features?: 'light' | 'full';
  split?: string;
}

export const PATTERN = [0, 0, 300, 900];

export function patternValue(node: number, t: number, f: number): number {
  return PATTERN[(t + node + f) % PATTERN.length];
}

/** Writes DIR/store (series store) and DIR/dataset (binned dataset); returns the dataset folder. */
export async function makePatternDataset(dir: string, opts: TinyDatasetOptions = {}): Promise<string> {
  const nodes = opts.nodes ?? 4;
  const minutes = opts.minutes ?? 2000;
  const F = FEATURE_NAMES.length;
  const data = new Float32Array(nodes * minutes * F);
  for (let v = 0; v < nodes; v++)
    for (let t = 0; t < minutes; t++)
      for (let f = 0; f < F; f++) data[(v * minutes + t) * F + f] = patternValue(v, t, f);
  const store = `${dir}/store`;
  await writeHandMadeStore(store, {
    nodes: Array.from({ length: nodes }, (_, id) => ({ address: `10.0.0.${id + 1}`, customer: id % 2 ? 'B' : 'A' })),
    startMinute: isoToMinute('2021-09-20T00:00:00Z'),
    minutes,
    data,
  });
  const out = `${dir}/dataset`;
  await buildBinnedDataset({
    store,
    out,
    features: opts.features ?? 'light',
    windowLength: opts.windowLength ?? 32,
    split: opts.split ?? '0.72,0.08,0.2',
  });
  return out;
}

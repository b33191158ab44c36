import { FEATURE_NAMES } from '../../ts/catalogue/features.js';
import { writeSeriesStore, type StoreNode } from '../../ts/serialize/store.js';
import { synth } from '../../ts/synth/synth.js';

/**
 * A series store written straight from an array, for tests that make their data by hand: every
 * feature of the catalogue, node i of `nodes` in row i (data[(i * minutes + t) * F + f]), customers in
 * the order they first appear, no input files and no records read.
 */
export async function writeHandMadeStore(
  dir: string,
  o: { nodes: Omit<StoreNode, 'id'>[]; startMinute: number; minutes: number; data: Float32Array },
): Promise<void> {
  await writeSeriesStore(dir, {
    features: [...FEATURE_NAMES],
    nodes: o.nodes.map((n, id) => ({ id, ...n })),
    customers: [...new Set(o.nodes.map((n) => n.customer))],
    startMinute: o.startMinute,
    minutes: o.minutes,
    sampling: 1,
    inputs: [],
    records: { read: 0, used: 0, unmatched: 0, outsideRange: 0, rejected: {}, examples: [] },
    options: {},
    data: o.data,
  });
}

/**
 * Synth's tiny preset cut down to two customers, 6 nodes, two days and 2 attacks, as uncompressed
 * daily nfdump CSV files: a small real chain input for the serialize tests (merge, threads).
 */
export function twoDaySynth(out: string, seed: number): ReturnType<typeof synth> {
  return synth({
    out,
    preset: 'tiny',
    seed,
    customers: 2,
    nodes: 6,
    minutes: 2 * 1440,
    attacks: 2,
    gzip: false,
    progress: false,
  });
}

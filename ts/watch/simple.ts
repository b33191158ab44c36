/**
 * The simple detectors beside the model (`netflowgen watch --detectors`): ts/baseline/detectors.ts's static
 * threshold and EWMA + CUSUM, applied online to the same windows the model scores. At minute m a node's
 * window is its last W minutes; its detection window the last D of them (history: the W - D before), and
 * the survival compared with the detector's tau is S_{D-1} of that window, exactly as `simple-detect`
 * computes it offline for an example ending at m (so the taus its evaluation chose apply unchanged).
 *
 * The static threshold's tables are the node's training-split minutes of the series store the run's
 * dataset was made from (as simple-detect builds them); a node the store does not hold uses the tables of
 * the training node it maps to.
 */
import { DETECTOR_FEATURES } from '../baseline/detector-run.js';
import {
  DEFAULT_EWMA_CUSUM,
  ewmaCusumCurve,
  logPackets,
  nodeQuantileTables,
  staticThresholdCurve,
  type NodeQuantileTables,
} from '../baseline/detectors.js';
import type { BinnedDataset } from '../datasets/binned.js';
import { SeriesStore } from '../serialize/store.js';
import type { NodeTable, WatchNode } from './nodes.js';

export class SimpleDetectors {
  private readonly tables = new Map<string, NodeQuantileTables | null>();
  private readonly store: SeriesStore | null;

  constructor(
    readonly dataset: BinnedDataset,
    storeDir: string,
    readonly D: number,
  ) {
    try {
      this.store = SeriesStore.open(storeDir);
    } catch {
      this.store = null; // the static threshold then has no tables: it is skipped, and said so by the caller
    }
  }

  get hasStatic(): boolean {
    return this.store !== null;
  }

  private tablesOf(node: WatchNode): NodeQuantileTables | null {
    const address =
      this.store?.nodeIndex(node.address) !== -1 || node.mappedTo === undefined
        ? node.address
        : this.dataset.manifest.nodes[node.mappedTo].address;
    if (this.tables.has(address)) return this.tables.get(address)!;
    let t: NodeQuantileTables | null = null;
    const idx = this.store ? this.store.nodeIndex(address) : -1;
    if (this.store && idx >= 0) {
      const { start, end } = this.dataset.manifest.splits.train;
      const block = this.store.readNode(idx, start, end);
      const S = this.store.nFeatures;
      const p = this.store.manifest.features.indexOf(DETECTOR_FEATURES.packets);
      const b = this.store.manifest.features.indexOf(DETECTOR_FEATURES.bytes);
      const n = block.length / S;
      const pk = new Float64Array(n);
      const by = new Float64Array(n);
      for (let t2 = 0; t2 < n; t2++) {
        pk[t2] = block[t2 * S + p];
        by[t2] = block[t2 * S + b];
      }
      if (n > 0) t = nodeQuantileTables(pk, by);
    }
    this.tables.set(address, t);
    return t;
  }

  /** S_{D-1} of the static threshold for the node's current window, or null without tables. */
  staticSurvival(table: NodeTable, node: WatchNode): number | null {
    const t = this.tablesOf(node);
    if (!t) return null;
    const W = table.W;
    const pk = table.ordered(node.inPkt).subarray(W - this.D);
    const by = table.ordered(node.inByt).subarray(W - this.D);
    const c = staticThresholdCurve(t, pk, by);
    return c.survival[this.D - 1];
  }

  /** S_{D-1} of EWMA + CUSUM (default parameters) for the node's current window. */
  cusumSurvival(table: NodeTable, node: WatchNode): number {
    const x = logPackets(table.ordered(node.inPkt));
    const W = table.W;
    const c = ewmaCusumCurve(x.subarray(0, W - this.D), x.subarray(W - this.D), DEFAULT_EWMA_CUSUM);
    return c.survival[this.D - 1];
  }
}

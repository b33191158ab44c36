/**
 * The nodes `netflowgen watch` scores, as the model knows them: bins under the pre-training run's cutoffs,
 * node and customer embedding ids, and the last W minutes of each.
 *
 *  - A node of the binned dataset (found by address) keeps its row's cutoffs, node id and customer id,
 *    exactly as the dataset binned it (an unseen row of the dataset: the training row it was mapped to).
 *  - A node the dataset does not know (a new address of an inventory prefix, or one dropped by the
 *    dataset's filters without --unseen) is mapped by the nearest-neighbour rule of SPEC §4 (ts/unseen):
 *    once it has `mapAfter` minutes of history, the 5-number summary of those minutes (standardised with
 *    the dataset's training-split feature means and standard deviations, unseen.json) is matched in L1
 *    to the training nodes' summaries; it takes that node's cutoffs and node id, its own customer's id
 *    when the dataset has that customer, else the mapped node's. Its history is then binned with those
 *    cutoffs. Until then it is not scored.
 *  - Before a node's first record its minutes are zeros, as in the store (a dense node x minute array).
 *    Every node is scored once the watch has W closed minutes.
 *
 * A minute's vector is rounded to float32 before binning, as the store holds it, so the bins equal the
 * dataset's for the same minute.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURES, N_FEATURES, featureIndex, type FeatureGroup } from '../catalogue/features.js';
import { binNode, nodeQuantiles } from '../discretize/node.js';
import { BinnedDataset, type UnseenReport } from '../datasets/binned.js';
import { nearestL1 } from '../unseen/nearest.js';
import { SUMMARY_SIZE, summarizeNode } from '../unseen/summary.js';

export interface WatchNode {
  address: string;
  customer: string;
  /** Row of the binned dataset, or -1. */
  row: number;
  nodeId: number;
  customerId: number;
  /** null: a new node not mapped yet. */
  cutoffs: Float64Array | null;
  mappedTo?: number;
  distance?: number;
  /** Bins of the last W minutes, ring of W x F (F = the dataset's features). */
  bins: Uint8Array;
  /** Raw float32 vectors of the last W minutes (86 each): new nodes until mapped. */
  raw: Float32Array | null;
  /** Minutes with traffic seen (for mapping). */
  active: number;
  /** Incoming packets and bytes per minute of the last W minutes (rings), for the detectors and alerts. */
  inPkt: Float64Array;
  inByt: Float64Array;
  /** This minute's raw vector (zeros when silent). */
  current: Float32Array;
}

const IN_PKT = featureIndex('in.pkt');
const IN_BYT = featureIndex('in.byt');
const ZERO = new Float32Array(N_FEATURES);

export class NodeTable {
  readonly nodes = new Map<string, WatchNode>();
  readonly cols: number[];
  readonly F: number;
  readonly nBins: number;
  private readonly unseen: UnseenReport;
  private readonly trainSummaries: Float64Array;
  private readonly mean: Float64Array;
  private readonly std: Float64Array;
  private readonly customerIds: Map<string, number>;
  /** Closed minutes pushed so far, and the ring slot the next minute goes to. */
  minutes = 0;

  constructor(
    readonly dataset: BinnedDataset,
    readonly W: number,
    readonly mapAfter: number,
  ) {
    const m = dataset.manifest;
    this.cols = m.featureIndices;
    this.F = m.features.length;
    this.nBins = m.nBins;
    this.unseen = JSON.parse(readFileSync(join(dataset.dir, m.files.unseen), 'utf8')) as UnseenReport;
    this.trainSummaries = Float64Array.from(this.unseen.summaries.slice(0, m.nodeIds).flat());
    this.mean = Float64Array.from(this.unseen.featureMean);
    this.std = Float64Array.from(this.unseen.featureStd);
    this.customerIds = new Map(m.customers.map((c, i) => [c, i]));
    for (const n of m.nodes) this.add(n.address, n.customer);
  }

  /** The node of an address, made on first sight. */
  add(address: string, customer: string): WatchNode {
    const known = this.nodes.get(address);
    if (known) return known;
    const row = this.dataset.rowOf(address);
    const entry = row >= 0 ? this.dataset.manifest.nodes[row] : undefined;
    const node: WatchNode = {
      address,
      customer,
      row,
      nodeId: entry?.nodeId ?? -1,
      customerId: entry?.customerId ?? this.customerIds.get(customer) ?? -1,
      cutoffs: row >= 0 ? this.dataset.readCutoffs(row) : null,
      ...(entry?.mappedTo !== undefined ? { mappedTo: entry.mappedTo, distance: entry.distance } : {}),
      bins: new Uint8Array(this.W * this.F),
      raw: row >= 0 ? null : new Float32Array(this.W * N_FEATURES),
      active: 0,
      inPkt: new Float64Array(this.W),
      inByt: new Float64Array(this.W),
      current: ZERO,
    };
    this.nodes.set(address, node);
    return node;
  }

  /** Ring slot of the k-th newest minute (0 = the last pushed). */
  slot(k = 0): number {
    return (((this.minutes - 1 - k) % this.W) + this.W) % this.W;
  }

  /** Pushes one closed minute: every node's vector (zeros when absent), binned. */
  push(vectors: Map<string, Float64Array>): void {
    const s = this.minutes % this.W;
    this.minutes++;
    const one = new Float32Array(N_FEATURES);
    for (const node of this.nodes.values()) {
      const v = vectors.get(node.address);
      let x = ZERO;
      if (v) {
        x = Float32Array.from(v);
        node.active++;
      } else if (node.current === ZERO && !node.raw) {
        // silent before and now: bins of zeros are zeros
        node.bins.fill(0, s * this.F, (s + 1) * this.F);
        node.inPkt[s] = 0;
        node.inByt[s] = 0;
        continue;
      }
      node.current = x;
      node.inPkt[s] = x[IN_PKT];
      node.inByt[s] = x[IN_BYT];
      if (node.raw) node.raw.set(x, s * N_FEATURES);
      if (node.cutoffs) {
        one.set(x);
        node.bins.set(binNode(one, N_FEATURES, this.cols, node.cutoffs, this.nBins), s * this.F);
      }
      if (!node.cutoffs && node.active >= this.mapAfter) this.map(node);
    }
  }

  /** Maps a new node to its nearest training node (module docstring) and bins its history. */
  private map(node: WatchNode): void {
    const raw = node.raw!;
    const summary = summarizeNode(nodeQuantiles(raw, N_FEATURES, this.cols, 0, this.W), this.mean, this.std);
    const near = nearestL1(summary, this.trainSummaries, SUMMARY_SIZE);
    const target = this.dataset.manifest.nodes[near.index];
    node.mappedTo = near.index;
    node.distance = near.distance;
    node.nodeId = target.nodeId;
    if (node.customerId < 0) node.customerId = target.customerId;
    node.cutoffs = this.dataset.readCutoffs(near.index);
    node.bins.set(binNode(raw, N_FEATURES, this.cols, node.cutoffs, this.nBins));
    node.raw = null;
  }

  /** The nodes that can be scored now (mapped, and W minutes pushed). */
  scorable(): WatchNode[] {
    if (this.minutes < this.W) return [];
    return [...this.nodes.values()].filter((n) => n.cutoffs !== null);
  }

  /** A node's last W minutes of bins in time order ([W, F]) into `out` at `offset`. */
  window(node: WatchNode, out: Uint8Array, offset: number): void {
    const start = this.minutes % this.W; // the oldest minute's slot
    const F = this.F;
    out.set(node.bins.subarray(start * F), offset);
    out.set(node.bins.subarray(0, start * F), offset + (this.W - start) * F);
  }

  /** A ring (inPkt, inByt) in time order. */
  ordered(ring: Float64Array): Float64Array {
    const start = this.minutes % this.W;
    const out = new Float64Array(this.W);
    out.set(ring.subarray(start));
    out.set(ring.subarray(0, start), this.W - start);
    return out;
  }

  /**
   * Which feature groups rose most this minute: per group, the mean over its features of (bin now - mean
   * bin of the W - 1 minutes before), largest first, only those that rose.
   */
  groupRise(node: WatchNode): { group: FeatureGroup; rise: number }[] {
    const F = this.F;
    const now = this.slot(0);
    const sums = new Map<FeatureGroup, { rise: number; n: number }>();
    for (let f = 0; f < F; f++) {
      let past = 0;
      for (let k = 1; k < this.W; k++) past += node.bins[this.slot(k) * F + f];
      const rise = node.bins[now * F + f] - past / Math.max(1, this.W - 1);
      const g = FEATURES[this.cols[f]].group;
      const e = sums.get(g) ?? { rise: 0, n: 0 };
      e.rise += rise;
      e.n++;
      sums.set(g, e);
    }
    return [...sums]
      .map(([group, e]) => ({ group, rise: Math.round((e.rise / e.n) * 1000) / 1000 }))
      .filter((g) => g.rise > 0)
      .sort((a, b) => b.rise - a.rise);
  }
}

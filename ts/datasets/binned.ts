/**
 * The binned dataset: what the model (Python, numpy memmap) and the detector read. Layout, all
 * little-endian, C order (docs/binned-dataset.md):
 *
 *   DATASET/manifest.json        schemas/binned-dataset.schema.json
 *   DATASET/bins.u8              uint8   [rows, minutes, features]   bins of every minute of every row
 *   DATASET/cutoffs.f64          float64 [rows, features, nBins-1]   training cutoffs (+Infinity = absent)
 *   DATASET/time.u8              uint8   [minutes, 3]                minute of hour, hour of day, day of week
 *   DATASET/windows.<split>.i32  int32   [count, 2]                  (row, start minute) of each window
 *   DATASET/unseen.json          node summaries, unseen-node mapping, Table 7
 *
 * Rows 0..nodeIds-1 are the training nodes (row = node id); later rows are unseen nodes, binned with
 * the cutoffs of the training row they map to and carrying its node id.
 */
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readFully, readManifest } from '../common/files.js';
import type { FeatureGroup } from '../catalogue/features.js';
import type { SplitName, SplitRule } from '../splits/splits.js';
import type { Table1 } from '../splits/summary.js';

export const DATASET_SCHEMA = 'binned-dataset.schema.json';
export const DATASET_MANIFEST = 'manifest.json';
export const BINS_FILE = 'bins.u8';
export const CUTOFFS_FILE = 'cutoffs.f64';
export const TIME_FILE = 'time.u8';
export const UNSEEN_FILE = 'unseen.json';
export const windowsFile = (split: SplitName) => `windows.${split}.i32`;

export interface DatasetRange {
  start: number;
  end: number;
  from: string;
  to: string;
}

export interface DatasetNode {
  row: number;
  address: string;
  customer: string;
  role?: string;
  /** Index of the node in the series store. */
  storeIndex: number;
  /** Node-embedding id: the row for training nodes, the mapped training row for unseen ones. */
  nodeId: number;
  /** Customer-embedding id (index into `customers`). */
  customerId: number;
  /** True for training nodes. */
  seen: boolean;
  mappedTo?: number;
  distance?: number;
}

export interface BinnedManifest {
  kind: 'netflowgen.binned-dataset';
  schemaVersion: 1;
  createdBy: string;
  source: { store: string; nodes: number; features: number };
  startMinute: number;
  firstMinute: string;
  minutes: number;
  features: string[];
  featureIndices: number[];
  featureGroups: FeatureGroup[];
  nBins: number;
  files: { bins: string; cutoffs: string; time: string; unseen: string };
  shapes: { bins: number[]; cutoffs: number[]; time: number[] };
  timeFeatures: { names: string[]; sizes: number[]; rule: string };
  splitRule: SplitRule;
  splits: Record<SplitName, DatasetRange>;
  windowLength: number;
  windows: Record<SplitName, { file: string; count: number }>;
  nodeIds: number;
  customers: string[];
  nodes: DatasetNode[];
  filters: { minActive: number; excludeCustomers: string[]; topK?: number; dropped: Record<string, number> };
  table1: Table1;
  unseen: { included: boolean; rows: number };
}

/** Contents of unseen.json. */
export interface UnseenReport {
  /** Column names of `summaries`. */
  summaryColumns: string[];
  /** Per row: the 5-number summary (training rows over the training split, unseen rows over all minutes). */
  summaries: number[][];
  /** Global per-feature mean and std of the training split (training nodes pooled). */
  featureMean: number[];
  featureStd: number[];
  mapping: { row: number; address: string; mappedTo: number; mappedAddress: string; distance: number }[];
  table7: { row: number; address: string; attacks: number | null; mappedUnseen: number }[];
}

function readExactly(path: string, buf: Uint8Array, pos: number): void {
  const fd = openSync(path, 'r');
  try {
    readFully(fd, buf, pos, `${path} is shorter than its manifest says`);
  } finally {
    closeSync(fd);
  }
}

/** Read access to a binned dataset. Nothing is loaded until asked for. */
export class BinnedDataset {
  readonly rows: number;
  readonly nFeatures: number;
  private readonly byAddress: Map<string, number>;

  private constructor(
    readonly dir: string,
    readonly manifest: BinnedManifest,
  ) {
    this.rows = manifest.nodes.length;
    this.nFeatures = manifest.features.length;
    this.byAddress = new Map(manifest.nodes.map((n) => [n.address, n.row]));
  }

  static open(dir: string): BinnedDataset {
    const path = join(dir, DATASET_MANIFEST);
    const m = readManifest<BinnedManifest>(path, DATASET_SCHEMA, 'binned dataset manifest');
    const F = m.features.length;
    const expect: [string, number][] = [
      [m.files.bins, m.nodes.length * m.minutes * F],
      [m.files.cutoffs, m.nodes.length * F * (m.nBins - 1) * 8],
      [m.files.time, m.minutes * 3],
      ...(['train', 'valid', 'test'] as const).map((s): [string, number] => [
        m.windows[s].file,
        m.windows[s].count * 8,
      ]),
    ];
    for (const [file, bytes] of expect) {
      let size: number;
      try {
        size = statSync(join(dir, file)).size;
      } catch {
        throw new Error(`${dir}: ${file} is missing`);
      }
      if (size !== bytes) throw new Error(`${join(dir, file)}: ${size} bytes, the manifest implies ${bytes}`);
    }
    return new BinnedDataset(dir, m);
  }

  /** Row of a node address, or -1. */
  rowOf(address: string): number {
    return this.byAddress.get(address) ?? -1;
  }

  /** Bins of minutes [from, to) of one row: Uint8Array [to - from, features], minute-major. */
  readBins(row: number, from = 0, to = this.manifest.minutes): Uint8Array {
    if (row < 0 || row >= this.rows) throw new RangeError(`row ${row} out of range 0..${this.rows - 1}`);
    from = Math.max(0, from);
    to = Math.min(this.manifest.minutes, to);
    const out = new Uint8Array(Math.max(0, to - from) * this.nFeatures);
    if (out.length)
      readExactly(join(this.dir, this.manifest.files.bins), out, (row * this.manifest.minutes + from) * this.nFeatures);
    return out;
  }

  /** Cutoffs of one row: Float64Array [features, nBins-1]. */
  readCutoffs(row: number): Float64Array {
    const nc = this.manifest.nBins - 1;
    const buf = new Uint8Array(this.nFeatures * nc * 8);
    readExactly(join(this.dir, this.manifest.files.cutoffs), buf, row * buf.length);
    return new Float64Array(buf.buffer);
  }

  /** Windows of a split: Int32Array [count, 2] of (row, start minute). */
  readWindows(split: SplitName): Int32Array {
    const buf = readFileSync(join(this.dir, this.manifest.windows[split].file));
    return new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  }

  readTime(): Uint8Array {
    return new Uint8Array(readFileSync(join(this.dir, this.manifest.files.time)));
  }

  readUnseen(): UnseenReport {
    return JSON.parse(readFileSync(join(this.dir, this.manifest.files.unseen), 'utf8')) as UnseenReport;
  }
}

/**
 * `netflowgen simple-detect`: runs one of the training-free detectors of detectors.ts (a
 * FastNetMon-style static threshold, or EWMA + CUSUM) on every example of an EarlyDetect dataset and
 * writes a detector run folder that the evaluation reads like a fine-tuning run folder:
 *
 *   OUT/eval/<split>/survival.f32   float32 [n, D]  S_t of every example of <split>.examples.i32, in file
 *                                                   order (unseen-node examples included)
 *   OUT/eval/<split>/hazard.f32     float32 [n, D]  lambda_t = -ln(S_t / S_{t-1}), S_{-1} = 1 (from the
 *                                                   detector's statistic, so finite)
 *   OUT/eval/<split>/score.json     { split, n, D, W, checkpoint: null, arch, data }   written last
 *   OUT/result.json                 kind netflowgen.detector-result                    written last
 *
 * for each of train, valid and test that has examples. The whole folder is written atomically.
 *
 * Where the numbers come from: an example (row, start) covers minutes [start, start + W) of the binned
 * dataset's time axis, which is the series store's (same first minute and length; detect-dataset checks
 * it, and so does this run): its detection window is [start + W - D, start + W), its history
 * [start, start + W - D). The node is the binned dataset's nodes[row], found in the store by address.
 * The static threshold's tables come from the node's minutes of the binned dataset's training split,
 * splits.train = [start, end).
 */
import { promises as fsp } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { checkOutputDir, withAtomicDir, writeFileAtomic } from '../common/atomic.js';
import { VERSION } from '../common/version.js';
import { BinnedDataset } from '../datasets/binned.js';
import { readDetectSplit, readEarlyDetectManifest } from '../earlydetect/data.js';
import { HAZARD_FILE, SCORE_FILE, SURVIVAL_FILE } from '../earlydetect/scores.js';
import { N_COLUMNS } from '../earlydetect/summary.js';
import { SeriesStore } from '../serialize/store.js';
import type { SplitName } from '../splits/splits.js';
import {
  BITS_SCALE_FLOOR,
  DEFAULT_EWMA_CUSUM,
  ewmaCusumCurve,
  logPackets,
  nodeQuantileTables,
  PKT_SCALE_FLOOR,
  staticThresholdCurve,
  type DetectorCurve,
  type EwmaCusumParams,
  type NodeQuantileTables,
} from './detectors.js';

export type SimpleDetectorName = 'static' | 'ewma-cusum';
export const SIMPLE_DETECTORS: readonly SimpleDetectorName[] = ['static', 'ewma-cusum'];
export const DETECTOR_ARCH: Record<SimpleDetectorName, 'static_threshold' | 'ewma_cusum'> = {
  static: 'static_threshold',
  'ewma-cusum': 'ewma_cusum',
};
export const DETECTOR_LABEL: Record<SimpleDetectorName, string> = {
  static: 'Static threshold',
  'ewma-cusum': 'EWMA+CUSUM',
};
const DETECTOR_SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];
/** The store features the detectors read. */
export const DETECTOR_FEATURES = { packets: 'in.pkt', bytes: 'in.byt' } as const;

export interface SimpleDetectorOptions {
  /** EarlyDetect folder (netflowgen detect-dataset). */
  earlyDetect: string;
  detector: SimpleDetectorName;
  /** Run folder to write. */
  out: string;
  /** Splits to score (default train, valid, test); splits without examples are skipped. */
  splits?: readonly SplitName[];
  /** Name in result.json (default: the folder's name). */
  name?: string;
  /** EWMA + CUSUM parameters (defaults DEFAULT_EWMA_CUSUM). */
  ewmaCusum?: Partial<EwmaCusumParams>;
  /** Replace an existing non-empty folder. */
  force?: boolean;
  signal?: AbortSignal;
}

/** OUT/eval/<split>/score.json of a detector run. */
export interface DetectorScore {
  split: SplitName;
  n: number;
  D: number;
  W: number;
  checkpoint: null;
  arch: 'static_threshold' | 'ewma_cusum';
  data: string;
}

/** OUT/result.json of a detector run (read by the evaluation like a fine-tuning result). */
export interface DetectorResult {
  kind: 'netflowgen.detector-result';
  createdBy: string;
  name: string;
  label: string;
  arch: 'static_threshold' | 'ewma_cusum';
  dataset: string;
  binnedDataset: string;
  store: string;
  pretrained: null;
  featureSet: 'full';
  nFeatures: number;
  trainSplit: null;
  calibrationSplit: 'train';
  attackTypes: null;
  trainExamples: 0;
  params: Record<string, unknown>;
  finishedAt: string;
}

function abortError(): Error {
  const e = new Error('interrupted: no detector run was written');
  e.name = 'AbortError';
  return e;
}

/** Minute ranges (store and binned time axis, half-open) of an example starting at `start`. */
export function exampleMinutes(
  start: number,
  W: number,
  D: number,
): { history: { start: number; end: number }; window: { start: number; end: number } } {
  return { history: { start, end: start + W - D }, window: { start: start + W - D, end: start + W } };
}

/** One feature of minutes [from, to) of a node, read in blocks (the store is node-major, minute-major). */
function readColumns(
  store: SeriesStore,
  node: number,
  from: number,
  to: number,
  cols: readonly number[],
): Float64Array[] {
  const out = cols.map(() => new Float64Array(Math.max(0, to - from)));
  const F = store.nFeatures;
  const BLOCK = 16_384;
  for (let a = from; a < to; a += BLOCK) {
    const b = Math.min(to, a + BLOCK);
    const x = store.readNode(node, a, b);
    for (let t = 0; t < b - a; t++) for (let c = 0; c < cols.length; c++) out[c][a - from + t] = x[t * F + cols[c]];
  }
  return out;
}

/**
 * Runs a training-free detector on every example of the EarlyDetect dataset's splits and writes the
 * run folder (module docstring). Refuses an existing non-empty `out` unless `force`.
 */
export async function runSimpleDetector(opts: SimpleDetectorOptions): Promise<{ result: DetectorResult; out: string }> {
  if (!SIMPLE_DETECTORS.includes(opts.detector))
    throw new Error(`unknown detector '${opts.detector}' (one of ${SIMPLE_DETECTORS.join(', ')})`);
  const out = opts.out;
  const edDir = resolve(opts.earlyDetect);
  await checkOutputDir(out, { overwrite: opts.force, inputs: [edDir] });
  const m = readEarlyDetectManifest(opts.earlyDetect); // errors name the folder as given
  const W = m.windowLength;
  const D = m.detectLength;
  const ds = BinnedDataset.open(m.dataset);
  const dm = ds.manifest;
  const store = SeriesStore.open(m.store);
  if (store.startMinute !== dm.startMinute || store.nMinutes !== dm.minutes)
    throw new Error(
      `${m.store} covers other minutes than the binned dataset ${m.dataset} (first minute ${store.manifest.firstMinute} vs ${dm.firstMinute}, ${store.nMinutes} vs ${dm.minutes} minutes)`,
    );
  const col = (name: string) => {
    const c = store.manifest.features.indexOf(name);
    if (c < 0)
      throw new Error(`${m.store}: the store has no feature '${name}', which the ${opts.detector} detector reads`);
    return c;
  };
  const pktCol = col(DETECTOR_FEATURES.packets);
  const bytCol = opts.detector === 'static' ? col(DETECTOR_FEATURES.bytes) : -1;
  const arch = DETECTOR_ARCH[opts.detector];
  const cusumParams: EwmaCusumParams = { ...DEFAULT_EWMA_CUSUM, ...opts.ewmaCusum };
  const train = dm.splits.train;
  if (opts.detector === 'static' && !(train.end > train.start))
    throw new Error(`${m.dataset}: the training split has no minutes to build the static thresholds from`);

  const requested = opts.splits ?? DETECTOR_SPLITS;
  for (const s of requested)
    if (!DETECTOR_SPLITS.includes(s)) throw new Error(`unknown split '${s}' (one of ${DETECTOR_SPLITS.join(', ')})`);
  const splits = DETECTOR_SPLITS.filter((s) => requested.includes(s) && m.splits[s].count > 0);
  if (!splits.length) throw new Error(`${edDir}: no examples in ${requested.join(', ')} to score`);

  // Group every example by row, so that a node's training tables are built once and dropped after use.
  const curves = new Map<SplitName, { survival: Float32Array; hazard: Float32Array }>();
  const byRow = new Map<number, { split: SplitName; i: number; start: number }[]>();
  for (const s of splits) {
    const sp = readDetectSplit(edDir, m, s);
    curves.set(s, { survival: new Float32Array(sp.n * D), hazard: new Float32Array(sp.n * D) });
    for (let i = 0; i < sp.n; i++) {
      const row = sp.examples[i * N_COLUMNS];
      const start = sp.examples[i * N_COLUMNS + 1];
      if (!(row >= 0 && row < dm.nodes.length))
        throw new Error(`${edDir}: ${s} example ${i} has row ${row}, the binned dataset has ${dm.nodes.length}`);
      if (!(start >= 0 && start + W <= store.nMinutes))
        throw new Error(
          `${edDir}: ${s} example ${i} covers minutes ${start}..${start + W - 1}, outside the store's 0..${store.nMinutes - 1}`,
        );
      const list = byRow.get(row) ?? [];
      list.push({ split: s, i, start });
      byRow.set(row, list);
    }
  }

  for (const [row, list] of [...byRow].sort((a, b) => a[0] - b[0])) {
    if (opts.signal?.aborted) throw abortError();
    const address = dm.nodes[row].address;
    const node = store.nodeIndex(address);
    if (node < 0) throw new Error(`${m.store}: no node ${address} (row ${row} of ${m.dataset})`);
    let tables: NodeQuantileTables | undefined;
    if (opts.detector === 'static') {
      const [p, b] = readColumns(store, node, train.start, train.end, [pktCol, bytCol]);
      tables = nodeQuantileTables(p, b);
    }
    for (const e of list) {
      const mins = exampleMinutes(e.start, W, D);
      let c: DetectorCurve;
      if (tables) {
        const [p, b] = readColumns(store, node, mins.window.start, mins.window.end, [pktCol, bytCol]);
        c = staticThresholdCurve(tables, p, b);
      } else {
        const [p] = readColumns(store, node, mins.history.start, mins.window.end, [pktCol]);
        const x = logPackets(p);
        c = ewmaCusumCurve(x.subarray(0, W - D), x.subarray(W - D), cusumParams);
      }
      const dst = curves.get(e.split)!;
      dst.survival.set(c.survival, e.i * D);
      dst.hazard.set(c.hazard, e.i * D);
    }
  }

  const params: Record<string, unknown> =
    opts.detector === 'static'
      ? {
          features: {
            packetsPerSecond: `${DETECTOR_FEATURES.packets} / 60`,
            bitsPerSecond: `8 ${DETECTOR_FEATURES.bytes} / 60`,
          },
          trainingMinutes: { split: 'train', start: train.start, end: train.end, from: train.from, to: train.to },
          cdf: 'F(x) = #{training values < x} / (n + 1); above the maximum 1 - s / ((n + 1)(s + x - max)), s = max(max, floor)',
          scaleFloors: { packetsPerSecond: PKT_SCALE_FLOOR, bitsPerSecond: BITS_SCALE_FLOOR },
          survival: 'S_t = 1 - max_{k<=t} max(F_pkt(p_k), F_bits(b_k)) over the detection window',
          tau: 'S_t < tau <=> packets/s or bits/s above the node training (1 - tau)-quantile',
        }
      : {
          feature: DETECTOR_FEATURES.packets,
          transform: 'log1p',
          alpha: cusumParams.alpha,
          k: cusumParams.k,
          sigmaFloor: cusumParams.sigmaFloor,
          freeze: cusumParams.freeze,
          warmup: `the example's ${W - D} history minutes (W - D)`,
          survival: 'S_t = exp(-max_{k<=t} g_k), g_t = max(0, g_{t-1} + z_t - k), g_{-1} = 0',
          tau: 'S_t < tau <=> CUSUM above h = -ln tau',
        };
  const result: DetectorResult = {
    kind: 'netflowgen.detector-result',
    createdBy: `netflowgen ${VERSION}`,
    name: opts.name ?? basename(out),
    label: DETECTOR_LABEL[opts.detector],
    arch,
    dataset: edDir,
    binnedDataset: resolve(m.dataset),
    store: resolve(m.store),
    pretrained: null,
    featureSet: 'full',
    nFeatures: opts.detector === 'static' ? 2 : 1,
    trainSplit: null,
    calibrationSplit: 'train',
    attackTypes: null,
    trainExamples: 0,
    params,
    finishedAt: '',
  };
  if (opts.signal?.aborted) throw abortError();
  await withAtomicDir(
    out,
    async (tmp) => {
      for (const s of splits) {
        const dir = join(tmp, 'eval', s);
        await fsp.mkdir(dir, { recursive: true });
        const c = curves.get(s)!;
        await fsp.writeFile(join(dir, SURVIVAL_FILE), new Uint8Array(c.survival.buffer));
        await fsp.writeFile(join(dir, HAZARD_FILE), new Uint8Array(c.hazard.buffer));
        const score: DetectorScore = { split: s, n: m.splits[s].count, D, W, checkpoint: null, arch, data: edDir };
        await writeFileAtomic(join(dir, SCORE_FILE), JSON.stringify(score, null, 1) + '\n');
      }
      result.finishedAt = new Date().toISOString();
      await writeFileAtomic(join(tmp, 'result.json'), JSON.stringify(result, null, 1) + '\n');
    },
    { overwrite: opts.force, inputs: [edDir, m.dataset, m.store] },
  );
  return { result, out: resolve(out) };
}

/**
 * `netflowgen bin`: series store in, binned dataset out (SPEC §2-§4). Streams node by node: memory
 * holds one node's series at a time (plus per-node summaries of a few numbers).
 *
 *   pass 1  every node, training minutes: activity -> node and customer filters
 *   pass 2  training nodes: cutoffs from the training split (Algorithm 1), bins of all minutes,
 *           summary quantiles and moments for the unseen-node mapping
 *   pass 3  (--unseen) the other nodes of kept customers: summary over all their minutes, nearest
 *           training node in L1, binned with its cutoffs
 */
import { promises as fsp, openSync, closeSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FEATURES, FEATURE_NAMES, resolveFeatures } from '../catalogue/features.js';
import { checkOutputDir, withAtomicDir, writeFileAtomic } from '../common/atomic.js';
import { createProgress } from '../common/progress.js';
import { validateWithSchema } from '../common/schema.js';
import { VERSION } from '../common/version.js';
import { binNode, fitNode, nodeQuantiles } from '../discretize/node.js';
import { readAlerts } from '../splits/alerts.js';
import { screenAlerts } from '../splits/alert-screen.js';
import { SeriesStore, minuteToIso } from '../serialize/store.js';
import { nodeActivity, selectNodes, type NodeActivity } from '../splits/filters.js';
import {
  DEFAULT_FRACTIONS,
  SPLITS,
  TIME_FEATURES,
  TIME_FEATURE_SIZES,
  parseSplitSpec,
  splitsFromFractions,
  timeFeatureTable,
  windowPairs,
  windowStarts,
  type SplitName,
  type SplitRule,
  type Splits,
} from '../splits/splits.js';
import { table1 } from '../splits/summary.js';
import { mapNearest } from '../unseen/nearest.js';
import { table7 } from '../unseen/report.js';
import {
  SUMMARY_SIZE,
  emptyMoments,
  featureMoments,
  mergeMoments,
  momentsStd,
  summarizeNode,
} from '../unseen/summary.js';
import {
  BINS_FILE,
  CUTOFFS_FILE,
  DATASET_MANIFEST,
  DATASET_SCHEMA,
  TIME_FILE,
  UNSEEN_FILE,
  windowsFile,
  type BinnedManifest,
  type DatasetNode,
  type UnseenReport,
} from './binned.js';

export interface BuildBinnedOptions {
  /** Series store folder. */
  store: string;
  /** Dataset folder to write. */
  out: string;
  /** Feature set name ('full', 'light') or list of catalogue names. Default 'full'. */
  features?: string | readonly string[];
  /** Number of bins N (default 10). */
  nBins?: number;
  /** Split spec: three fractions or two ISO dates (see splits/parseSplitSpec). Default 0.72,0.08,0.2. */
  split?: string;
  /** Pre-training window length in minutes (default 512). */
  windowLength?: number;
  minActive?: number;
  excludeCustomers?: readonly string[];
  topK?: number;
  /** Add the filtered-out nodes of kept customers as unseen rows (SPEC §4). */
  unseen?: boolean;
  /** Alert feed, for the attacks column of Table 7. */
  alerts?: string;
  force?: boolean;
  signal?: AbortSignal;
}

export interface BuildBinnedResult {
  manifest: BinnedManifest;
  unseen: UnseenReport;
}

const TIME_RULE =
  'm = startMinute + t (epoch minutes, UTC); minuteOfHour = m mod 60; hourOfDay = floor(m / 60) mod 24; dayOfWeek = (floor(m / 1440) + 3) mod 7 (Monday = 0)';

function abortError(): Error {
  const e = new Error('interrupted: no dataset was written');
  e.name = 'AbortError';
  return e;
}

export async function buildBinnedDataset(opts: BuildBinnedOptions): Promise<BuildBinnedResult> {
  await checkOutputDir(opts.out, { overwrite: opts.force, inputs: [opts.store, opts.alerts] });
  const store = SeriesStore.open(opts.store);
  const sm = store.manifest;
  const nBins = opts.nBins ?? 10;
  if (!(Number.isInteger(nBins) && nBins >= 2 && nBins <= 256))
    throw new Error(`--bins must be an integer in 2..256 (bins are stored as uint8), got ${opts.nBins}`);
  const windowLength = opts.windowLength ?? 512;
  const featureIdx = resolveFeatures(opts.features ?? 'full');
  if (!featureIdx.length) throw new Error('no features selected');
  const names = featureIdx.map((i) => FEATURE_NAMES[i]);
  const cols = names.map((n) => {
    const c = sm.features.indexOf(n);
    if (c < 0) throw new Error(`${opts.store}: the store has no feature '${n}'`);
    return c;
  });
  const F = cols.length;
  const nc = nBins - 1;
  const { splits, rule }: { splits: Splits; rule: SplitRule } = opts.split
    ? parseSplitSpec(opts.split, store.startMinute, store.nMinutes)
    : {
        splits: splitsFromFractions(store.nMinutes, DEFAULT_FRACTIONS),
        rule: { kind: 'fractions', fractions: DEFAULT_FRACTIONS },
      };
  const train = splits.train;
  if (train.end <= train.start)
    throw new Error(
      `the training split is empty (${store.nMinutes} minutes in the store): cutoffs need training minutes`,
    );
  const byteCols = ['in.byt', 'out.byt'].map((n) => sm.features.indexOf(n)).filter((c) => c >= 0);
  const S = store.nFeatures;

  // ---- pass 1: activity on the training split -> filters ----
  const total = store.nNodes;
  const progress = createProgress(
    'bin',
    total * 2,
    '{bar} {percentage}% | {value}/{total} node passes | ETA {eta_formatted}',
  );
  const activity: NodeActivity[] = [];
  for (let v = 0; v < total; v++) {
    if (opts.signal?.aborted) throw abortError();
    activity.push(
      nodeActivity(
        store.readNode(v, train.start, train.end),
        S,
        0,
        train.end - train.start,
        byteCols.length === 2 ? byteCols : [],
      ),
    );
    progress.update(v + 1);
  }
  const excludeCustomers = [...(opts.excludeCustomers ?? [])];
  const sel = selectNodes(
    sm.nodes.map((n) => n.customer),
    activity,
    { minActive: opts.minActive, excludeCustomers, topK: opts.topK },
  );
  if (!sel.kept.length) throw new Error(`no node passes the filters (${total} nodes: ${countReasons(sel.dropped)})`);
  const unseenIdx = opts.unseen
    ? [...sel.dropped]
        .filter(([, r]) => r !== 'excluded_customer')
        .map(([i]) => i)
        .sort((a, b) => a - b)
    : [];
  const V = sel.kept.length;
  const rows = V + unseenIdx.length;
  progress.setTotal(total + rows);

  const customers: string[] = [];
  const customerId = new Map<string, number>();
  for (const v of sel.kept) {
    const c = sm.nodes[v].customer;
    if (!customerId.has(c)) {
      customerId.set(c, customers.length);
      customers.push(c);
    }
  }
  const nodeEntry = (v: number, row: number, extra: Partial<DatasetNode>): DatasetNode => {
    const n = sm.nodes[v];
    return {
      row,
      address: n.address,
      customer: n.customer,
      ...(n.role ? { role: n.role } : {}),
      storeIndex: v,
      nodeId: row,
      customerId: customerId.get(n.customer) ?? 0,
      seen: true,
      ...extra,
    };
  };
  const nodes: DatasetNode[] = sel.kept.map((v, row) => nodeEntry(v, row, {}));

  const result = await withAtomicDir(
    opts.out,
    async (tmp) => {
      const binsFd = openSync(join(tmp, BINS_FILE), 'w');
      const cutFd = openSync(join(tmp, CUTOFFS_FILE), 'w');
      const write = (fd: number, a: ArrayBufferView) =>
        writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      const trainCutoffs = new Float64Array(V * F * nc); // kept for unseen rows (V x F x 9 doubles)
      const quantiles: Float64Array[] = [];
      let moments = emptyMoments(F);
      const binsBuf = new Uint8Array(store.nMinutes * F);
      try {
        // ---- pass 2: training nodes ----
        for (let row = 0; row < V; row++) {
          if (opts.signal?.aborted) throw abortError();
          const series = store.readNode(sel.kept[row]);
          const fit = fitNode(series, S, cols, train.start, train.end, nBins);
          trainCutoffs.set(fit.cutoffs, row * F * nc);
          quantiles.push(fit.quantiles);
          moments = mergeMoments(moments, featureMoments(series, S, cols, train.start, train.end));
          write(binsFd, binNode(series, S, cols, fit.cutoffs, nBins, binsBuf));
          write(cutFd, fit.cutoffs);
          progress.update(total + row + 1);
        }
        const mean = moments.mean;
        const std = momentsStd(moments);
        const trainSummaries = new Float64Array(V * SUMMARY_SIZE);
        quantiles.forEach((q, row) => trainSummaries.set(summarizeNode(q, mean, std), row * SUMMARY_SIZE));

        // ---- pass 3: unseen nodes ----
        const unseenSummaries = new Float64Array(unseenIdx.length * SUMMARY_SIZE);
        const mapping: UnseenReport['mapping'] = [];
        for (let u = 0; u < unseenIdx.length; u++) {
          if (opts.signal?.aborted) throw abortError();
          const v = unseenIdx[u];
          const series = store.readNode(v);
          const summary = summarizeNode(nodeQuantiles(series, S, cols, 0, store.nMinutes), mean, std);
          unseenSummaries.set(summary, u * SUMMARY_SIZE);
          const near = mapNearest(summary, trainSummaries, SUMMARY_SIZE);
          const to = near.index[0];
          const row = V + u;
          const cut = trainCutoffs.subarray(to * F * nc, (to + 1) * F * nc);
          write(binsFd, binNode(series, S, cols, cut, nBins, binsBuf));
          write(cutFd, cut);
          const own = customerId.get(sm.nodes[v].customer);
          nodes.push(
            nodeEntry(v, row, {
              nodeId: to,
              customerId: own ?? nodes[to].customerId,
              seen: false,
              mappedTo: to,
              distance: near.distance[0],
            }),
          );
          mapping.push({
            row,
            address: sm.nodes[v].address,
            mappedTo: to,
            mappedAddress: nodes[to].address,
            distance: near.distance[0],
          });
          progress.update(total + V + u + 1);
        }
        progress.stop();

        // ---- small files ----
        await fsp.writeFile(join(tmp, TIME_FILE), timeFeatureTable(store.startMinute, store.nMinutes));
        const windows = {} as BinnedManifest['windows'];
        const seenRows = Array.from({ length: V }, (_, r) => r);
        for (const s of SPLITS) {
          const pairs = windowPairs(seenRows, windowStarts(splits[s], windowLength));
          await fsp.writeFile(join(tmp, windowsFile(s)), new Uint8Array(pairs.buffer));
          windows[s] = { file: windowsFile(s), count: pairs.length / 2 };
        }
        // Pre-training needs training and validation windows: none is an error here, not three stages later.
        for (const s of ['train', 'valid'] as const)
          if (windows[s].count === 0)
            throw new Error(
              `no ${s === 'train' ? 'training' : 'validation'} window: the ${s} split has ${splits[s].end - splits[s].start} minutes of the store's ${store.nMinutes} (from ${sm.firstMinute}), fewer than one ${windowLength}-minute window; give a shorter --window, other --split shares, or more data${store.nMinutes < 3 * windowLength ? ' (the store is short: check the records serialize used and its time range)' : ''}; no dataset was written`,
            );

        let attacks: number[] | null = null;
        if (opts.alerts) {
          attacks = new Array<number>(V).fill(0);
          const rowOfStore = new Map(sel.kept.map((v, r) => [v, r]));
          for (const a of screenAlerts(readAlerts(opts.alerts), store)) {
            const r = a.drop === null ? rowOfStore.get(a.node) : undefined;
            if (r !== undefined) attacks[r]++;
          }
        }
        const unseen: UnseenReport = {
          summaryColumns: ['min', 'p25', 'p50', 'p75', 'max'],
          summaries: [...chunk(trainSummaries), ...chunk(unseenSummaries)],
          featureMean: [...mean],
          featureStd: [...std],
          mapping,
          table7: table7(
            nodes.slice(0, V).map((n) => n.address),
            mapping.map((m) => m.mappedTo),
            attacks,
          ),
        };
        await fsp.writeFile(join(tmp, UNSEEN_FILE), JSON.stringify(unseen) + '\n');

        const range = (s: SplitName) => ({
          start: splits[s].start,
          end: splits[s].end,
          from: minuteToIso(store.startMinute + splits[s].start),
          to: minuteToIso(store.startMinute + splits[s].end),
        });
        const manifest: BinnedManifest = {
          kind: 'netflowgen.binned-dataset',
          schemaVersion: 1,
          createdBy: `netflowgen ${VERSION}`,
          source: { store: resolve(opts.store), nodes: store.nNodes, features: S },
          startMinute: store.startMinute,
          firstMinute: minuteToIso(store.startMinute),
          minutes: store.nMinutes,
          features: names,
          featureIndices: featureIdx,
          featureGroups: featureIdx.map((i) => FEATURES[i].group),
          nBins,
          files: { bins: BINS_FILE, cutoffs: CUTOFFS_FILE, time: TIME_FILE, unseen: UNSEEN_FILE },
          shapes: { bins: [rows, store.nMinutes, F], cutoffs: [rows, F, nc], time: [store.nMinutes, 3] },
          timeFeatures: { names: [...TIME_FEATURES], sizes: [...TIME_FEATURE_SIZES], rule: TIME_RULE },
          splitRule: rule,
          splits: { train: range('train'), valid: range('valid'), test: range('test') },
          windowLength,
          windows,
          nodeIds: V,
          customers,
          nodes,
          filters: {
            minActive: opts.minActive ?? 0,
            excludeCustomers,
            ...(opts.topK !== undefined ? { topK: opts.topK } : {}),
            dropped: countReasonsObj(sel.dropped),
          },
          table1: table1(
            { customers: sm.nodes.map((n) => n.customer) },
            { customers: sel.kept.map((v) => sm.nodes[v].customer) },
            splits,
            windowLength,
          ),
          unseen: { included: Boolean(opts.unseen), rows: unseenIdx.length },
        };
        validateWithSchema(DATASET_SCHEMA, manifest, join(opts.out, DATASET_MANIFEST));
        await writeFileAtomic(join(tmp, DATASET_MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
        return { manifest, unseen };
      } finally {
        closeSync(binsFd);
        closeSync(cutFd);
        progress.stop();
      }
    },
    { overwrite: opts.force, inputs: [opts.store, opts.alerts] },
  );
  return result;
}

function chunk(a: Float64Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.length; i += SUMMARY_SIZE) out.push([...a.subarray(i, i + SUMMARY_SIZE)]);
  return out;
}

function countReasonsObj(dropped: Map<number, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of dropped.values()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

function countReasons(dropped: Map<number, string>): string {
  return Object.entries(countReasonsObj(dropped))
    .map(([r, n]) => `${n} ${r}`)
    .join(', ');
}

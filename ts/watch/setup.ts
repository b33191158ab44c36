/**
 * What a watch is set up from, read once at start: the fine-tuning run (its final checkpoint, its
 * EarlyDetect folder and through it the binned dataset of the pre-training run: cutoffs, node ids,
 * unseen-node summaries), the threshold its evaluation chose (tau.ts), the series store's aggregation rules
 * (sampling, long flows, UTC offset: the live minutes must be made as the store's were), and the node
 * inventory (serialize's: --nodes FILE and --prefix; none given: the dataset's own node addresses).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BinnedDataset } from '../datasets/binned.js';
import { readEarlyDetectManifest } from '../earlydetect/data.js';
import { readScoredModel } from '../evaluate/evaluate.js';
import { NodeRegistry, loadInventory, parsePrefixOptions } from '../serialize/inventory.js';
import type { SeriesStoreManifest } from '../serialize/store.js';
import { finalCheckpointPath } from '../train/finetune.js';
import type { AggregationRules } from './minutes.js';
import { detectorTausIn, findTau, type ChosenTau } from './tau.js';

export interface WatchSetup {
  run: string;
  checkpoint: string;
  earlyDetect: string;
  dataset: BinnedDataset;
  store: string;
  W: number;
  D: number;
  tau: ChosenTau;
  detectorTaus: Partial<Record<'static' | 'ewma-cusum', number>>;
  rules: AggregationRules;
  registry: NodeRegistry;
  arch: string;
}

export async function setupWatch(opts: {
  run: string;
  evaluation?: string;
  nodes?: string;
  prefixes?: string[];
  detectorTaus?: Partial<Record<'static' | 'ewma-cusum', number>>;
  rules?: Partial<AggregationRules>;
}): Promise<WatchSetup> {
  const run = resolve(opts.run);
  const result = readScoredModel(run);
  if (result.kind !== 'netflowgen.finetune-result')
    throw new Error(`${run}: a ${result.kind} folder; --model takes a fine-tuning run (netflowgen finetune)`);
  const checkpoint = finalCheckpointPath(run, result as never);
  if (!existsSync(checkpoint))
    throw new Error(`${checkpoint}: the run's final model is missing (was the run folder moved or cleaned?)`);
  const tau = findTau(run, opts.evaluation);
  const edm = readEarlyDetectManifest(result.dataset);
  const dataset = BinnedDataset.open(edm.dataset);
  const storeManifest = readStoreManifest(edm.store);
  const rules: AggregationRules = {
    sampling: opts.rules?.sampling ?? storeManifest?.sampling ?? 1,
    spreadLongFlows: opts.rules?.spreadLongFlows ?? Boolean(storeManifest?.options?.spreadLongFlows),
    utcOffsetHours: opts.rules?.utcOffsetHours ?? Number(storeManifest?.options?.utcOffsetHours ?? 0),
  };
  const registry = new NodeRegistry();
  if (opts.nodes) await loadInventory(opts.nodes, registry);
  if (opts.prefixes?.length) parsePrefixOptions(opts.prefixes, registry);
  if (registry.isEmpty())
    for (const n of dataset.manifest.nodes)
      registry.add(n.address, { customer: n.customer, ...(n.role ? { role: n.role } : {}) }, `${edm.dataset} node`);
  return {
    run,
    checkpoint,
    earlyDetect: resolve(result.dataset),
    dataset,
    store: edm.store,
    W: edm.windowLength,
    D: edm.detectLength,
    tau,
    detectorTaus: { ...detectorTausIn(tau.file), ...opts.detectorTaus },
    rules,
    registry,
    arch: result.arch,
  };
}

type StoreOptions = SeriesStoreManifest & { options?: { spreadLongFlows?: boolean; utcOffsetHours?: number } };

function readStoreManifest(store: string): StoreOptions | null {
  try {
    return JSON.parse(readFileSync(join(store, 'manifest.json'), 'utf8')) as StoreOptions;
  } catch {
    return null; // the store was moved: the defaults (no sampling, start-minute rule, UTC)
  }
}

/**
 * The series store's manifest as serialize writes it: what was read, kept, rejected and skipped, and
 * every setting that shaped the numbers (schemas/series-store.schema.json).
 */
import { FEATURE_NAMES } from '../catalogue/features.js';
import { VERSION } from '../common/version.js';
import type { NodeRegistry } from './inventory.js';
import type { SerializeOptions } from './options.js';
import {
  OUTLIER_GAP_MINUTES,
  OUTLIER_TAIL_SHARE,
  STRETCH_EMPTY_MINUTES,
  STRETCH_FACTOR,
  type bulkRange,
} from './range.js';
import { DATA_FILE, minuteToIso, type SeriesStoreManifest } from './store.js';

/** What one serialize run found and the settings it ran with (the defaults of SerializeOptions filled in). */
export interface StoreRun extends Pick<
  SeriesStoreManifest,
  'dataBytes' | 'startMinute' | 'minutes' | 'nodes' | 'inputs' | 'skipped' | 'records' | 'sampling'
> {
  endMinute: number;
  rangeGiven: boolean;
  bulk: ReturnType<typeof bulkRange>;
  lateRecords: number;
  peakOpenChunks: number;
  reorder: number;
  chunkMinutes: number;
  maxRejectShare: number;
  inventory: ReturnType<NodeRegistry['stats']>;
}

export function storeManifest(opts: SerializeOptions, run: StoreRun): SeriesStoreManifest {
  return {
    kind: 'netflowgen.series-store',
    schemaVersion: 1,
    createdBy: `netflowgen ${VERSION}`,
    features: [...FEATURE_NAMES],
    dtype: 'float32',
    layout: 'node-major',
    dataFile: DATA_FILE,
    dataBytes: run.dataBytes,
    startMinute: run.startMinute,
    firstMinute: minuteToIso(run.startMinute),
    minutes: run.minutes,
    nodes: run.nodes,
    customers: [...new Set(run.nodes.map((n) => n.customer))],
    sampling: run.sampling,
    inputs: run.inputs,
    skipped: run.skipped,
    records: run.records,
    options: {
      format: opts.format ?? 'detect',
      from: opts.from ?? null,
      to: opts.to ?? null,
      timeRange: run.rangeGiven
        ? { source: '--from/--to', from: minuteToIso(run.startMinute), to: minuteToIso(run.endMinute) }
        : {
            source: 'bulk of the data',
            from: minuteToIso(run.startMinute),
            to: minuteToIso(run.endMinute),
            rule: `at most max(1, ${OUTLIER_TAIL_SHARE * 100}% of the records) at each end, separated from the rest by more than ${OUTLIER_GAP_MINUTES} minutes, are time outliers; a store more than ${STRETCH_FACTOR}x longer than its hours with records (and over ${STRETCH_EMPTY_MINUTES} minutes longer) needs --allow-large`,
            ...(run.bulk ? { recordsInside: run.bulk.records } : {}),
          },
      reorderMinutes: run.reorder,
      lateRecords: run.lateRecords,
      chunkMinutes: run.chunkMinutes,
      spreadLongFlows: Boolean(opts.spreadLongFlows),
      utcOffsetHours: opts.utcOffsetHours ?? 0,
      maxRejectShare: run.maxRejectShare,
      timeRule: opts.spreadLongFlows
        ? 'packets and bytes spread over the minutes a flow spans; flow counted in its start minute'
        : 'flow counted in the minute of its start time',
      fileOrder:
        'by time: the nfcapd name, else the first record; each file has its own reorder window, overlapping files are merged',
      inventory: { ...run.inventory, rule: 'overlapping entries: the longest prefix wins' },
      peakOpenChunks: run.peakOpenChunks,
    },
  };
}

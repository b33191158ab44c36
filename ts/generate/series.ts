/**
 * The folder `netflowgen generate` writes (docs/generate.md): its manifest
 * (schemas/generated-series.schema.json), python/generate.py's sample.json
 * (schemas/generate-sample.schema.json), and read access to the sampled bins (GeneratedSeries).
 */
import { closeSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readFully, readManifest } from '../common/files.js';
import type { FeatureGroup } from '../catalogue/features.js';

export const GENERATED_SCHEMA = 'generated-series.schema.json';
export const SAMPLE_SCHEMA = 'generate-sample.schema.json';
export const GENERATED_MANIFEST = 'manifest.json';

/** python/generate.py's sample.json. */
export interface SampleRecord {
  kind: 'netflowgen.generate-sample';
  schemaVersion: 1;
  checkpoint: string | null;
  initArch: string | null;
  size: string;
  data: string;
  rows: number[];
  features: string[];
  featureGroups: FeatureGroup[];
  nBins: number;
  from: number;
  minutes: number;
  history: number;
  cold: boolean;
  window: number;
  context: number;
  keep: number;
  reprimes: number;
  temperature: number;
  topK: number;
  seed: number;
  cache: boolean;
  batchSize: number;
  device: 'cpu' | 'cuda';
  threads: number;
  sampleSeconds: number;
  nodeMinutesPerSecond: number | null;
  files: { bins: { file: string; dtype: 'uint8'; shape: number[] } };
}

export interface GeneratedNode {
  row: number;
  address: string;
  customer: string;
  role?: string;
  nodeId: number;
  customerId: number;
  seen: boolean;
}

/** OUT/manifest.json of `netflowgen generate`. */
export interface GeneratedManifest {
  kind: 'netflowgen.generated-series';
  schemaVersion: 1;
  createdBy: string;
  model: {
    run: string | null;
    name: string | null;
    checkpoint: string | null;
    initArch: string | null;
    size: string;
    window: number;
    context: number;
    keep: number;
  };
  dataset: string;
  features: string[];
  featureGroups: FeatureGroup[];
  nBins: number;
  /** First generated minute as an index on the dataset's time axis. */
  from: number;
  /** The same minute in minutes since the Unix epoch, and as ISO 8601. */
  startMinute: number;
  firstMinute: string;
  minutes: number;
  history: { from: number | null; minutes: number; cold: boolean };
  sampling: {
    temperature: number;
    topK: number;
    seed: number;
    cache: boolean;
    batchSize: number;
    device: string;
    threads: number;
    reprimes: number;
  };
  nodes: GeneratedNode[];
  files: { bins: { file: string; dtype: 'uint8'; shape: number[] }; sample: string; store: string | null };
  values: {
    source: 'training-values' | 'cutoffs' | null;
    store: string | null;
    fallbacks: number;
    unrealizable: number;
    seed: number;
  };
  timing: { sampleSeconds: number; nodeMinutesPerSecond: number | null; totalSeconds: number };
}

/** Read access to a folder of `netflowgen generate`. */
export class GeneratedSeries {
  private constructor(
    readonly dir: string,
    readonly manifest: GeneratedManifest,
  ) {}

  static open(dir: string): GeneratedSeries {
    const path = join(dir, GENERATED_MANIFEST);
    return new GeneratedSeries(
      dir,
      readManifest<GeneratedManifest>(path, GENERATED_SCHEMA, 'generated-series manifest'),
    );
  }

  /** Bins of node i (its index in manifest.nodes): Uint8Array [minutes, features]. */
  readBins(i: number): Uint8Array {
    const { minutes: N, features, nodes } = this.manifest;
    if (!(i >= 0 && i < nodes.length)) throw new RangeError(`node ${i} out of range 0..${nodes.length - 1}`);
    const size = N * features.length;
    const path = join(this.dir, this.manifest.files.bins.file);
    if (statSync(path).size !== nodes.length * size)
      throw new Error(`${path}: ${statSync(path).size} bytes, the manifest implies ${nodes.length * size}`);
    const out = new Uint8Array(size);
    const fd = openSync(path, 'r');
    try {
      readFully(fd, out, i * size, `${path} is shorter than its manifest says`);
    } finally {
      closeSync(fd);
    }
    return out;
  }
}

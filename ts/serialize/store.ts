/**
 * The series store: per-node, per-minute feature counts on disk.
 *
 *   STORE/manifest.json   validated by schemas/series-store.schema.json
 *   STORE/series.f32      little-endian float32, C order, shape [nodes, minutes, features]
 *
 * From Python with numpy alone:
 *   m = json.load(open('STORE/manifest.json'))
 *   x = np.memmap('STORE/series.f32', dtype='<f4', mode='r',
 *                 shape=(len(m['nodes']), m['minutes'], len(m['features'])))
 * float32 holds every integer count exactly up to 2^24 (16.7M); larger counts keep 7 significant digits.
 *
 * Or, with layout 'zarr' (serialize --layout zarr; ./layout-zarr.ts), STORE/series.zarr: the same
 * array chunked and gzip'd, for zarr-python alone: x = zarr.open_array('STORE/series.zarr', mode='r').
 * SeriesStore reads both; every stage reads a store through it.
 */
import { openSync, closeSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readFully, readManifest } from '../common/files.js';
import { validateWithSchema } from '../common/schema.js';
import { writeFileAtomic, withAtomicDir } from '../common/atomic.js';
import type { InputFormat } from '../ingest/record.js';
import { DEFAULT_CHUNKING, ZARR_DIR, ZarrSeriesReader, writeZarrSeries, type ZarrChunking } from './layout-zarr.js';

export const MANIFEST = 'manifest.json';
export const DATA_FILE = 'series.f32';
export const STORE_SCHEMA = 'series-store.schema.json';

export interface StoreNode {
  id: number;
  address: string;
  customer: string;
  role?: string;
}

export interface StoreInput {
  path: string;
  format: InputFormat;
  bytes: number;
  sha256: string;
  records: number;
}

/** An input file that was skipped (or, with recordsKept, stopped part-way by damage). */
export interface SkippedFile {
  path: string;
  reason: 'unreadable_file' | 'not_flow_data';
  detail: string;
  /** Records read before the damage, kept and counted (a file damaged part-way, found while reading). */
  recordsKept?: number;
}

export interface RejectExample {
  reason: string;
  file: string;
  line: number;
  field: string;
  detail: string;
}

export interface RecordCounts {
  read: number;
  used: number;
  unmatched: number;
  outsideRange: number;
  rejected: Record<string, number>;
  examples: RejectExample[];
  /** Records whose forward packets or bytes the reader estimated (a format variant without them; docs/ingest.md). */
  estimated?: Record<string, number>;
}

export interface SeriesStoreManifest {
  kind: 'netflowgen.series-store';
  schemaVersion: 1;
  createdBy: string;
  features: string[];
  dtype: 'float32';
  /** node-major: dataFile is dense float32 (series.f32); zarr: dataFile is a Zarr v3 array folder (series.zarr). */
  layout: StoreLayout;
  dataFile: string;
  /** nodes x minutes x features x 4, whatever the layout (the bytes on disk of the dense layout). */
  dataBytes: number;
  /** The zarr layout's chunk grid and codec (present exactly when layout is zarr). */
  chunks?: ZarrChunking;
  /** First minute, minutes since the Unix epoch (UTC). */
  startMinute: number;
  /** The same minute as ISO 8601, e.g. 2021-09-21T15:45:00Z. */
  firstMinute: string;
  minutes: number;
  nodes: StoreNode[];
  customers: string[];
  sampling: number;
  inputs: StoreInput[];
  /** Files skipped, by reason (absent in stores made before this field). */
  skipped?: SkippedFile[];
  records: RecordCounts;
  options: Record<string, unknown>;
}

/** How the numbers lie on disk: 'node-major' = dense series.f32 (the default), 'zarr' = series.zarr. */
export type StoreLayout = 'node-major' | 'zarr';

export function minuteToIso(minute: number): string {
  return new Date(minute * 60_000).toISOString().replace(/\.000Z$/, 'Z');
}

/** Parses an ISO-8601 time (or 'YYYY-MM-DD hh:mm[:ss]', read as UTC) to minutes since the epoch (floor). */
export function isoToMinute(s: string): number {
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : s.replace(' ', 'T') + 'Z');
  if (!Number.isFinite(t)) throw new Error(`not a time: '${s}' (use ISO 8601, e.g. 2021-09-21T15:45:00Z)`);
  return Math.floor(t / 60_000);
}

/** Read access to a series store. Reads are positional; nothing is loaded until asked for. */
export class SeriesStore {
  readonly nNodes: number;
  readonly nMinutes: number;
  readonly nFeatures: number;
  private readonly byAddress: Map<string, number>;
  private readonly zarr: ZarrSeriesReader | null;

  private constructor(
    readonly dir: string,
    readonly manifest: SeriesStoreManifest,
  ) {
    this.nNodes = manifest.nodes.length;
    this.nMinutes = manifest.minutes;
    this.nFeatures = manifest.features.length;
    this.byAddress = new Map(manifest.nodes.map((n) => [n.address, n.id]));
    this.zarr =
      manifest.layout === 'zarr'
        ? new ZarrSeriesReader(join(dir, manifest.dataFile), this.nNodes, this.nMinutes, this.nFeatures)
        : null;
  }

  static open(dir: string): SeriesStore {
    const path = join(dir, MANIFEST);
    const m = readManifest<SeriesStoreManifest>(path, STORE_SCHEMA, 'series store manifest');
    const expected = m.nodes.length * m.minutes * m.features.length * 4;
    if (m.dataBytes !== expected)
      throw new Error(`${path}: dataBytes ${m.dataBytes} != nodes x minutes x features x 4 = ${expected}`);
    if ((m.layout === 'zarr') !== (m.chunks !== undefined))
      throw new Error(`${path}: 'chunks' belongs with layout zarr (layout ${m.layout})`);
    return new SeriesStore(dir, m);
  }

  get layout(): StoreLayout {
    return this.manifest.layout;
  }

  get startMinute(): number {
    return this.manifest.startMinute;
  }

  /** Node index of an address as written in the manifest (canonical form), or -1. */
  nodeIndex(address: string): number {
    return this.byAddress.get(address) ?? -1;
  }

  /** Minutes [from, to) of one node: Float32Array of (to - from) x nFeatures, minute-major. */
  readNode(node: number, from = 0, to = this.nMinutes): Float32Array {
    if (node < 0 || node >= this.nNodes) throw new RangeError(`node ${node} out of range 0..${this.nNodes - 1}`);
    from = Math.max(0, from);
    to = Math.min(this.nMinutes, to);
    const out = new Float32Array(Math.max(0, to - from) * this.nFeatures);
    if (out.length === 0) return out;
    if (this.zarr) return this.zarr.readNode(node, from, to);
    const fd = openSync(join(this.dir, this.manifest.dataFile), 'r');
    try {
      const pos = (node * this.nMinutes + from) * this.nFeatures * 4;
      readFully(fd, new Uint8Array(out.buffer), pos, 'series store data file is shorter than its manifest says');
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /** One feature of one node over all minutes. */
  readFeature(node: number, feature: number): Float32Array {
    const all = this.readNode(node);
    const out = new Float32Array(this.nMinutes);
    for (let t = 0; t < this.nMinutes; t++) out[t] = all[t * this.nFeatures + feature];
    return out;
  }
}

/**
 * Writes a whole store from memory (small data: tests, fixtures, synthetic series). Streaming
 * ingestion of real flow files uses the chunked writer of serialize/, which scales past memory.
 */
export async function writeSeriesStore(
  dir: string,
  parts: Omit<
    SeriesStoreManifest,
    'kind' | 'schemaVersion' | 'dtype' | 'layout' | 'dataFile' | 'dataBytes' | 'firstMinute' | 'createdBy' | 'chunks'
  > & { data: Float32Array; createdBy?: string },
  opts: { overwrite?: boolean; layout?: StoreLayout; chunks?: ZarrChunking } = {},
): Promise<SeriesStoreManifest> {
  const { data, ...rest } = parts;
  const expected = rest.nodes.length * rest.minutes * rest.features.length;
  if (data.length !== expected)
    throw new Error(`writeSeriesStore: data has ${data.length} values, expected ${expected}`);
  const manifest: SeriesStoreManifest = {
    kind: 'netflowgen.series-store',
    schemaVersion: 1,
    createdBy: rest.createdBy ?? 'netflowgen',
    dtype: 'float32',
    layout: opts.layout ?? 'node-major',
    dataFile: opts.layout === 'zarr' ? ZARR_DIR : DATA_FILE,
    dataBytes: data.byteLength,
    ...(opts.layout === 'zarr' ? { chunks: opts.chunks ?? DEFAULT_CHUNKING } : {}),
    firstMinute: minuteToIso(rest.startMinute),
    ...rest,
  };
  validateWithSchema(STORE_SCHEMA, manifest, `${dir}/${MANIFEST}`);
  await withAtomicDir(
    dir,
    async (tmp) => {
      if (manifest.chunks) {
        const F = rest.features.length;
        const T = rest.minutes;
        await writeZarrSeries(
          join(tmp, ZARR_DIR),
          { nodes: rest.nodes.length, minutes: T, features: F },
          manifest.chunks,
          (n0, nn, t0, nt) => {
            const out = new Float32Array(nn * nt * F);
            for (let i = 0; i < nn; i++)
              out.set(data.subarray(((n0 + i) * T + t0) * F, ((n0 + i) * T + t0 + nt) * F), i * nt * F);
            return out;
          },
          zarrAttributes(manifest),
        );
      } else await fsp.writeFile(join(tmp, DATA_FILE), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      await writeFileAtomic(join(tmp, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
    },
    opts,
  );
  return manifest;
}

/** What a zarr reader without the manifest needs: feature names and the first minute (series.zarr's attributes). */
export function zarrAttributes(m: SeriesStoreManifest): Record<string, unknown> {
  return {
    netflowgen: 'series store data; the rest is in ../manifest.json (docs/series-store.md)',
    features: m.features,
    startMinute: m.startMinute,
    firstMinute: m.firstMinute,
  };
}

/**
 * The compressed layout of the series store: a Zarr v3 array (https://zarr-specs.readthedocs.io),
 * written with zarrita and opened by anyone with zarr-python (`zarr.open_array`), no netflowgen code.
 *
 *   STORE/series.zarr/zarr.json          the array's metadata (shape, chunks, codecs)
 *   STORE/series.zarr/c/B/T/0            chunk (node block B, time chunk T): float32 little-endian,
 *                                        C order [chunkNodes, chunkMinutes, features], gzip'd
 *
 * Shape [nodes, minutes, features], the dense layout's order. The chunk grid cuts nodes into blocks of
 * `chunkNodes` and time into chunks of `chunkMinutes`; every chunk holds all features (the stages read
 * a node's features together). A chunk whose values are all zero is not written: Zarr reads a missing
 * chunk as the fill value 0, so disk grows with the (node block, time chunk) pairs that saw traffic.
 * Codecs: `bytes` (little endian) then `gzip` — both in the Zarr v3 core spec, so every Zarr reader
 * opens it; zarrita ships gzip decode only, so its encode is registered here with Node's zlib.
 *
 * Reading: the stages read a store synchronously (SeriesStore.readNode), and zarrita is async, so
 * `ZarrSeriesReader` decodes chunks itself for exactly this codec chain (bytes little-endian + gzip,
 * regular grid, '/' keys, fill 0), checked against zarr.json on open; anything else is refused. That
 * decoding is tested against zarrita's and zarr-python's reads of the same array
 * (test/store-layout.test.ts). Decoded chunks stay in a small LRU cache (CACHE_BYTES) so reading the
 * nodes of a block one after the other decodes each chunk once.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as zarr from 'zarrita';
import FileSystemStore from '@zarrita/storage/fs';

export const ZARR_DIR = 'series.zarr';

/** How a zarr-layout store is chunked and compressed (manifest field `chunks`). */
export interface ZarrChunking {
  nodes: number;
  minutes: number;
  codec: 'gzip';
  level: number;
}

/** A day per chunk, 8 nodes per block: a chunk is 8 x 1440 x 86 x 4 = 3.9 MB before compression. */
export const DEFAULT_CHUNKING: ZarrChunking = { nodes: 8, minutes: 1440, codec: 'gzip', level: 5 };

/** Decoded chunks kept by a reader (bytes). */
export const CACHE_BYTES = 64 * 1024 * 1024;

class NodeGzipCodec {
  readonly kind = 'bytes_to_bytes' as const;
  constructor(private readonly level: number) {}
  static fromConfig(config: unknown): NodeGzipCodec {
    const level = (config as { level?: number } | undefined)?.level;
    return new NodeGzipCodec(typeof level === 'number' ? level : 5);
  }
  encode(bytes: Uint8Array): Uint8Array {
    return gzipSync(bytes, { level: this.level });
  }
  decode(bytes: Uint8Array): Uint8Array {
    return gunzipSync(bytes);
  }
}
zarr.registry.set('gzip', () => Promise.resolve(NodeGzipCodec));

/** Values [nodeCount, minuteCount, features] of nodes node0.. and minutes minute0.., C order. */
export type BlockSource = (node0: number, nodeCount: number, minute0: number, minuteCount: number) => Float32Array;

export interface ZarrWriteResult {
  chunksWritten: number;
  chunksEmpty: number;
}

function allZero(a: Float32Array): boolean {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < u.length; i++) if (u[i] !== 0) return false;
  return true;
}

/**
 * Writes `dir` (absent or empty) as a Zarr v3 array of shape [nodes, minutes, features], pulling one
 * chunk's values at a time from `source`: memory is one chunk, whatever the store's size.
 */
export async function writeZarrSeries(
  dir: string,
  shape: { nodes: number; minutes: number; features: number },
  chunking: ZarrChunking,
  source: BlockSource,
  attributes: Record<string, unknown> = {},
): Promise<ZarrWriteResult> {
  if (!(chunking.nodes >= 1 && chunking.minutes >= 1 && Number.isInteger(chunking.nodes + chunking.minutes)))
    throw new Error(`zarr chunks must be whole and positive: ${chunking.nodes} nodes x ${chunking.minutes} minutes`);
  const F = shape.features;
  const arr = await zarr.create(zarr.root(new FileSystemStore(dir)), {
    shape: [shape.nodes, shape.minutes, F],
    chunkShape: [chunking.nodes, chunking.minutes, F],
    dtype: 'float32',
    codecs: [
      { name: 'bytes', configuration: { endian: 'little' } },
      { name: 'gzip', configuration: { level: chunking.level } },
    ],
    fillValue: 0,
    chunkSeparator: '/',
    dimensionNames: ['node', 'minute', 'feature'],
    attributes,
  });
  const res: ZarrWriteResult = { chunksWritten: 0, chunksEmpty: 0 };
  for (let n0 = 0; n0 < shape.nodes; n0 += chunking.nodes) {
    const nn = Math.min(chunking.nodes, shape.nodes - n0);
    for (let t0 = 0; t0 < shape.minutes; t0 += chunking.minutes) {
      const nt = Math.min(chunking.minutes, shape.minutes - t0);
      const data = source(n0, nn, t0, nt);
      if (data.length !== nn * nt * F)
        throw new Error(`writeZarrSeries: block of ${data.length} values, expected ${nn * nt * F}`);
      if (allZero(data)) {
        res.chunksEmpty++;
        continue;
      }
      await zarr.set(arr, [zarr.slice(n0, n0 + nn), zarr.slice(t0, t0 + nt), null], {
        data,
        shape: [nn, nt, F],
        stride: [nt * F, F, 1],
      });
      res.chunksWritten++;
    }
  }
  return res;
}

interface ZarrJson {
  zarr_format: number;
  node_type: string;
  shape: number[];
  data_type: string;
  chunk_grid: { name: string; configuration: { chunk_shape: number[] } };
  chunk_key_encoding: { name: string; configuration?: { separator?: string } };
  fill_value: unknown;
  codecs: { name: string; configuration?: Record<string, unknown> }[];
}

/** Synchronous reads of the array writeZarrSeries writes (see the module's docstring). */
export class ZarrSeriesReader {
  readonly chunkNodes: number;
  readonly chunkMinutes: number;
  private readonly cache = new Map<string, Float32Array>();
  private cached = 0;

  constructor(
    readonly dir: string,
    readonly nNodes: number,
    readonly nMinutes: number,
    readonly nFeatures: number,
  ) {
    const path = join(dir, 'zarr.json');
    if (!existsSync(path)) throw new Error(`${path} is missing: the manifest says the store's layout is zarr`);
    const m = JSON.parse(readFileSync(path, 'utf8')) as ZarrJson;
    const codecs = m.codecs ?? [];
    const problems = [
      m.zarr_format === 3 && m.node_type === 'array' ? '' : 'not a Zarr v3 array',
      m.data_type === 'float32' ? '' : `data_type ${m.data_type}, expected float32`,
      JSON.stringify(m.shape) === JSON.stringify([nNodes, nMinutes, nFeatures])
        ? ''
        : `shape ${JSON.stringify(m.shape)} != the manifest's [${nNodes}, ${nMinutes}, ${nFeatures}]`,
      m.chunk_grid?.name === 'regular' && m.chunk_grid.configuration.chunk_shape[2] === nFeatures
        ? ''
        : 'chunks must be a regular grid holding every feature',
      m.chunk_key_encoding?.name === 'default' && (m.chunk_key_encoding.configuration?.separator ?? '/') === '/'
        ? ''
        : "chunk keys must be the default encoding with '/'",
      m.fill_value === 0 ? '' : `fill_value ${JSON.stringify(m.fill_value)}, expected 0`,
      codecs.length === 2 &&
      codecs[0].name === 'bytes' &&
      (codecs[0].configuration?.endian ?? 'little') === 'little' &&
      codecs[1].name === 'gzip'
        ? ''
        : `codecs ${codecs.map((c) => c.name).join(' + ')}; netflowgen reads bytes (little endian) + gzip`,
    ].filter(Boolean);
    if (problems.length) throw new Error(`${path}: ${problems.join('; ')}`);
    [this.chunkNodes, this.chunkMinutes] = m.chunk_grid.configuration.chunk_shape;
  }

  /** Chunk (block, tchunk) decoded, [chunkNodes, chunkMinutes, F]; null when absent (all zero). */
  private chunk(block: number, tchunk: number): Float32Array | null {
    const key = `${block}/${tchunk}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const path = join(this.dir, 'c', String(block), String(tchunk), '0');
    if (!existsSync(path)) return null;
    const raw = gunzipSync(readFileSync(path));
    const expected = this.chunkNodes * this.chunkMinutes * this.nFeatures * 4;
    if (raw.byteLength !== expected) throw new Error(`${path}: ${raw.byteLength} bytes decoded, expected ${expected}`);
    const out = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    this.cache.set(key, out);
    this.cached += out.byteLength;
    for (const [k, v] of this.cache) {
      if (this.cached <= CACHE_BYTES || k === key) break;
      this.cache.delete(k);
      this.cached -= v.byteLength;
    }
    return out;
  }

  /** Minutes [from, to) of one node, clamped to the store: (to - from) x F, minute-major. */
  readNode(node: number, from: number, to: number): Float32Array {
    const F = this.nFeatures;
    const out = new Float32Array(Math.max(0, to - from) * F);
    const block = Math.floor(node / this.chunkNodes);
    const row = node - block * this.chunkNodes;
    for (let t = from; t < to;) {
      const tc = Math.floor(t / this.chunkMinutes);
      const t0 = tc * this.chunkMinutes;
      const end = Math.min(to, t0 + this.chunkMinutes);
      const c = this.chunk(block, tc);
      if (c) {
        const src = (row * this.chunkMinutes + (t - t0)) * F;
        out.set(c.subarray(src, src + (end - t) * F), (t - from) * F);
      }
      t = end;
    }
    return out;
  }
}

/** Removes a zarr folder (a conversion that failed half-way). */
export function removeZarr(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

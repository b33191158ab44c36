/**
 * Changing a finished store's layout in place: dense (series.f32) <-> zarr (series.zarr). Used by
 * `serialize --layout zarr` after the (dense) store is written, so serialize's aggregation and spill
 * stay as they are; disk during serialize therefore still peaks at the dense size, and the zarr store
 * alone stays afterwards.
 *
 * Safe against interruption: the new data is written to a hidden `.NAME.partial-PID` inside the store,
 * renamed into place, then the manifest is replaced atomically, and only then is the old data removed.
 * An interruption before the manifest leaves a valid store of the old layout (and a stray folder or
 * file that the next conversion replaces); after it, a valid store of the new layout.
 */
import { closeSync, existsSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readFully } from '../common/files.js';
import { validateWithSchema } from '../common/schema.js';
import { writeFileAtomic } from '../common/atomic.js';
import { DEFAULT_CHUNKING, ZARR_DIR, writeZarrSeries, type ZarrChunking } from './layout-zarr.js';
import {
  DATA_FILE,
  MANIFEST,
  STORE_SCHEMA,
  SeriesStore,
  zarrAttributes,
  type SeriesStoreManifest,
  type StoreLayout,
} from './store.js';

/** Accepted spellings of a layout on the command line. */
export const LAYOUT_CHOICES = ['dense', 'zarr'] as const;
export type LayoutChoice = (typeof LAYOUT_CHOICES)[number];

export function layoutOf(choice: LayoutChoice): StoreLayout {
  return choice === 'zarr' ? 'zarr' : 'node-major';
}

/** Bytes under a path (a file, or a folder's files, recursively). */
export function diskBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((a, name) => a + diskBytes(join(path, name)), 0);
}

/** Rewrites the store in `dir` in `layout` (nothing to do when it already is). Returns the new manifest. */
export async function convertStoreLayout(
  dir: string,
  layout: StoreLayout,
  chunks: ZarrChunking = DEFAULT_CHUNKING,
): Promise<SeriesStoreManifest> {
  const store = SeriesStore.open(dir);
  const old = store.manifest;
  if (old.layout === layout) return old;
  const { nNodes: N, nMinutes: T, nFeatures: F } = store;
  const target = layout === 'zarr' ? ZARR_DIR : DATA_FILE;
  const partial = join(dir, `.${target}.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  const { chunks: _drop, ...base } = old;
  void _drop;
  const manifest: SeriesStoreManifest = { ...base, layout, dataFile: target, ...(layout === 'zarr' ? { chunks } : {}) };
  validateWithSchema(STORE_SCHEMA, manifest, join(dir, MANIFEST));
  try {
    if (layout === 'zarr') {
      const fd = openSync(join(dir, old.dataFile), 'r');
      try {
        await writeZarrSeries(
          partial,
          { nodes: N, minutes: T, features: F },
          chunks,
          (n0, nn, t0, nt) => {
            const out = new Float32Array(nn * nt * F);
            const bytes = new Uint8Array(out.buffer);
            for (let i = 0; i < nn; i++)
              readFully(
                fd,
                bytes.subarray(i * nt * F * 4, (i + 1) * nt * F * 4),
                ((n0 + i) * T + t0) * F * 4,
                'series store data file is shorter than its manifest says',
              );
            return out;
          },
          zarrAttributes(old),
        );
      } finally {
        closeSync(fd);
      }
    } else {
      const fd = openSync(partial, 'w');
      try {
        for (let n = 0; n < N; n++) {
          const row = store.readNode(n);
          writeSync(fd, new Uint8Array(row.buffer, row.byteOffset, row.byteLength));
        }
      } finally {
        closeSync(fd);
      }
    }
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw e;
  }
  rmSync(join(dir, target), { recursive: true, force: true });
  renameSync(partial, join(dir, target));
  await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
  const oldData = join(dir, old.dataFile);
  if (existsSync(oldData)) rmSync(oldData, { recursive: true, force: true });
  return manifest;
}

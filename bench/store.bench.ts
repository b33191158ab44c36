/**
 * `npm run bench:store`: the series store's two layouts, dense (series.f32) and zarr (series.zarr,
 * chunked and gzip'd), on two stores:
 *   - tiny: synth's tiny preset (its defaults), serialized;
 *   - large: a synthetic store of BENCH_NODES (96) x BENCH_MINUTES (20,160: two weeks) x 86, written from
 *     a seeded generator: each node active in its own daily hours (about a third of the minutes), and in
 *     an active minute about half the features non-zero with heavy-tailed integer counts.
 * Zarr twice: the default chunks (8 nodes x 1440 minutes) and one node per chunk (1 x 1440), the
 * trade-off between file count and one-node reads. For each: bytes on disk, the time to write the zarr copy (once), and over BENCH_REPEATS (5) repeats,
 * each with a freshly opened store (no decoded chunk cached; the OS page cache is warm for both
 * layouts, so this is decoding and copying, not disk): a full read (every node's whole series) and one
 * node's whole series. Prints medians and the spread (min..max). Numbers are checked equal first.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURE_NAMES } from '../ts/catalogue/features.js';
import { convertStoreLayout, diskBytes } from '../ts/serialize/layout.js';
import { DEFAULT_CHUNKING } from '../ts/serialize/layout-zarr.js';
import { serialize } from '../ts/serialize/serialize.js';
import { SeriesStore, writeSeriesStore } from '../ts/serialize/store.js';
import { synth } from '../ts/synth/index.js';
import { median, prng } from './stats.js';

const NODES = Number(process.env.BENCH_NODES ?? 96);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 20160);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const F = FEATURE_NAMES.length;

function largeData(): Float32Array {
  const data = new Float32Array(NODES * MINUTES * F);
  for (let n = 0; n < NODES; n++) {
    const r = prng(0x51ed ^ (n * 7919 + 1));
    const start = Math.floor(r() * 1440);
    const len = 240 + Math.floor(r() * 480); // 4 to 12 hours a day
    const p = Array.from({ length: F }, () => (r() < 0.3 ? 0 : 0.3 + 0.6 * r()));
    for (let t = 0; t < MINUTES; t++) {
      if ((t - start + 1440) % 1440 >= len) continue;
      const base = (n * MINUTES + t) * F;
      for (let f = 0; f < F; f++) if (r() < p[f]) data[base + f] = Math.floor(1 + 10 / (r() + 0.01));
    }
  }
  return data;
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

function time(fn: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(ms(t0));
  }
  return out;
}

const fmt = (xs: number[]) =>
  `${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}..${Math.max(...xs).toFixed(1)})`;

async function measure(name: string, dense: string, tmp: string): Promise<string[]> {
  const variants: [string, string, number][] = [['dense', dense, 0]];
  for (const cn of [DEFAULT_CHUNKING.nodes, 1]) {
    const zdir = join(tmp, `${name}-zarr-${cn}`);
    cpSync(dense, zdir, { recursive: true });
    const t0 = process.hrtime.bigint();
    await convertStoreLayout(zdir, 'zarr', { ...DEFAULT_CHUNKING, nodes: cn });
    variants.push([`zarr ${cn}x${DEFAULT_CHUNKING.minutes}`, zdir, ms(t0)]);
  }
  const d0 = SeriesStore.open(dense);
  let zeros = 0;
  for (const [, dir] of variants.slice(1)) {
    const z0 = SeriesStore.open(dir);
    for (let n = 0; n < d0.nNodes; n++) {
      const a = d0.readNode(n);
      if (!Buffer.from(a.buffer).equals(Buffer.from(z0.readNode(n).buffer)))
        throw new Error(`${dir}: node ${n} differs`);
    }
  }
  for (let n = 0; n < d0.nNodes; n++) zeros += d0.readNode(n).filter((v) => v === 0).length;
  const one = Math.floor(d0.nNodes / 2);
  const rows: string[] = [];
  const shape = `${d0.nNodes} x ${d0.nMinutes} x ${d0.nFeatures}, ${((100 * zeros) / (d0.nNodes * d0.nMinutes * d0.nFeatures)).toFixed(0)}% zeros`;
  for (const [layout, dir, writeMs] of variants) {
    const full = time(() => {
      const s = SeriesStore.open(dir);
      for (let n = 0; n < s.nNodes; n++) s.readNode(n);
    });
    const node = time(() => SeriesStore.open(dir).readNode(one));
    const bytes = diskBytes(join(dir, SeriesStore.open(dir).manifest.dataFile));
    const mbs = (d0.manifest.dataBytes / 1e6 / (median(full) / 1000)).toFixed(0);
    rows.push(
      `| ${name} (${shape}) | ${layout} | ${(bytes / 1e6).toFixed(2)} MB | ${(d0.manifest.dataBytes / bytes).toFixed(1)}x | ${writeMs ? `${writeMs.toFixed(0)} ms` : '-'} | ${fmt(full)} (${mbs} MB/s) | ${fmt(node)} |`,
    );
  }
  return rows;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'netflowgen-bench-store-'));
  try {
    process.stderr.write('tiny preset: synth + serialize...\n');
    await synth({ out: join(tmp, 'synth'), preset: 'tiny', progress: false });
    await serialize({
      inputs: [join(tmp, 'synth/flows')],
      nodes: join(tmp, 'synth/nodes.csv'),
      out: join(tmp, 'tiny'),
    });
    process.stderr.write(`large: ${NODES} x ${MINUTES} x ${F} synthetic...\n`);
    const store = SeriesStore.open(join(tmp, 'tiny'));
    await writeSeriesStore(join(tmp, 'large'), {
      features: [...FEATURE_NAMES],
      nodes: Array.from({ length: NODES }, (_, id) => ({ id, address: `10.0.${id >> 8}.${id & 255}`, customer: 'c' })),
      customers: ['c'],
      startMinute: store.startMinute,
      minutes: MINUTES,
      sampling: 1,
      inputs: [],
      records: { read: 0, used: 0, unmatched: 0, outsideRange: 0, rejected: {}, examples: [] },
      options: {},
      data: largeData(),
    });
    const rows = [
      ...(await measure('tiny', join(tmp, 'tiny'), tmp)),
      ...(await measure('large', join(tmp, 'large'), tmp)),
    ];
    const [l1, l5, l15] = loadavg().map((x) => x.toFixed(2));
    console.log(
      `series store layouts: ${REPEATS} repeats, median (min..max); zarr NxM = N nodes x M minutes per chunk, gzip level 5; page cache warm; load average ${l1} ${l5} ${l15}`,
    );
    console.log('| store | layout | on disk | dense / this | write (zarr copy) | full read | one node |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();

// The zarr layout of the series store (issue 15): the same numbers as the dense layout, read by every
// stage through SeriesStore, and by zarrita and zarr-python without netflowgen's reader.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import * as zarr from 'zarrita';
import FileSystemStore from '@zarrita/storage/fs';
import { convertStoreLayout, diskBytes } from '../ts/serialize/layout.js';
import { mergeStores } from '../ts/serialize/merge.js';
import { SeriesStore, writeSeriesStore } from '../ts/serialize/store.js';
import { FEATURE_NAMES } from '../ts/catalogue/features.js';
import { synth } from '../ts/synth/index.js';
import { netflowgen } from './helpers/cli.js';
import { PY_ENV, PYTHON, requirePython, ROOT } from './helpers/python.js';
import { useTempDir } from './helpers/tmp.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('series store: the zarr layout', function () {
  this.timeout(300_000);
  const tmp = useTempDir('netflowgen-layout-');
  const p = (n: string) => join(tmp.dir, n);
  let dense: Buffer;

  before(async () => {
    // 12 nodes (a full block of 8 and an edge block of 4); 5,460 minutes (3 full days and an edge chunk).
    await synth({
      out: p('synth'),
      preset: 'tiny',
      nodes: 12,
      customers: 3,
      minutes: 5460,
      attacks: 6,
      progress: false,
    });
    const common = ['serialize', '-i', p('synth/flows'), '-n', p('synth/nodes.csv'), '--quiet'];
    for (const [out, layout] of [
      ['dense', 'dense'],
      ['zarr', 'zarr'],
    ]) {
      const r = await netflowgen([...common, '-o', p(out), '--layout', layout]);
      if (r.exitCode !== 0) throw new Error(`serialize --layout ${layout}: ${r.stderr}`);
    }
    dense = readFileSync(p('dense/series.f32'));
  });

  it('serialize --layout zarr writes series.zarr and records the layout in a valid manifest', () => {
    const s = SeriesStore.open(p('zarr')); // validates against the schema
    expect(s.layout).to.equal('zarr');
    expect(s.manifest.dataFile).to.equal('series.zarr');
    expect(s.manifest.chunks).to.deep.equal({ nodes: 8, minutes: 1440, codec: 'gzip', level: 5 });
    expect(existsSync(p('zarr/series.f32'))).to.equal(false);
    const d = SeriesStore.open(p('dense')).manifest;
    const { layout: _l, dataFile: _f, chunks: _c, ...rest } = s.manifest;
    const { layout: _l2, dataFile: _f2, ...restDense } = d;
    expect(rest).to.deep.equal(restDense);
    expect(d.layout).to.equal('node-major');
  });

  it('reads back every value of the dense store, bit for bit (whole series and ranges across chunks)', () => {
    const z = SeriesStore.open(p('zarr'));
    const d = SeriesStore.open(p('dense'));
    const all = new Uint8Array(dense.byteLength);
    let nonzero = 0;
    for (let n = 0; n < z.nNodes; n++) {
      const row = z.readNode(n);
      all.set(new Uint8Array(row.buffer), n * row.byteLength);
      nonzero += row.filter((v) => v !== 0).length;
      const part = z.readNode(n, 1400, 2900); // spans time chunks 0, 1 and 2
      expect(Buffer.from(part.buffer).equals(Buffer.from(d.readNode(n, 1400, 2900).buffer))).to.equal(true);
    }
    expect(nonzero).to.be.greaterThan(1000); // the fixture is not all zeros
    expect(sha(all)).to.equal(sha(dense));
  });

  it('zarrita alone reads the same array', async () => {
    const arr = await zarr.open(zarr.root(new FileSystemStore(p('zarr/series.zarr'))), { kind: 'array' });
    const got = await zarr.get(arr);
    expect(got.shape).to.deep.equal([12, 5460, FEATURE_NAMES.length]);
    const data = got.data as Float32Array;
    expect(sha(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))).to.equal(sha(dense));
  });

  it('zarr-python alone opens it, with the features and first minute in its attributes', async () => {
    requirePython();
    const code = [
      'import hashlib, json, sys, numpy as np, zarr',
      "x = zarr.open_array(sys.argv[1] + '/series.zarr', mode='r')",
      "a = np.ascontiguousarray(x[:], dtype='<f4')",
      "print(json.dumps({'sha': hashlib.sha256(a.tobytes()).hexdigest(), 'shape': list(x.shape),",
      "  'f': x.attrs['features'][2], 'first': x.attrs['firstMinute'], 'one': float(x[3, :, 2].sum())}))",
    ].join('\n');
    const r = await execa(PYTHON, ['-c', code, p('zarr')], { cwd: ROOT, env: PY_ENV });
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    const d = SeriesStore.open(p('dense'));
    const col = d.readFeature(3, 2).reduce((a, v) => a + v, 0);
    expect(out.sha).to.equal(sha(dense));
    expect(out.shape).to.deep.equal([12, 5460, FEATURE_NAMES.length]);
    expect(out.f).to.equal(d.manifest.features[2]);
    expect(out.first).to.equal(d.manifest.firstMinute);
    expect(out.one).to.be.closeTo(col, 1e-6 * Math.max(1, col));
  });

  it('inspect prints the same for both layouts', async () => {
    for (const extra of [[], ['--node', '#3', '--csv', '--from', '2021-09-21T23:00:00Z']]) {
      const a = await netflowgen(['inspect', p('dense'), ...extra]);
      const b = await netflowgen(['inspect', p('zarr'), ...extra]);
      expect(a.exitCode, a.stderr).to.equal(0);
      expect(b.exitCode, b.stderr).to.equal(0);
      expect(b.stdout.replaceAll(p('zarr'), 'S')).to.equal(a.stdout.replaceAll(p('dense'), 'S'));
      expect(a.stdout.length).to.be.greaterThan(50);
    }
  });

  it('bin makes the same dataset from both layouts', async () => {
    for (const s of ['dense', 'zarr']) {
      const r = await netflowgen(['bin', '--store', p(s), '-o', p(`ds-${s}`), '--window', '128', '--quiet']);
      expect(r.exitCode, r.stderr).to.equal(0);
    }
    expect(sha(readFileSync(p('ds-zarr/bins.u8')))).to.equal(sha(readFileSync(p('ds-dense/bins.u8'))));
    expect(sha(readFileSync(p('ds-zarr/cutoffs.f64')))).to.equal(sha(readFileSync(p('ds-dense/cutoffs.f64'))));
  });

  it('merge refuses zarr partitions, naming the layout', async () => {
    const err = await mergeStores({ stores: [p('dense'), p('zarr')], out: p('merged') }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/has layout zarr: merge joins dense stores/);
    expect(existsSync(p('merged/manifest.json'))).to.equal(false);
  });

  it('converts back to dense with the same bytes, and the zarr store is smaller on disk', async () => {
    const zbytes = diskBytes(p('zarr/series.zarr'));
    expect(zbytes)
      .to.be.greaterThan(0)
      .and.lessThan(dense.byteLength / 4);
    const m = await convertStoreLayout(p('zarr'), 'node-major');
    expect(m.layout).to.equal('node-major');
    expect(m.chunks).to.equal(undefined);
    expect(sha(readFileSync(p('zarr/series.f32')))).to.equal(sha(dense));
    expect(existsSync(p('zarr/series.zarr'))).to.equal(false);
    SeriesStore.open(p('zarr'));
  });

  it('skips all-zero chunks (read as zeros) and refuses a codec chain it does not decode', async () => {
    const N = 3;
    const T = 50;
    const F = FEATURE_NAMES.length;
    const data = new Float32Array(N * T * F);
    for (let t = 0; t < 20; t++) data[(2 * T + t) * F + 5] = t + 0.5; // node 2 only, first time chunk
    const nodes = [0, 1, 2].map((id) => ({ id, address: `10.0.0.${id + 1}`, customer: 'c' }));
    const parts = {
      features: [...FEATURE_NAMES],
      nodes,
      customers: ['c'],
      startMinute: 27_000_000,
      minutes: T,
      sampling: 1,
      inputs: [],
      records: { read: 0, used: 0, unmatched: 0, outsideRange: 0, rejected: {}, examples: [] },
      options: {},
      data,
    };
    await writeSeriesStore(p('hand'), parts, {
      layout: 'zarr',
      chunks: { nodes: 2, minutes: 20, codec: 'gzip', level: 1 },
    });
    expect(existsSync(p('hand/series.zarr/c/1/0/0'))).to.equal(true);
    for (const k of ['0/0', '0/1', '0/2', '1/1', '1/2'])
      expect(existsSync(p(`hand/series.zarr/c/${k}/0`)), k).to.equal(false);
    const s = SeriesStore.open(p('hand'));
    for (let n = 0; n < N; n++)
      expect([...s.readNode(n)]).to.deep.equal([...data.subarray(n * T * F, (n + 1) * T * F)]);
    const zj = p('hand/series.zarr/zarr.json');
    const meta = JSON.parse(readFileSync(zj, 'utf8')) as { codecs: { name: string }[] };
    meta.codecs[1] = { name: 'zstd' };
    writeFileSync(zj, JSON.stringify(meta));
    expect(() => SeriesStore.open(p('hand'))).to.throw(
      /codecs bytes \+ zstd; netflowgen reads bytes \(little endian\) \+ gzip/,
    );
  });
});

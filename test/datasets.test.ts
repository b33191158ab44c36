import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { FEATURE_NAMES } from '../ts/catalogue/features.js';
import { writeHandMadeStore } from './helpers/store.js';
import { BinnedDataset } from '../ts/datasets/binned.js';
import { buildBinnedDataset } from '../ts/datasets/build.js';
import { isoToMinute } from '../ts/serialize/store.js';
import { timeFeatureTable } from '../ts/splits/splits.js';
import { nearestL1 } from '../ts/unseen/nearest.js';
import { referenceBins, referenceCutoffs } from './helpers/algorithm1.js';
import { tempDir } from './helpers/tmp.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const python = join(root, '.venv', 'bin', 'python');

const F = FEATURE_NAMES.length;
const MINUTES = 200;
const START = isoToMinute('2021-09-20T00:00:00Z');
const NODES = [
  { address: '10.0.0.1', customer: 'A' }, // heavy, active
  { address: '10.0.0.2', customer: 'A' }, // light, active
  { address: '10.0.0.3', customer: 'B' }, // excluded customer
  { address: '10.0.0.4', customer: 'C' }, // silent in training, busy later -> unseen
  { address: '10.0.0.5', customer: 'A' }, // active 5 of 120 training minutes -> unseen
];

function value(node: number, t: number, f: number): number {
  switch (node) {
    case 0:
      return (t + f) % 4 === 0 ? 0 : ((t * 7 + f * 13) % 50) * 100 + (t % 3);
    case 1:
      return (t + f) % 3;
    case 2:
      return 1e6 + t;
    case 3:
      return t >= 120 ? 1000 : 0;
    default:
      return t % 24 === 0 ? 1 : 0;
  }
}

async function makeStore(dir: string): Promise<void> {
  const data = new Float32Array(NODES.length * MINUTES * F);
  for (let v = 0; v < NODES.length; v++)
    for (let t = 0; t < MINUTES; t++) for (let f = 0; f < F; f++) data[(v * MINUTES + t) * F + f] = value(v, t, f);
  await writeHandMadeStore(dir, { nodes: NODES, startMinute: START, minutes: MINUTES, data });
}

describe('datasets: the binned dataset of a hand-made store', function () {
  this.timeout(60_000);
  const tmp = tempDir('netflowgen-datasets-');
  const store = join(tmp.dir, 'store');
  const out = join(tmp.dir, 'ds');
  const alerts = join(tmp.dir, 'alerts.jsonl');
  let ds: BinnedDataset;

  before(async () => {
    await makeStore(store);
    const alert = (id: string, victim: string, fp: boolean) =>
      JSON.stringify({
        alert_id: id,
        victim,
        customer: 'A',
        attack_type: 'UDP',
        start: '2021-09-20T00:10:00Z',
        end: '2021-09-20T00:12:00Z',
        reported_packets: 1e9,
        reported_bytes: 1e12,
        false_positive: fp,
      });
    writeFileSync(
      alerts,
      [alert('a1', '10.0.0.1', false), alert('a2', '10.0.0.1', true), alert('a3', '10.0.0.2', false)].join('\n') + '\n',
    );
    await buildBinnedDataset({
      store,
      out,
      split: '0.6,0.2,0.2',
      windowLength: 20,
      minActive: 0.1,
      excludeCustomers: ['B'],
      unseen: true,
      alerts,
    });
    ds = BinnedDataset.open(out);
  });
  after(() => tmp.cleanup());

  it('keeps the active nodes of kept customers as training rows, the rest as unseen rows', () => {
    const m = ds.manifest;
    expect(m.nodes.map((n) => [n.row, n.address, n.seen, n.nodeId, n.customerId])).to.deep.equal([
      [0, '10.0.0.1', true, 0, 0],
      [1, '10.0.0.2', true, 1, 0],
      [2, '10.0.0.4', false, 1, 0], // customer C unknown in training: borrows its training node's customer id
      [3, '10.0.0.5', false, 1, 0],
    ]);
    expect(m.nodeIds).to.equal(2);
    expect(m.customers).to.deep.equal(['A']);
    expect(m.filters.dropped).to.deep.equal({ excluded_customer: 1, inactive: 2 });
    expect(m.shapes).to.deep.equal({ bins: [4, MINUTES, F], cutoffs: [4, F, 9], time: [MINUTES, 3] });
    expect(m.splits.valid).to.deep.equal({
      start: 120,
      end: 160,
      from: '2021-09-20T02:00:00Z',
      to: '2021-09-20T02:40:00Z',
    });
  });

  it('bins and cutoffs of a training row are Algorithm 1 on its training minutes, applied to all minutes', () => {
    for (const row of [0, 1]) {
      const bins = ds.readBins(row);
      const cut = ds.readCutoffs(row);
      for (const f of [0, 1, 7, 40, 85]) {
        const all = Float64Array.from({ length: MINUTES }, (_, t) => value(row, t, f));
        // the oracle: a literal transcription of Algorithm 1 (test/helpers/algorithm1.ts), not ts/discretize/
        const expected = referenceCutoffs(all.subarray(0, 120), 10);
        expect([...cut.subarray(f * 9, f * 9 + 9)]).to.deep.equal(expected);
        expect(Array.from({ length: MINUTES }, (_, t) => bins[t * F + f])).to.deep.equal(referenceBins(all, expected));
      }
    }
    // by hand: row 1's feature 0 is t % 3, so its 120 training minutes hold 40 ones and 40 twos; delta =
    // round(80 / 9) = 9 puts c(1) at the 9th non-zero value (1), c(2) repeats it and moves to the first 2,
    // and nothing lies above 2: the other 7 cutoffs are absent
    expect([...ds.readCutoffs(1).subarray(0, 9)]).to.deep.equal([1, 2, ...new Array<number>(7).fill(Infinity)]);
    expect([...ds.readBins(1, 0, 6)].filter((_, i) => i % F === 0)).to.deep.equal([0, 1, 2, 0, 1, 2]);
    expect([...ds.readBins(0, 5, 6).subarray(0, 3)]).to.deep.equal([...ds.readBins(0).subarray(5 * F, 5 * F + 3)]);
  });

  it('unseen rows map to the nearest training summary and use its cutoffs', () => {
    const u = ds.readUnseen();
    expect(u.summaries.length).to.equal(4);
    for (const m of u.mapping) {
      const near = nearestL1(u.summaries[m.row], Float64Array.from(u.summaries.slice(0, 2).flat()), 5);
      expect(m.mappedTo).to.equal(near.index);
      expect([...ds.readCutoffs(m.row)]).to.deep.equal([...ds.readCutoffs(m.mappedTo)]);
    }
    // both low-traffic unseen nodes resemble the light node, not the heavy one
    expect(u.mapping.map((m) => m.mappedTo)).to.deep.equal([1, 1]);
    // node 10.0.0.4 was silent in training and sends 1000 later: above every training cutoff of row 1
    const b = ds.readBins(2);
    expect(b[0]).to.equal(0);
    expect(b[150 * F]).to.equal(9);
    // Table 7: row 1 has both unseen nodes; attacks = alerts kept by the filter (a2 is a false positive)
    expect(u.table7).to.deep.equal([{ row: 1, address: '10.0.0.2', attacks: 1, mappedUnseen: 2 }]);
  });

  it('windows per split, time features and Table 1', () => {
    expect(ds.manifest.windows).to.deep.equal({
      train: { file: 'windows.train.i32', count: 12 },
      valid: { file: 'windows.valid.i32', count: 4 },
      test: { file: 'windows.test.i32', count: 4 },
    });
    expect([...ds.readWindows('valid')]).to.deep.equal([0, 120, 0, 140, 1, 120, 1, 140]);
    expect([...ds.readTime()]).to.deep.equal([...timeFeatureTable(START, MINUTES)]);
    const t = ds.manifest.table1;
    expect(t.raw).to.deep.equal({ customers: 3, nodes: 5, windows: { train: 30, valid: 10, test: 10 } });
    expect(t.filtered).to.deep.equal({ customers: 1, nodes: 2, windows: { train: 12, valid: 4, test: 4 } });
  });

  it('reads with numpy alone, as docs/binned-dataset.md shows', async function () {
    if (!existsSync(python)) this.skip();
    const script = `
import json, sys, numpy as np
d = sys.argv[1]
m = json.load(open(f'{d}/manifest.json'))
rows, T, F = m['shapes']['bins']
bins = np.memmap(f'{d}/bins.u8', dtype=np.uint8, mode='r', shape=(rows, T, F))
cut = np.fromfile(f'{d}/cutoffs.f64', dtype='<f8').reshape(m['shapes']['cutoffs'])
win = np.fromfile(f'{d}/windows.valid.i32', dtype='<i4').reshape(-1, 2)
time = np.fromfile(f'{d}/time.u8', dtype=np.uint8).reshape(T, 3)
row, start = win[3]
x = bins[row, start:start + m['windowLength']]
print(json.dumps({'sum': int(bins.astype(np.int64).sum()), 'window': x[:, 0].tolist(), 'cut': [c if np.isfinite(c) else None for c in cut[1, 5].tolist()], 'time': time[61].tolist()}))
`;
    const { stdout } = await execa(python, ['-c', script, out]);
    const got = JSON.parse(stdout) as { sum: number; window: number[]; cut: (number | null)[]; time: number[] };
    let sum = 0;
    for (let r = 0; r < 4; r++) for (const b of ds.readBins(r)) sum += b;
    expect(got.sum).to.equal(sum);
    const w = ds.readBins(1, 140, 160);
    expect(got.window).to.deep.equal(Array.from({ length: 20 }, (_, t) => w[t * F]));
    expect(got.cut).to.deep.equal([...ds.readCutoffs(1).subarray(45, 54)].map((c) => (c === Infinity ? null : c)));
    expect(got.time).to.deep.equal([1, 1, 0]); // 2021-09-20 01:01, a Monday
  });

  it('a feature subset (light: the 6 volume features)', async () => {
    const light = join(tmp.dir, 'light');
    const r = await buildBinnedDataset({
      store,
      out: light,
      features: 'light',
      split: '0.6,0.2,0.2',
      windowLength: 20,
      nBins: 4,
    });
    expect(r.manifest.features).to.deep.equal(['in.pkt', 'in.byt', 'in.flow', 'out.pkt', 'out.byt', 'out.flow']);
    expect(r.manifest.featureGroups).to.deep.equal(new Array(6).fill('volume'));
    expect(r.manifest.shapes.cutoffs).to.deep.equal([4, 6, 3]); // no filters but 'no activity': nodes 0, 1, 2, 4
    expect(r.manifest.unseen).to.deep.equal({ included: false, rows: 0 });
    const d = BinnedDataset.open(light);
    expect(Math.max(...d.readBins(0))).to.be.at.most(3);
  });

  it('refuses to overwrite without force, and an empty training split', async () => {
    let err: Error | undefined;
    try {
      await buildBinnedDataset({ store, out, split: '0.6,0.2,0.2', windowLength: 20 });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/exists/);
    err = undefined;
    try {
      await buildBinnedDataset({ store, out: join(tmp.dir, 'x'), split: '0,0.5,0.5' });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/training split is empty/);
    expect(existsSync(join(tmp.dir, 'x'))).to.equal(false);
  });

  it('a truncated data file is caught when opening', () => {
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    m.minutes += 1;
    const bad = join(tmp.dir, 'bad');
    cpSync(out, bad, { recursive: true });
    writeFileSync(join(bad, 'manifest.json'), JSON.stringify(m));
    expect(() => BinnedDataset.open(bad)).to.throw(/bytes, the manifest implies/);
  });
});

// The whole chain on tiny synthetic data: synth -> serialize -> bin -> detect-dataset -> baseline.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { runBigram } from '../ts/baseline/run.js';
import { BinnedDataset } from '../ts/datasets/binned.js';
import { buildBinnedDataset } from '../ts/datasets/build.js';
import { buildEarlyDetect, type EarlyDetectManifest } from '../ts/earlydetect/build.js';
import { serialize } from '../ts/serialize/serialize.js';
import { SeriesStore } from '../ts/serialize/store.js';
import { synth, type SynthManifest } from '../ts/synth/index.js';
import { useTempDir } from './helpers/tmp.js';

describe('datasets: the chain on tiny synthetic data', function () {
  this.timeout(120_000);
  const tmp = useTempDir('netflowgen-chain-');
  const p = (n: string) => join(tmp.dir, n);
  let sm: SynthManifest;
  let store: SeriesStore;
  let ds: BinnedDataset;
  let ed: EarlyDetectManifest;
  const W = 128;

  before(async () => {
    sm = await synth({
      out: p('synth'),
      preset: 'tiny',
      nodes: 12,
      customers: 3,
      minutes: 4 * 1440,
      attacks: 16,
      falsePositiveShare: 0.2,
      underReportedShare: 0.3,
      progress: false,
    });
    await serialize({ inputs: [p('synth/flows')], nodes: p('synth/nodes.csv'), out: p('store') });
    store = SeriesStore.open(p('store'));
    await buildBinnedDataset({
      store: p('store'),
      out: p('ds'),
      windowLength: W,
      minActive: 0.3,
      unseen: true,
      alerts: p('synth/alerts.jsonl'),
    });
    ds = BinnedDataset.open(p('ds'));
    ed = await buildEarlyDetect({
      dataset: p('ds'),
      alerts: p('synth/alerts.jsonl'),
      groundTruth: p('synth/ground-truth.jsonl'),
      out: p('ed'),
      unseenExamples: 2,
    });
  });

  it('bin: every node is a row; zero traffic is bin 0 and only zero traffic', () => {
    const m = ds.manifest;
    expect(m.table1.raw.nodes).to.equal(sm.nodes);
    expect(m.nodes.length).to.equal(store.nNodes); // no excluded customer: kept + unseen = all
    expect(m.windows.train.count).to.equal(m.nodeIds * Math.floor((m.splits.train.end - m.splits.train.start) / W));
    const F = m.features.length;
    for (const n of m.nodes) {
      const bins = ds.readBins(n.row);
      const raw = store.readNode(n.storeIndex);
      for (let i = 0; i < bins.length; i++) {
        const v = raw[Math.floor(i / F) * store.nFeatures + (i % F)];
        if ((bins[i] === 0) !== (v === 0) || bins[i] >= m.nBins)
          throw new Error(
            `row ${n.row} minute ${Math.floor(i / F)} feature ${m.features[i % F]}: value ${v} -> bin ${bins[i]}`,
          );
      }
    }
  });

  it('detect-dataset: drops the flagged and under-reported alerts, keeps pairs balanced', () => {
    expect(ed.alertsRead).to.equal(sm.alerts.total);
    expect(ed.dropped.false_positive).to.equal(sm.alerts.falsePositive);
    expect(ed.dropped.mismatch).to.be.at.least(sm.alerts.underReported);
    const kept = ed.alerts.length;
    expect(kept).to.be.greaterThan(0);
    const total = (['train', 'valid', 'test'] as const).reduce((s, k) => s + ed.table2[k].attacks, 0);
    expect(total).to.equal(kept);
  });

  it('detect-dataset: attack windows hold onset and alert start; masks and traffic come from the data', () => {
    const D = ed.detectLength;
    const byt = store.manifest.features.indexOf('in.byt');
    for (const s of ['train', 'valid', 'test'] as const) {
      const raw = readFileSync(p(`ed/${s}.examples.i32`));
      const ex = new Int32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      const mask = readFileSync(p(`ed/${s}.mask.u8`));
      const tb = readFileSync(p(`ed/${s}.traffic.f32`));
      const traffic = new Float32Array(tb.buffer.slice(tb.byteOffset, tb.byteOffset + tb.byteLength));
      for (let i = 0; i < ex.length / 6; i++) {
        const [row, start, label, step, , alert] = ex.slice(i * 6, i * 6 + 6);
        const first = start + ed.windowLength - D;
        const node = ds.manifest.nodes[row].storeIndex;
        const series = store.readNode(node, first, first + D);
        for (let k = 0; k < D; k++) expect(traffic[i * D + k]).to.equal(series[k * store.nFeatures + byt]);
        const m = [...mask.subarray(i * D, (i + 1) * D)];
        if (label === 1) {
          const a = ed.alerts[alert];
          expect(a.onset - first).to.equal(step);
          expect(a.start).to.be.within(first, first + D - 1);
          expect(m.some((x) => x === 1)).to.equal(true);
        } else expect(m.every((x) => x === 0)).to.equal(true);
      }
    }
  });

  it('detect-dataset: CUSUM onsets land near the true onsets', () => {
    expect(ed.onsetError).to.not.equal(null);
    expect(ed.onsetError!.count).to.equal(ed.alerts.length);
    expect(ed.onsetError!.medianAbs).to.be.at.most(10);
  });

  it('baseline: the bigram scores every validation window', async () => {
    const { result } = await runBigram({ dataset: p('ds') });
    expect(result.targets).to.equal(ds.manifest.windows.valid.count * (W - 1) * ds.nFeatures);
    expect(result.perplexity).to.be.closeTo(Math.exp(result.loss), 1e-12);
    expect(result.accuracy).to.be.within(0, 1);
    expect(Object.keys(result.groups)).to.deep.equal(['volume', 'protocol', 'port', 'flag']);
  });
});

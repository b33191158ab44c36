import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { FEATURE_NAMES } from '../ts/catalogue/features.js';
import { writeHandMadeStore } from './helpers/store.js';
import { BinnedDataset } from '../ts/datasets/binned.js';
import { buildBinnedDataset } from '../ts/datasets/build.js';
import { countTransitions, emptySums, fitBigram, scoreWindows, summarize } from '../ts/baseline/bigram.js';
import { formatBigram, runBigram, startsByRow } from '../ts/baseline/run.js';
import { isoToMinute } from '../ts/serialize/store.js';
import { tempDir } from './helpers/tmp.js';

describe('baseline: bigram with add-one smoothing (known answers)', () => {
  // one feature, 3 bins. Training 0 1 0 1 0 1: transitions 0->1 x3, 1->0 x2.
  const train = Uint8Array.from([0, 1, 0, 1, 0, 1]);
  const counts = new Float64Array(9);
  countTransitions(train, 1, 3, [0], 6, counts);
  const model = fitBigram(counts, 1, 3);

  it('counts transitions inside windows only', () => {
    expect([...counts]).to.deep.equal([0, 3, 0, 2, 0, 0, 0, 0, 0]);
    const c2 = new Float64Array(9);
    countTransitions(train, 1, 3, [0, 3], 3, c2); // windows 0 1 0 | 1 0 1: the 0->1 between them is not counted
    expect([...c2]).to.deep.equal([0, 2, 0, 2, 0, 0, 0, 0, 0]);
    expect(() => countTransitions(train, 1, 3, [4], 3, c2)).to.throw(RangeError);
  });

  it('P(b | a) = (count + 1) / (row total + N); arg-max ties to the lowest bin', () => {
    const p = [...model.logProb].map(Math.exp);
    const expected = [1 / 6, 4 / 6, 1 / 6, 3 / 5, 1 / 5, 1 / 5, 1 / 3, 1 / 3, 1 / 3];
    p.forEach((v, i) => expect(v).to.be.closeTo(expected[i], 1e-12));
    expect([...model.argmax]).to.deep.equal([1, 0, 0]);
  });

  it('loss = mean NLL, perplexity = exp(loss), accuracy = arg-max hits', () => {
    const sums = emptySums(1);
    scoreWindows(Uint8Array.from([0, 1, 2, 2]), model, [0], 4, sums); // 0->1, 1->2, 2->2
    const loss = (-Math.log(4 / 6) - Math.log(1 / 5) - Math.log(1 / 3)) / 3;
    const r = summarize(sums, ['in.pkt'], ['volume']);
    expect(r.loss).to.be.closeTo(loss, 1e-12);
    expect(r.perplexity).to.be.closeTo(Math.exp(loss), 1e-12);
    expect(r.accuracy).to.be.closeTo(1 / 3, 1e-12);
    expect(r.targets).to.equal(3);
    expect(r.groups.volume?.loss).to.be.closeTo(loss, 1e-12);
    expect(formatBigram(r)).to.match(/Bigram baseline\s+\d\.\d{4}/);
  });

  it('per feature group: averages over the group features', () => {
    // two features, fitted on minutes 0-3, scored on 4-7. f0 (volume) is always 0: always right.
    // f1 (flag) alternates 0 1 0 1 in training (argmax after 1 is 0), then stays at 1: always wrong.
    const bins = Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 1, /* scored */ 0, 1, 0, 1, 0, 1, 0, 1]);
    const c = new Float64Array(2 * 2 * 2);
    countTransitions(bins, 2, 2, [0], 4, c);
    const sums = emptySums(2);
    scoreWindows(bins, fitBigram(c, 2, 2), [4], 4, sums);
    const r = summarize(sums, ['in.pkt', 'out.flag2.flow'], ['volume', 'flag']);
    expect(r.groups.volume?.accuracy).to.equal(1);
    expect(r.groups.flag?.accuracy).to.equal(0);
    expect(r.accuracy).to.equal(0.5);
    expect(r.groups.flag?.loss).to.be.closeTo(-Math.log(1 / 3), 1e-12); // P(1 | 1) = (0 + 1) / (1 + 2)
    expect(Object.keys(r.groups)).to.deep.equal(['volume', 'flag']);
    expect(r.perFeature.map((p) => p.feature)).to.deep.equal(['in.pkt', 'out.flag2.flow']);
  });
});

/** The hand-made store of the command's test: 2 nodes x T minutes x F features. */
const [F, T] = [FEATURE_NAMES.length, 240];

describe('baseline: netflowgen baseline on a binned dataset', function () {
  this.timeout(60_000);
  const tmp = tempDir('netflowgen-baseline-');
  after(() => tmp.cleanup());
  const dataset = join(tmp.dir, 'ds');

  before(async () => {
    const data = new Float32Array(2 * T * F);
    for (let v = 0; v < 2; v++)
      for (let t = 0; t < T; t++)
        for (let f = 0; f < F; f++) data[(v * T + t) * F + f] = ((t * (f + 1) + v * 7) % (5 + v * 3)) * (f + 1);
    const store = join(tmp.dir, 'store');
    await writeHandMadeStore(store, {
      nodes: [
        { address: '10.0.0.1', customer: 'A' },
        { address: '10.0.0.2', customer: 'B' },
      ],
      startMinute: isoToMinute('2021-09-20T00:00:00Z'),
      minutes: T,
      data,
    });
    await buildBinnedDataset({
      store,
      out: dataset,
      features: 'light',
      split: '0.5,0.25,0.25',
      windowLength: 30,
      nBins: 4,
    });
  });

  /** An independent, naive computation: counts in nested maps, then the metrics. */
  function naive(perNode: boolean): { loss: number; accuracy: number } {
    const ds = BinnedDataset.open(dataset);
    const Fd = ds.nFeatures;
    const N = 4;
    const W = 30;
    const key = (row: number, f: number) => (perNode ? `${row}:${f}` : `${f}`);
    const counts = new Map<string, number[][]>();
    for (const [row, starts] of startsByRow(ds.readWindows('train'))) {
      const b = ds.readBins(row);
      for (const s of starts)
        for (let t = s + 1; t < s + W; t++)
          for (let f = 0; f < Fd; f++) {
            const k = key(row, f);
            if (!counts.has(k))
              counts.set(
                k,
                Array.from({ length: N }, () => new Array<number>(N).fill(0)),
              );
            counts.get(k)![b[(t - 1) * Fd + f]][b[t * Fd + f]]++;
          }
    }
    let nll = 0;
    let hits = 0;
    let n = 0;
    for (const [row, starts] of startsByRow(ds.readWindows('valid'))) {
      const b = ds.readBins(row);
      for (const s of starts)
        for (let t = s + 1; t < s + W; t++)
          for (let f = 0; f < Fd; f++) {
            const c = counts.get(key(row, f))?.[b[(t - 1) * Fd + f]] ?? new Array<number>(N).fill(0);
            const total = c.reduce((x, y) => x + y, 0);
            nll -= Math.log((c[b[t * Fd + f]] + 1) / (total + N));
            if (c.indexOf(Math.max(...c)) === b[t * Fd + f]) hits++;
            n++;
          }
    }
    return { loss: nll / n, accuracy: hits / n };
  }

  it('pooled over nodes: matches a naive computation; writes the JSON result', async () => {
    const { result, out } = await runBigram({ dataset });
    const ref = naive(false);
    expect(result.loss).to.be.closeTo(ref.loss, 1e-9);
    expect(result.accuracy).to.be.closeTo(ref.accuracy, 1e-12);
    expect(result.targets).to.equal(2 * 2 * 29 * 6); // 2 nodes x 2 valid windows x 29 steps x 6 features
    expect(result.windows).to.deep.equal({ train: 8, scored: 4 });
    expect(Object.keys(result.groups)).to.deep.equal(['volume']);
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    expect(saved).to.include({ kind: 'netflowgen.bigram-result', split: 'valid', perNode: false });
    expect(out).to.equal(join(dataset, 'bigram.valid.json'));
  });

  it('per node: matches a naive computation, and differs from pooled', async () => {
    const { result } = await runBigram({ dataset, perNode: true, out: join(tmp.dir, 'pn.json') });
    const ref = naive(true);
    expect(result.loss).to.be.closeTo(ref.loss, 1e-9);
    expect(result.accuracy).to.be.closeTo(ref.accuracy, 1e-12);
    expect(result.loss).to.not.be.closeTo(naive(false).loss, 1e-6);
  });
});

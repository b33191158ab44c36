// Generation metrics, bin-to-value draws and the baselines of issue 14, as pure functions: 0 on
// identical series, known values on built examples, values inside their cutoffs.
import { expect } from 'chai';
import { fitBigram } from '../ts/baseline/bigram.js';
import { Rng } from '../ts/common/rng.js';
import { assignBins, computeCutoffs, presentCutoffs } from '../ts/discretize/cutoffs.js';
import { sampleBigram, seasonalRepeat } from '../ts/generate/baselines.js';
import {
  autocorrelation,
  compareSeries,
  correlationPairs,
  jsd,
  meanMetrics,
  metricBetter,
  seriesStats,
  compareStats,
  equalCounts,
} from '../ts/generate/metrics.js';
import {
  floorVerdict,
  generationMarkdown,
  nonFiniteNumbers,
  type GenerationEvaluation,
} from '../ts/generate/generation.js';
import { binInterval, binsToValues, nextFloat32Up, valueForBin } from '../ts/generate/values.js';

/** A [T, F] series from per-feature functions of t. */
function series(T: number, fns: ((t: number) => number)[]): Uint8Array {
  const F = fns.length;
  const out = new Uint8Array(T * F);
  for (let t = 0; t < T; t++) fns.forEach((fn, f) => (out[t * F + f] = fn(t)));
  return out;
}

function randomSeries(rng: Rng, T: number, F: number, K: number): Uint8Array {
  return Uint8Array.from({ length: T * F }, () => rng.int(K));
}

describe('generate: metrics', () => {
  it('JSD: 0 for equal distributions, 1 for disjoint ones, a known value in between', () => {
    expect(jsd([3, 1, 0], [6, 2, 0])).to.equal(0);
    expect(jsd([1, 0], [0, 1])).to.be.closeTo(1, 1e-12);
    // p = (1, 0), q = (1/2, 1/2), m = (3/4, 1/4): 1/2 log2(4/3) + 1/4 log2(2/3) + 1/4 log2(2)
    expect(jsd([1, 0], [1, 1])).to.be.closeTo(0.5 * Math.log2(4 / 3) + 0.25 * Math.log2(2 / 3) + 0.25, 1e-12);
    expect(() => jsd([0, 0], [1, 1])).to.throw(/empty/);
  });

  it('autocorrelation: the biased estimator, 0 for a constant series, NaN for lags above half the length', () => {
    const alt = [0, 1, 0, 1, 0, 1, 0, 1];
    const r = autocorrelation(alt, [1, 2, 4, 5]);
    expect(r[0]).to.be.closeTo(-7 / 8, 1e-12); // 7 pairs of -1/4 over 8 x 1/4
    expect(r[1]).to.be.closeTo(6 / 8, 1e-12);
    expect(r[2]).to.be.closeTo(4 / 8, 1e-12);
    expect(Number.isNaN(r[3])).to.equal(true);
    expect([...autocorrelation([2, 2, 2, 2], [1, 2])]).to.deep.equal([0, 0]);
  });

  it('feature correlations: +1, -1, and 0 against a constant feature', () => {
    const s = series(20, [(t) => t % 7, (t) => 2 * (t % 7), (t) => 9 - (t % 7), () => 3]);
    const c = correlationPairs(s, 20, 4); // pairs 01 02 03 12 13 23
    expect(c[0]).to.be.closeTo(1, 1e-12);
    expect(c[1]).to.be.closeTo(-1, 1e-12);
    expect(c[2]).to.equal(0);
    expect(c[3]).to.be.closeTo(-1, 1e-12);
    expect(c[5]).to.equal(0);
  });

  it('every error is 0 and every bin equal on identical series', () => {
    const rng = new Rng(3);
    const nodes = [randomSeries(rng, 300, 5, 10), randomSeries(rng, 300, 5, 10)];
    const m = compareSeries(
      nodes,
      nodes.map((x) => x.slice()),
      300,
      5,
      10,
      ['volume', 'volume', 'protocol', 'port', 'flag'],
    );
    expect(m).to.include({ jsd: 0, acfMse: 0, corrError: 0, equalShare: 1, acf1440: null, nodes: 2, minutes: 300 });
    expect(m.jsdByGroup).to.deep.equal({ volume: 0, protocol: 0, port: 0, flag: 0 });
    expect(Object.values(m.corrErrorByGroupPair).every((x) => x === 0)).to.equal(true);
  });

  it('gives the known values of a built example', () => {
    // real: feature 0 alternates 0, 1 and feature 1 copies it; generated: feature 0 stays 0, feature 1 alternates
    const T = 2880;
    const real = [series(T, [(t) => t % 2, (t) => t % 2])];
    const gen = [series(T, [() => 0, (t) => t % 2])];
    const m = compareSeries(real, gen, T, 2, 4, ['volume', 'port']);
    const j = 0.5 * Math.log2(4 / 3) + 0.25 * Math.log2(2 / 3) + 0.25; // feature 0 as above, feature 1 exact
    expect(m.jsd).to.be.closeTo(j / 2, 1e-12);
    expect(m.jsdByGroup.volume).to.be.closeTo(j, 1e-12);
    expect(m.jsdByGroup.port).to.equal(0);
    // real r_k = (-1)^k (T-k)/T, generated constant: r = 0; feature 1 exact
    let s = 0;
    for (let k = 1; k <= 60; k++) s += ((T - k) / T) ** 2;
    expect(m.acfMse).to.be.closeTo(s / 60 / 2, 1e-12);
    expect(m.acf1440).to.be.closeTo(((T - 1440) / T) ** 2 / 2, 1e-12);
    expect(m.corrError).to.be.closeTo(1, 1e-12); // real corr 1, generated 0 (constant feature)
    expect(m.corrErrorByGroupPair).to.deep.equal({ 'volume-port': 1 });
    expect(m.equalShare).to.be.closeTo(0.75, 1e-12); // feature 0 equal half the time, feature 1 always
  });

  it('averages comparisons, and knows which way is better', () => {
    const rng = new Rng(5);
    const a = [randomSeries(rng, 200, 3, 4)];
    const b = [randomSeries(rng, 200, 3, 4)];
    const m = compareSeries(a, b, 200, 3, 4, ['volume', 'protocol', 'port']);
    expect(meanMetrics([m, m])).to.deep.equal(m);
    const groups = ['volume', 'protocol', 'port'] as const;
    expect(
      compareStats(seriesStats(a, 200, 3, 4), seriesStats(b, 200, 3, 4), groups, equalCounts(a, b, 3)),
    ).to.deep.equal(m);
    expect(metricBetter('jsd', 0.1, 0.2)).to.equal(true);
    expect(metricBetter('equalShare', 0.1, 0.2)).to.equal(false);
    expect(metricBetter('acf1440', null, 0.2)).to.equal(null);
  });

  it('gives finite numbers on the edges, null only where a metric is not measured, and refuses an empty comparison', () => {
    // one feature, two minutes, each side constant on another bin: lag 1 only, no feature pair
    const real = [series(2, [() => 3])];
    const gen = [series(2, [() => 0])];
    const m = compareSeries(real, gen, 2, 1, 4, ['port']);
    expect(nonFiniteNumbers(m)).to.deep.equal([]);
    expect(m).to.include({ jsd: 1, acfMse: 0, acf1440: null, corrError: null, equalShare: 0 });
    expect(m.jsdByFeature).to.deep.equal([1]);
    expect(m.jsdByGroup).to.deep.equal({ port: 1 });
    expect(m.corrErrorByGroupPair).to.deep.equal({});
    expect(m.equalShareByGroup).to.deep.equal({ port: 0 });
    // one minute: no usable lag
    const one = compareSeries([real[0].subarray(0, 1)], [gen[0].subarray(0, 1)], 1, 1, 4, ['port']);
    expect(one).to.include({ acfMse: null, acf1440: null });
    expect(one.acfMseByGroup).to.deep.equal({});
    expect(nonFiniteNumbers(meanMetrics([m, m]))).to.deep.equal([]);
    // no nodes: nothing to measure, rather than NaN
    expect(() => compareSeries([], [], 2, 1, 4, ['port'])).to.throw(RangeError, /0 nodes .*nothing to compare/);
    const two = compareSeries([series(2, [() => 3, () => 1])], [series(2, [() => 0, () => 1])], 2, 2, 4, [
      'port',
      'flag',
    ]);
    expect(() => meanMetrics([m, two])).to.throw(RangeError, /comparisons of 1, 2 features/);
    expect(nonFiniteNumbers({ a: [1, NaN], b: { c: Infinity, d: null } })).to.deep.equal([
      '$.a[1] (NaN)',
      '$.b.c (Infinity)',
    ]);
  });

  it('writes n/a, never NaN, for a verdict without a floor ratio and a row without metrics', () => {
    expect(floorVerdict({ jsdToFloor: 2, jsdWithinFloorFactor: false }, 1.5)).to.equal(
      'mean JSD 2.00 x the floor (goal <= 1.5: not met)',
    );
    expect(floorVerdict({ jsdToFloor: 1.2, jsdWithinFloorFactor: true }, 1.5, 'report')).to.equal(
      "mean JSD 1.20 × the floor's (goal ≤ 1.5: met)",
    );
    expect(floorVerdict({ jsdToFloor: null, jsdWithinFloorFactor: null }, 1.5, 'report')).to.equal(
      "mean JSD n/a × the floor's (the floor's JSD is 0; goal ≤ 1.5: n/a)",
    );
    const m = compareSeries([series(4, [() => 1])], [series(4, [() => 1])], 4, 1, 4, ['volume']);
    const e = {
      nodes: [{ row: 0, address: '10.0.0.1' }],
      span: { split: 'test', minutes: 8, halfMinutes: 4, firstMinute: '2021-09-01T00:00:00Z' },
      sampling: { temperature: 1, topK: 0, seed: 1, cache: true },
      floorFactor: 1.5,
      rows: [
        { label: 'NetFlowGen (x)', kind: 'model', source: 'x', available: true, metrics: m },
        { label: 'Seasonal (previous week)', kind: 'baseline', source: 'x', available: false, metrics: null },
        { label: 'Real vs real (floor)', kind: 'floor', source: 'x', available: true, metrics: m },
      ],
      verdicts: [
        {
          model: 'NetFlowGen (x)',
          beatsBaselines: { jsd: null, acfMse: null, acf1440: null, corrError: null, equalShare: null },
          beatsAllBaselines: true,
          byBaseline: {},
          jsdToFloor: null,
          jsdWithinFloorFactor: null,
        },
      ],
    } as unknown as GenerationEvaluation;
    const md = generationMarkdown(e);
    expect(md).to.not.match(/NaN|undefined|null/);
    const cells = (label: string) =>
      md
        .split('\n')
        .find((l) => l.startsWith(`| ${label} `))!
        .split('|')
        .slice(2, -1)
        .map((c) => c.trim());
    expect(cells('NetFlowGen (x)')).to.deep.equal([
      '0.0000',
      '0.0000',
      '–',
      '–',
      '–',
      '0.0000',
      '–',
      '–',
      '1.0000',
      '',
    ]);
    expect(cells('Seasonal (previous week)')).to.deep.equal(Array(10).fill('–'));
    expect(md).to.include(
      "- NetFlowGen (x): beats every available baseline on every measured metric; mean JSD n/a x the floor (the floor's JSD is 0; goal <= 1.5: n/a).",
    );
  });
});

describe('generate: a bin becomes a value inside its cutoffs', () => {
  it('draws from the training values of the bin, and re-binning gives the bins back', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 40; trial++) {
      const N = 2 + rng.int(11);
      const train = Float64Array.from({ length: 200 }, () =>
        rng.chance(0.3) ? 0 : rng.chance(0.5) ? rng.intIn(1, 5) : Math.round(rng.lognormal(1000, 2)),
      );
      const cut = computeCutoffs(train, N);
      const K = presentCutoffs(cut);
      const sorted = Float64Array.from(train).sort();
      const bins = Uint8Array.from({ length: 100 }, () => rng.int(N));
      const { values, unrealizable } = binsToValues(bins, 100, 1, cut, N, [sorted], rng);
      const back = assignBins(values, cut);
      let expectUnrealizable = 0;
      bins.forEach((b, i) => {
        if (b > K && b < N - 1) {
          expectUnrealizable++;
          expect(back[i], `trial ${trial}: a bin without values becomes the top bin`).to.equal(N - 1);
          expect(values[i]).to.be.greaterThan(K ? cut[K - 1] : 0);
        } else expect(back[i], `trial ${trial}, bin ${b}, value ${values[i]}, cutoffs ${[...cut]}`).to.equal(b);
        if (b > 0 && !(b > K && b < N - 1) && values[i] <= (K ? cut[K - 1] : Infinity))
          expect([...train]).to.include(values[i]); // a real training value
      });
      expect(unrealizable).to.equal(expectUnrealizable);
    }
  });

  it('falls back to uniform draws inside the bin (integers between integer cutoffs) when no training value is there', () => {
    const rng = new Rng(2);
    const cut = Float64Array.from([10, 20, 30.5, Infinity]); // N = 5, K = 3
    for (let i = 0; i < 200; i++) {
      const b = 1 + rng.int(4);
      const { value, fallback } = valueForBin(b, cut, 5, null, rng);
      expect(fallback).to.equal(true);
      expect(assignBins([value], cut)[0]).to.equal(b === 4 ? 4 : b);
      if (b <= 2) expect(Number.isInteger(value)).to.equal(true);
      if (b === 4) expect(value).to.be.within(30.5, 30.5 + 10.5 + 1e-4);
      expect(Math.fround(value)).to.equal(value); // float32, as the store holds it
    }
    expect(valueForBin(9, new Float64Array(9).fill(Infinity), 10, null, rng).value).to.equal(1); // all-zero training data
    expect(binInterval(4, Float64Array.from([1, 2, 3, 4]), 5)).to.deep.equal({ lo: 3, hi: Infinity, realizable: true }); // K = N-1: the top bin starts at c(N-2)
    expect(nextFloat32Up(1)).to.equal(1 + 2 ** -23);
  });
});

describe('generate: baselines', () => {
  it('seasonal resampling repeats the last real period', () => {
    const hist = Uint8Array.from([1, 2, 3, 4, 5, 6]); // 3 minutes x 2 features
    expect([...seasonalRepeat(hist, 3, 2, 5)]).to.deep.equal([1, 2, 3, 4, 5, 6, 1, 2, 3, 4]);
  });

  it('bigram samples follow the transition probabilities from the last real minute', () => {
    const N = 3;
    const counts = new Float64Array(1 * N * N);
    for (let a = 0; a < N; a++) counts[a * N + ((a + 1) % N)] = 1e9; // 0 -> 1 -> 2 -> 0, almost surely
    const s = sampleBigram(fitBigram(counts, 1, N), Uint8Array.from([2]), 7, new Rng(1));
    expect([...s]).to.deep.equal([0, 1, 2, 0, 1, 2, 0]);
    const even = fitBigram(new Float64Array(N * N), 1, N); // add-one smoothing only: uniform
    const many = sampleBigram(even, Uint8Array.from([0]), 6000, new Rng(4));
    for (let b = 0; b < N; b++) expect(many.filter((x) => x === b).length / 6000).to.be.closeTo(1 / 3, 0.03);
  });
});

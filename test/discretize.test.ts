import { assert, expect } from 'chai';
import {
  assignBins,
  computeCutoffs,
  presentCutoffs,
  quantileSorted,
  roundHalfUp,
  sortNonZero,
  upperBound,
} from '../ts/discretize/cutoffs.js';
import { binNode, fitNode, nodeQuantiles } from '../ts/discretize/node.js';
import { randomStream } from '../ts/common/rng.js';
import { referenceCutoffs } from './helpers/algorithm1.js';

const INF = Infinity;
const f64 = (a: number[]) => Float64Array.from(a);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const repeat = (v: number, n: number) => new Array<number>(n).fill(v);

function randomSeries(r: () => number, kind: number, n: number): number[] {
  switch (kind) {
    case 0: // continuous, no zeros
      return Array.from({ length: n }, () => -Math.log(1 - r()) * 1000);
    case 1: // heavy-tailed integer counts, many zeros and ties
      return Array.from({ length: n }, () => (r() < 0.6 ? 0 : Math.floor(Math.exp(r() * 8))));
    case 2: // a few distinct values
      return Array.from({ length: n }, () => [0, 1, 2, 5][Math.floor(r() * 4)]);
    case 3: // one huge run of one value plus a tail
      return Array.from({ length: n }, () => (r() < 0.7 ? 40 : Math.floor(r() * 100)));
    default: // very sparse
      return Array.from({ length: n }, () => (r() < 0.97 ? 0 : 1 + Math.floor(r() * 3)));
  }
}

describe('discretize: Algorithm 1 cutoffs (known answers)', () => {
  it('continuous distinct values 1..90 with 10 bins: every 10th value, 10 per bin', () => {
    const c = computeCutoffs(f64(range(1, 90)), 10);
    expect([...c]).to.deep.equal([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const bins = assignBins(f64(range(1, 90)), c);
    for (let b = 1; b <= 9; b++) expect(bins.filter((x) => x === b).length).to.equal(10);
  });

  it('many zeros: the zeros do not count towards the equal-population bins', () => {
    const c = computeCutoffs(f64([...repeat(0, 50), ...range(1, 18)]), 10);
    expect([...c]).to.deep.equal([2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });

  it('many equal values: the repeat is refined to the next larger value and the rest re-spaced', () => {
    // 100 non-zero values: 60 ones, then 2..41. delta = 11; c1 = x(10) = 1; c'2 = x(21) = 1 repeats,
    // so c2 = first value > 1 = 2 (m = 60), delta' = Round(40 / 8) = 5, c'3.. = x(64), x(69), ...
    const c = computeCutoffs(f64([...repeat(1, 60), ...range(2, 41)]), 10);
    expect([...c]).to.deep.equal([1, 2, 6, 11, 16, 21, 26, 31, 36]);
  });

  it('fewer distinct values than bins: one cutoff per distinct value, the rest absent', () => {
    const v = [...repeat(0, 5), ...repeat(1, 10), ...repeat(2, 10), ...repeat(3, 10)];
    const c = computeCutoffs(f64(v), 10);
    expect([...c]).to.deep.equal([1, 2, 3, INF, INF, INF, INF, INF, INF]);
    expect([...assignBins(f64([0, 1, 2, 3, 3.5, 4, 1e9]), c)]).to.deep.equal([0, 1, 2, 3, 9, 9, 9]);
  });

  it('a single non-zero value: one cutoff at it; larger values go to the top bin', () => {
    const c = computeCutoffs(f64([0, 0, 0, 7]), 10);
    expect([...c]).to.deep.equal([7, INF, INF, INF, INF, INF, INF, INF, INF]);
    expect([...assignBins(f64([0, 3, 7, 8]), c)]).to.deep.equal([0, 1, 1, 9]);
  });

  it('all zero: no cutoffs, any non-zero value later is top bin', () => {
    const c = computeCutoffs(new Float64Array(100), 10);
    expect([...c]).to.deep.equal(repeat(INF, 9));
    expect(presentCutoffs(c)).to.equal(0);
    expect([...assignBins(f64([0, 0.5, 10]), c)]).to.deep.equal([0, 9, 9]);
  });

  it('a constant non-zero series: one cutoff', () => {
    const c = computeCutoffs(f64(repeat(5, 20)), 10);
    expect([...c]).to.deep.equal([5, INF, INF, INF, INF, INF, INF, INF, INF]);
    expect([...assignBins(f64([5, 4, 6, 0]), c)]).to.deep.equal([1, 1, 9, 0]);
  });

  it('delta rounds up at x.5 and positions past the end read the maximum', () => {
    // 5 values, 3 bins: delta = Round(5 / 2) = 3 (half up): c1 = x(2) = 3, c'2 = x(5) -> max 5.
    expect([...computeCutoffs(f64([1, 2, 3, 4, 5]), 3)]).to.deep.equal([3, 5]);
    // 14 values, 10 bins: delta = Round(1.56) = 2; c'8, c'9 run past the end -> max, then repeat -> absent.
    expect([...computeCutoffs(f64(range(1, 14)), 10)]).to.deep.equal([2, 4, 6, 8, 10, 12, 14, INF, INF]);
  });

  it('delta rounds down: the values past the last cutoff fill the top bin', () => {
    const c = computeCutoffs(f64(range(1, 13)), 10); // delta = Round(1.44) = 1
    expect([...c]).to.deep.equal(range(1, 9));
    expect([...assignBins(f64(range(1, 13)), c)]).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9]);
  });

  it('bin edges are right-closed: c(i-1) < v <= c(i) -> i', () => {
    const c = f64([10, 20, 30]);
    expect([...assignBins(f64([0, 1e-9, 10, 10.0001, 20, 29.9, 30, 31]), c)]).to.deep.equal([0, 1, 1, 2, 2, 3, 3, 3]);
  });

  it('nBins is a parameter', () => {
    expect([...computeCutoffs(f64(range(1, 12)), 4)]).to.deep.equal([4, 8, 12]);
    expect([...computeCutoffs(f64(range(1, 12)), 2)]).to.deep.equal([12]);
    expect(() => computeCutoffs(f64([1]), 1)).to.throw(RangeError);
    expect(() => computeCutoffs(f64([1]), 300)).to.throw(RangeError);
  });

  it('rejects negative, NaN and infinite values', () => {
    expect(() => computeCutoffs(f64([1, -1]), 10)).to.throw(/index 1/);
    expect(() => computeCutoffs(f64([NaN]), 10)).to.throw(RangeError);
    expect(() => computeCutoffs(f64([Infinity]), 10)).to.throw(RangeError);
    expect(() => assignBins(f64([NaN]), f64([1]))).to.throw(RangeError);
    expect(() => assignBins(f64([-2]), f64([1]))).to.throw(RangeError);
  });

  it('helpers: roundHalfUp, upperBound, quantileSorted (numpy linear convention)', () => {
    expect([roundHalfUp(5, 2), roundHalfUp(4, 3), roundHalfUp(14, 9), roundHalfUp(0, 9)]).to.deep.equal([3, 1, 2, 0]);
    const s = f64([1, 2, 2, 2, 5]);
    expect([upperBound(s, 0), upperBound(s, 1), upperBound(s, 2), upperBound(s, 5)]).to.deep.equal([0, 1, 4, 5]);
    const sz = sortNonZero(f64([4, 0, 2, 0, 8]));
    expect(sz.zeros).to.equal(2);
    expect([...sz.sorted]).to.deep.equal([2, 4, 8]);
    // sorted full: 0 0 2 4 8 -> numpy.percentile([..], [0, 25, 50, 75, 100]) = 0, 0, 2, 4, 8; 10% -> 0; 90% -> 6.4
    expect([0, 0.25, 0.5, 0.75, 1, 0.9].map((p) => quantileSorted(sz, p))).to.deep.equal([0, 0, 2, 4, 8, 6.4]);
    assert.isNaN(quantileSorted({ zeros: 0, sorted: new Float64Array(0) }, 0.5));
  });
});

describe('discretize: properties (SPEC §3) on random series', () => {
  const r = randomStream(12345);
  const cases: { kind: number; n: number; N: number; values: number[] }[] = [];
  for (let i = 0; i < 150; i++) {
    const kind = i % 5;
    const n = 1 + Math.floor(r() * 600);
    const N = [10, 10, 10, 5, 16, 2][i % 6];
    cases.push({ kind, n, N, values: randomSeries(r, kind, n) });
  }

  it('matches a literal transcription of Algorithm 1 on the full sorted array', () => {
    for (const c of cases)
      expect([...computeCutoffs(f64(c.values), c.N)], `kind ${c.kind} n ${c.n}`).to.deep.equal(
        referenceCutoffs(c.values, c.N),
      );
  });

  it('N-1 cutoffs: present ones strictly increasing and taken from the data, then only +Infinity', () => {
    for (const c of cases) {
      const cut = computeCutoffs(f64(c.values), c.N);
      expect(cut.length).to.equal(c.N - 1);
      const k = presentCutoffs(cut);
      for (let i = 1; i < k; i++) expect(cut[i]).to.be.greaterThan(cut[i - 1]);
      for (let i = 0; i < k; i++) expect(c.values).to.include(cut[i]);
      for (let i = k; i < cut.length; i++) expect(cut[i]).to.equal(INF);
      if (c.values.some((v) => v > 0)) expect(k).to.be.greaterThan(0);
      // k is at most the number of distinct non-zero values
      expect(k).to.be.at.most(new Set(c.values.filter((v) => v > 0)).size);
    }
  });

  it('zero maps to bin 0 and only zero; bins are in 0..N-1', () => {
    for (const c of cases) {
      const cut = computeCutoffs(f64(c.values), c.N);
      const probe = [...c.values, 0, 1e-12, 0.3, 1e12];
      const bins = assignBins(f64(probe), cut);
      probe.forEach((v, i) => {
        expect(bins[i] === 0).to.equal(v === 0);
        expect(bins[i]).to.be.below(c.N);
      });
    }
  });

  it('bins are monotone in the value (training values and unseen ones)', () => {
    for (const c of cases) {
      const cut = computeCutoffs(f64(c.values), c.N);
      const probe = [...c.values, ...c.values.map((v) => v * 1.5 + 0.25), 0, 1e15].sort((a, b) => a - b);
      const bins = assignBins(f64(probe), cut);
      for (let i = 1; i < bins.length; i++) expect(bins[i]).to.be.at.least(bins[i - 1]);
      expect(bins[bins.length - 1]).to.equal(c.N - 1); // above everything seen: top bin
    }
  });

  it('continuous data: the non-zero bins hold about equal counts', () => {
    const rr = randomStream(7);
    for (const M of [900, 9000, 9004]) {
      const values = [...repeat(0, 3000), ...Array.from({ length: M }, () => rr() * 1e6)];
      const bins = assignBins(f64(values), computeCutoffs(f64(values), 10));
      expect(bins.filter((b) => b === 0).length).to.equal(3000);
      for (let b = 1; b <= 9; b++) {
        const n = bins.filter((x) => x === b).length;
        expect(Math.abs(n - M / 9), `bin ${b} of M=${M}`).to.be.at.most(5);
      }
    }
  });

  it('constant, all-zero, empty and one-value series do not crash', () => {
    for (const v of [[], [0], [3], repeat(0, 1000), repeat(2.5, 1000)]) {
      const cut = computeCutoffs(f64(v), 10);
      expect(cut.length).to.equal(9);
      assignBins(f64(v), cut);
    }
  });
});

describe('discretize: one node block (minute-major, store columns)', () => {
  // 6 minutes x 3 store columns; we select columns 2 and 0; training minutes [0, 4).
  const series = Float32Array.from([
    // c0 c1 c2
    1,
    9,
    0, //
    2,
    9,
    5, //
    0,
    9,
    5, //
    4,
    9,
    0, //
    3,
    9,
    7, // validation
    9,
    9,
    0, // validation
  ]);
  it('fitNode: cutoffs from the training minutes only, and summary quantiles', () => {
    const fit = fitNode(series, 3, [2, 0], 0, 4, 3); // 3 bins: 2 cutoffs per feature
    // column 2 training: 0 5 5 0 -> non-zero [5, 5]: delta 1: c1 = 5, c'2 = 5 repeats, nothing above -> absent
    // column 0 training: 1 2 0 4 -> non-zero [1, 2, 4]: delta = Round(3/2) = 2: c1 = 2, c'2 = x(3) -> max 4
    expect([...fit.cutoffs]).to.deep.equal([5, INF, 2, 4]);
    // quantiles of column 2 over 0 0 5 5: min 0, q25 0, median 2.5, q75 5, max 5
    expect([...fit.quantiles.subarray(0, 5)]).to.deep.equal([0, 0, 2.5, 5, 5]);
    expect([...fit.quantiles.subarray(5, 10)]).to.deep.equal([0, 0.75, 1.5, 2.5, 4]);
  });
  it('binNode: every minute, training cutoffs, minute-major output', () => {
    const bins = binNode(series, 3, [2, 0], f64([5, INF, 2, 4]), 3);
    expect([...bins]).to.deep.equal([0, 1, 1, 1, 1, 0, 0, 2, 2, 2, 0, 2]);
  });
  it('nodeQuantiles over any range; bad ranges throw', () => {
    expect([...nodeQuantiles(series, 3, [1], 0, 6)]).to.deep.equal([9, 9, 9, 9, 9]);
    expect(() => fitNode(series, 3, [0], 0, 7, 10)).to.throw(RangeError);
    expect(() => binNode(series, 3, [0], f64([1]), 10)).to.throw(RangeError);
  });
});

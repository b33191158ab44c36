// The cluster (node) bootstrap of evaluate/uncertainty.ts, checked against an exact identity: when
// every node holds k identical copies of one example, drawing nodes gives each copy the node's weight,
// and every metric is a ratio of weighted sums (or a maximum per customer), so the replicates equal
// those of the one-copy data drawn example by example with the same random numbers.
import { expect } from 'chai';
import { Rng } from '../ts/common/rng.js';
import {
  bootstrapMetric,
  membersOf,
  pairedDifference,
  pairedLossDifference,
  type MetricName,
  type RunOutcomes,
} from '../ts/evaluate/uncertainty.js';
import { drawRun as drawOutcomes } from './helpers/outcomes.js';

/** A run with random effectiveness and overhead (helpers/outcomes.ts), 5 customers. */
const drawRun = (rng: Rng, n: number, p: number, q: number): RunOutcomes =>
  drawOutcomes(rng, n, p, q, {
    customers: 5,
    effectiveness: () => 0.3 + 0.6 * rng.float(),
    overhead: () => 0.2 * rng.float(),
  });

/** Each example repeated k times in a row, the copies one cluster. */
function copies(o: RunOutcomes, k: number): RunOutcomes {
  const rep = (xs: ArrayLike<number>) => Array.from(xs).flatMap((x) => Array<number>(k).fill(x));
  return {
    index: Array.from({ length: o.index.length * k }, (_, i) => i),
    label: rep(o.label),
    detected: rep(o.detected),
    effectiveness: rep(o.effectiveness),
    overhead: rep(o.overhead),
    customer: rep(o.customer),
    cluster: rep(o.index),
  };
}

const METRICS: MetricName[] = ['f1', 'effectiveness', 'fpr', 'fnr', 'overhead'];

describe('evaluate/uncertainty: resampling by node', () => {
  const rng = new Rng(11);
  const a = [0, 1, 2].map(() => drawRun(rng, 60, 0.8, 0.15));
  const b = [0, 1, 2].map(() => drawRun(rng, 60, 0.6, 0.1));
  const opts = { replicates: 300, seed: 3 };

  it('with k copies per node equals the one-copy bootstrap drawn example by example', () => {
    for (const m of METRICS) {
      const one = bootstrapMetric(a, m, opts);
      const many = bootstrapMetric(
        a.map((o) => copies(o, 4)),
        m,
        opts,
      );
      expect(many.mean, m).to.be.closeTo(one.mean!, 1e-12);
      expect(many.lo, m).to.be.closeTo(one.lo!, 1e-12);
      expect(many.hi, m).to.be.closeTo(one.hi!, 1e-12);
    }
    const d1 = pairedDifference(a, b, 'f1', opts);
    const d4 = pairedDifference(
      a.map((o) => copies(o, 4)),
      b.map((o) => copies(o, 4)),
      'f1',
      opts,
    );
    expect(d4.diff).to.be.closeTo(d1.diff!, 1e-12);
    expect(d4.lo).to.be.closeTo(d1.lo!, 1e-12);
    expect(d4.hi).to.be.closeTo(d1.hi!, 1e-12);
  });

  it('drawn example by example, the copies look like 4x the data: the interval is too narrow', () => {
    const plain = (o: RunOutcomes) => ({ ...copies(o, 4), cluster: undefined });
    const naive = pairedDifference(a.map(plain), b.map(plain), 'f1', opts);
    const byNode = pairedDifference(
      a.map((o) => copies(o, 4)),
      b.map((o) => copies(o, 4)),
      'f1',
      opts,
    );
    expect(naive.hi! - naive.lo!).to.be.lessThan(0.75 * (byNode.hi! - byNode.lo!));
  });

  it('one cluster per example is the example bootstrap', () => {
    const own = (o: RunOutcomes) => ({ ...o, cluster: Array.from(o.index) });
    const x = bootstrapMetric(a.map(own), 'f1', opts);
    const y = bootstrapMetric(a, 'f1', opts);
    expect([x.lo, x.hi]).to.deep.equal([y.lo, y.hi]);
  });

  it('refuses runs that name different clusters for the same examples', () => {
    const c1 = copies(a[0], 2);
    const c2 = { ...copies(a[1], 2), cluster: Array.from(copies(a[1], 2).cluster!, (x) => (x === 0 ? 1 : x)) };
    expect(() => bootstrapMetric([c1, c2], 'f1', opts)).to.throw(/different resampling clusters/);
  });

  it('per-window losses: k windows per node equal the one-window-per-node bootstrap', () => {
    const n = 40;
    const lossA = [0, 1].map(() => Float64Array.from({ length: n }, () => rng.float()));
    const lossB = Float64Array.from({ length: n }, () => 0.2 + rng.float());
    const rep = (x: ArrayLike<number>) => Float64Array.from(Array.from(x).flatMap((v) => [v, v, v]));
    const one = pairedLossDifference(lossA, lossB, opts);
    const three = pairedLossDifference(lossA.map(rep), rep(lossB), {
      ...opts,
      cluster: Array.from({ length: 3 * n }, (_, i) => Math.floor(i / 3)),
    });
    expect(three.diff).to.be.closeTo(one.diff!, 1e-12);
    expect(three.lo).to.be.closeTo(one.lo!, 1e-12);
    expect(three.hi).to.be.closeTo(one.hi!, 1e-12);
  });

  it('membersOf groups positions by id in order of first appearance', () => {
    expect(membersOf([7, 3, 7, 9, 3])).to.deep.equal([[0, 2], [1, 4], [3]]);
  });
});

// The Xatu metrics (SPEC §7) on hand-computed examples, and their properties on random curves.
import { expect } from 'chai';
import { rng } from './helpers/rng.js';
import {
  boundedOverhead,
  customerWorstOverheads,
  detectAll,
  detectionStep,
  effectiveness,
  evaluateAt,
  mitigationTime,
  overhead,
  rates,
  selectThreshold,
  thresholdCandidates,
  trafficSplit,
  better,
  type DetectionSet,
} from '../ts/evaluate/metrics.js';
import { detectionSet } from './helpers/detect-reference.js';

/** A DetectionSet from per-example rows (s: survival, v: traffic; customers numbered from 0). */
const makeSet = (
  rows: { s: number[]; mask: number[]; v: number[]; label: number; onset: number; customer: number }[],
): DetectionSet => ({
  ...detectionSet(rows.map((r) => ({ ...r, survival: r.s, traffic: r.v }))),
  nCustomers: Math.max(...rows.map((r) => r.customer)) + 1,
});

// An attack from minute 2 to minute 3 of a 5-minute window; 20 bytes of normal traffic after it.
const ATTACK = { mask: [0, 0, 1, 1, 0], v: [10, 10, 100, 100, 20], label: 1, onset: 2 };
const NORMAL = { mask: [0, 0, 0, 0, 0], v: [10, 10, 10, 10, 10], label: 0, onset: -1 };

describe('evaluate: Xatu metrics on hand-computed examples', () => {
  it('detection step: the first minute whose survival is below tau; -1 when none', () => {
    expect(detectionStep([0.9, 0.8, 0.3, 0.2], 0.5)).to.equal(2);
    expect(detectionStep([0.9, 0.8, 0.5, 0.5], 0.5)).to.equal(-1); // S_t < tau, strictly
    expect(detectionStep([0.4, 0.3], 0.5)).to.equal(0);
    expect(detectionStep([], 0.5)).to.equal(-1);
  });

  it('an attack caught at its onset: effectiveness 1, overhead = the normal traffic after detection', () => {
    const d = detectionStep([0.9, 0.8, 0.3, 0.2, 0.1], 0.5);
    expect(d).to.equal(2);
    expect(trafficSplit(ATTACK.mask, ATTACK.v, d)).to.deep.equal({
      anomalous: 200,
      caught: 200,
      scrubbed: 20,
      total: 240,
    });
    expect(effectiveness(ATTACK.mask, ATTACK.v, d)).to.equal(1);
    expect(overhead(ATTACK.mask, ATTACK.v, d)).to.equal(20 / 240);
    expect(mitigationTime(d, ATTACK.onset)).to.equal(0);
  });

  it('an attack caught late: the anomalous minutes before detection are lost', () => {
    const d = detectionStep([0.9, 0.9, 0.9, 0.4, 0.3], 0.5);
    expect(d).to.equal(3);
    expect(effectiveness(ATTACK.mask, ATTACK.v, d)).to.equal(0.5);
    expect(overhead(ATTACK.mask, ATTACK.v, d)).to.equal(20 / 240);
    expect(mitigationTime(d, ATTACK.onset)).to.equal(1);
  });

  it('an attack caught early: all of it is caught, and the normal minutes before the onset count as overhead', () => {
    expect(effectiveness(ATTACK.mask, ATTACK.v, 1)).to.equal(1);
    expect(overhead(ATTACK.mask, ATTACK.v, 1)).to.equal(30 / 240);
    expect(mitigationTime(1, ATTACK.onset)).to.equal(1);
  });

  it('a missed attack: effectiveness 0, overhead 0, no mitigation time', () => {
    const d = detectionStep([0.9, 0.9, 0.9, 0.9, 0.9], 0.5);
    expect(d).to.equal(-1);
    expect(effectiveness(ATTACK.mask, ATTACK.v, d)).to.equal(0);
    expect(overhead(ATTACK.mask, ATTACK.v, d)).to.equal(0);
    expect(mitigationTime(d, ATTACK.onset)).to.equal(null);
  });

  it('a false alarm on a normal example: overhead = its traffic from the detection on', () => {
    const d = detectionStep([0.9, 0.4, 0.3, 0.2, 0.1], 0.5);
    expect(overhead(NORMAL.mask, NORMAL.v, d)).to.equal(40 / 50);
    expect(mitigationTime(d, NORMAL.onset)).to.equal(null);
  });

  it('edge cases: an attack window without anomalous bytes, a window without traffic', () => {
    expect(effectiveness([0, 1], [5, 0], 0)).to.equal(1);
    expect(effectiveness([0, 1], [5, 0], -1)).to.equal(0);
    expect(overhead([0, 0], [0, 0], 0)).to.equal(0);
  });

  it('a set at one threshold: confusion, FPR, FNR, F1, mean effectiveness, mitigation times, customers', () => {
    const set = makeSet([
      { ...ATTACK, s: [0.9, 0.8, 0.3, 0.2, 0.1], customer: 0 }, // caught at onset
      { ...ATTACK, s: [0.9, 0.9, 0.9, 0.4, 0.3], customer: 1 }, // caught late
      { ...ATTACK, s: [0.9, 0.9, 0.9, 0.9, 0.9], customer: 1 }, // missed
      { ...NORMAL, s: [0.9, 0.4, 0.3, 0.2, 0.1], customer: 2 }, // false alarm
      { ...NORMAL, s: [0.9, 0.9, 0.9, 0.9, 0.9], customer: 2 }, // true negative
    ]);
    const r = evaluateAt(set, 0.5);
    expect([...r.detection]).to.deep.equal([2, 3, -1, 1, -1]);
    expect(r.confusion).to.deep.equal({ tp: 2, fp: 1, tn: 1, fn: 1 });
    expect(r.fpr).to.equal(1 / 2);
    expect(r.fnr).to.equal(1 / 3);
    expect(r.f1).to.equal(4 / 6);
    expect(r.meanEffectiveness).to.equal((1 + 0.5 + 0) / 3);
    expect(r.mitigationTimes).to.deep.equal([0, 1]);
    expect([...r.overhead]).to.deep.equal([20 / 240, 20 / 240, 0, 40 / 50, 0]);
    expect(Number.isNaN(r.effectiveness[3])).to.equal(true);
    // each customer counts once, by its worst example
    expect([...r.customerWorst]).to.deep.equal([20 / 240, 20 / 240, 0.8]);
  });

  it("customers' worst-example rule: the overhead at least a share b of the customers stay at or below", () => {
    const worst = customerWorstOverheads([0.1, 0.0, 0.3, 0.05, 0.2], [0, 0, 1, 2, 2], 3);
    expect([...worst]).to.deep.equal([0.1, 0.3, 0.2]);
    expect(boundedOverhead(worst, 1 / 3)).to.equal(0.1); // 1 of 3
    expect(boundedOverhead(worst, 0.5)).to.equal(0.2); // ceil(1.5) = 2 of 3
    expect(boundedOverhead(worst, 2 / 3)).to.equal(0.2); // 2 of 3 exactly
    expect(boundedOverhead(worst, 0.8)).to.equal(0.3); // ceil(2.4) = 3 of 3
    expect(boundedOverhead(Float64Array.from([0.5, 0, 0, 0, 0]), 0.8)).to.equal(0); // 4 of 5 customers at 0
    expect(boundedOverhead([], 0.8)).to.equal(0);
    expect(() => boundedOverhead(worst, 0)).to.throw(/not in \(0, 1\]/);
  });

  it('rates: undefined ratios are null', () => {
    expect(rates({ tp: 0, fp: 0, tn: 0, fn: 0 })).to.deep.equal({ fpr: null, fnr: null, f1: null });
    expect(rates({ tp: 3, fp: 1, tn: 0, fn: 0 })).to.deep.equal({ fpr: 1, fnr: 0, f1: 6 / 7 });
  });
});

describe('evaluate: the threshold under an overhead bound', () => {
  // Two attacks and two normal examples, one customer each (worked out in the comments).
  const set = makeSet([
    { s: [0.9, 0.6, 0.2, 0.1], mask: [0, 1, 1, 1], v: [0, 10, 10, 10], label: 1, onset: 1, customer: 0 },
    { s: [0.95, 0.7, 0.5, 0.3], mask: [0, 0, 1, 1], v: [10, 0, 10, 10], label: 1, onset: 2, customer: 1 },
    { s: [0.8, 0.8, 0.8, 0.8], mask: [0, 0, 0, 0], v: [10, 10, 10, 10], label: 0, onset: -1, customer: 2 },
    { s: [0.99, 0.99, 0.99, 0.45], mask: [0, 0, 0, 0], v: [5, 5, 5, 5], label: 0, onset: -1, customer: 3 },
  ]);
  const f = (x: number) => Math.fround(x);

  it('sweeps every distinct outcome: effectiveness and bounded overhead as tau rises', () => {
    const c = thresholdCandidates(set, 0.75);
    // tau: 0, then between successive running minima 0.1 < 0.2 < 0.3 < 0.45 < 0.5 < 0.6 < 0.7 < 0.8 < 0.9 < 0.95 < 0.99, then above
    expect(c.length).to.equal(12);
    expect(c[0]).to.deep.equal({ tau: 0, meanEffectiveness: 0, overhead: 0, errors: 2 });
    expect(c[1].tau).to.equal((f(0.1) + f(0.2)) / 2);
    const effs = [0, 1 / 6, 1 / 3, 7 / 12, 7 / 12, 5 / 6, 1, 1, 1, 1, 1, 1];
    c.forEach((x, i) => expect(x.meanEffectiveness, `candidate ${i}`).to.be.closeTo(effs[i], 1e-12));
    // n2 alarms above 0.45 (overhead 1/4), n1 above 0.8 (overhead 1), a2 at its first minute above 0.95
    // (overhead 1/3), n2 at its first above 0.99 (overhead 1): the 3rd smallest of the 4 customers' worst
    expect(c.map((x) => x.overhead)).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, 0.25, 0.25, 1 / 3, 1]);
    expect(c.map((x) => x.errors)).to.deep.equal([2, 1, 1, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(c.at(-1)!.tau).to.equal((f(0.99) + 1) / 2);
  });

  it('picks the lowest tau with the highest effectiveness within the budget', () => {
    const s = selectThreshold(set, { bound: 0.75, budget: 0.1 });
    expect(s.tau).to.equal((f(0.6) + f(0.7)) / 2);
    expect([...s.detection]).to.deep.equal([1, 2, -1, 3]);
    expect(s.meanEffectiveness).to.equal(1);
    expect(s.selectedOverhead).to.equal(0);
    expect(s.confusion).to.deep.equal({ tp: 2, fp: 1, tn: 1, fn: 0 });
    expect(s.f1).to.equal(0.8);
    expect(s.mitigationTimes).to.deep.equal([0, 0]);
    expect(s.candidates).to.equal(12);
    expect(s.feasible).to.equal(8);
  });

  it('a binding budget: with every customer bounded, the false alarm above 0.45 is out of reach', () => {
    const s = selectThreshold(set, { bound: 1, budget: 0.1 });
    expect(s.tau).to.equal((f(0.3) + f(0.45)) / 2);
    expect(s.meanEffectiveness).to.be.closeTo(7 / 12, 1e-15);
    expect(s.selectedOverhead).to.equal(0);
    expect(s.confusion).to.deep.equal({ tp: 2, fp: 0, tn: 2, fn: 0 });
    // a looser budget reaches full effectiveness
    expect(selectThreshold(set, { bound: 1, budget: 0.25 }).meanEffectiveness).to.equal(1);
  });

  it('tie-breaks: effectiveness first, then overhead, errors, tau', () => {
    const base = { tau: 0.5, meanEffectiveness: 0.9, overhead: 0.05, errors: 3 };
    expect(better({ ...base, meanEffectiveness: 0.95, overhead: 0.09 }, base)).to.equal(true);
    expect(better({ ...base, overhead: 0.04, errors: 9 }, base)).to.equal(true);
    expect(better({ ...base, errors: 2, tau: 0.9 }, base)).to.equal(true);
    expect(better({ ...base, tau: 0.4 }, base)).to.equal(true);
    expect(better({ ...base, tau: 0.6 }, base)).to.equal(false);
  });
});

describe('evaluate: properties on random survival curves', () => {
  /** Random non-increasing curves (cumulative softplus-like hazards), random masks and traffic. */
  function randomSet(seed: number, n = 40, D = 12, customers = 7): DetectionSet {
    const r = rng(seed);
    const rows = [];
    for (let i = 0; i < n; i++) {
      const label = r() < 0.5 ? 1 : 0;
      const onset = label ? Math.floor(r() * D) : -1;
      const end = label ? Math.min(D - 1, onset + Math.floor(r() * D)) : -1;
      let cum = 0;
      const s: number[] = [];
      const mask: number[] = [];
      const v: number[] = [];
      for (let t = 0; t < D; t++) {
        const anomalous = label && t >= onset && t <= end ? 1 : 0;
        cum += r() * (anomalous ? 0.6 : 0.08) + (r() < 0.05 ? 0 : 1e-3);
        s.push(Math.exp(-cum));
        mask.push(anomalous);
        v.push(Math.round((anomalous ? 500 : 50) * r()));
      }
      rows.push({ s, mask, v, label, onset, customer: Math.floor(r() * customers) });
    }
    const set = makeSet(rows);
    // every customer index used
    const used = [...new Set(rows.map((x) => x.customer))].sort((a, b) => a - b);
    return { ...set, customer: rows.map((x) => used.indexOf(x.customer)), nCustomers: used.length };
  }

  it('effectiveness and overhead lie in [0, 1]; raising tau never detects later', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const set = randomSet(seed);
      let prev: Int32Array | undefined;
      for (const tau of [0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1.01]) {
        const r = evaluateAt(set, tau);
        for (let i = 0; i < set.n; i++) {
          expect(r.overhead[i]).to.be.within(0, 1);
          if (set.label[i] === 1) expect(r.effectiveness[i]).to.be.within(0, 1);
          if (prev) {
            const [before, now] = [prev[i] < 0 ? Infinity : prev[i], r.detection[i] < 0 ? Infinity : r.detection[i]];
            expect(now, `seed ${seed} example ${i} tau ${tau}`).to.be.at.most(before);
          }
        }
        if (r.meanEffectiveness !== null) expect(r.meanEffectiveness).to.be.within(0, 1);
        prev = r.detection;
      }
    }
  });

  it('the sweep agrees with evaluating every candidate directly, and the selection is the best feasible one', function () {
    this.timeout(20_000);
    for (let seed = 1; seed <= 8; seed++) {
      const set = randomSet(seed);
      for (const bound of [0.8, 0.9, 0.99]) {
        const cands = thresholdCandidates(set, bound);
        let prevTau = -1;
        for (const c of cands) {
          expect(c.tau).to.be.greaterThan(prevTau);
          prevTau = c.tau;
          const r = evaluateAt(set, c.tau);
          const direct = {
            eff: r.meanEffectiveness ?? 0,
            over: boundedOverhead(r.customerWorst, bound),
            errors: r.confusion.fp + r.confusion.fn,
          };
          if (
            Math.abs(c.meanEffectiveness - direct.eff) > 1e-9 ||
            Math.abs(c.overhead - direct.over) > 1e-9 ||
            c.errors !== direct.errors
          )
            expect(
              { eff: c.meanEffectiveness, over: c.overhead, errors: c.errors },
              `seed ${seed} bound ${bound} tau ${c.tau}`,
            ).to.deep.equal(direct);
        }
        const s = selectThreshold(set, { bound, budget: 0.1 });
        expect(s.selectedOverhead).to.be.at.most(0.1);
        const bestEff = Math.max(...cands.filter((c) => c.overhead <= 0.1).map((c) => c.meanEffectiveness));
        expect(s.meanEffectiveness).to.be.closeTo(bestEff, 1e-9);
        // a finer grid of thresholds finds nothing better within the budget
        for (let k = 0; k <= 200; k++) {
          const r = evaluateAt(set, k / 200);
          if (boundedOverhead(r.customerWorst, bound) <= 0.1 && (r.meanEffectiveness ?? 0) > bestEff + 1e-9)
            expect.fail(`seed ${seed}: tau ${k / 200} beats the selection`);
        }
      }
    }
  });

  it('detectAll applies detectionStep to each row', () => {
    const set = randomSet(3, 10, 6);
    const d = detectAll(set.survival, 6, 0.7);
    for (let i = 0; i < 10; i++) expect(d[i]).to.equal(detectionStep(set.survival.subarray(i * 6, i * 6 + 6), 0.7));
  });
});

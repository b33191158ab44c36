import { expect } from 'chai';
import { Rng } from '../ts/common/rng.js';
import { evaluateBounds } from '../ts/evaluate/evaluate.js';
import { selectThreshold, type DetectionSet } from '../ts/evaluate/metrics.js';
import { summarizeDetection, type SummaryModel } from '../ts/evaluate/summary.js';
import type { RunEvaluation } from '../ts/evaluate/tables.js';
import {
  bootstrapMetric,
  pairedDifference,
  quantileSorted,
  verdict,
  weightedMetric,
  type RunOutcomes,
} from '../ts/evaluate/uncertainty.js';
import { drawRun as drawOutcomes } from './helpers/outcomes.js';

/** n examples, half attacks (helpers/outcomes.ts); a detected attack's effectiveness 0.8, a false alarm's overhead 0.1; 7 customers. */
const drawRun = (rng: Rng, n: number, p: number, q: number): RunOutcomes =>
  drawOutcomes(rng, n, p, q, { customers: 7, effectiveness: () => 0.8, overhead: () => 0.1 });

describe('evaluate/uncertainty: bootstrap over examples and seeds', () => {
  it('computes the weighted metrics by their formulas', () => {
    const o: RunOutcomes = {
      index: [0, 1, 2, 3],
      label: [1, 1, 0, 0],
      detected: [1, 0, 1, 0],
      effectiveness: [0.5, 0, 0, 0],
      overhead: [0, 0, 0.3, 0],
      customer: [0, 1, 2, 3],
    };
    expect(weightedMetric(o, 'f1', null)).to.equal((2 * 1) / (2 * 1 + 1 + 1));
    expect(weightedMetric(o, 'fpr', null)).to.equal(0.5);
    expect(weightedMetric(o, 'fnr', null)).to.equal(0.5);
    expect(weightedMetric(o, 'effectiveness', null)).to.equal(0.25);
    // weights: example 0 twice, example 2 dropped -> TP 2, FN 1, FP 0
    expect(weightedMetric(o, 'f1', [2, 1, 0, 1])).to.equal(4 / 5);
    expect(weightedMetric(o, 'effectiveness', [2, 1, 0, 1])).to.be.closeTo(1 / 3, 1e-12);
    // customers' worst overheads 0, 0, 0.3, 0: the 80% bound takes the ceil(3.2) = 4th smallest
    expect(weightedMetric(o, 'overhead', null, 0.8)).to.equal(0.3);
    expect(weightedMetric(o, 'overhead', null, 0.75)).to.equal(0);
  });

  it('type-7 quantiles', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).to.equal(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0)).to.equal(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).to.equal(4);
  });

  it('the 95% interval covers the true FNR in about 95% of synthetic experiments', () => {
    // True FNR = 1 - p = 0.3. Each experiment: 3 seeds on 200 examples drawn afresh.
    const rng = new Rng(7);
    let covered = 0;
    const trials = 60;
    for (let t = 0; t < trials; t++) {
      const runs = [0, 1, 2].map(() => drawRun(rng, 200, 0.7, 0.1));
      const e = bootstrapMetric(runs, 'fnr', { replicates: 300, seed: t });
      if (e.lo! <= 0.3 && 0.3 <= e.hi!) covered++;
    }
    // Binomial(60, 0.95): below 50 has probability < 0.001.
    expect(covered).to.be.at.least(50);
  });

  it('an interval is wider with fewer examples, and sd is over seeds', () => {
    const rng = new Rng(3);
    const big = [0, 1, 2].map(() => drawRun(rng, 800, 0.7, 0.1));
    const small = big.map((o) => ({
      index: Array.from(o.index).slice(0, 80),
      label: Array.from(o.label).slice(0, 80),
      detected: Array.from(o.detected).slice(0, 80),
      effectiveness: Array.from(o.effectiveness).slice(0, 80),
      overhead: Array.from(o.overhead).slice(0, 80),
      customer: Array.from(o.customer).slice(0, 80),
    }));
    const eb = bootstrapMetric(big, 'f1', { replicates: 400 });
    const es = bootstrapMetric(small, 'f1', { replicates: 400 });
    expect(es.hi! - es.lo!).to.be.greaterThan(eb.hi! - eb.lo!);
    const perSeed = big.map((o) => weightedMetric(o, 'f1', null));
    const m = perSeed.reduce((a, b) => a + b) / 3;
    expect(eb.mean).to.be.closeTo(m, 1e-12);
    expect(eb.sd).to.be.closeTo(Math.sqrt(perSeed.reduce((a, b) => a + (b - m) ** 2, 0) / 2), 1e-12);
  });

  it('a paired difference of a model with itself is exactly 0; a real gap is found', () => {
    const rng = new Rng(11);
    const a = [0, 1, 2].map(() => drawRun(rng, 300, 0.9, 0.05));
    const same = pairedDifference(a, a, 'f1', { replicates: 200 });
    expect([same.diff, same.lo, same.hi]).to.deep.equal([0, 0, 0]);
    const b = [0, 1, 2].map(() => drawRun(rng, 300, 0.5, 0.05));
    const d = pairedDifference(a, b, 'f1', { replicates: 400 });
    expect(d.lo!).to.be.greaterThan(0);
    expect(d.pairedRuns).to.equal(true);
  });

  it('refuses to compare runs judged on different examples', () => {
    const rng = new Rng(1);
    const a = drawRun(rng, 10, 0.5, 0.5);
    const b = { ...a, index: Array.from(a.index, (i) => i + 1) };
    expect(() => pairedDifference([a], [b], 'f1')).to.throw(/different examples/);
  });

  it('verdicts follow the interval', () => {
    expect(verdict('better', 0.01, 0.2, 0.02)).to.equal('holds');
    expect(verdict('better', -0.2, -0.01, 0.02)).to.equal('does not hold');
    expect(verdict('better', -0.01, 0.015, 0.02)).to.equal('does not hold');
    expect(verdict('better', 0.005, 0.015, 0.02)).to.equal('does not hold'); // significant but negligible
    expect(verdict('better', 0.015, 0.115, 0.02)).to.equal('holds');
    expect(verdict('better', -0.1, 0.2, 0.02)).to.equal('inconclusive');
    expect(verdict('not worse', -0.04, 0.1, 0.05)).to.equal('holds');
    expect(verdict('not worse', -0.3, -0.06, 0.05)).to.equal('does not hold');
    expect(verdict('not worse', -0.1, 0.1, 0.05)).to.equal('inconclusive');
    expect(verdict('better', null, null, 0.02)).to.equal('inconclusive');
  });
});

describe('evaluate: tau never sees the test split', () => {
  /** One example per customer; survival drops to `dip` at step 1 when the example is flagged. */
  /** Rows from [label, dip] pairs. */
  const dips = (...pairs: [number, number][]) => pairs.map(([label, dip]) => ({ label, dip }));
  function set(rows: { label: number; dip: number }[]): DetectionSet {
    const D = 3;
    const n = rows.length;
    const survival = new Float32Array(n * D);
    const mask = new Uint8Array(n * D);
    const traffic = new Float32Array(n * D).fill(1);
    rows.forEach((r, i) => {
      survival.set([1, r.dip, r.dip], i * D);
      if (r.label) mask.set([0, 1, 1], i * D);
    });
    return {
      n,
      D,
      survival,
      mask,
      traffic,
      label: rows.map((r) => r.label),
      onsetStep: rows.map((r) => (r.label ? 1 : -1)),
      customer: rows.map((_, i) => i),
      nCustomers: n,
    };
  }

  it('chooses a different tau on a calibration split than on test, and applies it to test', () => {
    // Calibration: attacks dip to 0.5, a normal example to 0.6 -> the best tau lies in (0.5, 0.6].
    const calib = set(dips([1, 0.5], [1, 0.5], [0, 0.6], [0, 0.95], [0, 0.95]));
    // Test: attacks dip only to 0.7: the oracle tau sits above 0.7, the calibrated one misses them.
    const test = set(dips([1, 0.7], [1, 0.7], [0, 0.9], [0, 0.95], [0, 0.95]));
    const budget = 0.2;
    const onCalib = selectThreshold(calib, { bound: 0.8, budget });
    const onTest = selectThreshold(test, { bound: 0.8, budget });
    expect(onCalib.tau).to.be.within(0.5, 0.6);
    expect(onTest.tau).to.be.greaterThan(0.7);
    const calibrated = evaluateBounds(test, calib, [0.8], budget, false, 'train').metrics[0];
    const oracle = evaluateBounds(test, test, [0.8], budget, true, 'test').metrics[0];
    expect(calibrated.tau).to.equal(onCalib.tau);
    expect(calibrated.selectedOn).to.equal('train');
    expect(calibrated.f1).to.equal(0); // nothing on test is below the calibrated tau
    expect(oracle.f1).to.equal(1);
  });
});

describe('evaluate/summary: claims read their verdicts from the numbers', () => {
  function evaluation(name: string, o: RunOutcomes, tau = 0.5): RunEvaluation {
    return {
      run: `/runs/${name}`,
      name,
      label: name,
      arch: 'x',
      trainSplit: 'valid',
      attackTypes: null,
      featureSet: 'full',
      nFeatures: 86,
      trainExamples: 40,
      split: 'test',
      selectSplit: 'train',
      examples: { total: o.label.length, attacks: 0, normal: 0, customers: 7 },
      bounds: [],
      oracle: [
        {
          bound: 0.8,
          budget: 0.1,
          selectedOn: 'test',
          tau,
          effectiveness: 1,
          overhead: 0,
          fpr: 0,
          fnr: 0,
          f1: 1,
          confusion: { tp: 0, fp: 0, tn: 0, fn: 0 },
          candidates: 1,
          feasible: 1,
          mitigation: { count: 0, mean: null, median: null, max: null },
        },
      ],
      budgetCurve: [{ bound: 0.8, budget: 0.1, tau, effectiveness: 0.5, overhead: 0, f1: 0.5, fpr: 0, fnr: 0 }],
      outcomes: {
        bound: 0.8,
        tau,
        index: Array.from(o.index),
        label: Array.from(o.label),
        detection: Array.from(o.detected, (d) => (d ? 1 : -1)),
        effectiveness: Array.from(o.effectiveness, (e, i) => (o.label[i] ? e : null)),
        overhead: Array.from(o.overhead),
        customer: Array.from(o.customer),
      },
      unseen: [],
    };
  }

  it('NetFlowGen clearly better than TF: holds; clearly worse than MS-LSTM: does not hold', () => {
    const rng = new Rng(5);
    const model = (name: string, p: number): SummaryModel => ({
      model: name,
      seeds: [1, 2, 3].map((s) => ({ seed: s, evaluation: evaluation(name, drawRun(rng, 400, p, 0.05)) })),
    });
    const s = summarizeDetection([model('NetFlowGen', 0.75), model('TF', 0.4), model('MS-LSTM', 0.98)], [], {
      table: 'table5',
      bound: 0.8,
      replicates: 300,
    });
    const byId = Object.fromEntries(s.claims.map((c) => [c.id, c]));
    expect(byId['netflowgen-vs-tf'].verdict).to.equal('holds');
    expect(byId['netflowgen-vs-tf'].measured.diff).to.be.greaterThan(0);
    expect(byId['netflowgen-vs-ms-lstm'].verdict).to.equal('does not hold');
    expect(byId['netflowgen-vs-ms-lstm'].measured.hi).to.be.lessThan(0);
    // The claims whose models the table lacks are not made up.
    expect(s.claims.map((c) => c.id)).to.not.include('netflowgen-vs-tf-moredata');
    expect(s.models.map((m) => m.metrics.f1.runs)).to.deep.equal([3, 3, 3]);
  });
});

describe('Table 4 claim: per-window losses, paired by window', () => {
  it('reads .npy files as numpy writes them', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readNpy } = await import('../ts/common/npy.js');
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    // numpy.save(np.array([[1.5, -2], [0, 4]], dtype='<f4')): a version 1.0 header padded to 128 bytes (checked against numpy 1.26)
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    const padded = header + ' '.repeat(128 - 10 - header.length - 1) + '\n';
    const head = Buffer.concat([
      Buffer.from([0x93]),
      Buffer.from('NUMPY'),
      Buffer.from([1, 0]),
      Buffer.alloc(2),
      Buffer.from(padded, 'latin1'),
    ]);
    head.writeUInt16LE(padded.length, 8);
    writeFileSync(join(dir, 'a.npy'), Buffer.concat([head, Buffer.from(new Float32Array([1.5, -2, 0, 4]).buffer)]));
    const a = readNpy(join(dir, 'a.npy'));
    expect(a.shape).to.deep.equal([2, 2]);
    expect(Array.from(a.data)).to.deep.equal([1.5, -2, 0, 4]);
    writeFileSync(join(dir, 'b.npy'), Buffer.concat([head, Buffer.from(new Float32Array([1.5]).buffer)]));
    expect(() => readNpy(join(dir, 'b.npy'))).to.throw(/b\.npy: 4 data bytes, shape \[2, 2\] needs 16/);
  });

  it('joins windows by (row, start), averages steps, and gives a verdict from the interval', async () => {
    const { summarizePretrain } = await import('../ts/evaluate/summary.js');
    // 3 windows of 2 steps; the model's losses 0.1 below the bigram's everywhere, windows listed in another order.
    const windows = new Int32Array([0, 10, 1, 20, 2, 30]);
    const stepLoss = new Float32Array([0.2, 0.4, 0.5, 0.5, 0.9, 0.7]); // window means 0.3, 0.5, 0.8
    const bigram = { rows: [2, 0, 1], starts: [30, 10, 20], loss: [0.9, 0.4, 0.6] };
    const s = summarizePretrain([{ seed: 1, stepLoss, steps: 2, windows }], bigram, {
      split: 'valid',
      replicates: 200,
    });
    expect(s.models[0].loss.mean).to.be.closeTo((0.3 + 0.5 + 0.8) / 3, 1e-6);
    expect(s.models[1].loss.mean).to.be.closeTo((0.9 + 0.4 + 0.6) / 3, 1e-12);
    const c = s.claims[0];
    expect(c.measured.diff).to.be.closeTo(0.1, 1e-6);
    expect(c.measured.lo).to.be.closeTo(0.1, 1e-6); // the same gap on every window: no spread
    expect(c.verdict).to.equal('holds');
    expect(() =>
      summarizePretrain(
        [{ seed: 1, stepLoss, steps: 2, windows }],
        { rows: [0], starts: [10], loss: [1] },
        { split: 'valid' },
      ),
    ).to.throw(/no bigram loss/);
  });
});

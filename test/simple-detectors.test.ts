// The training-free detectors (ts/baseline/detectors.ts): hand-made series where the detection step
// and the tau range that gives it are computed by hand; then `netflowgen simple-detect` end to end on a
// tiny synthetic EarlyDetect dataset (folder contract, the example -> store minute mapping, a weak
// check that attacks drop the curves more than normal windows).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  buildQuantileTable,
  ewmaCusumCurve,
  ewmaWarmup,
  exceedanceSurvival,
  logPackets,
  nodeQuantileTables,
  staticThresholdCurve,
  staticThresholdValue,
} from '../ts/baseline/detectors.js';
import { exampleMinutes, runSimpleDetector, type DetectorResult } from '../ts/baseline/detector-run.js';
import { simpleDetectCommand } from '../ts/cli/simple-detect.js';
import { VERSION } from '../ts/common/version.js';
import { BinnedDataset } from '../ts/datasets/binned.js';
import { readDetectSplit } from '../ts/earlydetect/data.js';
import { readSurvival } from '../ts/earlydetect/scores.js';
import { detectionStep } from '../ts/evaluate/metrics.js';
import { SeriesStore } from '../ts/serialize/store.js';
import { makeDetectChain, type DetectChain } from './helpers/detect-chain.js';
import { inProcess } from './helpers/cli.js';
import { useTempDir } from './helpers/tmp.js';
import { rng } from './helpers/rng.js';

/** 1..n packets per minute, bytes = 100 x packets. */
const ramp = (n: number) => Float64Array.from({ length: n }, (_, i) => i + 1);
const times = (a: ArrayLike<number>, f: number) => Float64Array.from(a, (v) => v * f);
const fill = (n: number, v: number) => new Float64Array(n).fill(v);

function expectCurve(s: ArrayLike<number>, hazard: ArrayLike<number>): void {
  let cum = 0;
  for (let t = 0; t < s.length; t++) {
    expect(s[t], `S_${t}`).to.be.within(0, 1);
    if (t) expect(s[t], `S_${t} <= S_${t - 1}`).to.be.at.most(s[t - 1]);
    expect(hazard[t], `lambda_${t}`).to.be.at.least(0);
    cum += hazard[t];
    expect(Math.exp(-cum)).to.be.closeTo(s[t], 1e-12 + 1e-9 * s[t]);
  }
}

describe('simple detectors: static threshold (per-node training quantile)', () => {
  const n = 100;
  const tables = nodeQuantileTables(ramp(n), times(ramp(n), 100)); // packets 1..100/min, bytes 100..10000/min

  it('the exceedance survival 1 - F: #{v < x}/(n+1) inside the training range, s/((n+1)(s + x - max)) above, continuous, < 1/(n+1) above the max', () => {
    const t = buildQuantileTable(ramp(n), 1);
    expect(exceedanceSurvival(t, 0)).to.equal(1);
    expect(exceedanceSurvival(t, 1)).to.equal(1); // strictly above nothing
    expect(exceedanceSurvival(t, 50)).to.be.closeTo(1 - 49 / 101, 1e-15);
    expect(exceedanceSurvival(t, 100)).to.be.closeTo(1 - 99 / 101, 1e-15);
    expect(exceedanceSurvival(t, 100 + 1e-9)).to.be.closeTo(1 / 101, 1e-9); // the count's step to n/(n+1), continued
    expect(exceedanceSurvival(t, 200)).to.be.closeTo(100 / (101 * 200), 1e-15); // max / x beyond the max
    expect(exceedanceSurvival(t, 1e12)).to.be.greaterThan(0).and.lessThan(exceedanceSurvival(t, 1e11));
    // a node idle in training: the floor is the scale
    const idle = buildQuantileTable(fill(10, 0), 0.5);
    expect(exceedanceSurvival(idle, 0)).to.equal(1);
    expect(exceedanceSurvival(idle, 1)).to.be.closeTo(0.5 / (11 * 1.5), 1e-15);
  });

  it('a step attack is caught at its first minute, for exactly the tau of the hand computation (packets above the training max)', () => {
    const D = 10;
    const pkt = fill(D, 50);
    const byt = fill(D, 100); // bytes low: the packets decide
    for (let t = 5; t < D; t++) pkt[t] = 1000;
    const { survival, hazard } = staticThresholdCurve(tables, pkt, byt);
    expectCurve(survival, hazard);
    const before = 1 - 49 / 101; // packets 50/min: 49 training minutes strictly below
    const after = 100 / 60 / (101 * (100 / 60 + 900 / 60)); // s = max = 100/60 pkt/s, x - max = 900/60
    for (let t = 0; t < D; t++) expect(survival[t]).to.be.closeTo(t < 5 ? before : after, 1e-12);
    expect(detectionStep(survival, after)).to.equal(-1); // a threshold above 1000 packets/min
    expect(detectionStep(survival, after * 1.0001)).to.equal(5);
    expect(detectionStep(survival, 0.05)).to.equal(5); // the 95% quantile
    expect(detectionStep(survival, before)).to.equal(5);
    expect(detectionStep(survival, before + 1e-9)).to.equal(0); // a threshold below 50 packets/min alarms at once
  });

  it('tau is the quantile: at tau the alarm is "strictly above v_(j)", j = floor((1 - tau)(n + 1)) + 1, on bits/s as on packets/s', () => {
    const bits = tables.bits;
    expect(staticThresholdValue(bits, 0.05)).to.be.closeTo((96 * 100 * 8) / 60, 1e-9); // j = floor(0.95 x 101) + 1 = 96
    expect(staticThresholdValue(bits, 1)).to.be.closeTo((1 * 100 * 8) / 60, 1e-9);
    expect(staticThresholdValue(bits, 0)).to.equal(Infinity);
    for (const [bytes, caught] of [
      [9600, false],
      [9601, true],
      [9700, true],
    ] as const) {
      const s = staticThresholdCurve(tables, fill(4, 1), Float64Array.from([100, 100, bytes, 100])).survival;
      expect(detectionStep(s, 0.05), `${bytes} bytes/min at the 95% quantile`).to.equal(caught ? 2 : -1);
    }
    // random tau and values: S < tau <=> value > staticThresholdValue, inside and beyond the training range
    const r = rng(3);
    for (let i = 0; i < 2000; i++) {
      const tau = r() < 0.2 ? r() / 101 : r();
      const x = (r() * 15000 * 8) / 60;
      expect(exceedanceSurvival(bits, x) < tau, `tau ${tau} x ${x}`).to.equal(x > staticThresholdValue(bits, tau));
    }
  });

  it('a flat series never alarms: at the training level for any tau <= 1, below the training max for any tau up to 1 - F(its largest value)', () => {
    const flat = nodeQuantileTables(fill(500, 20), fill(500, 3000));
    const s = staticThresholdCurve(flat, fill(30, 20), fill(30, 3000)).survival;
    expect([...s]).to.deep.equal(new Array(30).fill(1));
    expect(detectionStep(s, 1)).to.equal(-1);
    // values inside the training range, largest 90 packets/min: 89 of 100 training minutes strictly below
    const r = rng(5);
    const pkt = Float64Array.from({ length: 30 }, () => 1 + Math.floor(r() * 90));
    pkt[17] = 90;
    const c = staticThresholdCurve(tables, pkt, times(pkt, 100));
    expectCurve(c.survival, c.hazard);
    const floor = 1 - 89 / 101;
    expect(Math.min(...c.survival)).to.be.closeTo(floor, 1e-12);
    expect(detectionStep(c.survival, floor)).to.equal(-1);
    expect(detectionStep(c.survival, 1 / 101)).to.equal(-1); // the quantile n/(n+1): the training max
  });

  it('curves are non-increasing, in [0, 1] and S = exp(-sum lambda) on random series, whatever the scale', () => {
    const r = rng(9);
    for (let i = 0; i < 50; i++) {
      const scale = 10 ** Math.floor(r() * 8);
      const tr = nodeQuantileTables(
        Float64Array.from({ length: 200 }, () => r() * scale),
        Float64Array.from({ length: 200 }, () => r() * scale * 500),
      );
      const c = staticThresholdCurve(
        tr,
        Float64Array.from({ length: 30 }, () => r() * scale * 3),
        Float64Array.from({ length: 30 }, () => r() * scale * 1500),
      );
      expectCurve(c.survival, c.hazard);
    }
  });
});

describe('simple detectors: EWMA + CUSUM', () => {
  it('a flat, noise-free series gives S_t = 1 throughout (g = 0)', () => {
    const c = ewmaCusumCurve(fill(100, 5), fill(30, 5));
    expect([...c.survival]).to.deep.equal(new Array(30).fill(1));
    expect([...c.g]).to.deep.equal(new Array(30).fill(0));
    expect([...c.hazard]).to.deep.equal(new Array(30).fill(0));
  });

  it('a step up raises g at the step: z = step / sigma_min on a flat history, detection at the step for every tau in (exp(-g), 1]', () => {
    const win = fill(30, 5);
    for (let t = 10; t < 30; t++) win[t] = 7;
    const c = ewmaCusumCurve(fill(100, 5), win);
    expectCurve(c.survival, c.hazard);
    for (let t = 0; t < 10; t++) expect(c.survival[t]).to.equal(1);
    expect(c.z[10]).to.be.closeTo(2 / 0.1, 1e-12);
    expect(c.g[10]).to.be.closeTo(20 - 0.5, 1e-12);
    expect(c.survival[10]).to.be.closeTo(Math.exp(-19.5), 1e-18);
    expect(c.g[11]).to.be.greaterThan(c.g[10]); // the EWMA has moved only alpha of the way
    expect(detectionStep(c.survival, 1)).to.equal(10);
    expect(detectionStep(c.survival, Math.exp(-19.5) * 1.001)).to.equal(10);
    // tau <-> h = -ln tau: detection at the first t with max g > h
    for (const h of [0.1, 5, 19.4, 25, 40, 100]) {
      const first = c.g.findIndex((g) => g > h);
      expect(detectionStep(c.survival, Math.exp(-h)), `h = ${h}`).to.equal(first);
    }
    // frozen: the increments stay 19.5 per step
    const f = ewmaCusumCurve(fill(100, 5), win, { freeze: true });
    for (let t = 10; t < 15; t++) expect(f.g[t]).to.be.closeTo(19.5 * (t - 9), 1e-9);
    // a step down never alarms (one-sided)
    const down = ewmaCusumCurve(fill(100, 5), fill(30, 2));
    expect(Math.min(...down.survival)).to.equal(1);
  });

  it('the warm-up: mean and variance of the first ceil(1/alpha) history minutes, then the EWMA recursions', () => {
    const h = Float64Array.from({ length: 25 }, (_, i) => (i % 2 ? 3 : 1));
    const w = ewmaWarmup(h, 0.05);
    let mu = 2;
    let v = 1;
    for (let i = 20; i < 25; i++) {
      const d = h[i] - mu;
      mu += 0.05 * d;
      v = 0.95 * (v + 0.05 * d * d);
    }
    expect(w.mu).to.be.closeTo(mu, 1e-12);
    expect(w.variance).to.be.closeTo(v, 1e-12);
    expect(ewmaWarmup([], 0.05, 4)).to.deep.equal({ mu: 4, variance: 0 });
    // noise of the history widens sigma: the same step scores lower
    const r = rng(2);
    const noisy = Float64Array.from({ length: 200 }, () => 5 + 0.5 * (r() - 0.5));
    const win = Float64Array.from({ length: 30 }, (_, t) => (t >= 10 ? 7 : 5));
    expect(ewmaCusumCurve(noisy, win).g[10]).to.be.lessThan(ewmaCusumCurve(fill(200, 5), win).g[10]);
    const lp = logPackets([0, Math.E - 1, -3]);
    expect([lp[0], lp[2]]).to.deep.equal([0, 0]);
    expect(lp[1]).to.be.closeTo(1, 1e-15);
  });

  it('curves are non-increasing, in [0, 1] and S = exp(-sum lambda) on random series', () => {
    const r = rng(4);
    for (let i = 0; i < 50; i++) {
      const level = r() * 10;
      const c = ewmaCusumCurve(
        Float64Array.from({ length: 40 }, () => level + r()),
        Float64Array.from({ length: 30 }, (_, t) => level + r() + (t > 15 ? r() * 5 : 0)),
        { alpha: 0.01 + r() * 0.3, freeze: r() < 0.5 },
      );
      expectCurve(c.survival, c.hazard);
    }
  });
});

describe('simple-detect: detector run folders on a tiny synthetic EarlyDetect dataset', function () {
  this.timeout(120_000);
  const tmp = useTempDir('netflowgen-simpledetect-');
  let chain: DetectChain;
  const runs: Record<string, string> = {};

  before(async () => {
    chain = await makeDetectChain(join(tmp.dir, 'chain'), { unseen: 2 });
    runs.static = (
      await runSimpleDetector({ earlyDetect: chain.earlyDetect, detector: 'static', out: join(tmp.dir, 'static') })
    ).out;
    runs.cusum = (
      await runSimpleDetector({ earlyDetect: chain.earlyDetect, detector: 'ewma-cusum', out: join(tmp.dir, 'cusum') })
    ).out;
  });

  it("an example (row, start) is the store's minutes [start, start + W) of nodes[row]: traffic.f32 equals the store's in.byt over [start + W - D, start + W)", () => {
    const m = chain.manifest;
    const W = m.windowLength;
    const D = m.detectLength;
    const dm = BinnedDataset.open(m.dataset).manifest;
    const store = SeriesStore.open(m.store);
    expect(store.startMinute).to.equal(dm.startMinute);
    const byt = store.manifest.features.indexOf('in.byt');
    let checked = 0;
    let shiftedDiffers = 0;
    for (const s of ['train', 'valid', 'test'] as const) {
      const sp = readDetectSplit(chain.earlyDetect, m, s);
      for (let i = 0; i < sp.n; i++) {
        const [row, start] = [sp.examples[i * 6], sp.examples[i * 6 + 1]];
        const win = exampleMinutes(start, W, D).window;
        expect(win).to.deep.equal({ start: start + W - D, end: start + W });
        const node = store.nodeIndex(dm.nodes[row].address);
        expect(node).to.equal(dm.nodes[row].storeIndex);
        const x = store.readNode(node, win.start, win.end);
        const fromStore = Array.from({ length: D }, (_, t) => x[t * store.nFeatures + byt]);
        expect(Array.from(sp.traffic.subarray(i * D, (i + 1) * D)), `${s} example ${i}`).to.deep.equal(fromStore);
        // one minute later differs for some examples: the check would see an off-by-one mapping
        const y = store.readNode(node, win.start + 1, win.end + 1);
        if (fromStore.some((v, t) => v !== y[t * store.nFeatures + byt])) shiftedDiffers++;
        checked++;
      }
    }
    expect(checked).to.be.greaterThan(20);
    expect(shiftedDiffers).to.be.greaterThan(checked / 2);
  });

  it('the folder contract: eval/<split>/survival.f32, hazard.f32, score.json for every split with examples, and result.json', () => {
    const m = chain.manifest;
    const D = m.detectLength;
    for (const [det, dir] of [
      ['static', runs.static],
      ['ewma-cusum', runs.cusum],
    ] as const) {
      const arch = det === 'static' ? 'static_threshold' : 'ewma_cusum';
      const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as DetectorResult;
      expect(result).to.include({
        kind: 'netflowgen.detector-result',
        createdBy: `netflowgen ${VERSION}`,
        name: det === 'static' ? 'static' : 'cusum',
        label: det === 'static' ? 'Static threshold' : 'EWMA+CUSUM',
        arch,
        dataset: chain.earlyDetect,
        binnedDataset: m.dataset,
        store: m.store,
        pretrained: null,
        featureSet: 'full',
        nFeatures: det === 'static' ? 2 : 1,
        trainSplit: null,
        calibrationSplit: 'train',
        attackTypes: null,
        trainExamples: 0,
      });
      expect(new Date(result.finishedAt).getTime()).to.be.greaterThan(0);
      expect(result.params).to.be.an('object');
      if (det === 'ewma-cusum')
        expect(result.params).to.include({ alpha: 0.05, k: 0.5, sigmaFloor: 0.1, freeze: false, transform: 'log1p' });
      for (const s of ['train', 'valid', 'test'] as const) {
        const n = m.splits[s].count;
        expect(n, s).to.be.greaterThan(0);
        const ed = join(dir, 'eval', s);
        const score = JSON.parse(readFileSync(join(ed, 'score.json'), 'utf8'));
        expect(score).to.deep.equal({
          split: s,
          n,
          D,
          W: m.windowLength,
          checkpoint: null,
          arch,
          data: chain.earlyDetect,
        });
        const { survival } = readSurvival(ed, { n, D, split: s }); // checks sizes and [0, 1]
        const hb = readFileSync(join(ed, 'hazard.f32'));
        const hazard = new Float32Array(hb.buffer.slice(hb.byteOffset, hb.byteOffset + hb.byteLength));
        expect(hazard.length).to.equal(n * D);
        for (let i = 0; i < n; i++) {
          let cum = 0;
          for (let t = 0; t < D; t++) {
            const k = i * D + t;
            if (t) expect(survival[k]).to.be.at.most(survival[k - 1]);
            expect(Number.isFinite(hazard[k]) && hazard[k] >= 0).to.equal(true);
            cum += hazard[k];
            if (survival[k] > 0)
              expect(-Math.log(survival[k]), `${s} example ${i} step ${t}`).to.be.closeTo(cum, 1e-6 * (1 + cum));
          }
        }
      }
    }
  });

  it('attack examples drop the curves further than non-attack examples (mean over examples of min S = S_{D-1})', () => {
    const m = chain.manifest;
    const D = m.detectLength;
    for (const dir of [runs.static, runs.cusum]) {
      const attack: number[] = [];
      const normal: number[] = [];
      for (const s of ['train', 'valid', 'test'] as const) {
        const sp = readDetectSplit(chain.earlyDetect, m, s);
        const { survival } = readSurvival(join(dir, 'eval', s), { n: sp.n, D, split: s });
        for (let i = 0; i < sp.n; i++) (sp.examples[i * 6 + 2] === 1 ? attack : normal).push(survival[i * D + D - 1]);
      }
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      expect(attack.length).to.be.greaterThan(5);
      expect(mean(attack), dir).to.be.lessThan(mean(normal));
    }
  });

  it('refuses a non-empty folder without --force; the command replaces it with --force and fills an empty one', async () => {
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => 'no error',
        (x: Error) => x.message,
      );
    expect(
      await failure(runSimpleDetector({ earlyDetect: chain.earlyDetect, detector: 'static', out: runs.static })),
    ).to.match(/exists \(a previous detector-result output\); pass --force/);
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty);
    await runSimpleDetector({
      earlyDetect: chain.earlyDetect,
      detector: 'ewma-cusum',
      out: empty,
      splits: ['test'],
      ewmaCusum: { freeze: true },
    });
    const r = JSON.parse(readFileSync(join(empty, 'result.json'), 'utf8')) as DetectorResult;
    expect(r.params).to.include({ freeze: true });
    expect(() => readFileSync(join(empty, 'eval/train/score.json'))).to.throw();

    // a file the user put in the previous run folder is never deleted, even with --force (review item 2)
    writeFileSync(join(runs.cusum, 'marker'), 'x');
    expect(
      await failure(
        runSimpleDetector({ earlyDetect: chain.earlyDetect, detector: 'ewma-cusum', out: runs.cusum, force: true }),
      ),
    ).to.match(/also holds marker, which netflowgen did not write/);
    expect(readFileSync(join(runs.cusum, 'marker'), 'utf8')).to.equal('x');
    rmSync(join(runs.cusum, 'marker'));
    const c = await inProcess(
      [simpleDetectCommand as never],
      ['simple-detect', chain.earlyDetect, '--detector', 'ewma-cusum', '-o', runs.cusum, '--force', '--alpha', '0.1'],
    );
    expect(c.code, c.err).to.equal(0);
    expect(c.out).to.include(`wrote ${runs.cusum}: EWMA+CUSUM (ewma_cusum)`);
    expect(() => readFileSync(join(runs.cusum, 'marker'))).to.throw();
    expect(JSON.parse(readFileSync(join(runs.cusum, 'result.json'), 'utf8')).params.alpha).to.equal(0.1);
  });
});

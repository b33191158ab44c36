// netflowgen evaluate-detect on a real EarlyDetect dataset (synthetic chain) with survival curves
// written by the test: a perfect detector, a random one, a per-type run and a light run. Every number
// of the tables is checked against the plain recomputation of test/helpers/detect-reference.ts.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { evaluateDetectCommand, parseBounds } from '../ts/cli/evaluate-detect.js';
import { evaluateDetect, sizeMatchedTau, type DetectEvaluation } from '../ts/evaluate/evaluate.js';
import { format } from '../ts/evaluate/tables.js';
import { sharedDetectChain, type DetectChain } from './helpers/detect-chain.js';
import {
  metricsAt,
  readExamples,
  referenceSelection,
  tableAfter,
  detectionSet,
  type RefExample,
} from './helpers/detect-reference.js';
import { inProcess } from './helpers/cli.js';
import { useTempDir } from './helpers/tmp.js';
import { rng } from './helpers/rng.js';
import { prefetch } from './helpers/prefetch.js';

type Curve = (e: { label: number; onset: number; mask: number[]; index: number }, D: number) => number[];

/** Writes a finished fine-tuning run folder whose survival curves come from `curve`. */
function fakeRun(
  dir: string,
  chain: DetectChain,
  name: string,
  arch: string,
  curve: Curve,
  extra: {
    attack_types?: string[];
    label?: string;
    featureSet?: 'full' | 'light';
    nFeatures?: number;
    trainSplit?: 'train' | 'valid';
  } = {},
): string {
  const runDir = join(dir, name);
  const m = chain.manifest;
  const D = m.detectLength;
  for (const split of ['train', 'valid', 'test'] as const) {
    const n = m.splits[split].count;
    const ex = readExamples(chain.earlyDetect, split);
    const surv = new Float32Array(n * D);
    ex.forEach((e, i) =>
      surv.set(
        curve(
          { label: e.label, onset: e.onset, mask: e.mask, index: i + { train: 20_000, valid: 0, test: 10_000 }[split] },
          D,
        ),
        i * D,
      ),
    );
    const out = join(runDir, 'eval', split);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'survival.f32'), new Uint8Array(surv.buffer));
    writeFileSync(join(out, 'score.json'), JSON.stringify({ split, n, D, checkpoint: 'none', arch }));
  }
  const spec = {
    name,
    dataset: chain.earlyDetect,
    arch,
    train_split: 'valid',
    valid_split: 'holdout',
    eval_splits: ['test', 'valid'],
    ...(extra.attack_types ? { attack_types: extra.attack_types } : {}),
    hash: 'x',
  };
  writeFileSync(join(runDir, 'spec.resolved.json'), JSON.stringify(spec));
  const result = {
    kind: 'netflowgen.finetune-result',
    name,
    dataset: chain.earlyDetect,
    label: extra.label ?? name,
    arch,
    featureSet: extra.featureSet ?? 'full',
    nFeatures: extra.nFeatures ?? 86,
    trainExamples: 42,
    trainSplit: extra.trainSplit ?? 'valid',
    attackTypes: extra.attack_types ?? null,
  };
  writeFileSync(join(runDir, 'result.json'), JSON.stringify(result));
  return runDir;
}

/** A perfect detector: survival drops at the first anomalous minute (or the onset, when earlier). */
const oracle: Curve = (e, D) => {
  const first = Math.min(e.onset, ...e.mask.flatMap((a, t) => (a ? [t] : [])));
  return Array.from({ length: D }, (_, t) => (e.label === 1 && t >= first ? 0.001 : 1));
};
function randomCurve(seed: number): Curve {
  return (e, D) => {
    const r = rng(seed * 100_003 + e.index);
    let cum = 0;
    return Array.from({ length: D }, (_, t) => {
      cum += r() * (e.mask[t] ? 0.5 : 0.06);
      return Math.exp(-cum);
    });
  };
}

prefetch('detect-chain'); // started early in a whole-suite run (helpers/prefetch.ts)

describe('evaluate-detect: the tables from survival curves', function () {
  this.timeout(120_000);
  const tmp = useTempDir('netflowgen-evaldetect-');
  let chain: DetectChain;
  let runs: Record<string, string>;
  let evaluation: DetectEvaluation;
  let md: string;
  let test: RefExample[];
  let type: string;
  const bounds = [0.8, 0.9, 0.99];
  const budget = 0.1;

  before(async () => {
    chain = await sharedDetectChain(); // read only: the runs below are written under tmp.dir
    const m = chain.manifest;
    // the attack type with the most test attacks, for the per-type run
    type = ['DNS', 'UDP', 'NTP', 'SYN'].sort(
      (a, b) =>
        (m.table2.test.byType as Record<string, number>)[b] - (m.table2.test.byType as Record<string, number>)[a],
    )[0];
    const dir = join(tmp.dir, 'runs');
    runs = {
      oracle: fakeRun(dir, chain, 'oracle', 'netflowgen_safe', oracle, { label: 'NetFlowGen' }),
      random: fakeRun(dir, chain, 'random', 'netflowgen_tf', randomCurve(7), { label: 'TF' }),
      perType: fakeRun(dir, chain, 'per-type', 'ms_lstm', randomCurve(11), { label: 'MS-LSTM', attack_types: [type] }),
      light: fakeRun(dir, chain, 'light', 'netflowgen_safe', randomCurve(13), {
        label: 'NetFlowGen_Light',
        featureSet: 'light',
        nFeatures: 6,
      }),
    };
    // Tau chosen on the test split itself (the oracle), so that the tables can be checked against the
    // brute-force selection on test; the default (calibration split) is tested below.
    const r = await evaluateDetect([runs.oracle, runs.random, runs.perType, runs.light], {
      out: join(tmp.dir, 'out'),
      bounds,
      budget,
      score: false,
      selectSplit: 'test',
    });
    evaluation = r.evaluation;
    md = readFileSync(r.files.md, 'utf8');
    test = readExamples(chain.earlyDetect, 'test', join(runs.random, 'eval/test/survival.f32'));
  });

  it('the chain gave attacks and normal examples in every split, and unseen-node examples', () => {
    for (const s of ['train', 'valid', 'test'] as const)
      expect(chain.manifest.table2[s].attacks, s).to.be.greaterThan(2);
    expect(chain.manifest.table2.test.unseenExamples).to.be.greaterThan(0);
  });

  it('a perfect detector: effectiveness 100, no false alarm, F1 1; mitigation time = how far the CUSUM onset is from the first anomalous minute', () => {
    const o = evaluation.runs[0];
    const attacks = readExamples(chain.earlyDetect, 'test').filter((e) => e.label === 1);
    const gaps = attacks.map((e) =>
      Math.abs(e.onset - Math.min(e.onset, e.mask.indexOf(1) < 0 ? e.onset : e.mask.indexOf(1))),
    );
    for (const b of o.bounds) {
      expect(b).to.include({ effectiveness: 1, fpr: 0, fnr: 0, f1: 1 });
      expect(b.mitigation.max).to.equal(Math.max(...gaps));
      expect(evaluation.figure5.models[0].byBound[0].mitigationTime).to.deep.equal(gaps);
    }
    for (const u of o.unseen) expect(u.confusion).to.deep.equal({ tp: 0, fp: 0, tn: u.examples, fn: 0 });
  });

  it('Table 5: every number equals the brute-force recomputation from the files', () => {
    const rows = tableAfter(md, '## Table 5');
    expect(rows.map((r) => r[0])).to.deep.equal(['NetFlowGen', 'TF', 'NetFlowGen_Light']);
    for (const [label, run] of [
      ['NetFlowGen', runs.oracle],
      ['TF', runs.random],
      ['NetFlowGen_Light', runs.light],
    ]) {
      const ex = readExamples(chain.earlyDetect, 'test', join(run, 'eval/test/survival.f32')).filter(
        (e) => e.alert >= 0,
      );
      const ref = referenceSelection(ex, 0.8, budget);
      const row = rows.find((r) => r[0] === label)!;
      expect(row.slice(1), label).to.deep.equal([
        '42',
        format.effectiveness(100 * ref.effectiveness),
        format.overhead(ref.overhead),
        format.rate(100 * ref.fpr!),
        format.rate(100 * ref.fnr!),
        format.f1(ref.f1),
      ]);
    }
  });

  it('the other bounds and Figure 5 arrays match too, and the reported tau gives the reference detections', () => {
    const run = evaluation.runs[1];
    const ex = test.filter((e) => e.alert >= 0);
    bounds.forEach((bound, k) => {
      const ref = referenceSelection(ex, bound, budget);
      const b = run.bounds[k];
      expect(b.effectiveness!).to.be.closeTo(ref.effectiveness, 1e-9);
      expect(b.overhead).to.be.closeTo(ref.overhead, 1e-9);
      expect(b.confusion).to.deep.equal({ tp: ref.tp, fp: ref.fp, tn: ref.tn, fn: ref.fn });
      expect(b.overhead).to.be.at.most(budget);
      const at = metricsAt(ex, b.tau, bound);
      expect(at.detections).to.deep.equal(ref.detections);
      const fig = evaluation.figure5.models[1].byBound[k];
      expect(fig.bound).to.equal(bound);
      fig.effectiveness.forEach((x, i) => expect(x).to.be.closeTo(at.effectivenessPerAttack[i], 1e-9));
      expect(fig.mitigationTime).to.deep.equal(at.mitigation);
    });
  });

  it('Table 6: a run fine-tuned on one attack type is judged on that type only', () => {
    const rows = tableAfter(md, '## Table 6');
    expect(rows.length).to.equal(1);
    const names = chain.manifest.attackTypes;
    const ex = readExamples(chain.earlyDetect, 'test', join(runs.perType, 'eval/test/survival.f32')).filter(
      (e) => e.alert >= 0 && names[e.attackType] === type,
    );
    const ref = referenceSelection(ex, 0.8, budget);
    expect(rows[0]).to.deep.equal([
      type,
      'MS-LSTM',
      '42',
      format.effectiveness(100 * ref.effectiveness),
      format.overhead(ref.overhead),
      format.rate(ref.fpr === null ? null : 100 * ref.fpr),
      format.rate(ref.fnr === null ? null : 100 * ref.fnr),
      format.f1(ref.f1),
    ]);
    expect(evaluation.runs[2].examples.total).to.equal(ex.length);
  });

  it('Table 9: the pre-trained runs with their feature counts', () => {
    const rows = tableAfter(md, '## Table 9');
    expect(rows.map((r) => r.slice(0, 2))).to.deep.equal([
      ['NetFlowGen', '86'],
      ['NetFlowGen_Light', '6'],
    ]);
  });

  it('Table 8: unseen-node examples at the 80% threshold, per split and per mapped training node', () => {
    const rows = tableAfter(md, '## Table 8');
    const ds = JSON.parse(readFileSync(join(chain.binned, 'manifest.json'), 'utf8'));
    const tau = evaluation.runs[1].bounds[0].tau;
    for (const split of ['valid', 'test']) {
      const unseen = readExamples(chain.earlyDetect, split, join(runs.random, `eval/${split}/survival.f32`)).filter(
        (e) => e.alert < 0,
      );
      const at = metricsAt(unseen, tau, 0.8);
      expect(at.tp + at.fn).to.equal(0); // no unseen example is an attack
      const tf = rows.filter((r) => r[0] === 'TF' && r[1] === split);
      expect(tf).to.deep.equal([
        ['TF', split, 'True', '0', '0', '0'],
        ['TF', split, 'False', String(at.fp), String(at.tn), String(unseen.length)],
      ]);
      const groups = evaluation.runs[1].unseen.find((u) => u.split === split)!.byMappedNode;
      expect(groups.reduce((s, g) => s + g.examples, 0)).to.equal(unseen.length);
      expect(groups.reduce((s, g) => s + g.fp, 0)).to.equal(at.fp);
      for (const g of groups)
        expect(g.examples).to.equal(unseen.filter((e) => ds.nodes[e.row].mappedTo === g.mappedTo).length);
    }
  });

  /** evaluateDetect of the random run alone at the 80% bound, without scoring, into OUT. */
  const evaluateRandom = (out: string, more: { selectSplit?: 'valid' } = {}) =>
    evaluateDetect([runs.random], { out: join(tmp.dir, out), bounds: [0.8], budget, score: false, ...more });

  it('by default tau is chosen on the calibration split (train, for a model fine-tuned on valid), never on test; the oracle is kept beside it', async () => {
    const r = await evaluateRandom('out-cal');
    const train = readExamples(chain.earlyDetect, 'train', join(runs.random, 'eval/train/survival.f32')).filter(
      (e) => e.alert >= 0,
    );
    const run = r.evaluation.runs[0];
    const b = run.bounds[0];
    expect(run.selectSplit).to.equal('train');
    expect(r.evaluation.selectSplit).to.equal('train');
    expect(b.selectedOn).to.equal('train');
    // Size-matched calibration: on each draw of as many train examples as test has, the brute-force
    // selection; the reported tau is the median draw's (checked by the detections it gives on train).
    const exTest = test.filter((e) => e.alert >= 0);
    const trainSet = detectionSet(train);
    const sm = sizeMatchedTau(trainSet, exTest.length, {
      bound: 0.8,
      budget,
    });
    expect(sm.draws.every((d) => d.length === exTest.length)).to.equal(true);
    sm.draws.forEach((d, k) => {
      const ref = referenceSelection(
        d.map((i) => train[i]),
        0.8,
        budget,
      );
      expect(
        metricsAt(
          d.map((i) => train[i]),
          sm.taus[k],
          0.8,
        ).detections,
        `draw ${k}`,
      ).to.deep.equal(ref.detections);
    });
    expect(b.tau).to.equal(sm.tau);
    // the median: at most half of the draws on either side of it
    expect(sm.taus.filter((t) => t < sm.tau).length).to.be.at.most((sm.taus.length - 1) / 2);
    expect(sm.taus.filter((t) => t > sm.tau).length).to.be.at.most((sm.taus.length - 1) / 2);
    const ex = test.filter((e) => e.alert >= 0);
    const onTest = metricsAt(ex, b.tau, 0.8);
    expect(b.confusion).to.deep.equal({ tp: onTest.tp, fp: onTest.fp, tn: onTest.tn, fn: onTest.fn });
    const oracleRef = referenceSelection(ex, 0.8, budget);
    expect(run.oracle[0].selectedOn).to.equal('test');
    expect(run.oracle[0].confusion).to.deep.equal({
      tp: oracleRef.tp,
      fp: oracleRef.fp,
      tn: oracleRef.tn,
      fn: oracleRef.fn,
    });
    // per-example outcomes at that tau, for the bootstrap
    expect(run.outcomes.detection.map((d) => (d >= 0 ? 1 : 0))).to.deep.equal(
      onTest.detections.map((d: number) => (d >= 0 ? 1 : 0)),
    );
    expect(run.budgetCurve.map((p) => p.budget)).to.deep.equal([0.01, 0.02, 0.05, 0.1, 0.2]);
    for (const p of run.budgetCurve) expect(p.overhead).to.be.at.least(0);
    expect(readFileSync(join(tmp.dir, 'out-cal', 'tables.md'), 'utf8')).to.include(
      'threshold chosen on the train split',
    );
  });

  it('refuses to choose tau on the split the model trained on', async () => {
    const failure = await evaluateRandom('out-bad', { selectSplit: 'valid' }).then(
      () => 'no error',
      (x: Error) => x.message,
    );
    expect(failure).to.match(/cannot be chosen on valid, the split the model was trained on/);
  });

  it('a _MoreData run (trained on train) chooses tau on the validation split, judged on the test split', async () => {
    const more = fakeRun(join(tmp.dir, 'runs'), chain, 'more', 'netflowgen_tf', randomCurve(7), {
      label: 'TF_MoreData',
      trainSplit: 'train',
    });
    const r = await evaluateDetect([more], { out: join(tmp.dir, 'out-sel'), bounds: [0.8], budget, score: false });
    const valid = readExamples(chain.earlyDetect, 'valid', join(more, 'eval/valid/survival.f32')).filter(
      (e) => e.alert >= 0,
    );
    const chosen = referenceSelection(valid, 0.8, budget);
    const b = r.evaluation.runs[0].bounds[0];
    expect(b.selectedOn).to.equal('valid');
    expect(metricsAt(valid, b.tau, 0.8).detections).to.deep.equal(chosen.detections);
    const onTest = metricsAt(
      test.filter((e) => e.alert >= 0),
      b.tau,
      0.8,
    );
    expect(b.effectiveness!).to.be.closeTo(onTest.effectiveness, 1e-9);
    expect(b.overhead).to.be.closeTo(onTest.overhead, 1e-9);
    expect(b.confusion).to.deep.equal({ tp: onTest.tp, fp: onTest.fp, tn: onTest.tn, fn: onTest.fn });
  });

  it('the command: prints the tables; refuses missing scores with --no-score and mismatched scores', async () => {
    const r = await inProcess(
      [evaluateDetectCommand as never],
      ['evaluate-detect', runs.oracle, '--out', join(tmp.dir, 'cli'), '--bounds', '80,90', '--no-score'],
    );
    expect(r.code, r.err).to.equal(0);
    expect(r.out)
      .to.include('## Table 5: all attack types')
      .and.include(`wrote ${join(tmp.dir, 'cli', 'tables.md')}`);
    expect(JSON.parse(readFileSync(join(tmp.dir, 'cli', 'results.json'), 'utf8')).bounds).to.deep.equal([0.8, 0.9]);

    const bare = fakeRun(join(tmp.dir, 'runs'), chain, 'bare', 'netflowgen_tf', oracle);
    writeFileSync(
      join(bare, 'eval/test/score.json'),
      JSON.stringify({ split: 'test', n: 3, D: chain.manifest.detectLength }),
    );
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => 'no error',
        (x: Error) => x.message,
      );
    expect(await failure(evaluateDetect([bare], { out: join(tmp.dir, 'x'), score: false }))).to.match(
      /score\.json: n is 3, the EarlyDetect test split has \d+ examples/,
    );
    rmSync(join(bare, 'eval/test'), { recursive: true });
    expect(await failure(evaluateDetect([bare], { out: join(tmp.dir, 'x'), score: false }))).to.match(
      /eval\/test: no survival curves/,
    );
  });

  it('parses bounds as shares or percents', () => {
    expect(parseBounds('0.8,0.9,0.99')).to.deep.equal([0.8, 0.9, 0.99]);
    expect(parseBounds('80, 90,99%')).to.deep.equal([0.8, 0.9, 0.99]);
    expect(() => parseBounds('0')).to.throw(/not a share/);
  });
});

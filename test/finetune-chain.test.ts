// End to end on tiny synthetic data: synth -> serialize -> bin -> detect-dataset -> pretrain (tiny, 10 updates)
// -> finetune netflowgen_safe / netflowgen_tf / ms_lstm (2 epochs each) -> evaluate-detect. The tables
// exist and every number in them equals a recomputation from the survival files. The chain up to the
// scored runs is the shared fixture of helpers/trained.ts (built once per code version, also read by
// finetune-python.test); its build kept what the CLI printed and what runFinetune returned.
import { cpSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { evaluateDetectCommand } from '../ts/cli/evaluate-detect.js';
import type { DetectEvaluation } from '../ts/evaluate/evaluate.js';
import { format } from '../ts/evaluate/tables.js';
import { readFinetuneResult, runFinetune, type FinetuneResult } from '../ts/train/finetune.js';
import { loadFinetuneSpec } from '../ts/train/finetune-spec.js';
import { readRunLog } from '../ts/train/folder.js';
import { inProcess } from './helpers/cli.js';
import { metricsAt, readExamples, referenceSelection, tableAfter } from './helpers/detect-reference.js';
import { useTempDir } from './helpers/tmp.js';
import { detectRuns, FINETUNE_TINY as FT, type DetectRuns } from './helpers/trained.js';
import { prefetch } from './helpers/prefetch.js';

prefetch('detect-runs'); // started early in a whole-suite run (helpers/prefetch.ts)

describe('finetune: the whole chain on tiny synthetic data', function () {
  this.timeout(240_000);
  const tmp = useTempDir('netflowgen-ftchain-');
  let fixture: DetectRuns;
  let chain: DetectRuns['chain'];
  const quiet = () => {};

  before(async () => {
    fixture = await detectRuns();
    chain = fixture.chain;
  });

  const runDir = (name: string) => join(fixture.runs, name);

  it('netflowgen finetune: the SAFE head on the pre-trained run, checked by fairseq first, then scored', () => {
    const r = fixture.build.cli;
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(
      /^tiny-netflowgen \(NetFlowGen\): best valid loss \d+\.\d{4}, acc [\d.]+ \(epoch [12]\); 2 epochs, \d+ updates on \d+ valid examples, .* s, [\d,]+ parameters \(17,409 trained\), stopped by max_epoch\n/,
    );
    const result = readFinetuneResult(runDir('tiny-netflowgen'))!;
    // the head alone trains: Linear(32, 512), ReLU, Linear(512, 1) = 32*512 + 512 + 512 + 1
    expect(result.params?.trained).to.equal(17_409);
    expect(result).to.include({
      label: 'NetFlowGen',
      arch: 'netflowgen_safe',
      featureSet: 'full',
      nFeatures: 86,
      trainSplit: 'valid',
      epochs: 2,
    });
    // refit (the default): the final model trained on every example of the split, for the updates the holdout chose
    expect(result).to.include({ refit: true, calibrationSplit: 'train', finalCheckpoint: 'checkpoint_final.pt' });
    expect(result.trainExamples).to.equal(
      chain.manifest.table2.valid.examples - chain.manifest.table2.valid.unseenExamples,
    );
    expect(result.splitExamples).to.equal(result.trainExamples);
    expect(result.holdoutExamples).to.be.greaterThan(0);
    expect(result.refitRun?.updates).to.equal(result.selectedUpdates).and.be.greaterThan(0);
    expect(result.best?.loss).to.be.a('number');
    for (const s of ['test', 'valid', 'train']) {
      const score = JSON.parse(readFileSync(join(runDir('tiny-netflowgen'), 'eval', s, 'score.json'), 'utf8')) as {
        checkpoint: string;
      };
      expect(score.checkpoint, s).to.equal(join(runDir('tiny-netflowgen'), 'checkpoint_final.pt'));
    }
    const valid = readRunLog(runDir('tiny-netflowgen')).filter((x) => x.event === 'valid');
    expect(valid.map((x) => x.subset)).to.deep.equal(['holdout', 'holdout']);
  });

  it('the baselines: TF and MS-LSTM from scratch on the same split', () => {
    for (const name of ['tf', 'ms-lstm'] as const) {
      const outcome = fixture.build.outcomes[name];
      expect(outcome.status).to.equal('trained');
      expect(outcome.scored).to.deep.equal(['test', 'valid', 'train']); // eval_splits, then the calibration split
      const r: FinetuneResult = readFinetuneResult(runDir(`tiny-${name}`))!;
      expect(r.params?.trained, name).to.equal(r.params?.total); // trained end to end
      expect(r.label).to.equal(name === 'tf' ? 'TF' : 'MS-LSTM');
    }
  });

  it('a finished run is skipped, and its scores are kept', async () => {
    const { spec } = loadFinetuneSpec(join(FT, 'tf.json'), [
      { source: 'test fixture', values: { dataset: chain.earlyDetect, max_epoch: 2 } },
    ]);
    const copy = join(tmp.dir, 'tiny-tf'); // the shared fixture stays as it is
    cpSync(runDir('tiny-tf'), copy, { recursive: true, preserveTimestamps: true });
    const before = statSync(join(copy, 'eval/test/survival.f32')).mtimeMs;
    const outcome = await runFinetune(spec, { runDir: copy, check: false, log: quiet });
    expect(outcome).to.include({ status: 'skipped' });
    expect(outcome.scored).to.deep.equal([]);
    expect(statSync(join(copy, 'eval/test/survival.f32')).mtimeMs).to.equal(before);
  });

  it('survival curves: one per example of the split, in [0, 1], non-increasing', () => {
    for (const name of ['tiny-netflowgen', 'tiny-tf', 'tiny-ms-lstm']) {
      const ex = readExamples(chain.earlyDetect, 'test', join(runDir(name), 'eval/test/survival.f32'));
      expect(ex.length).to.equal(chain.manifest.splits.test.count);
      for (const e of ex)
        for (let t = 0; t < e.survival.length; t++) {
          expect(e.survival[t]).to.be.within(0, 1);
          if (t) expect(e.survival[t]).to.be.at.most(e.survival[t - 1]);
        }
    }
  });

  it('netflowgen evaluate-detect: Tables 5, 8, 9 and Figure 5, every number recomputed from the survival files', async () => {
    const out = join(tmp.dir, 'detection');
    // tau chosen on the test split itself (the oracle), so that every number can be checked against the
    // brute-force selection on test; test/evaluate-detect.test.ts checks the default, the calibration split
    const r = await inProcess(
      [evaluateDetectCommand as never],
      [
        'evaluate-detect',
        runDir('tiny-netflowgen'),
        runDir('tiny-tf'),
        runDir('tiny-ms-lstm'),
        '--out',
        out,
        '--no-score',
        '--select-split',
        'test',
      ],
    );
    expect(r.code, r.err).to.equal(0);
    const md = readFileSync(join(out, 'tables.md'), 'utf8');
    const ev = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as DetectEvaluation;
    const rows5 = tableAfter(md, '## Table 5');
    expect(rows5.map((x) => x[0])).to.deep.equal(['NetFlowGen', 'TF', 'MS-LSTM']);
    const ds = JSON.parse(readFileSync(join(chain.binned, 'manifest.json'), 'utf8'));
    for (const [k, name] of ['tiny-netflowgen', 'tiny-tf', 'tiny-ms-lstm'].entries()) {
      const all = readExamples(chain.earlyDetect, 'test', join(runDir(name), 'eval/test/survival.f32'));
      const ex = all.filter((e) => e.alert >= 0);
      const ref = referenceSelection(ex, 0.8, 0.1);
      const samples = String(readFinetuneResult(runDir(name))!.trainExamples);
      expect(rows5[k].slice(1), name).to.deep.equal([
        samples,
        format.effectiveness(100 * ref.effectiveness),
        format.overhead(ref.overhead),
        format.rate(100 * ref.fpr!),
        format.rate(100 * ref.fnr!),
        format.f1(ref.f1),
      ]);
      // the 90% and 99% bounds and Figure 5's arrays
      ev.bounds.forEach((bound, j) => {
        const b = ev.runs[k].bounds[j];
        const refB = referenceSelection(ex, bound, 0.1);
        expect(b.effectiveness!, `${name} ${bound}`).to.be.closeTo(refB.effectiveness, 1e-9);
        expect(b.confusion).to.deep.equal({ tp: refB.tp, fp: refB.fp, tn: refB.tn, fn: refB.fn });
        const at = metricsAt(ex, b.tau, bound);
        expect(at.detections).to.deep.equal(refB.detections);
        expect(ev.figure5.models[k].byBound[j].mitigationTime).to.deep.equal(at.mitigation);
      });
      // Table 8 at the run's 80% threshold
      const tau = ev.runs[k].bounds[0].tau;
      const rows8 = tableAfter(md, '## Table 8').filter((x) => x[0] === rows5[k][0]);
      for (const split of ['valid', 'test']) {
        const unseen = readExamples(chain.earlyDetect, split, join(runDir(name), `eval/${split}/survival.f32`)).filter(
          (e) => e.alert < 0,
        );
        const at = metricsAt(unseen, tau, 0.8);
        expect(rows8.filter((x) => x[1] === split)).to.deep.equal([
          [rows5[k][0], split, 'True', '0', '0', '0'],
          [rows5[k][0], split, 'False', String(at.fp), String(at.tn), String(unseen.length)],
        ]);
        const nodes = tableAfter(md, 'By the training node').filter((x) => x[0] === rows5[k][0] && x[1] === split);
        for (const n of nodes) {
          const row = Number(/\(row (\d+)\)/.exec(n[2])![1]);
          const group = unseen.filter((e) => ds.nodes[e.row].mappedTo === row);
          expect(n.slice(3)).to.deep.equal([
            String(group.length),
            String(group.length - metricsAt(group, tau, 0.8).fp),
            String(metricsAt(group, tau, 0.8).fp),
          ]);
        }
      }
    }
    expect(tableAfter(md, '## Table 9')).to.deep.equal([['NetFlowGen', '86', ...rows5[0].slice(2)]]);
    expect(md).to.include('No run fine-tuned on a single attack type.');
    expect(tableAfter(md, '## Figure 5').length).to.equal(9);
  });
});

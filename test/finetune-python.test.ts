// The Python half of fine-tuning (issue 6): the pytest tests of the detection plugin (python/tests/
// test_detect*.py), the contract between the Python EarlyDetect fixture and the schema, and what
// `fairseq-train --task netflow_detect --criterion safe` wrote for each of the three architectures: JSON
// log lines carrying the criterion's metrics, and checkpoints that python/score_detect.py turns into
// non-increasing survival curves. The runs are the shared fixture of helpers/trained.ts (the runs
// finetune-chain.test reads too), so fine-tuning is not trained once more here.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { validateWithSchema } from '../ts/common/schema.js';
import { fairseqLogLines, pytestHalf, pythonDetectFixture, readF32, requirePython } from './helpers/python.js';
import { useTempDir } from './helpers/tmp.js';
import { detectRuns } from './helpers/trained.js';
import { prefetch } from './helpers/prefetch.js';

prefetch('detect-runs'); // started early in a whole-suite run (helpers/prefetch.ts)
prefetch('pytest-detect'); // started early in a whole-suite run (helpers/prefetch.ts)

describe('fine-tuning, Python side (netflow_detect, safe, score_detect.py)', function () {
  this.timeout(600_000); // a safety net, not a speed check: pytest and the shared fixture's build (when this file runs first)
  const tmp = useTempDir('netflowgen-finetune-py-');
  before(requirePython);

  it('passes the detection tests of python/tests (test_detect*.py)', async () => {
    const r = await pytestHalf('detect'); // python/tests/test_detect_{loss,data,models,train}.py
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.stdout).to.match(/\d+ passed/);
  });

  it('the Python EarlyDetect fixture writes what `netflowgen detect-dataset` writes: the manifest passes its schema', async () => {
    const paths = await pythonDetectFixture(tmp.dir, { rows: 4, minutes: 2000, window: 32, detect: 8 });
    const manifest = JSON.parse(readFileSync(join(paths.ed, 'manifest.json'), 'utf8')) as {
      splits: Record<string, { count: number }>;
    };
    validateWithSchema('earlydetect.schema.json', manifest, join(paths.ed, 'manifest.json'));
    expect(manifest.splits.test.count).to.equal(paths.examples.test).and.be.greaterThan(10);
  });

  it('netflowgen_safe, netflowgen_tf and ms_lstm log the criterion metrics; score_detect.py gives non-increasing curves', async () => {
    const { runs, chain } = await detectRuns();
    const nTest = chain.manifest.splits.test.count;
    const D = chain.manifest.detectLength;
    const archs = { 'tiny-netflowgen': 'netflowgen_safe', 'tiny-tf': 'netflowgen_tf', 'tiny-ms-lstm': 'ms_lstm' };
    for (const [name, arch] of Object.entries(archs)) {
      // train.log: fairseq-train's own output (the holdout run's, for the refitted NetFlowGen head)
      const log = readFileSync(join(runs, name, 'train.log'), 'utf8');
      const inner = fairseqLogLines(log, 'train_inner');
      expect(inner.length, name).to.be.greaterThan(0);
      for (const line of inner) {
        expect(line).to.include.keys('loss', 'acc', 'acc_last', 'num_updates');
        expect(Number(line.loss)).to.be.within(0, 20);
        expect(Number(line.acc)).to.be.within(0, 1);
      }
      const held = fairseqLogLines(log, 'holdout'); // the validation subset's name is the tag
      expect(held, name).to.have.length(2);
      expect(held[0]).to.include.keys('holdout_loss', 'holdout_acc', 'holdout_acc_last');
      expect(existsSync(join(runs, name, 'checkpoint_best.pt'))).to.equal(true);

      const out = join(runs, name, 'eval', 'test');
      const meta = JSON.parse(readFileSync(join(out, 'score.json'), 'utf8')) as Record<string, unknown>;
      expect(meta).to.include({ split: 'test', n: nTest, D, arch });
      expect(meta.mean_loss).to.be.a('number');
      const S = readF32(join(out, 'survival.f32'));
      expect(S.length).to.equal(nTest * D);
      for (let i = 0; i < nTest; i++)
        for (let t = 0; t < D; t++) {
          const v = S[i * D + t];
          if (!(v > 0 && v <= 1) || (t > 0 && v > S[i * D + t - 1]))
            throw new Error(`${name}: example ${i} step ${t}: S = ${v} after ${S[i * D + t - 1]}`);
        }
    }
  });
});

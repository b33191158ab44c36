import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runBigram } from '../ts/baseline/run.js';
import { evaluatePretrainCommand } from '../ts/cli/evaluate-pretrain.js';
import { pretrainCommand } from '../ts/cli/pretrain.js';
import type { Table4 } from '../ts/train/evaluate.js';
import { parseSetArgs } from '../ts/config/compose.js';
import { readRunLog } from '../ts/train/folder.js';
import { runPretrain, type RunResult } from '../ts/train/run.js';
import { loadSpec } from '../ts/train/spec.js';
import { inProcess as cli } from './helpers/cli.js';
import { useTempDir } from './helpers/tmp.js';
import { makePatternDataset } from './train-fixture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TINY = join(root, 'experiments/pretrain/tiny.json');

describe('train: netflowgen pretrain and evaluate-pretrain on a tiny dataset', function () {
  this.timeout(300_000); // a safety net, not a bound: fairseq-train runs are several times slower on busy cores
  const tmp = useTempDir('netflowgen-train-');
  let runs: string, runDir: string, dataset: string;

  before(async () => {
    runs = join(tmp.dir, 'runs');
    runDir = join(runs, 'tiny');
    dataset = await makePatternDataset(tmp.dir);
  });

  it('trains through fairseq-train after the bridge checked the command, and fills the run folder', async () => {
    const r = await cli(
      [pretrainCommand as never],
      ['pretrain', TINY, '--dataset', dataset, '--out', runs, '--set', 'max_epoch=3', '--threads', '1'],
    );
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(
      /^tiny: best valid loss \d\.\d{4}, ppl .* \(epoch \d\); 3 epochs, 69 updates, .* s, 25,212 parameters, stopped by max_epoch\n/,
    );
    for (const f of [
      'spec.resolved.json',
      'command.txt',
      'run.jsonl',
      'train.log',
      'result.json',
      'checkpoint_best.pt',
      'checkpoint_last.pt',
    ])
      expect(existsSync(join(runDir, f)), f).to.equal(true);
    const result = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as RunResult;
    // 180 training windows / batch 8 = 23 updates an epoch
    expect(result).to.include({
      name: 'tiny',
      arch: 'netflowgen_tiny',
      epochs: 3,
      updates: 69,
      attempts: 1,
      stopReason: 'max_epoch',
      fairseqParams: 25_212,
    });
    expect(result.params?.total).to.equal(25_212); // the bridge agrees with what fairseq printed
    expect(result.best?.loss).to.be.a('number');
    const records = readRunLog(runDir);
    expect(records[0]).to.include({ event: 'start', resume: false, hash: result.hash });
    expect(records.at(-1)).to.include({ event: 'end', exitCode: 0 });
    expect(records.filter((x) => x.event === 'valid').map((x) => x.epoch)).to.deep.equal([1, 2, 3]);
    expect(records.filter((x) => x.event === 'train_inner').length).to.be.at.least(12); // every 5 updates
    const spec = JSON.parse(readFileSync(join(runDir, 'spec.resolved.json'), 'utf8'));
    expect(spec).to.include({ name: 'tiny', dataset, max_epoch: 3, hash: result.hash });
    expect(readFileSync(join(runDir, 'command.txt'), 'utf8')).to.include(`--save-dir ${runDir} \\\n`);
  });

  it('beats the bigram baseline on the learnable pattern (Table 4 through netflowgen evaluate-pretrain)', async () => {
    const r = await cli([evaluatePretrainCommand as never], ['evaluate-pretrain', runDir, '--threads', '1']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/^\| Model +\| Split \|/);
    const table = JSON.parse(readFileSync(join(runDir, 'table4.json'), 'utf8')) as Table4;
    expect(table.rows.map((x) => [x.model, x.split])).to.deep.equal([
      ['NetFlowGen (pre-trained, tiny)', 'valid'],
      ['Bigram', 'valid'],
      ['NetFlowGen (pre-trained, tiny)', 'test'],
      ['Bigram', 'test'],
    ]);
    const [model, bigram] = [table.rows[0], table.rows[1]];
    // The bigram cannot tell 0 -> 0 from 0 -> 300 (3 of 4 steps right at best); the model sees further back.
    expect(bigram.acc).to.be.closeTo(0.75, 0.01);
    expect(model.loss).to.be.below(bigram.loss * 0.7);
    expect(model.acc).to.be.above(0.9);
    expect(table.rows[2].loss).to.be.below(table.rows[3].loss);
    // the score of the best checkpoint is the best validation fairseq logged (4 decimals in the log)
    const result = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as RunResult;
    expect(model.loss).to.be.closeTo(result.best!.loss, 6e-5);
    expect(existsSync(join(runDir, 'eval/valid/score.json'))).to.equal(true);
    expect(existsSync(join(runDir, 'table4.md'))).to.equal(true);
    expect(table.rows[1].source).to.equal(join(runDir, 'eval/bigram.valid.json')); // computed: the dataset has none
  });

  it('takes the bigram result of netflowgen baseline when given', async () => {
    const file = join(tmp.dir, 'bigram-valid.json');
    await runBigram({ dataset, split: 'valid', out: file });
    const r = await cli(
      [evaluatePretrainCommand as never],
      ['evaluate-pretrain', runDir, '--baseline', file, '--split', 'valid', '--threads', '1'],
    );
    expect(r.code, r.err).to.equal(0);
    const table = JSON.parse(readFileSync(join(runDir, 'table4.json'), 'utf8')) as Table4;
    expect(table.rows.map((x) => [x.split, x.source])).to.deep.equal([
      ['valid', join(runDir, 'eval/valid/score.json')],
      ['valid', file],
    ]);
    const bad = join(tmp.dir, 'not-a-baseline.json');
    writeFileSync(bad, '{"hello": 1}\n');
    const e = await cli([evaluatePretrainCommand as never], ['evaluate-pretrain', runDir, '--baseline', bad]);
    expect(e.code).to.equal(1);
    expect(e.err).to.include(`${bad}: not a bigram result of netflowgen baseline (needs 'split' and 'loss')`);
  });

  it('skips a finished run of the same spec and refuses another spec in its folder', async () => {
    const { spec } = loadSpec(TINY, [parseSetArgs([`dataset=${dataset}`, 'max_epoch=3'])]);
    const again = await runPretrain(spec, { runDir, check: false, log: () => {} });
    expect(again.status).to.equal('skipped');
    const other = loadSpec(TINY, [parseSetArgs([`dataset=${dataset}`, 'max_epoch=3', 'learning_rate=0.01'])]).spec;
    const err = await runPretrain(other, { runDir, check: false, log: () => {} }).catch((e: Error) => e);
    expect((err as Error).message).to.equal(
      `${runDir}: it holds a run of a different spec (differs in learning_rate); pass --force to start it over, or choose another --out`,
    );
  });

  it("stops before training when fairseq's parser rejects the rendered command", async () => {
    const { spec } = loadSpec(TINY, [parseSetArgs([`dataset=${dataset}`, 'fairseq_args=["--bogus-flag"]'])]);
    const err = await runPretrain(spec, { runDir: join(runs, 'bogus'), log: () => {} }).catch((e: Error) => e);
    expect((err as Error).message).to.match(
      /^fairseq rejects the command of tiny \(netflowgen pretrain --dry-run shows it\):\n {2}unrecognized arguments: --bogus-flag/,
    );
    expect(existsSync(join(runs, 'bogus'))).to.equal(false); // nothing ran, nothing was written
  });
});

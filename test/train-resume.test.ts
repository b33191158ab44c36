import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { pythonBin } from '../ts/bridge/python.js';
import { scoreSplit } from '../ts/train/evaluate.js';
import { RunInterrupted, readRunLog, runPretrain, type PretrainOptions } from '../ts/train/run.js';
import { loadSpec, parseSetArgs } from '../ts/train/spec.js';
import { tempDir } from './helpers/tmp.js';
import { makePatternDataset } from './train-fixture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Largest absolute difference between the model weights of two fairseq checkpoints. */
async function weightDiff(a: string, b: string): Promise<number> {
  const code = [
    'import sys, torch',
    "x = torch.load(sys.argv[1], map_location='cpu', weights_only=False)['model']",
    "y = torch.load(sys.argv[2], map_location='cpu', weights_only=False)['model']",
    'assert x.keys() == y.keys()',
    'print(max(float((x[k].double() - y[k].double()).abs().max()) for k in x))',
  ].join('\n');
  const r = await execa(pythonBin(), ['-c', code, a, b], { env: { OMP_NUM_THREADS: '1' } });
  return Number(r.stdout.trim().split('\n').pop());
}

describe('train: an interrupted run resumes and ends where an uninterrupted run ends', function () {
  this.timeout(60_000);
  // made in before(), not when mocha loads the file: a filtered or aborted run leaves no folder behind
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir('netflowgen-resume-');
  });
  let straight: string;
  let resumed: string;
  after(() => tmp?.cleanup());

  it('runs 3 epochs straight, and 3 epochs interrupted after the first checkpoint then resumed', async () => {
    const dataset = await makePatternDataset(tmp.dir);
    const { spec } = loadSpec(join(root, 'experiments/pretrain/tiny.json'), [
      parseSetArgs([`dataset=${dataset}`, 'max_epoch=3']),
    ]);
    const opts: Omit<PretrainOptions, 'runDir'> = { check: false, threads: 1, log: () => {} };
    straight = join(tmp.dir, 'straight');
    resumed = join(tmp.dir, 'resumed');
    const a = await runPretrain(spec, { ...opts, runDir: straight });
    expect(a.status).to.equal('trained');

    // Stop the second run as soon as fairseq has saved epoch 1 (as Ctrl-C does: SIGTERM to fairseq-train).
    const ac = new AbortController();
    const err = await runPretrain(spec, {
      ...opts,
      runDir: resumed,
      signal: ac.signal,
      onRecord: (r) => r.event === 'checkpoint' && ac.abort(),
    }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(RunInterrupted);
    expect((err as Error).message).to.match(/holds the checkpoint of epoch 1: run the same command again to resume/);
    expect(existsSync(join(resumed, 'checkpoint_last.pt'))).to.equal(true);
    expect(existsSync(join(resumed, 'result.json'))).to.equal(false);
    expect(readRunLog(resumed).filter((r) => ['interrupted', 'end'].includes(r.event))).to.have.length(2);

    const b = await runPretrain(spec, { ...opts, runDir: resumed });
    expect(b.status).to.equal('resumed');
    const log = readRunLog(resumed);
    expect(log.filter((r) => r.event === 'start').map((r) => r.resume)).to.deep.equal([false, true]);
    expect(log.find((r) => r.event === 'checkpoint_loaded')).to.include({ epoch: 2, updates: 23 }); // fairseq resumed from the end of epoch 1
    expect(b.result).to.include({ epochs: 3, updates: 69, attempts: 2 });

    // The same validations, epoch by epoch, as the straight run logged them.
    const valids = (dir: string) =>
      readRunLog(dir)
        .filter((r) => r.event === 'valid')
        .map((r) => [r.epoch, r.valid_loss, r.valid_acc, r.valid_num_updates]);
    expect(valids(resumed)).to.deep.equal(valids(straight));
    expect(b.result.best).to.deep.equal(a.result.best);
  });

  it('holds the same weights and the same full-precision validation loss', async () => {
    expect(await weightDiff(join(straight, 'checkpoint_last.pt'), join(resumed, 'checkpoint_last.pt'))).to.be.at.most(
      1e-7,
    );
    const [sa, sb] = [
      await scoreSplit(
        join(straight, 'checkpoint_last.pt'),
        join(tmp.dir, 'dataset'),
        'valid',
        join(tmp.dir, 'score-a'),
        { threads: 1 },
      ),
      await scoreSplit(
        join(resumed, 'checkpoint_last.pt'),
        join(tmp.dir, 'dataset'),
        'valid',
        join(tmp.dir, 'score-b'),
        { threads: 1 },
      ),
    ];
    expect(Number(sb.loss)).to.be.closeTo(Number(sa.loss), 1e-6);
  });
});

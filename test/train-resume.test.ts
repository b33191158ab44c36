import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';
import { pythonBin } from '../ts/bridge/python.js';
import { scoreSplit } from '../ts/train/evaluate.js';
import { RunInterrupted, readRunLog } from '../ts/train/folder.js';
import { runPretrain, type PretrainOptions } from '../ts/train/run.js';
import { loadSpec } from '../ts/train/spec.js';
import { useTempDir } from './helpers/tmp.js';
import { patternRun } from './helpers/trained.js';
import { prefetch } from './helpers/prefetch.js';

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

prefetch('pattern-run'); // started early in a whole-suite run (helpers/prefetch.ts)

describe('train: an interrupted run resumes and ends where an uninterrupted run ends', function () {
  this.timeout(300_000); // with the shared fixture's build, when this file runs first
  const tmp = useTempDir('netflowgen-resume-');
  let straight: string;
  let resumed: string;
  let dataset: string;

  it('runs 3 epochs interrupted after the first checkpoint then resumed, and ends where the straight run ended', async () => {
    // the straight run: the shared fixture (helpers/trained.ts), trained by runPretrain with the same spec
    const fixture = await patternRun();
    ({ dataset, runDir: straight } = fixture);
    const a = { result: fixture.result };
    const { spec } = loadSpec(join(root, 'experiments/pretrain/tiny.json'), [
      { source: 'test fixture', values: { dataset, max_epoch: 3 } },
    ]);
    const opts: Omit<PretrainOptions, 'runDir'> = { check: false, threads: 1, log: () => {} };
    resumed = join(tmp.dir, 'resumed');

    // Stop the second run as soon as fairseq has saved epoch 1 (as Ctrl-C does: SIGTERM to fairseq-train).
    const ac = new AbortController();
    const err = await runPretrain(spec, {
      ...opts,
      runDir: resumed,
      signal: ac.signal,
      onRecord: (r) => r.event === 'checkpoint' && ac.abort(),
    }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(RunInterrupted);
    // SIGTERM lands after the first checkpoint, at whichever point of the run fairseq has reached by then
    // (on a busy machine, maybe a later epoch): the invariants below hold wherever it stopped.
    const saved = readRunLog(resumed)
      .filter((r) => r.event === 'checkpoint')
      .pop()!;
    expect(saved.epoch).to.be.at.least(1).and.below(3);
    expect((err as Error).message).to.include(
      `holds the checkpoint of epoch ${saved.epoch}: run the same command again to resume`,
    );
    expect(existsSync(join(resumed, 'checkpoint_last.pt'))).to.equal(true);
    expect(existsSync(join(resumed, 'result.json'))).to.equal(false);
    expect(readRunLog(resumed).filter((r) => ['interrupted', 'end'].includes(r.event))).to.have.length(2);

    const b = await runPretrain(spec, { ...opts, runDir: resumed });
    expect(b.status).to.equal('resumed');
    const log = readRunLog(resumed);
    expect(log.filter((r) => r.event === 'start').map((r) => r.resume)).to.deep.equal([false, true]);
    // fairseq resumed from the last checkpoint saved (at the end of its epoch), and ended where the straight run ended
    expect(log.find((r) => r.event === 'checkpoint_loaded')).to.include({
      epoch: Number(saved.epoch) + 1,
      updates: saved.updates,
    });
    expect(b.result).to.include({ epochs: 3, updates: a.result.updates, attempts: 2 });

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
    const score = (run: string, name: string) =>
      scoreSplit(join(run, 'checkpoint_last.pt'), dataset, 'valid', join(tmp.dir, `score-${name}`), { threads: 1 });
    const [sa, sb] = [await score(straight, 'straight'), await score(resumed, 'resumed')];
    expect(Number(sb.loss)).to.be.closeTo(Number(sa.loss), 1e-6);
  });
});

// Fine-tuning's refit (issue 10, item 4) and one-process scoring, on the Python fixture of
// python/tests/detect_fixtures.py (no synth chain): a tiny Transformer trained on the 'valid' split
// minus a 20% holdout chooses U*, the refit trains exactly U* updates on all of 'valid', and the final
// checkpoint is what gets scored, on test, valid and the calibration split (train) in one process. A
// run stopped during the refit ends identical to an uninterrupted one; --force cleans the refit away.
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { FINETUNE_RUN_FILES, readFinetuneResult, runFinetune } from '../ts/train/finetune.js';
import { REFIT_DIR, loadFinetuneSpec, planRefitCommand, type FinetuneSpec } from '../ts/train/finetune-spec.js';
import { readRunLog, removeRunFiles } from '../ts/train/folder.js';
import { FINAL_CHECKPOINT, selectedUpdates } from '../ts/train/refit.js';
import type { RunRecord } from '../ts/train/log.js';
import { PY_ENV, PYTHON, pythonDetectFixture, requirePython, ROOT } from './helpers/python.js';
import { useTempDir } from './helpers/tmp.js';

/** num_updates and the train iterator's epoch of each checkpoint, read by torch (one Python process). */
async function checkpointUpdates(files: string[]): Promise<{ updates: number; epoch: number }[]> {
  const code = [
    'import json, sys, torch',
    'out = []',
    'for f in sys.argv[1:]:',
    '    s = torch.load(f, map_location="cpu", weights_only=False)',
    '    out.append({"updates": s["optimizer_history"][-1]["num_updates"], "epoch": s["extra_state"]["train_iterator"]["epoch"]})',
    'print(json.dumps(out))',
  ].join('\n');
  const r = await execa(PYTHON, ['-c', code, ...files], { env: PY_ENV });
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { updates: number; epoch: number }[];
}

describe('finetune: refit on the whole training split, and the final model scored in one process', function () {
  this.timeout(300_000);
  const tmp = useTempDir('netflowgen-refit-');
  let ed: string, runDir: string;
  let spec: FinetuneSpec;
  const records: RunRecord[] = [];
  const quiet = () => {};

  before(async function () {
    requirePython();
    // 4 rows: 'valid' holds 24 alert pairs (48 examples) and 2 unseen-node examples; windows of 32 minutes, D = 8.
    ({ ed } = await pythonDetectFixture(tmp.dir, { rows: 4, minutes: 2000, window: 32, detect: 8 }));
    spec = loadFinetuneSpec(join(ROOT, 'experiments/finetune/tiny/tf.json'), [
      {
        source: 'test',
        values: {
          dataset: ed,
          model: { layers: 1, heads: 2, width: 16, ffn: 32 },
          max_epoch: 6,
          patience: 2,
          batch_size: 8,
          log_interval: 1,
        },
      },
    ]).spec;
    runDir = join(tmp.dir, 'runs', spec.name);
  });

  it('chooses U* on the holdout, refits exactly U* updates on all 48 examples, scores checkpoint_final.pt', async () => {
    expect(spec).to.include({ refit: true, valid_split: 'holdout', train_split: 'valid' });
    const outcome = await runFinetune(spec, {
      runDir,
      check: false,
      threads: 1,
      log: quiet,
      onRecord: (r) => records.push(r),
    });
    expect(outcome.status).to.equal('trained');
    // eval_splits [test, valid], then the calibration split: train (the model trains on valid)
    expect(outcome.scored).to.deep.equal(['test', 'valid', 'train']);
    const r = readFinetuneResult(runDir)!;
    expect(r).to.include({
      refit: true,
      trainSplit: 'valid',
      splitExamples: 48,
      holdoutExamples: 10,
      trainExamples: 48,
      finalCheckpoint: FINAL_CHECKPOINT,
      calibrationSplit: 'train',
    });
    expect(r.scoreSplits).to.deep.equal(['test', 'valid', 'train']);

    // U* is the updates of checkpoint_best.pt, as torch reads them; the refit's last checkpoint is at U*.
    const [best, refitLast, final] = await checkpointUpdates([
      join(runDir, 'checkpoint_best.pt'),
      join(runDir, REFIT_DIR, 'checkpoint_last.pt'),
      join(runDir, FINAL_CHECKPOINT),
    ]);
    expect(r.selectedUpdates).to.equal(best.updates);
    expect(r).to.include({ stopReason: 'early_stop' });
    expect(r.updates).to.be.greaterThan(best.updates); // the holdout run went on past its best checkpoint
    expect(selectedUpdates(readRunLog(runDir))).to.equal(best.updates);
    expect(refitLast.updates).to.equal(best.updates);
    expect(final.updates).to.equal(best.updates);
    expect(r.refitRun).to.include({ updates: best.updates, attempts: 1 });
    // 6 batches of 8 per refit epoch (48 examples), 5 in the holdout run (38 kept)
    expect(refitLast.epoch).to.equal(Math.ceil(best.updates / 6));
    expect(statSync(join(runDir, FINAL_CHECKPOINT)).ino).to.equal(
      statSync(join(runDir, REFIT_DIR, 'checkpoint_last.pt')).ino,
    );

    // the refit: the whole split, no validation, --max-update U*, a run folder of its own
    const refitLog = readFileSync(join(runDir, REFIT_DIR, 'train.log'), 'utf8');
    expect(refitLog).to.match(/\| subset valid: 48 examples of valid$/m);
    expect(refitLog).to.not.match(/subset holdout/);
    expect(readFileSync(join(runDir, 'train.log'), 'utf8')).to.match(/\| subset valid: 38 examples of valid$/m);
    const cmd = readFileSync(join(runDir, REFIT_DIR, 'command.txt'), 'utf8');
    expect(cmd)
      .to.include('--disable-validation')
      .and.include(`--max-update ${best.updates} `)
      .and.not.include('--valid-subset')
      .and.not.include('--patience');
    const refitRecords = readRunLog(join(runDir, REFIT_DIR));
    expect(refitRecords.filter((x) => x.event === 'valid')).to.have.length(0);
    expect(refitRecords.filter((x) => x.event === 'train_inner').map((x) => x.num_updates)).to.deep.equal(
      Array.from({ length: best.updates }, (_, i) => i + 1),
    );

    // onRecord: the first run's records, then the refit's tagged with phase 'refit' and its total
    const firstRefit = records.findIndex((x) => x.phase === 'refit');
    expect(firstRefit).to.be.greaterThan(0);
    expect(records.slice(0, firstRefit).every((x) => x.phase === undefined)).to.equal(true);
    expect(records.slice(firstRefit).every((x) => x.phase === 'refit' && x.refit_updates === best.updates)).to.equal(
      true,
    );

    // every split was scored with the final checkpoint
    for (const s of ['test', 'valid', 'train']) {
      const score = JSON.parse(readFileSync(join(runDir, 'eval', s, 'score.json'), 'utf8')) as {
        checkpoint: string;
        split: string;
      };
      expect(score, s).to.include({ split: s, checkpoint: join(runDir, FINAL_CHECKPOINT) });
    }
  });

  it('a run stopped during the refit resumes it and ends identical to the uninterrupted run', async () => {
    const r0 = readFinetuneResult(runDir)!;
    const U = r0.selectedUpdates!;
    const survival = readFileSync(join(runDir, 'eval/test/survival.f32'));
    // A partial refit: the same command stopped after U* - 1 updates (mid-epoch), its checkpoint_last.pt
    // in place of the finished one; run.jsonl ends with the launch's start (killed); no final model, result or scores.
    const partial = join(tmp.dir, 'partial');
    const cmd = planRefitCommand(spec, partial, U - 1);
    const p = await execa(cmd.argv[0], cmd.argv.slice(1), { env: PY_ENV, reject: false, all: true });
    expect(p.exitCode, p.all?.slice(-2000)).to.equal(0);
    copyFileSync(join(partial, REFIT_DIR, 'checkpoint_last.pt'), join(runDir, REFIT_DIR, 'checkpoint_last.pt'));
    const log = readRunLog(join(runDir, REFIT_DIR));
    writeFileSync(join(runDir, REFIT_DIR, 'run.jsonl'), JSON.stringify(log.find((x) => x.event === 'start')) + '\n');
    for (const f of ['result.json', FINAL_CHECKPOINT, 'eval'])
      rmSync(join(runDir, f), { recursive: true, force: true });
    const trainLog = readFileSync(join(runDir, 'train.log'), 'utf8');

    const outcome = await runFinetune(spec, { runDir, check: false, threads: 1, log: quiet });
    expect(outcome.status).to.equal('resumed');
    expect(readFileSync(join(runDir, 'train.log'), 'utf8')).to.equal(trainLog); // the first run was not launched again
    const refitLog = readRunLog(join(runDir, REFIT_DIR));
    expect(refitLog.filter((x) => x.event === 'resume')).to.have.length(1);
    expect(refitLog.filter((x) => x.event === 'train_inner').map((x) => x.num_updates)).to.deep.equal([U]);
    const r = readFinetuneResult(runDir)!;
    expect(r).to.include({ selectedUpdates: U, trainExamples: 48 });
    expect(r.refitRun).to.include({ updates: U, attempts: 2 });
    expect(readFileSync(join(runDir, 'eval/test/survival.f32')).equals(survival)).to.equal(true);

    // a finished run is skipped; a lost score is made again with the final model
    rmSync(join(runDir, 'eval/valid'), { recursive: true });
    const again = await runFinetune(spec, { runDir, check: false, threads: 1, log: quiet });
    expect(again).to.include({ status: 'skipped' });
    expect(again.scored).to.deep.equal(['valid']);
  });

  it('refit off: the final model is checkpoint_best.pt, trained on the kept 80%; --force cleans the refit away', async () => {
    const off = { ...spec, refit: false };
    await runFinetune(off, { runDir, check: false, log: quiet }).then(
      () => expect.fail('a different spec must be refused without --force'),
      (e: Error) => expect(e.message).to.match(/differs in refit/),
    );
    const outcome = await runFinetune(off, {
      runDir,
      force: true,
      check: false,
      threads: 1,
      log: quiet,
      score: ['test'],
    });
    expect(outcome.scored).to.deep.equal(['test']);
    expect(existsSync(join(runDir, REFIT_DIR))).to.equal(false);
    const r = readFinetuneResult(runDir)!;
    expect(r).to.include({
      refit: false,
      refitRun: null,
      trainExamples: 38,
      holdoutExamples: 10,
      splitExamples: 48,
      finalCheckpoint: FINAL_CHECKPOINT,
    });
    const [best] = await checkpointUpdates([join(runDir, 'checkpoint_best.pt')]);
    expect(r.selectedUpdates).to.equal(best.updates);
    expect(statSync(join(runDir, FINAL_CHECKPOINT)).ino).to.equal(statSync(join(runDir, 'checkpoint_best.pt')).ino);
    // everything a run writes is in FINETUNE_RUN_FILES
    await removeRunFiles(runDir, FINETUNE_RUN_FILES);
    expect(readdirSync(runDir)).to.deep.equal([]);
  });
});

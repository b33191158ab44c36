/**
 * Issue 11: resume is complete. After `kill -9` of netflowgen and a rerun, result.json, run.jsonl and
 * the report's curves equal an uninterrupted run's (times aside). Before, fairseq-train outlived the
 * killed netflowgen, trained on unseen to the end, and the rerun reported 1 epoch of 3.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { curvePoints } from '../ts/report/curves.js';
import { readRunLog } from '../ts/train/folder.js';
import type { RunResult } from '../ts/train/run.js';
import { summarizeRun, type RunRecord } from '../ts/train/log.js';
import { netflowgen } from './helpers/cli.js';
import { useTempDir } from './helpers/tmp.js';
import { patternRun } from './helpers/trained.js';
import { waitFor } from './helpers/wait.js';
import { prefetch } from './helpers/prefetch.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Processes whose command line names `dir` (the fairseq-train of a run folder). */
function processesFor(dir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Training records without what depends on time (throughput, wall clock). */
function trainingRecords(dir: string): RunRecord[] {
  return readRunLog(dir)
    .filter((r) => ['train_inner', 'train', 'valid', 'checkpoint'].includes(r.event))
    .map(
      (r) =>
        Object.fromEntries(Object.entries(r).filter(([k]) => !/time|wps|ups|wall|gb_free|^path$/.test(k))) as RunRecord,
    );
}

function resultWithoutTimes(dir: string): Partial<RunResult> {
  const {
    finishedAt: _f,
    wallSeconds: _w,
    attempts: _a,
    ...rest
  } = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult;
  return rest;
}

prefetch('pattern-run'); // started early in a whole-suite run (helpers/prefetch.ts)

describe('train: kill -9 and a rerun end where an uninterrupted run ends (issue 11)', function () {
  this.timeout(300_000);
  const tmp = useTempDir('netflowgen-kill9-');

  it('result.json, run.jsonl and the curves equal the uninterrupted run, times and attempts aside', async function () {
    if (!existsSync(join(root, '.venv/bin/fairseq-train'))) this.skip();
    // the uninterrupted run: the shared fixture (helpers/trained.ts), the same spec trained by runPretrain
    const { dataset, runDir: a } = await patternRun();
    const args = (out: string) => [
      ...['pretrain', join(root, 'experiments/pretrain/tiny.json'), '--set', `dataset=${dataset}`],
      ...['--set', 'max_epoch=3', '-o', out, '--no-check', '--threads', '1'],
    ];

    // kill -9 once the first epoch's checkpoint is logged
    const b = join(tmp.dir, 'killed', 'tiny');
    const child = netflowgen(args(join(tmp.dir, 'killed')));
    await waitFor('the first checkpoint', () => readRunLog(b).some((r) => r.event === 'checkpoint'), child);
    child.kill('SIGKILL');
    await child;
    // fairseq-train dies with it (it used to train on, unseen)
    await waitFor('fairseq-train to exit', () => processesFor(b).length === 0);
    const cut = readRunLog(b);
    expect(cut.some((r) => r.event === 'end')).to.equal(false);

    const rerun = await netflowgen(args(join(tmp.dir, 'killed')));
    expect(rerun.exitCode, rerun.stderr).to.equal(0);
    expect(rerun.stderr).to.contain('resuming from checkpoint_last.pt');

    expect(resultWithoutTimes(b)).to.deep.equal(resultWithoutTimes(a));
    expect(JSON.parse(readFileSync(join(b, 'result.json'), 'utf8'))).to.include({ epochs: 3, attempts: 2 });
    // fairseq's one difference (ts/train/run.ts, pruneAfterCheckpoint): the first train_inner after the
    // resume averages the updates since the resume only; same position, its loss may differ
    const resumedAt = Number(readRunLog(b).find((r) => r.event === 'checkpoint_loaded')!.updates);
    const firstAfter = (rs: RunRecord[]) =>
      rs.findIndex((r) => r.event === 'train_inner' && Number(r.num_updates) > resumedAt);
    const [ra, rb] = [trainingRecords(a), trainingRecords(b)];
    expect(firstAfter(rb)).to.equal(firstAfter(ra));
    const i = firstAfter(ra);
    const running = ['loss', 'ppl', 'gnorm', 'acc', 'acc_volume', 'wpb', 'bsz'];
    const mask = (rs: RunRecord[]) =>
      rs.map((r, k) => (k === i ? Object.fromEntries(Object.entries(r).filter(([key]) => !running.includes(key))) : r));
    expect(mask(rb)).to.deep.equal(mask(ra));
    const curve = (dir: string) => curvePoints(readRunLog(dir));
    const [ca, cb] = [curve(a), curve(b)];
    expect(cb.map((p) => [p.series, p.x])).to.deep.equal(ca.map((p) => [p.series, p.x]));
    const differ = cb.filter((p, k) => p.loss !== ca[k].loss);
    expect(differ.length).to.be.at.most(1);
    if (differ.length) expect(differ[0]).to.include({ series: 'train', x: ra[i].update });
    // what the resume redid is counted
    const point = readRunLog(b).find((r) => r.event === 'resume_point');
    expect(point).to.include({ logged: true });
  });

  it('a checkpoint saved but never logged (the run killed between the two) still counts its epochs', () => {
    const records: RunRecord[] = [
      { event: 'start' },
      { event: 'train', epoch: 1, train_num_updates: 23 },
      { event: 'start', resume: true },
      { event: 'checkpoint_loaded', epoch: 4, updates: 69 },
      { event: 'done' },
      { event: 'end', seconds: 1 },
    ];
    expect(summarizeRun(records)).to.include({ epochs: 3, updates: 69, attempts: 2 });
  });
});

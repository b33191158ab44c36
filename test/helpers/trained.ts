/**
 * The trained fixtures of the chain tests, each built once per code version (shared-fixture.ts) with
 * the project's own drivers, and read by every test that only needs "a trained tiny model and its
 * scores" instead of training its own:
 *
 *  - patternRun(): the pattern dataset of train-fixture.ts (4 nodes x 2000 minutes, light features,
 *    windows of 32) and experiments/pretrain/tiny.json trained on it for 3 epochs (runPretrain,
 *    1 thread, no bridge check). Read by generate, train-resume and train-kill9.
 *  - detectRuns(): the synthetic detection chain of detect-chain.ts, tiny-detect pre-trained on it
 *    (10 updates), then `netflowgen finetune` of the NetFlowGen head (2 epochs, the built CLI) and
 *    TF and MS-LSTM from scratch (2 epochs, runFinetune), each scored on test, valid and train. What the
 *    CLI printed and what runFinetune returned are kept in build.json. Read by finetune-chain and
 *    finetune-python.
 *
 * Tests never write into these folders (copy first).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../ts/common/paths.js';
import type { EarlyDetectManifest } from '../../ts/earlydetect/build.js';
import { runFinetune } from '../../ts/train/finetune.js';
import { loadFinetuneSpec } from '../../ts/train/finetune-spec.js';
import { runPretrain, type RunResult } from '../../ts/train/run.js';
import { loadSpec } from '../../ts/train/spec.js';
import type { SynthManifest } from '../../ts/synth/index.js';
import { makePatternDataset } from '../train-fixture.js';
import { CLI, type Captured } from './cli.js';
import { makeDetectChain, type DetectChain } from './detect-chain.js';
import { sharedFixture } from './shared-fixture.js';

const quiet = () => {};

export interface PatternRun {
  /** The binned dataset (its series store beside it, in ../store). */
  dataset: string;
  /** The run folder of the 3-epoch tiny run. */
  runDir: string;
  result: RunResult;
}

/** The tiny model trained 3 epochs on the pattern dataset. */
export async function patternRun(): Promise<PatternRun> {
  const dir = await sharedFixture('pattern-tiny-3ep', async (d) => {
    const dataset = await makePatternDataset(d);
    const { spec } = loadSpec(join(packageRoot(), 'experiments/pretrain/tiny.json'), [
      { source: 'test fixture', values: { dataset, max_epoch: 3 } },
    ]);
    await runPretrain(spec, { runDir: join(d, 'runs', 'tiny'), check: false, threads: 1, log: quiet });
  });
  const runDir = join(dir, 'runs', 'tiny');
  const result = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as RunResult;
  return { dataset: join(dir, 'dataset'), runDir, result };
}

/** The fine-tuning runs' names (run folders under `runs`). */
export const DETECT_RUNS = ['tiny-netflowgen', 'tiny-tf', 'tiny-ms-lstm'] as const;

export interface DetectRuns {
  chain: DetectChain;
  /** The folder of the run folders: tiny-detect (pre-training) and DETECT_RUNS. */
  runs: string;
  /** What building them returned: the CLI's output for tiny-netflowgen, runFinetune's for the others. */
  build: {
    cli: Captured;
    outcomes: Record<'tf' | 'ms-lstm', { status: string; scored: string[] }>;
  };
}

/** The specs of the fine-tuning runs (experiments/finetune/tiny/NAME.json). */
export const FINETUNE_TINY = join(packageRoot(), 'experiments/finetune/tiny');

/** The detection chain, pre-trained and fine-tuned (NetFlowGen, TF, MS-LSTM), every run scored. */
export async function detectRuns(): Promise<DetectRuns> {
  const threads = 2;
  const dir = await sharedFixture('detect-runs', async (d) => {
    const chain = await makeDetectChain(join(d, 'chain'));
    const runs = join(d, 'runs');
    const { spec } = loadSpec(join(packageRoot(), 'experiments/pretrain/tiny-detect.json'), [
      { source: 'test fixture', values: { dataset: chain.binned, max_epoch: 1, max_update: 10 } },
    ]);
    await runPretrain(spec, { runDir: join(runs, 'tiny-detect'), check: false, threads, log: quiet });
    // the NetFlowGen head through the command line, as a user runs it (the bridge checks the command first):
    // the built CLI in a process of its own, not in-process, since this build may run in the background
    // beside other tests (helpers/prefetch.ts), and capturing this process's stdout would take their output
    const r = await execa(
      'node',
      [
        CLI,
        'finetune',
        join(FINETUNE_TINY, 'netflowgen.json'),
        ...['--dataset', chain.earlyDetect, '--pretrained', join(runs, 'tiny-detect'), '--out', runs],
        ...['--set', 'max_epoch=2', '--threads', String(threads)],
      ],
      { reject: false, stripFinalNewline: false, env: { NETFLOWGEN_PROGRESS: '0' } },
    );
    const cli: Captured = { out: r.stdout, err: r.stderr, code: r.exitCode ?? 1 };
    if (cli.code !== 0) throw new Error(`netflowgen finetune (fixture) exited ${cli.code}: ${cli.err}`);
    const outcomes: Record<string, { status: string; scored: string[] }> = {};
    for (const name of ['tf', 'ms-lstm']) {
      const { spec: ft } = loadFinetuneSpec(join(FINETUNE_TINY, `${name}.json`), [
        { source: 'test fixture', values: { dataset: chain.earlyDetect, max_epoch: 2 } },
      ]);
      const o = await runFinetune(ft, { runDir: join(runs, ft.name), check: false, threads, log: quiet });
      outcomes[name] = { status: o.status, scored: o.scored };
    }
    writeFileSync(join(d, 'build.json'), JSON.stringify({ cli, outcomes }, null, 1) + '\n');
  });
  const manifest = JSON.parse(
    readFileSync(join(dir, 'chain', 'earlydetect', 'manifest.json'), 'utf8'),
  ) as EarlyDetectManifest;
  return {
    chain: {
      synth: JSON.parse(readFileSync(join(dir, 'chain', 'synth', 'synth.json'), 'utf8')) as SynthManifest,
      binned: join(dir, 'chain', 'binned'),
      earlyDetect: join(dir, 'chain', 'earlydetect'),
      manifest,
    },
    runs: join(dir, 'runs'),
    build: JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as DetectRuns['build'],
  };
}

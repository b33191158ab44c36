/**
 * A small EarlyDetect dataset made by the project's own chain on synthetic traffic
 * (synth -> serialize -> bin -> detect-dataset), for the fine-tuning and evaluation tests.
 * Shares 0.5/0.25/0.25 of the time axis, so that the validation split (the small fine-tuning split)
 * holds enough attacks; a few unseen-node examples per split (Table 8).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBinnedDataset } from '../../ts/datasets/build.js';
import { buildEarlyDetect, type EarlyDetectManifest } from '../../ts/earlydetect/build.js';
import { serialize } from '../../ts/serialize/serialize.js';
import { synth, type SynthManifest } from '../../ts/synth/index.js';
import { sharedFixture } from './shared-fixture.js';

export interface DetectChain {
  /** What synth wrote (DIR/synth: flows, nodes.csv, alerts.jsonl, ground-truth.jsonl). */
  synth: SynthManifest;
  binned: string;
  earlyDetect: string;
  manifest: EarlyDetectManifest;
}

export async function makeDetectChain(
  dir: string,
  opts: {
    nodes?: number;
    customers?: number;
    days?: number;
    /** Share of true attacks the defense missed (no alert), synth's --missed-share. */
    missedShare?: number;
    attacks?: number;
    window?: number;
    features?: 'full' | 'light';
    unseen?: number;
  } = {},
): Promise<DetectChain> {
  const p = (n: string) => join(dir, n);
  const split = '0.5,0.25,0.25';
  const made = await synth({
    out: p('synth'),
    preset: 'tiny',
    nodes: opts.nodes ?? 14,
    customers: opts.customers ?? 4,
    ...(opts.missedShare !== undefined ? { missedShare: opts.missedShare } : {}),
    minutes: (opts.days ?? 3) * 1440,
    attacks: opts.attacks ?? 48,
    splits: [0.5, 0.25, 0.25],
    progress: false,
  });
  await serialize({ inputs: [p('synth/flows')], nodes: p('synth/nodes.csv'), out: p('store') });
  await buildBinnedDataset({
    store: p('store'),
    out: p('binned'),
    windowLength: opts.window ?? 64,
    split,
    features: opts.features ?? 'full',
    minActive: 0.3,
    unseen: true,
    alerts: p('synth/alerts.jsonl'),
  });
  const manifest = await buildEarlyDetect({
    dataset: p('binned'),
    alerts: p('synth/alerts.jsonl'),
    groundTruth: p('synth/ground-truth.jsonl'),
    out: p('earlydetect'),
    unseenExamples: opts.unseen ?? 4,
  });
  return { synth: made, binned: p('binned'), earlyDetect: p('earlydetect'), manifest };
}

/**
 * The chain of makeDetectChain's default options, built once per code version (shared-fixture.ts) for
 * the tests that only read it (evaluate-detect, watch); `dir` is its folder (synth/, store/, binned/,
 * earlydetect/). Read-only: a test that writes writes elsewhere.
 */
export async function sharedDetectChain(): Promise<DetectChain & { dir: string }> {
  const dir = await sharedFixture('detect-chain', async (d) => {
    await makeDetectChain(d);
  });
  return {
    dir,
    synth: JSON.parse(readFileSync(join(dir, 'synth', 'synth.json'), 'utf8')) as SynthManifest,
    binned: join(dir, 'binned'),
    earlyDetect: join(dir, 'earlydetect'),
    manifest: JSON.parse(readFileSync(join(dir, 'earlydetect', 'manifest.json'), 'utf8')) as EarlyDetectManifest,
  };
}

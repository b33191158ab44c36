/**
 * The scores of EarlyDetect examples, the contract every scorer writes and the evaluation reads:
 * python/score_detect.py for fine-tuned models (ts/train/finetune.ts) and the simple detectors
 * (ts/baseline/detector-run.ts), one folder per split:
 *
 *   SCORE/survival.f32   float32 [n, D]  S_t of every example of the split, in file order
 *   SCORE/hazard.f32     float32 [n, D]
 *   SCORE/score.json     {split, n, D, checkpoint, arch, ...}, written last: a folder with it is complete
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readTyped } from './data.js';

export const SURVIVAL_FILE = 'survival.f32';
export const HAZARD_FILE = 'hazard.f32';
export const SCORE_FILE = 'score.json';

/** score.json of python/score_detect.py. */
export interface DetectScore {
  split: string;
  n: number;
  D: number;
  checkpoint: string;
  arch: string;
  examples_file?: string;
  mean_loss?: number;
  [key: string]: unknown;
}

/** Is there a complete scoring in `dir` (score.json is written last)? */
export function hasScore(dir: string): boolean {
  try {
    return statSync(join(dir, SCORE_FILE)).isFile();
  } catch {
    return false;
  }
}

/** The survival curves of a scored split, checked against the split's example count and D. */
export function readSurvival(
  dir: string,
  expect: { n: number; D: number; split: string },
): { survival: Float32Array; score: DetectScore } {
  const scorePath = join(dir, SCORE_FILE);
  let score: DetectScore;
  try {
    score = JSON.parse(readFileSync(scorePath, 'utf8')) as DetectScore;
  } catch (e) {
    throw new Error(`${scorePath}: not a readable score of python/score_detect.py (${(e as Error).message})`);
  }
  const problems: string[] = [];
  if (score.split !== expect.split) problems.push(`split is ${JSON.stringify(score.split)}, not ${expect.split}`);
  if (score.n !== expect.n)
    problems.push(`n is ${score.n}, the EarlyDetect ${expect.split} split has ${expect.n} examples`);
  if (score.D !== expect.D) problems.push(`D is ${score.D}, the EarlyDetect detection window is ${expect.D}`);
  if (problems.length) throw new Error(`${scorePath}: ${problems.join('; ')} (score it again: delete ${dir})`);
  const survival = readTyped(
    join(dir, SURVIVAL_FILE),
    Float32Array,
    expect.n * expect.D,
    `survival [${expect.n}, ${expect.D}]`,
  );
  for (let i = 0; i < survival.length; i++) {
    const s = survival[i];
    if (!(s >= 0 && s <= 1))
      throw new Error(
        `${join(dir, SURVIVAL_FILE)}: example ${Math.floor(i / expect.D)} step ${i % expect.D}: survival ${s} is not in [0, 1]`,
      );
  }
  return { survival, score };
}

/**
 * Reading what the detection metrics need, with the sizes checked against the manifests:
 *
 *   EARLYDETECT/manifest.json             schemas/earlydetect.schema.json (netflowgen detect-dataset)
 *   EARLYDETECT/<split>.examples.i32      int32 [n, 6]  row, start, label, onsetStep, attackType, alert
 *   EARLYDETECT/<split>.mask.u8           uint8 [n, D]
 *   EARLYDETECT/<split>.traffic.f32       float32 [n, D] incoming bytes
 *   SCORE/survival.f32, SCORE/score.json  python/score_detect.py: S_t of every example, in file order
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateWithSchema } from '../common/schema.js';
import { EARLYDETECT_SCHEMA, type EarlyDetectManifest } from '../earlydetect/build.js';
import { N_COLUMNS } from '../earlydetect/summary.js';
import type { SplitName } from '../splits/splits.js';

export const SURVIVAL_FILE = 'survival.f32';
export const HAZARD_FILE = 'hazard.f32';
export const SCORE_FILE = 'score.json';

/** Reads and checks an EarlyDetect manifest. */
export function readEarlyDetectManifest(dir: string): EarlyDetectManifest {
  const path = join(dir, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not a readable EarlyDetect manifest (${(e as Error).message}); make one with netflowgen detect-dataset`);
  }
  return validateWithSchema<EarlyDetectManifest>(EARLYDETECT_SCHEMA, raw, path);
}

/** A whole little-endian file as a typed array, its size checked. */
function readTyped<T extends Int32Array | Float32Array | Uint8Array>(path: string, ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, count: number, what: string): T {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const bytes = count * ctor.BYTES_PER_ELEMENT;
  if (buf.byteLength !== bytes) throw new Error(`${path}: ${buf.byteLength} bytes, expected ${bytes} (${what})`);
  return new ctor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
}

/** The examples of one split of an EarlyDetect dataset. */
export interface DetectSplit {
  split: SplitName;
  n: number;
  D: number;
  /** [n, 6]: row, start, label, onsetStep, attackType, alert. */
  examples: Int32Array;
  mask: Uint8Array;
  traffic: Float32Array;
}

export function readDetectSplit(dir: string, m: EarlyDetectManifest, split: SplitName): DetectSplit {
  const f = m.splits[split];
  const n = f.count;
  const D = m.detectLength;
  return {
    split,
    n,
    D,
    examples: readTyped(join(dir, f.examples), Int32Array, n * N_COLUMNS, `${split} examples [${n}, ${N_COLUMNS}]`),
    mask: readTyped(join(dir, f.mask), Uint8Array, n * D, `${split} anomaly masks [${n}, ${D}]`),
    traffic: readTyped(join(dir, f.traffic), Float32Array, n * D, `${split} traffic [${n}, ${D}]`),
  };
}

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
export function readSurvival(dir: string, expect: { n: number; D: number; split: string }): { survival: Float32Array; score: DetectScore } {
  const scorePath = join(dir, SCORE_FILE);
  let score: DetectScore;
  try {
    score = JSON.parse(readFileSync(scorePath, 'utf8')) as DetectScore;
  } catch (e) {
    throw new Error(`${scorePath}: not a readable score of python/score_detect.py (${(e as Error).message})`);
  }
  const problems: string[] = [];
  if (score.split !== expect.split) problems.push(`split is ${JSON.stringify(score.split)}, not ${expect.split}`);
  if (score.n !== expect.n) problems.push(`n is ${score.n}, the EarlyDetect ${expect.split} split has ${expect.n} examples`);
  if (score.D !== expect.D) problems.push(`D is ${score.D}, the EarlyDetect detection window is ${expect.D}`);
  if (problems.length) throw new Error(`${scorePath}: ${problems.join('; ')} (score it again: delete ${dir})`);
  const survival = readTyped(join(dir, SURVIVAL_FILE), Float32Array, expect.n * expect.D, `survival [${expect.n}, ${expect.D}]`);
  for (let i = 0; i < survival.length; i++) {
    const s = survival[i];
    if (!(s >= 0 && s <= 1)) throw new Error(`${join(dir, SURVIVAL_FILE)}: example ${Math.floor(i / expect.D)} step ${i % expect.D}: survival ${s} is not in [0, 1]`);
  }
  return { survival, score };
}

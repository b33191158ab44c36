/**
 * Scoring a fine-tuned model: python/score_detect.py writes each split's survival curves
 * (OUT/survival.f32, hazard.f32 and, last, score.json: what netflowgen evaluate-detect reads), one
 * process for several splits, one progress bar over all of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createProgress } from '../common/progress.js';
import { runPythonScript } from '../bridge/python.js';
import { readEarlyDetectManifest } from '../earlydetect/data.js';
import { SCORE_FILE } from '../earlydetect/scores.js';
import type { ScoreSplit } from './finetune-spec.js';
import { RunInterrupted } from './folder.js';
import { lastPythonError } from './log.js';

export interface ScoreOptions {
  threads?: number;
  signal?: AbortSignal;
  batchSize?: number;
}

/**
 * Runs python/score_detect.py on one split: OUT/survival.f32, hazard.f32 and, last, score.json.
 * Returns the parsed score.json.
 */
export async function scoreDetect(
  checkpoint: string,
  earlyDetect: string,
  split: ScoreSplit,
  out: string,
  opts: ScoreOptions = {},
): Promise<Record<string, unknown>> {
  await runScorer(checkpoint, earlyDetect, [split], ['--out', out], opts);
  return JSON.parse(readFileSync(join(out, SCORE_FILE), 'utf8')) as Record<string, unknown>;
}

/**
 * Runs python/score_detect.py once for several splits (the model is loaded once): OUT_ROOT/<split>/
 * survival.f32, hazard.f32 and, last, score.json for each. Returns each split's parsed score.json. An
 * interruption or a failure leaves the splits scored before it complete (with their score.json).
 */
export async function scoreDetectSplits(
  checkpoint: string,
  earlyDetect: string,
  splits: readonly ScoreSplit[],
  outRoot: string,
  opts: ScoreOptions = {},
): Promise<Record<string, Record<string, unknown>>> {
  const list = [...new Set(splits)];
  if (!list.length) return {};
  await runScorer(checkpoint, earlyDetect, list, ['--out-root', outRoot], opts);
  return Object.fromEntries(
    list.map((s) => [s, JSON.parse(readFileSync(join(outRoot, s, SCORE_FILE), 'utf8')) as Record<string, unknown>]),
  );
}

async function runScorer(
  checkpoint: string,
  earlyDetect: string,
  splits: ScoreSplit[],
  outArgs: string[],
  opts: ScoreOptions,
): Promise<void> {
  const args = ['--checkpoint', checkpoint, '--data', earlyDetect, '--split', splits.join(','), ...outArgs];
  if (opts.batchSize) args.push('--batch-size', String(opts.batchSize));
  // One bar over all splits: each split's examples from the manifest (else from its progress lines).
  const counts = new Map<string, number>();
  try {
    const m = readEarlyDetectManifest(earlyDetect);
    for (const s of splits) counts.set(s, m.splits[s]?.count ?? 0);
  } catch {
    // the scorer names what is wrong with the folder
  }
  const offset = (split: string) =>
    splits.slice(0, Math.max(0, splits.indexOf(split as ScoreSplit))).reduce((a, s) => a + (counts.get(s) ?? 0), 0);
  const total = () => splits.reduce((a, s) => a + (counts.get(s) ?? 0), 0);
  const what = splits.join(', ');
  const bar = createProgress(
    `score ${splits.join(',')}`,
    Math.max(1, total()),
    '{bar} {percentage}% | {split} {value}/{total} examples | ETA {eta_formatted}',
  );
  const done: string[] = [];
  const res = await runPythonScript('score_detect.py', args, {
    threads: opts.threads,
    signal: opts.signal,
    onEvent: (e) => {
      if (e.event === 'done') done.push(e.split);
      else if (e.examples > 0) {
        if (!counts.get(e.split)) {
          counts.set(e.split, e.examples);
          bar.setTotal(total());
        }
        bar.update(offset(e.split) + e.examples_done, { split: e.split });
      }
    },
  }).finally(() => bar.stop()); // also when a line breaks the contract: a running bar keeps node alive
  const kept = done.length ? `; ${done.join(', ')} ${done.length > 1 ? 'are' : 'is'} complete` : '';
  if (res.canceled)
    throw new RunInterrupted(
      `interrupted while scoring ${what}${kept}; nothing incomplete carries a score.json: run the same command again`,
    );
  if (res.exitCode !== 0)
    throw new Error(
      `python/score_detect.py failed on ${what}${kept} (exit code ${res.exitCode}): ${lastPythonError(res.tail) ?? res.tail.slice(-3).join('\n')}`,
    );
}

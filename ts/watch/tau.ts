/**
 * Which threshold the watch alerts at: the tau the model's evaluation chose (ts/evaluate: size-matched, on
 * the run's calibration split, at the table's overhead bound), read from the evaluation output, never
 * recomputed and never guessed.
 *
 * Where it is looked for, first found wins:
 *   1. --evaluation FILE: `netflowgen evaluate-detect`'s results.json (kind netflowgen.detect-evaluation:
 *      the entry of runs[] whose `run` is this run folder) or a reproduce chain's evaluation.json
 *      ({evaluation: RunEvaluation});
 *   2. RUN/evaluation.json;
 *   3. RUN/../detection/results.json (evaluate-detect's default output folder).
 * The tau taken is the table bound's (RunEvaluation.outcomes.tau; else bounds[] at tableBound). None found:
 * an error that says how to make one. The simple detectors' taus come from the same file when it evaluated
 * simple-detect runs too (arch static_threshold / ewma_cusum), else from --detector-tau.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

interface BoundLike {
  bound: number;
  tau: number;
}
interface RunLike {
  run: string;
  arch?: string;
  bounds?: BoundLike[];
  outcomes?: { bound: number; tau: number };
}

export interface ChosenTau {
  tau: number;
  bound: number;
  file: string;
}

function runsOf(file: string): { runs: RunLike[]; tableBound?: number } {
  const j = JSON.parse(readFileSync(file, 'utf8')) as {
    kind?: string;
    runs?: RunLike[];
    tableBound?: number;
    evaluation?: RunLike;
  };
  if (Array.isArray(j.runs)) return { runs: j.runs, tableBound: j.tableBound };
  if (j.evaluation && typeof j.evaluation === 'object') return { runs: [j.evaluation] };
  throw new Error(`${file}: not an evaluation output (no runs[] and no evaluation)`);
}

function tauOfRun(r: RunLike, tableBound: number | undefined, file: string): ChosenTau | null {
  if (r.outcomes && Number.isFinite(r.outcomes.tau)) return { tau: r.outcomes.tau, bound: r.outcomes.bound, file };
  const b = r.bounds?.find((x) => x.bound === (tableBound ?? 0.8)) ?? r.bounds?.[0];
  return b && Number.isFinite(b.tau) ? { tau: b.tau, bound: b.bound, file } : null;
}

/** The candidate files, in the order of the module docstring. */
export function evaluationCandidates(runDir: string, given?: string): string[] {
  if (given) return [given];
  return [join(runDir, 'evaluation.json'), join(dirname(resolve(runDir)), 'detection', 'results.json')];
}

/** The model's tau (module docstring), or an error naming the files looked at. */
export function findTau(runDir: string, given?: string): ChosenTau {
  const run = resolve(runDir);
  const looked: string[] = [];
  for (const file of evaluationCandidates(runDir, given)) {
    if (!existsSync(file)) {
      if (given) throw new Error(`--evaluation ${given}: no such file`);
      looked.push(`${file} (none)`);
      continue;
    }
    const { runs, tableBound } = runsOf(file);
    const mine = runs.find((r) => resolve(r.run) === run) ?? (runs.length === 1 && given ? runs[0] : undefined);
    if (!mine) {
      looked.push(`${file} (does not evaluate ${run})`);
      continue;
    }
    const t = tauOfRun(mine, tableBound, file);
    if (t) return t;
    looked.push(`${file} (no tau for this run)`);
  }
  throw new Error(
    `no threshold for ${run}: the watch alerts at the tau the model's evaluation chose, and none was found (looked at ${looked.join('; ')}). Run \`netflowgen evaluate-detect ${runDir}\` first, or give --evaluation FILE`,
  );
}

/** Taus of the simple detectors found in the same evaluation file (by arch), if any. */
export function detectorTausIn(file: string): Partial<Record<'static' | 'ewma-cusum', number>> {
  const out: Partial<Record<'static' | 'ewma-cusum', number>> = {};
  try {
    const { runs, tableBound } = runsOf(file);
    for (const r of runs) {
      const t = tauOfRun(r, tableBound, file);
      if (!t) continue;
      if (r.arch === 'static_threshold') out.static = t.tau;
      if (r.arch === 'ewma_cusum') out['ewma-cusum'] = t.tau;
    }
  } catch {
    // no detectors there
  }
  return out;
}

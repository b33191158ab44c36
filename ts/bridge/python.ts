/**
 * Where the project's Python lives: the interpreter of the venv that scripts/setup.sh builds
 * (.venv/bin/python beside package.json), or NETFLOWGEN_PYTHON when set. fairseq-train is the
 * console script beside that interpreter.
 */
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from '../common/paths.js';

export function pythonBin(): string {
  return process.env.NETFLOWGEN_PYTHON || join(packageRoot(), '.venv', 'bin', 'python');
}

export function fairseqTrainBin(): string {
  return join(dirname(pythonBin()), 'fairseq-train');
}

/** The Fairseq plugin folder (--user-dir). */
export function pluginDir(): string {
  return join(packageRoot(), 'fairseq_plugins');
}

/** A Python script of the package's python/ folder. */
export function pythonScript(name: string): string {
  return join(packageRoot(), 'python', name);
}

/**
 * Environment of a Python child: unbuffered output (JSON lines arrive live) and an explicit thread
 * count (torch would otherwise take every core of a shared machine).
 */
export function pythonEnv(threads = defaultThreads()): Record<string, string> {
  return { PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
}

/** OMP_NUM_THREADS when set, else the number of cores. */
export function defaultThreads(): number {
  const env = Number(process.env.OMP_NUM_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

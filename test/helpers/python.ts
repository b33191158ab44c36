/**
 * The project's Python (the .venv that scripts/setup.sh makes) as the Python-side tests run it: one
 * thread, unbuffered, from the repository root; fairseq's JSON log lines; the Python test fixtures.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../ts/common/paths.js';

export const ROOT = packageRoot();
export const VENV_BIN = join(ROOT, '.venv', 'bin');
export const PYTHON = join(VENV_BIN, 'python');
export const PY_ENV = { OMP_NUM_THREADS: '1', PYTHONUNBUFFERED: '1' };

/** Fails (in a before hook: the whole block) when the venv is missing. */
export function requirePython(): void {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run \`bash scripts/setup.sh\` first`);
}

/** `python -m pytest -q ARGS` from the repository root; never rejects (check exitCode, with `all` as the message). */
export function pytest(args: string[]) {
  return execa(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', ...args], {
    cwd: ROOT,
    env: PY_ENV,
    reject: false,
    all: true,
  });
}

/**
 * The two halves of the pytest suite of python/tests: pre-training (pretrain-python.test) and the
 * detection tests (finetune-python.test).
 */
export const PYTEST_HALVES = {
  pretrain: ['--ignore-glob=python/tests/test_detect*', 'python/tests'],
  detect: ['detect_loss', 'detect_data', 'detect_models', 'detect_train'].map((t) => `python/tests/test_${t}.py`),
};
export type PytestHalf = keyof typeof PYTEST_HALVES;

const halves = new Map<PytestHalf, ReturnType<typeof pytest>>();

/**
 * The run of pytest half `name`, started once per mocha process: by its test, or earlier in the
 * background by helpers/prefetch.ts in a run of the whole suite (then its test waits for that run).
 */
export function pytestHalf(name: PytestHalf): ReturnType<typeof pytest> {
  let run = halves.get(name);
  if (!run) halves.set(name, (run = pytest(PYTEST_HALVES[name])));
  return run;
}

/** `python SCRIPT ARGS` from the repository root; the JSON of its last stdout line. */
export async function pythonJson<T>(script: string, args: string[]): Promise<T> {
  const r = await execa(PYTHON, [script, ...args], { cwd: ROOT, env: PY_ENV });
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as T;
}

/** The JSON of fairseq's `ts | INFO | <tag> | {json}` lines with that tag. */
export function fairseqLogLines(output: string, tag: string): Record<string, string>[] {
  const marker = `| ${tag} | `;
  return output
    .split('\n')
    .filter((l) => l.includes(marker) && l.trimEnd().endsWith('}'))
    .map((l) => JSON.parse(l.slice(l.indexOf(marker) + marker.length)) as Record<string, string>);
}

export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * python/tests/detect_fixtures.py: a binned dataset and an EarlyDetect dataset written by Python alone
 * (ROWS rows x MINUTES minutes, windows of W, detection length D) under `dir`.
 */
export function pythonDetectFixture(
  dir: string,
  o: { rows: number; minutes: number; window: number; detect: number },
): Promise<{ dataset: string; ed: string; examples: Record<string, number> }> {
  return pythonJson('python/tests/detect_fixtures.py', [
    ...[dir, '--rows', String(o.rows), '--minutes', String(o.minutes)],
    ...['--window', String(o.window), '--detect', String(o.detect)],
  ]);
}

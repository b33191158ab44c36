/**
 * Slow things several test files wait for, started in the background when the whole suite starts
 * (the root hook below, loaded by .mocharc.json "require"; runs of single files with --no-config skip
 * it and build each when its first test asks, as before).
 *
 * A test file that reads one says so when it is loaded: `prefetch('detect-runs')`. When the run starts,
 * the root hook starts what the loaded files named in two lanes, the fixtures in one and pytest in the
 * other, each lane one job at a time in the order the suite first needs them. Each job is mostly one
 * Python process at a time, so they use the core that mocha's own tests (mostly waiting for one job of
 * their own) leave idle, instead of holding up the test that asks (two lanes: the core stays busy while
 * a test waits for one of them). Nothing they build writes to this process's stdout or stderr. The
 * tests ask as before and wait for the same run (sharedFixture and pytestHalf memoise it) and check
 * everything they checked; a fixture build that fails here is dropped from the memo and made again, with
 * its error, by the first test that asks.
 */
import { sharedDetectChain } from './detect-chain.js';
import { pytestHalf } from './python.js';
import { detectRuns, patternRun } from './trained.js';

const JOBS = {
  'detect-chain': () => sharedDetectChain(), // evaluate-detect, watch
  'detect-runs': () => detectRuns(), // finetune-chain, finetune-python
  'pattern-run': () => patternRun(), // generate, train-kill9, train-resume
  'pytest-detect': () => pytestHalf('detect'), // finetune-python
  'pytest-pretrain': () => pytestHalf('pretrain'), // pretrain-python
};
const LANES: (keyof typeof JOBS)[][] = [
  ['detect-chain', 'detect-runs', 'pattern-run'],
  ['pytest-detect', 'pytest-pretrain'],
];
export type Prefetched = keyof typeof JOBS;

const wanted = new Set<Prefetched>();

/** Says, at a test file's load, that the file reads `name`, so a whole-suite run starts it early. */
export function prefetch(name: Prefetched): void {
  wanted.add(name);
}

export const mochaHooks = {
  beforeAll(): void {
    for (const lane of LANES)
      void (async () => {
        for (const n of lane) if (wanted.has(n)) await Promise.resolve(JOBS[n]()).catch(() => undefined); // errors: reported by the tests that ask
      })();
  },
};

/**
 * `npm run bench:generate`: node-minutes sampled per second by python/generate.py, with and without
 * the incremental cache, for each architecture; medians and spread of repeated runs.
 *
 *   1. a pattern dataset with every feature (86 x 10 bins, windows of BENCH_WINDOW minutes) is built
 *      with the project's pipeline (test/train-fixture.ts) in a temporary folder;
 *   2. for each architecture and mode, python/generate.py --init-arch samples BENCH_NODES nodes x
 *      BENCH_MINUTES minutes after BENCH_HISTORY real minutes, BENCH_REPEAT times (modes interleaved,
 *      so that a busy stretch of the shared machine hits both). An untrained model: the speed does not
 *      depend on the weights. The rate is node-minutes over the seconds of the sampling loops (model
 *      loading, files and the Python start-up left out; sample.json's sampleSeconds);
 *   3. the cached and uncached runs must give the same bins (the same seed): a check, not a timing.
 *
 * Settings (environment): BENCH_ARCHS (netflowgen_tiny,netflowgen_4_4_128_512), BENCH_WINDOW (128),
 * BENCH_NODES (16), BENCH_MINUTES (256), BENCH_HISTORY (window - 1), BENCH_REPEAT (3),
 * BENCH_THREADS (OMP_NUM_THREADS or 2), BENCH_DEVICE (cpu | cuda), BENCH_BATCH (nodes per batch, 64),
 * BENCH_NO_CACHE (1: also measure without the cache; default 1), BENCH_OUT (write the JSON result there).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { checkedEventLines } from '../ts/bridge/events.js';
import { pythonBin, pythonEnv, pythonScript } from '../ts/bridge/python.js';
import { makePatternDataset } from '../test/train-fixture.js';
import { spread, type Spread } from './stats.js';

const env = process.env;
const ARCHS = (env.BENCH_ARCHS ?? 'netflowgen_tiny,netflowgen_4_4_128_512').split(',').filter(Boolean);
const WINDOW = Number(env.BENCH_WINDOW ?? 128);
const NODES = Number(env.BENCH_NODES ?? 16);
const MINUTES = Number(env.BENCH_MINUTES ?? 256);
const HISTORY = Number(env.BENCH_HISTORY ?? WINDOW - 1);
const REPEAT = Number(env.BENCH_REPEAT ?? 3);
const THREADS = Number(env.BENCH_THREADS ?? env.OMP_NUM_THREADS ?? 2);
const DEVICE = env.BENCH_DEVICE ?? 'cpu';
const BATCH = Number(env.BENCH_BATCH ?? 64);
const NO_CACHE = (env.BENCH_NO_CACHE ?? '1') === '1';

interface Stats extends Spread {
  runs: number[];
}

function stats(xs: number[]): Stats {
  return { ...spread(xs), runs: xs };
}

async function sampleOnce(
  dataset: string,
  arch: string,
  cache: boolean,
  out: string,
): Promise<{ rate: number; bins: Buffer; reprimes: number }> {
  const from = 2 * WINDOW + HISTORY; // inside the store, after enough history
  const args = [
    pythonScript('generate.py'),
    ...[
      '--init-arch',
      arch,
      '--data',
      dataset,
      '--from',
      String(from),
      '--minutes',
      String(MINUTES),
      '--history',
      String(HISTORY),
    ],
    ...[
      '--rows-list',
      Array.from({ length: NODES }, (_, i) => i).join(','),
      '--seed',
      '1',
      '--device',
      DEVICE,
      '--batch-size',
      String(BATCH),
      '--out',
      out,
    ],
    ...(cache ? [] : ['--no-cache']),
  ];
  const r = await execa(pythonBin(), args, { env: pythonEnv(THREADS), all: true, reject: false });
  // its progress and done lines, checked as runPythonScript checks them (schemas/python-events.schema.json)
  const events = checkedEventLines('generate', r.all ?? '');
  if (r.exitCode !== 0) throw new Error(`generate.py failed (${arch}, cache ${cache}): ${r.all?.slice(-2000)}`);
  if (!events.some((e) => e.event === 'done'))
    throw new Error(`generate.py printed no 'done' line (${arch}, cache ${cache}): ${r.all?.slice(-2000)}`);
  const s = JSON.parse(readFileSync(join(out, 'sample.json'), 'utf8')) as {
    nodeMinutesPerSecond: number;
    reprimes: number;
  };
  return { rate: s.nodeMinutesPerSecond, bins: readFileSync(join(out, 'bins.u8')), reprimes: s.reprimes };
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'netflowgen-bench-generate-'));
  try {
    // enough minutes for the history, the span, and a window in every split (valid is 8%)
    const dataset = await makePatternDataset(tmp, {
      nodes: NODES,
      minutes: Math.max(4 * WINDOW + HISTORY + MINUTES, 2000, Math.ceil(WINDOW / 0.08) + WINDOW),
      windowLength: WINDOW,
      features: 'full',
    });
    process.stdout.write(
      `bench:generate: ${NODES} nodes x ${MINUTES} minutes after ${HISTORY} real minutes, 86 features x 10 bins, window ${WINDOW} (context ${WINDOW - 1}), ` +
        `${THREADS} threads, ${DEVICE}, ${REPEAT} runs each (untrained models; rate = node-minutes / seconds of the sampling loop)\n\n`,
    );
    const results: Record<string, Record<string, Stats>> = {};
    const rows: string[] = [];
    for (const arch of ARCHS) {
      const rates: Record<string, number[]> = { cache: [], 'no-cache': [] };
      let reprimes = 0;
      for (let i = 0; i < REPEAT; i++) {
        const a = await sampleOnce(dataset, arch, true, join(tmp, `${arch}-c${i}`));
        rates.cache.push(a.rate);
        reprimes = a.reprimes;
        if (NO_CACHE) {
          const b = await sampleOnce(dataset, arch, false, join(tmp, `${arch}-n${i}`));
          rates['no-cache'].push(b.rate);
          if (!a.bins.equals(b.bins)) throw new Error(`${arch}: the cached and uncached samples differ`);
        }
      }
      results[arch] = { cache: stats(rates.cache), ...(NO_CACHE ? { noCache: stats(rates['no-cache']) } : {}) };
      const c = results[arch].cache;
      const n = results[arch].noCache;
      rows.push(
        `| ${arch.replace('netflowgen_', '')} | ${fmt(c.median)} (${fmt(c.min)}-${fmt(c.max)}) | ` +
          `${n ? `${fmt(n.median)} (${fmt(n.min)}-${fmt(n.max)}) | ${(c.median / n.median).toFixed(1)}x` : '- | -'} | ${reprimes} |`,
      );
    }
    process.stdout.write(
      `| model | cached: node-min/s, median (min-max) | no cache: node-min/s, median (min-max) | cache speed-up | re-primes |\n| --- | ---: | ---: | ---: | ---: |\n${rows.join('\n')}\n` +
        (NO_CACHE ? '\ncached and uncached samples were identical in every run\n' : ''),
    );
    if (env.BENCH_OUT)
      writeFileSync(
        env.BENCH_OUT,
        JSON.stringify(
          {
            nodes: NODES,
            minutes: MINUTES,
            history: HISTORY,
            window: WINDOW,
            threads: THREADS,
            device: DEVICE,
            repeat: REPEAT,
            results,
          },
          null,
          1,
        ) + '\n',
      );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();

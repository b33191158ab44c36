/**
 * `npm run bench:train`: training speed of fairseq-train with the netflowgen plugin against the same
 * model in a bare PyTorch loop (python/bare_train.py), same data, batch, updates and threads.
 *
 *   1. a pattern dataset with every feature (86 x 10 bins) is built with the project's pipeline
 *      (test/train-fixture.ts) in a temporary folder;
 *   2. fairseq-train runs the command `netflowgen pretrain` renders for a spec (the size, batch, window
 *      and update count below), with --disable-validation --no-save so that only training is timed;
 *   3. python/bare_train.py trains the same architecture on the same windows and batches;
 *   4. both interleaved, BENCH_REPEAT rounds (default 3; the order alternates each round so that drift in
 *      the machine's load falls on both sides); it prints the median and min-max of each side's steady
 *      and end-to-end rates, the overhead of the medians, and the median and min-max of each round's
 *      paired overhead.
 *
 * Threads: both processes get OMP_NUM_THREADS = MKL_NUM_THREADS = BENCH_THREADS in their environment
 * (pythonEnv); bare_train.py also calls torch.set_num_threads(BENCH_THREADS); neither is pinned to cores.
 *
 * Timesteps = predicted minutes of a window (fairseq's ntokens / wpb; bare_train's unit). The steady
 * rate leaves out the first log interval (fairseq: its first train_inner record; bare_train: --warmup
 * of the same number of updates). Overhead = bare rate / fairseq rate - 1; the goal is under 10%.
 *
 * Settings (environment): BENCH_ARCH (netflowgen_4_4_128_512), BENCH_BATCH (8), BENCH_WINDOW (128),
 * BENCH_UPDATES (60), BENCH_INTERVAL (10), BENCH_THREADS (OMP_NUM_THREADS or 2), BENCH_REPEAT (3),
 * BENCH_NODES (8), BENCH_MINUTES (4000), BENCH_DEVICE (cpu | cuda), BENCH_BF16 (1 = bf16 on cuda),
 * BENCH_PEAK_TFLOPS (peak of the device for the model FLOP utilisation; default 989, an H100/H200's
 * dense bf16, on cuda), BENCH_OUT (write the JSON result there).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { pythonBin, pythonEnv, pythonScript } from '../ts/bridge/python.js';
import { parseLogLine } from '../ts/train/log.js';
import { renderCommand } from '../ts/train/render.js';
import { ARCH_SIZES, loadSpec, type Arch } from '../ts/train/spec.js';
import { packageRoot } from '../ts/common/paths.js';
import { makePatternDataset } from '../test/train-fixture.js';
import { spread, type Spread } from './stats.js';

const env = process.env;
const ARCH = (env.BENCH_ARCH ?? 'netflowgen_4_4_128_512') as Arch;
const BATCH = Number(env.BENCH_BATCH ?? 8);
const WINDOW = Number(env.BENCH_WINDOW ?? 128);
const UPDATES = Number(env.BENCH_UPDATES ?? 60);
const INTERVAL = Number(env.BENCH_INTERVAL ?? 10);
const THREADS = Number(env.BENCH_THREADS ?? env.OMP_NUM_THREADS ?? 2);
const REPEAT = Math.max(1, Number(env.BENCH_REPEAT ?? 3));
const NODES = Number(env.BENCH_NODES ?? 8);
const MINUTES = Number(env.BENCH_MINUTES ?? 4000);
const DEVICE = (env.BENCH_DEVICE ?? 'cpu') as 'cpu' | 'cuda';
const BF16 = env.BENCH_BF16 === '1';
const PEAK_TFLOPS = Number(env.BENCH_PEAK_TFLOPS ?? (DEVICE === 'cuda' ? 989 : 0));

interface Rate {
  /** Timesteps per second after the first log interval. */
  steady: number;
  /** Timesteps of all updates over the process's wall time (start-up included). */
  endToEnd: number;
  seconds: number;
}

/** Harmonic mean: the rate over equal amounts of work measured at `rates`. */
const harmonic = (rates: number[]) => rates.length / rates.reduce((s, r) => s + 1 / r, 0);

async function runFairseq(dataset: string, saveDir: string): Promise<Rate> {
  const { spec } = loadSpec(join(packageRoot(), 'experiments/pretrain/base.json'), [
    {
      source: 'bench',
      values: {
        name: 'bench',
        dataset,
        arch: ARCH,
        window: WINDOW,
        batch_size: BATCH,
        max_epoch: 1000,
        max_update: UPDATES,
        log_interval: INTERVAL,
        patience: -1,
        device: DEVICE,
        precision: BF16 ? 'bf16' : 'fp32',
        fairseq_args: ['--disable-validation', '--no-save'],
      },
    },
  ]);
  const { argv } = renderCommand(spec, { saveDir });
  const t0 = performance.now();
  const r = await execa(argv[0], argv.slice(1), { env: pythonEnv(THREADS), all: true, reject: false });
  const seconds = (performance.now() - t0) / 1000;
  if (r.exitCode !== 0)
    throw new Error(`fairseq-train failed (${r.exitCode}):\n${r.all?.split('\n').slice(-15).join('\n')}`);
  const inner = r
    .all!.split('\n')
    .map(parseLogLine)
    .filter((x) => x?.event === 'train_inner');
  if (inner.length < 2)
    throw new Error(
      `fairseq-train logged ${inner.length} train_inner records: raise BENCH_UPDATES above 2 x BENCH_INTERVAL`,
    );
  const wpb = Number(inner[0]!.wpb);
  return { steady: harmonic(inner.slice(1).map((x) => Number(x!.wps))), endToEnd: (UPDATES * wpb) / seconds, seconds };
}

async function runBare(dataset: string): Promise<Rate & { loss: number | null }> {
  const args = [
    pythonScript('bare_train.py'),
    dataset,
    '--arch',
    ARCH,
    '--window',
    String(WINDOW),
    '--feature-set',
    'full',
    '--batch-size',
    String(BATCH),
    '--max-update',
    String(UPDATES),
  ];
  args.push(
    '--lr',
    '5e-4',
    '--dropout',
    '0.3',
    '--seed',
    '1',
    '--threads',
    String(THREADS),
    '--log-interval',
    String(INTERVAL),
    '--warmup',
    String(INTERVAL),
    '--device',
    DEVICE,
  );
  if (BF16) args.push('--bf16');
  const t0 = performance.now();
  const r = await execa(pythonBin(), args, { env: pythonEnv(THREADS), reject: false });
  const seconds = (performance.now() - t0) / 1000;
  if (r.exitCode !== 0)
    throw new Error(`bare_train.py failed (${r.exitCode}):\n${r.stderr.split('\n').slice(-15).join('\n')}`);
  const done = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, number | string | null>)
    .find((x) => x.event === 'done');
  if (!done) throw new Error(`bare_train.py printed no 'done' line:\n${r.stdout.slice(-2000)}`);
  return {
    steady: Number(done.steady_timesteps_per_s ?? done.timesteps_per_s),
    endToEnd: Number(done.timesteps) / seconds,
    seconds,
    loss: typeof done.loss === 'number' ? done.loss : null,
  };
}

/**
 * Training FLOPs per timestep: 6 x the parameters in matrix products (decoder layers and the output
 * layer; the one-hot input is a table lookup, embeddings are lookups) + the attention scores and
 * values, 6 x 2 x layers x window x width (forward 2 matmuls of T x d per token, backward twice that).
 */
function flopsPerTimestep(nFeatures: number, nBins: number): number {
  const { layers, width: d, ffn } = ARCH_SIZES[ARCH];
  const matmulParams = layers * (4 * d * d + 2 * d * ffn) + d * nFeatures * nBins;
  return 6 * matmulParams + 12 * layers * (WINDOW - 1) * d;
}

const dir = mkdtempSync(join(tmpdir(), 'netflowgen-bench-train-'));
try {
  const t0 = performance.now();
  const dataset = await makePatternDataset(dir, {
    nodes: NODES,
    minutes: MINUTES,
    windowLength: WINDOW,
    features: 'full',
  });
  process.stderr.write(
    `dataset: ${NODES} nodes x ${MINUTES} minutes x 86 features, windows of ${WINDOW} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  );
  const fs: Rate[] = [];
  const bare: (Rate & { loss: number | null })[] = [];
  const runF = async (i: number) => {
    const r = await runFairseq(dataset, join(dir, `save-${i}`));
    process.stderr.write(
      `fairseq-train  round ${i + 1}: ${r.steady.toFixed(0)} timesteps/s steady, ${r.endToEnd.toFixed(0)} end to end (${r.seconds.toFixed(1)} s)\n`,
    );
    return r;
  };
  const runB = async (i: number) => {
    const r = await runBare(dataset);
    process.stderr.write(
      `bare PyTorch   round ${i + 1}: ${r.steady.toFixed(0)} timesteps/s steady, ${r.endToEnd.toFixed(0)} end to end (${r.seconds.toFixed(1)} s)\n`,
    );
    return r;
  };
  for (let i = 0; i < REPEAT; i++) {
    if (i % 2 === 0) {
      fs.push(await runF(i));
      bare.push(await runB(i));
    } else {
      bare.push(await runB(i));
      fs.push(await runF(i));
    }
  }
  const summary = (xs: Rate[]) => ({
    steady: spread(xs.map((x) => x.steady)),
    endToEnd: spread(xs.map((x) => x.endToEnd)),
    seconds: spread(xs.map((x) => x.seconds)),
  });
  const f = summary(fs);
  const b = summary(bare);
  const overhead = b.steady.median / f.steady.median - 1;
  const paired = spread(fs.map((x, i) => bare[i].steady / x.steady - 1));
  const flops = flopsPerTimestep(86, 10);
  const mfu = (rate: number) => (PEAK_TFLOPS > 0 ? (rate * flops) / (PEAK_TFLOPS * 1e12) : null);
  const round = (x: Spread, digits = 0) => ({
    median: Number(x.median.toFixed(digits)),
    min: Number(x.min.toFixed(digits)),
    max: Number(x.max.toFixed(digits)),
  });
  const side = (x: ReturnType<typeof summary>) => ({
    steadyTimestepsPerS: round(x.steady),
    endToEndTimestepsPerS: round(x.endToEnd),
    seconds: round(x.seconds, 1),
    mfu: mfu(x.steady.median),
  });
  const result = {
    arch: ARCH,
    sizes: ARCH_SIZES[ARCH],
    device: DEVICE,
    precision: BF16 ? 'bf16' : 'fp32',
    threads: THREADS,
    threadsHow:
      'OMP_NUM_THREADS=MKL_NUM_THREADS=threads for both processes; bare_train.py also torch.set_num_threads(threads); no core pinning',
    batch: BATCH,
    window: WINDOW,
    timestepsPerUpdate: BATCH * (WINDOW - 1),
    updates: UPDATES,
    repeat: REPEAT,
    fairseq: side(f),
    bare: side(b),
    overhead: Number(overhead.toFixed(4)),
    pairedOverhead: round(paired, 4),
    goal: 'overhead < 0.10',
    flopsPerTimestep: flops,
    peakTflops: PEAK_TFLOPS || null,
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const rate = (x: Spread) => `${x.median.toFixed(0)} [${x.min.toFixed(0)}-${x.max.toFixed(0)}]`;
  process.stdout.write(
    [
      `${ARCH} (${Object.values(ARCH_SIZES[ARCH]).join('-')}), ${DEVICE}${BF16 ? ' bf16' : ''}, ${THREADS} threads (OMP/MKL_NUM_THREADS, both sides), batch ${BATCH} x ${WINDOW - 1} steps, ${UPDATES} updates, ${REPEAT} interleaved rounds; timesteps/s median [min-max]`,
      `  fairseq-train + plugin : steady ${rate(f.steady)}, end to end ${rate(f.endToEnd)}${result.fairseq.mfu !== null ? `, MFU ${pct(result.fairseq.mfu)}` : ''}`,
      `  bare PyTorch loop      : steady ${rate(b.steady)}, end to end ${rate(b.endToEnd)}${result.bare.mfu !== null ? `, MFU ${pct(result.bare.mfu)}` : ''}`,
      `  fairseq overhead       : ${pct(overhead)} of the medians; per round ${pct(paired.median)} [${pct(paired.min)} to ${pct(paired.max)}] (goal < 10%)`,
      '',
    ].join('\n'),
  );
  if (env.BENCH_OUT) writeFileSync(env.BENCH_OUT, JSON.stringify(result, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

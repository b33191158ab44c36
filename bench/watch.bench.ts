/**
 * `npm run bench:watch`: `netflowgen watch --replay --detectors` over the test split of a synthetic dataset,
 * judged against synth's ground truth, beside the two simple detectors on the same windows.
 *
 *   1. the project's chain on synthetic traffic (test/helpers/detect-chain.ts: synth -> serialize -> bin ->
 *      detect-dataset), a tiny TF detector fine-tuned (BENCH_EPOCHS epochs), both simple detectors
 *      (simple-detect), all three evaluated together by evaluate-detect (each one's tau);
 *   2. the synth flow files replayed through watch over the test split, as fast as possible;
 *   3. per detector, against ground-truth.jsonl (attacks whose onset lies in the scored minutes, on watched
 *      nodes): share of attacks alerted (an attack event on the victim from onset - 0 to end + D), median and
 *      90th percentile of minutes from onset to that event; false alerts = attack events on a node at a
 *      minute no attack covers (onset .. end + D), per node-day of scored minutes;
 *   4. throughput: minutes scored per second of replay wall time and of model time, node windows per second;
 *      and the seconds one call takes for BENCH_SCALES nodes (default 500,5000; random bins), three calls each.
 *
 * Each detector at the tau its evaluation chose (not at a matched false-alert rate: the rates are printed
 * side by side instead). Settings (environment): BENCH_NODES (24), BENCH_DAYS (4), BENCH_ATTACKS (60),
 * BENCH_EPOCHS (2), BENCH_THREADS (2), BENCH_OUT (write the JSON result there). A CPU-sized stand-in for the
 * issue's "small preset": the small preset's month of 120 nodes does not fine-tune on a shared 2-core machine.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSimpleDetector } from '../ts/baseline/detector-run.js';
import { BinnedDataset } from '../ts/datasets/binned.js';
import { evaluateDetect } from '../ts/evaluate/evaluate.js';
import { isoToMinute } from '../ts/serialize/store.js';
import { runFinetune } from '../ts/train/finetune.js';
import { loadFinetuneSpec } from '../ts/train/finetune-spec.js';
import type { WatchAlert } from '../ts/watch/alerts.js';
import { WatchModel } from '../ts/watch/model.js';
import { watch } from '../ts/watch/watch.js';
import { makeDetectChain } from '../test/helpers/detect-chain.js';
import { tempDir } from '../test/helpers/tmp.js';

const env = process.env;
const NODES = Number(env.BENCH_NODES ?? 24);
const DAYS = Number(env.BENCH_DAYS ?? 4);
const ATTACKS = Number(env.BENCH_ATTACKS ?? 60);
const EPOCHS = Number(env.BENCH_EPOCHS ?? 2);
const THREADS = Number(env.BENCH_THREADS ?? 2);
const SCALES = (env.BENCH_SCALES ?? '500,5000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const root = fileURLToPath(new URL('../..', import.meta.url));

function pct(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
}

async function main(): Promise<void> {
  const tmp = tempDir('netflowgen-bench-watch-');
  const quiet = () => {};
  try {
    const t0 = Date.now();
    const chain = await makeDetectChain(join(tmp.dir, 'chain'), { nodes: NODES, days: DAYS, attacks: ATTACKS });
    const { spec } = loadFinetuneSpec(join(root, 'experiments/finetune/tiny/tf.json'), [
      { source: 'bench', values: { dataset: chain.earlyDetect, max_epoch: EPOCHS } },
    ]);
    const run = join(tmp.dir, 'runs', spec.name);
    await runFinetune(spec, { runDir: run, check: false, threads: THREADS, log: quiet });
    const dets = { static: join(tmp.dir, 'runs/static'), 'ewma-cusum': join(tmp.dir, 'runs/ewma-cusum') } as const;
    for (const [d, out] of Object.entries(dets))
      await runSimpleDetector({ earlyDetect: chain.earlyDetect, detector: d as 'static', out });
    const evaluation = join(tmp.dir, 'runs/detection');
    await evaluateDetect([run, dets.static, dets['ewma-cusum']], { out: evaluation, threads: THREADS });
    const prepSeconds = (Date.now() - t0) / 1000;

    const ds = BinnedDataset.open(chain.binned);
    const W = chain.manifest.windowLength;
    const D = chain.manifest.detectLength;
    const test = ds.manifest.splits.test;
    const from = ds.manifest.startMinute + test.start + W;
    const to = ds.manifest.startMinute + test.end;
    const alertsFile = join(tmp.dir, 'alerts.jsonl');
    const t1 = Date.now();
    const s = await watch({
      flowDir: join(tmp.dir, 'chain/synth/flows'),
      run,
      evaluation: join(evaluation, 'results.json'),
      nodes: join(tmp.dir, 'chain/synth/nodes.csv'),
      replay: true,
      from,
      to,
      detectors: true,
      alerts: alertsFile,
      threads: THREADS,
      log: quiet,
    });
    const wall = (Date.now() - t1) / 1000;
    const alerts = readFileSync(alertsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as WatchAlert);
    const truth = readFileSync(join(tmp.dir, 'chain/synth/ground-truth.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { victim: string; onset: string; end: string })
      .map((g) => ({ node: g.victim, onset: isoToMinute(g.onset), end: isoToMinute(g.end) }))
      .filter((g) => g.onset >= from && g.onset < to);
    const nodeDays = (s.nodeScores / Math.max(1, s.minutesScored)) * ((to - from) / 1440);
    const result: Record<string, unknown> = {
      settings: { nodes: NODES, days: DAYS, attacks: ATTACKS, epochs: EPOCHS, threads: THREADS, W, D },
      replay: { minutes: to - from, attacksInRange: truth.length, nodeDays: Math.round(nodeDays * 100) / 100 },
      throughput: {
        wallSeconds: Math.round(wall * 10) / 10,
        minutesPerSecond: Math.round((s.minutesScored / wall) * 100) / 100,
        modelSeconds: Math.round(s.modelSeconds * 10) / 10,
        nodeWindowsPerModelSecond: Math.round(s.nodeScores / Math.max(1e-9, s.modelSeconds)),
        nodesPerMinute: Math.round(s.nodeScores / Math.max(1, s.minutesScored)),
      },
      taus: { model: s.tau, ...s.detectorTaus },
      prepSeconds: Math.round(prepSeconds),
    };
    for (const det of ['model', 'static', 'ewma-cusum']) {
      const mine = alerts.filter((a) => a.detector === det && a.event === 'attack');
      const delays: number[] = [];
      for (const g of truth) {
        const hit = mine.find((a) => a.node === g.node && a.epochMinute >= g.onset && a.epochMinute <= g.end + D);
        if (hit) delays.push(hit.epochMinute - g.onset);
      }
      const covered = (a: WatchAlert) =>
        truth.some((g) => g.node === a.node && a.epochMinute >= g.onset && a.epochMinute <= g.end + D);
      const falseAlerts = mine.filter((a) => !covered(a)).length;
      result[det] = {
        attackEvents: mine.length,
        detected: `${delays.length}/${truth.length}`,
        medianDelay: pct(delays, 0.5),
        p90Delay: pct(delays, 0.9),
        falseAlerts,
        falsePerNodeDay: Math.round((falseAlerts / Math.max(1e-9, nodeDays)) * 1000) / 1000,
      };
    }
    // One model call for many nodes (random bins: the speed does not depend on the values), 3 calls each.
    const model = await WatchModel.open({
      checkpoint: join(run, 'checkpoint_final.pt'),
      earlyDetect: chain.earlyDetect,
      workDir: join(tmp.dir, 'scale'),
      threads: THREADS,
      callTimeoutMs: 600_000,
    });
    const scale: Record<string, number[]> = {};
    try {
      const F = ds.manifest.features.length;
      for (const n of SCALES) {
        const bins = Uint8Array.from({ length: n * W * F }, (_, i) => (i * 7919) % ds.manifest.nBins);
        const input = {
          n,
          node: Int32Array.from({ length: n }, (_, i) => i % ds.manifest.nodeIds),
          customer: new Int32Array(n),
          time: new Uint8Array(W * 3),
          bins,
        };
        scale[`${n} nodes: seconds per minute`] = [];
        for (let k = 0; k < 3; k++) {
          const t = Date.now();
          await model.score(input);
          scale[`${n} nodes: seconds per minute`].push((Date.now() - t) / 1000);
        }
      }
    } finally {
      await model.close();
    }
    result.scale = scale;
    const text = JSON.stringify(result, null, 1);
    process.stdout.write(text + '\n');
    if (env.BENCH_OUT) writeFileSync(env.BENCH_OUT, text + '\n');
  } finally {
    tmp.cleanup();
  }
}

await main();

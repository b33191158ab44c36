/**
 * npm run bench:synth — how fast `netflowgen synth` generates flow records, and its peak memory.
 *
 * Each measurement runs in its own process (this file again, with --child), so that its time and
 * peak RSS (VmHWM, peakRssMB in stats.ts) are its own. On the `small` preset (120 nodes of 20
 * customers), larger than tiny:
 *   1. BENCH_DAYS days (default 7), plain CSV;
 *   2. twice as many days: the records double, the peak memory must not (streaming output);
 *   3. BENCH_DAYS days with gzip.
 * One line per measurement. BENCH_DIR picks the scratch folder (default: the OS temp folder); it is
 * removed afterwards.
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synth } from '../ts/synth/synth.js';
import { peakRssMB } from './stats.js';

interface Result {
  label: string;
  records: number;
  seconds: number;
  mb: number;
  maxRssMB: number;
}

async function child(out: string, days: number, gzip: boolean, label: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const m = await synth({ out, preset: 'small', minutes: days * 1440, gzip, force: true, progress: false });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const r: Result = {
    label,
    records: m.records.total,
    seconds,
    mb: m.files.reduce((s, f) => s + f.bytes, 0) / 1e6,
    maxRssMB: peakRssMB(),
  };
  process.stdout.write(JSON.stringify(r) + '\n');
}

async function main(): Promise<void> {
  const days = Number(process.env.BENCH_DAYS ?? 7);
  const scratch = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'netflowgen-bench-synth-'));
  const self = fileURLToPath(import.meta.url);
  const runs: [number, boolean, string][] = [
    [days, false, `small preset, ${days} days, CSV`],
    [2 * days, false, `small preset, ${2 * days} days, CSV`],
    [days, true, `small preset, ${days} days, CSV.gz`],
  ];
  const results: Result[] = [];
  try {
    for (const [d, gz, label] of runs) {
      const { stdout } = await execa(process.execPath, [
        self,
        '--child',
        join(scratch, 'out'),
        String(d),
        gz ? '1' : '0',
        label,
      ]);
      const r = JSON.parse(stdout.trim().split('\n').pop()!) as Result;
      results.push(r);
      process.stdout.write(
        `synth ${r.label}: ${r.records.toLocaleString('en-US')} records in ${r.seconds.toFixed(1)} s = ${Math.round(r.records / r.seconds).toLocaleString('en-US')} records/s; ` +
          `${r.mb.toFixed(0)} MB written; peak RSS ${r.maxRssMB.toFixed(0)} MB\n`,
      );
      rmSync(join(scratch, 'out'), { recursive: true, force: true });
    }
    const [a, b] = results;
    process.stdout.write(
      `memory vs records: ${(b.records / a.records).toFixed(2)}x the records, ${(b.maxRssMB / a.maxRssMB).toFixed(2)}x the peak RSS\n`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  const [out, days, gz, label] = process.argv.slice(3);
  await child(out, Number(days), gz === '1', label);
} else {
  await main();
}

/**
 * Every number of two `netflowgen reproduce` output folders, compared (docs/reproduce.md, "Where the time
 * goes": a change that only saves time must leave them all equal):
 *
 *   node dist/bench/compare-runs.js OUT_A OUT_B [RESULTS_JSON]
 *
 * For each stage folder both runs finished (the same folder name is the same config hash): every number of
 * every .json and .jsonl file (run.jsonl: its training, validation, checkpoint and parameter records), times
 * and speeds left out, must be identical (Object.is), and every binary array (.f32, .i32, .u8, ...) equal byte
 * for byte. Then the preset results that `--save-results` writes (presetResults of each OUT/report/report.json),
 * and, given RESULTS_JSON (e.g. experiments/results/tiny.json of the commit before the change), its numbers
 * against OUT_B's. Prints each difference and the counts; exits 1 when anything differs.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { presetResults } from '../ts/report/results.js';
import type { ReportData } from '../ts/report/model.js';

/** Keys whose numbers are times or speeds, not results. */
const TIMING = /seconds|wall|time|At$|wps|ups$|^ups|_ups|ms$|PerSecond|^date$|^commit$|createdBy|elapsed/i;
/** Keys whose numeric-looking strings are names or paths, not results. */
const PATHY = /dir|file|path|checkpoint|data$|out$|argv|source|run$/i;
/** run.jsonl records that hold results (not the start, end or progress records). */
const LOG_EVENTS = new Set(['train_inner', 'valid', 'holdout', 'train', 'checkpoint', 'epoch_size', 'params']);

function flatten(v: unknown, path: string, out: Map<string, number>): Map<string, number> {
  if (Array.isArray(v)) v.forEach((x, i) => flatten(x, `${path}/${i}`, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (!TIMING.test(k)) flatten(x, `${path}/${k}`, out);
  } else if (typeof v === 'number') out.set(path, v);
  else if (typeof v === 'string' && /^-?\d+(\.\d+)?(e-?\d+)?$/.test(v) && !PATHY.test(path)) out.set(path, Number(v));
  return out;
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

function parse(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  if (!file.endsWith('.jsonl')) return JSON.parse(text);
  const records = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { event?: string });
  return file.endsWith('run.jsonl') ? records.filter((r) => LOG_EVENTS.has(String(r.event))) : records;
}

function results(out: string): Record<string, unknown> | undefined {
  const f = join(out, 'report', 'report.json');
  if (!existsSync(f)) return undefined;
  const data = JSON.parse(readFileSync(f, 'utf8')) as ReportData;
  return presetResults(data, { commit: '-', date: '-', threads: null, jobs: 1, seconds: 0 }).numbers as Record<
    string,
    unknown
  >;
}

function main(a: string, b: string, reference?: string): number {
  let diffs = 0;
  let stages = 0;
  let numbers = 0;
  let arrays = 0;
  const differ = (msg: string) => {
    diffs++;
    if (diffs <= 50) console.log(msg);
  };
  for (const s of readdirSync(join(a, 'stages'))) {
    const da = join(a, 'stages', s);
    const db = join(b, 'stages', s);
    if (!existsSync(join(da, 'stage.json')) || !existsSync(join(db, 'stage.json'))) continue;
    stages++;
    for (const f of files(da)) {
      const fa = join(da, f);
      const fb = join(db, f);
      const binary = /\.(f32|f64|i32|u8|u16|npy)$/.test(f);
      if (!binary && !/\.jsonl?$/.test(f)) continue;
      if (!existsSync(fb)) {
        differ(`only in ${a}: ${s}/${f}`);
        continue;
      }
      if (binary) {
        arrays++;
        if (!readFileSync(fa).equals(readFileSync(fb))) differ(`array differs: ${s}/${f}`);
        continue;
      }
      const na = flatten(parse(fa), '', new Map());
      const nb = flatten(parse(fb), '', new Map());
      for (const [k, v] of na) {
        numbers++;
        if (!nb.has(k)) differ(`only in ${a}: ${s}/${f}${k}`);
        else if (!Object.is(nb.get(k), v)) differ(`differs: ${s}/${f}${k}: ${v} vs ${nb.get(k)}`);
      }
      for (const k of nb.keys()) if (!na.has(k)) differ(`only in ${b}: ${s}/${f}${k}`);
    }
  }
  console.log(`${stages} stages compared: ${numbers} numbers, ${arrays} arrays; ${diffs} differences`);
  const compare = (x: Record<string, unknown>, y: Record<string, unknown>, what: string) => {
    let d = 0;
    for (const [k, v] of Object.entries(x))
      if (!Object.is(y[k], v)) {
        d++;
        differ(`${what}: ${k}: ${String(v)} vs ${String(y[k])}`);
      }
    for (const k of Object.keys(y))
      if (!(k in x)) {
        d++;
        differ(`${what}: ${k} only in the second`);
      }
    console.log(`${what}: ${Object.keys(x).length} numbers, ${d} differ`);
  };
  const ra = results(a);
  const rb = results(b);
  if (ra && rb) compare(ra, rb, 'preset results');
  if (reference && rb) {
    const ref = JSON.parse(readFileSync(reference, 'utf8')) as { numbers: Record<string, unknown> };
    compare(ref.numbers, rb, `${reference} against ${b}`);
  }
  return diffs ? 1 : 0;
}

const [a, b, reference] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node dist/bench/compare-runs.js OUT_A OUT_B [RESULTS_JSON]');
  process.exit(2);
}
process.exit(main(a, b, reference));

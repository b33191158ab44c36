/**
 * Where a finished `netflowgen reproduce` run's time went (docs/reproduce.md, "Where the time goes"):
 *
 *   node dist/bench/stage-times.js OUT
 *
 * Reads OUT/stages/<stage>/stage.json (each stage's seconds) and every run.jsonl under a stage (each
 * fairseq-train launch, the refit's included) and prints, per stage kind: stages, stage seconds, launches,
 * and the launches' time split into start-up (launch to fairseq's first log line: Python, torch and
 * fairseq imports, argument parsing, hydra; fairseq's log has whole seconds, so each is +-0.5 s), training
 * (fairseq's own "done training in X seconds") and the rest of the launch (data, model and optimizer set-up
 * before the first update, and the process's exit); "outside" is the stage's time outside its launches
 * (scoring with python/score*.py, and the TypeScript work). It measures nothing itself: it reads the times
 * the run recorded, so it describes one run on one machine (say its load beside the numbers).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface Kind {
  stages: number;
  seconds: number;
  launches: number;
  startup: number;
  training: number;
  rest: number;
  outside: number;
}

type Record_ = { event?: string; time?: string; seconds?: number };

/** fairseq's log time ('2026-12-02 01:37:06', UTC on the machines here) as ms, at mid-second. */
function logTime(t: string): number {
  return Date.parse(`${t.replace(' ', 'T')}Z`) + 500;
}

function runLogs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...runLogs(p));
    else if (e === 'run.jsonl') out.push(p);
  }
  return out;
}

/** Each launch of a run.jsonl: [wall, start-up, training] seconds. */
function launches(file: string): [number, number, number][] {
  const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record_);
  const out: [number, number, number][] = [];
  let start: number | undefined;
  let firstLog: number | undefined;
  let training = 0;
  for (const r of records) {
    if (r.event === 'start') {
      start = Date.parse(String(r.time));
      firstLog = undefined;
      training = 0;
    } else if (start !== undefined && r.event === 'end') {
      const wall = Number(r.seconds);
      const startup = firstLog === undefined ? 0 : Math.min(wall, Math.max(0, (firstLog - start) / 1000));
      out.push([wall, startup, training]);
      start = undefined;
    } else if (start !== undefined && typeof r.time === 'string' && !r.time.includes('T')) {
      firstLog ??= logTime(r.time);
      if (r.event === 'done') training = Number(r.seconds);
    }
  }
  return out;
}

function main(out: string): void {
  const stagesDir = join(out, 'stages');
  if (!existsSync(stagesDir))
    throw new Error(`${out}: no stages/ folder; give the folder of a netflowgen reproduce run`);
  const kinds = new Map<string, Kind>();
  let first = Infinity;
  let last = 0;
  for (const d of readdirSync(stagesDir)) {
    const file = join(stagesDir, d, 'stage.json');
    if (!existsSync(file)) continue; // unfinished
    const s = JSON.parse(readFileSync(file, 'utf8')) as {
      stageKind: string;
      seconds: number;
      startedAt: string;
      finishedAt: string;
    };
    const k = kinds.get(s.stageKind) ?? {
      stages: 0,
      seconds: 0,
      launches: 0,
      startup: 0,
      training: 0,
      rest: 0,
      outside: 0,
    };
    k.stages++;
    k.seconds += s.seconds;
    first = Math.min(first, Date.parse(s.startedAt));
    last = Math.max(last, Date.parse(s.finishedAt));
    let inLaunches = 0;
    for (const log of runLogs(join(stagesDir, d)))
      for (const [wall, startup, training] of launches(log)) {
        k.launches++;
        k.startup += startup;
        k.training += training;
        k.rest += Math.max(0, wall - startup - training);
        inLaunches += wall;
      }
    k.outside += Math.max(0, s.seconds - inLaunches);
    kinds.set(s.stageKind, k);
  }
  const rows = [...kinds].sort((x, y) => y[1].seconds - x[1].seconds);
  const all = rows.reduce(
    (a, [, k]) => {
      for (const key of Object.keys(a) as (keyof Kind)[]) a[key] += k[key];
      return a;
    },
    { stages: 0, seconds: 0, launches: 0, startup: 0, training: 0, rest: 0, outside: 0 } as Kind,
  );
  const f = (x: number) => x.toFixed(1);
  console.log(
    `${out}: ${all.stages} stages, ${f(all.seconds)} s of stage time, ${f((last - first) / 1000)} s from the first stage's start to the last one's end`,
  );
  console.log(
    '| stage kind | stages | stage s | launches | start-up s | training s | set-up and exit s | outside launches s |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, k] of [...rows, ['all', all] as [string, Kind]])
    console.log(
      `| ${name} | ${k.stages} | ${f(k.seconds)} | ${k.launches} | ${f(k.startup)} | ${f(k.training)} | ${f(k.rest)} | ${f(k.outside)} |`,
    );
}

const out = process.argv[2];
if (!out) {
  console.error('usage: node dist/bench/stage-times.js OUT   (the folder of a netflowgen reproduce run)');
  process.exit(2);
}
main(out);

/**
 * `netflowgen reproduce`: the paper's tables and figures from one command. Loads a preset
 * (experiments/presets/), the table specs it lists (experiments/tables/), builds the chain of stages
 * they need (chain.ts), runs what is not already done (graph.ts) under one progress view, and copies
 * the report to OUT/report/. Layout of OUT (default out/<preset>):
 *
 *   OUT/stages/<kind>-<hash>/     each stage's output (stage.json written last)
 *   OUT/stages/<kind>-<hash>.partial/   a stage at work, or interrupted
 *   OUT/report/report.md, report.html, report.json, *.svg
 *   OUT/reproduce.json            the last run: preset, tables, every stage with its folder and time
 */
import { availableParallelism } from 'node:os';
import { promises as fsp, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { withAtomicDir, writeFileAtomic } from '../common/atomic.js';
import { VERSION } from '../common/version.js';
import type { OverrideLayer } from '../config/compose.js';
import { writeReport, REPORT_FILES } from '../report/write.js';
import type { ReportPlan } from '../report/plan.js';
import type { ReportData } from '../report/model.js';
import { execa } from 'execa';
import { packageRoot } from '../common/paths.js';
import { forkServerEnabled, withForkServer } from '../bridge/forkserver.js';
import { presetResults, resultsMarkdown } from '../report/results.js';
import { buildChain, stageTimes } from './chain.js';
import { loadPreset, selectTables } from './config.js';
import {
  planStages,
  readStageRecord,
  redoSet,
  runPlan,
  type PlannedStage,
  type StageEvent,
  type StageOutcome,
} from './graph.js';
import { createChainView, type ChainView } from './progress.js';

export const STAGES_DIR = 'stages';
export const REPORT_DIR = 'report';
export const REPRODUCE_FILE = 'reproduce.json';

export interface ReproduceOptions {
  /** Preset name (micro, tiny, small, paper) or a preset file. */
  preset: string;
  /** Table and figure ids to make (default: all of the preset's). */
  only?: string[];
  /** Preset overrides, key.path=value. */
  set?: string[];
  /** Output folder (default out/<preset name>). */
  out?: string;
  threads?: number;
  /**
   * Stages run side by side when their inputs are ready (default: the preset's `jobs`, else 1). With
   * more than one, each Python child gets cores / jobs threads unless `threads` is given.
   */
  jobs?: number;
  /** Check each training command with fairseq's parser first. */
  check?: boolean;
  /** Stage ids or kinds to redo (and everything after them). */
  redo?: string[];
  device?: 'cpu' | 'cuda';
  precision?: 'bf16' | 'fp16';
  /** Also write experiments/results/<preset>.json and .md (the committed results of the preset), or into this folder. */
  saveResults?: boolean | string;
  /** Plan only: list the stages and whether each is already done. */
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Progress view (default: a bar on a terminal, lines elsewhere). */
  view?: ChainView;
}

export interface ReproduceResult {
  out: string;
  plan: PlannedStage[];
  outcomes: StageOutcome[];
  report?: { dir: string; md: string; html: string; json: string; data: ReportData };
  seconds: number;
}

/** A lock on OUT so that two runs do not write the same stages; a stale lock (its process gone) is taken over. */
function lock(out: string): () => void {
  const file = join(out, '.lock');
  let pid = 0;
  try {
    pid = Number(readFileSync(file, 'utf8'));
  } catch {
    // no lock
  }
  if (pid && pid !== process.pid && isAlive(pid))
    throw new Error(
      `${out} is in use by another netflowgen reproduce (pid ${pid}); wait for it, or remove ${file} if that process is gone`,
    );
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function trainOverrides(o: Pick<ReproduceOptions, 'device' | 'precision'>): OverrideLayer[] {
  const values: Record<string, unknown> = {};
  if (o.device) values.device = o.device;
  // A precision alone means a GPU run; with --device cpu, bf16 runs on the CPU (fp16 is refused there).
  if (o.precision) Object.assign(values, { precision: o.precision, device: o.device ?? 'cuda' });
  return Object.keys(values).length ? [{ source: 'command line (--device/--bf16/--fp16)', values }] : [];
}

export async function reproduce(opts: ReproduceOptions): Promise<ReproduceResult> {
  const t0 = Date.now();
  const preset = loadPreset(opts.preset, opts.set ?? []);
  const allTables = selectTables(preset);
  const tables = selectTables(preset, opts.only);
  const out = resolve(opts.out ?? join('out', preset.name));
  const root = join(out, STAGES_DIR);
  const jobs = Math.max(1, Math.floor(opts.jobs ?? preset.jobs ?? 1));
  const threads = opts.threads ?? (jobs > 1 ? Math.max(1, Math.floor(availableParallelism() / jobs)) : undefined);
  const { stages } = buildChain({
    preset,
    tables,
    allTables,
    threads,
    check: opts.check,
    trainOverrides: trainOverrides(opts),
  });
  const plan = planStages(stages, root);
  const redo = redoSet(plan, opts.redo ?? []);
  if (opts.dryRun)
    return {
      out,
      plan,
      outcomes: plan.map((s) => ({
        id: s.id,
        dir: s.dir,
        cached: !redo.has(s.id) && readStageRecord(s.dir, s.hash) !== undefined,
        seconds: 0,
      })),
      seconds: 0,
    };

  await fsp.mkdir(root, { recursive: true });
  const unlock = lock(out);
  const view = opts.view ?? createChainView();
  let outcomes: StageOutcome[];
  try {
    const run = () => runPlan(plan, { redo, jobs, signal: opts.signal, onEvent: (e: StageEvent) => view.onEvent(e) });
    // The training and scoring runs start in forks of one Python that imported torch and fairseq once.
    outcomes = forkServerEnabled() ? await withForkServer(run) : await run();
  } finally {
    view.stop();
    unlock();
  }
  const reportStage = plan.find((s) => s.id === 'report')!;
  const dir = join(out, REPORT_DIR);
  await withAtomicDir(
    dir,
    async (tmp) => {
      for (const f of await fsp.readdir(reportStage.dir))
        if (f !== 'stage.json' && f !== 'stage.log') await fsp.copyFile(join(reportStage.dir, f), join(tmp, f));
    },
    { overwrite: true },
  );
  const data = JSON.parse(await fsp.readFile(join(dir, REPORT_FILES.json), 'utf8')) as ReportData;
  const seconds = (Date.now() - t0) / 1000;
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  await writeFileAtomic(
    join(out, REPRODUCE_FILE),
    JSON.stringify(
      {
        kind: 'netflowgen.reproduce',
        createdBy: `netflowgen ${VERSION}`,
        finishedAt: new Date().toISOString(),
        preset: { name: preset.name, sources: preset.sources },
        tables: tables.map((t) => t.id),
        seconds,
        report: relative(out, dir),
        stages: plan.map((s) => ({
          id: s.id,
          kind: s.kind,
          label: s.label,
          hash: s.hash,
          dir: relative(out, s.dir),
          cached: byId.get(s.id)?.cached ?? false,
          seconds: byId.get(s.id)?.seconds ?? 0,
        })),
      },
      null,
      2,
    ) + '\n',
  );
  if (opts.saveResults) {
    const resultsDir =
      typeof opts.saveResults === 'string' ? opts.saveResults : join(packageRoot(), 'experiments', 'results');
    await fsp.mkdir(resultsDir, { recursive: true });
    const r = presetResults(data, {
      commit: await gitCommit(),
      date: new Date().toISOString().slice(0, 10),
      threads: threads ?? null,
      jobs,
      seconds,
    });
    await writeFileAtomic(join(resultsDir, `${preset.name}.json`), JSON.stringify(r, null, 1) + '\n');
    await writeFileAtomic(join(resultsDir, `${preset.name}.md`), resultsMarkdown(data, r));
  }
  return {
    out,
    plan,
    outcomes,
    seconds,
    report: {
      dir,
      md: join(dir, REPORT_FILES.md),
      html: join(dir, REPORT_FILES.html),
      json: join(dir, REPORT_FILES.json),
      data,
    },
  };
}

/** The checkout's commit (with +dirty for uncommitted changes), or 'unknown' outside a git checkout. */
async function gitCommit(): Promise<string> {
  const r = await execa('git', ['describe', '--always', '--dirty=+dirty', '--abbrev=12'], {
    cwd: packageRoot(),
    reject: false,
  });
  return r.exitCode === 0 ? String(r.stdout).trim() : 'unknown';
}

/**
 * `netflowgen report OUT`: renders the report of a finished reproduction again from its stages (the
 * report stage's own config and inputs, in its stage.json), e.g. after the report's code changed.
 */
export async function rerenderReport(out: string): Promise<{ dir: string; data: ReportData }> {
  let last: { stages: { id: string; dir: string }[] };
  try {
    last = JSON.parse(readFileSync(join(out, REPRODUCE_FILE), 'utf8')) as typeof last;
  } catch {
    throw new Error(`${out}: no ${REPRODUCE_FILE}; give the folder of a finished netflowgen reproduce`);
  }
  const stage = last.stages.find((s) => s.id === 'report');
  const record = stage && readStageRecord(join(out, stage.dir));
  if (!record) throw new Error(`${out}: the report stage has not finished; run netflowgen reproduce again`);
  // Folders as reproduce.json names them (relative to OUT), so that a moved OUT still renders.
  const where = new Map(last.stages.map((s) => [s.id, join(out, s.dir)]));
  const dirs = Object.fromEntries(Object.entries(record.inputs).map(([role, i]) => [role, where.get(i.id) ?? i.dir]));
  const dir = join(out, REPORT_DIR);
  const data = await withAtomicDir(
    dir,
    (tmp) => writeReport(record.config as ReportPlan, dirs, tmp, join(out, STAGES_DIR), { stages: stageTimes(dirs) }),
    { overwrite: true },
  );
  return { dir, data };
}

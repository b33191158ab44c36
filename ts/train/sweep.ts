/**
 * `netflowgen sweep`: every point of a sweep spec's grid is one pre-training run in
 * OUT/<sweep name>/<point label>/, run one after the other. A finished point (result.json of the same
 * spec) is skipped, an interrupted one resumes: running the sweep again continues where it stopped.
 * At the end, Table 10: OUT/<sweep name>/table10.json and table10.md.
 */
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { VERSION } from '../common/version.js';
import { BinnedDataset } from '../datasets/binned.js';
import { withBridge } from '../bridge/bridge.js';
import { specHash, type ComposedSpec } from '../config/compose.js';
import { readFolderState } from './folder.js';
import { archOverrides, archSizes, modelDims, readResult, runPretrain, type RunResult } from './run.js';
import { expandSweep, type SweepPoint } from './spec.js';
import { table10Markdown, table10Row, type Table10Row } from './tables.js';

export interface SweepOptions {
  /** Runs folder: the sweep goes to OUT/<sweep name>. */
  out: string;
  resume?: boolean;
  force?: boolean;
  check?: boolean;
  threads?: number;
  /** Only tabulate the runs already there; train nothing. */
  tableOnly?: boolean;
  signal?: AbortSignal;
  log?: (msg: string) => void;
}

export interface SweepOutcome {
  dir: string;
  rows: Table10Row[];
  trained: number;
  skipped: number;
  files: { json: string; md: string };
}

export const TABLE10_JSON = 'table10.json';
export const TABLE10_MD = 'table10.md';

/** Status of a point's run folder for the table. */
function pointStatus(runDir: string, point: SweepPoint): { status: string; result?: RunResult } {
  if (!existsSync(runDir)) return { status: 'not run' };
  const state = readFolderState(runDir);
  if (state.previousHash !== undefined && state.previousHash !== specHash(point.spec))
    return { status: 'different spec' };
  const result = readResult(runDir);
  if (result && result.hash === specHash(point.spec))
    return { status: result.stopReason === 'early_stop' ? 'done (early stop)' : 'done', result };
  return { status: state.hasCheckpoint ? 'unfinished' : 'not run' };
}

export async function runSweep(composed: ComposedSpec, opts: SweepOptions): Promise<SweepOutcome> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const { name, points } = expandSweep(composed);
  const dir = join(opts.out, name);
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(
    join(dir, 'sweep.json'),
    JSON.stringify(
      {
        kind: 'netflowgen.sweep',
        createdBy: `netflowgen ${VERSION}`,
        spec: composed.file,
        sources: composed.sources,
        grid: composed.data.grid,
        points: points.map((p) => ({ label: p.label, values: p.values, hash: specHash(p.spec) })),
      },
      null,
      2,
    ) + '\n',
  );

  let trained = 0;
  let skipped = 0;
  if (!opts.tableOnly) {
    for (const [i, p] of points.entries()) {
      const runDir = join(dir, p.label);
      log(`sweep ${name}: ${i + 1}/${points.length} ${p.label}`);
      const outcome = await runPretrain(p.spec, {
        runDir,
        resume: opts.resume,
        force: opts.force,
        check: opts.check,
        threads: opts.threads,
        signal: opts.signal,
        log,
      });
      if (outcome.status === 'skipped') {
        skipped++;
        log(`  already done: best valid loss ${outcome.result.best?.loss ?? '-'}`);
      } else {
        trained++;
        log(`  best valid loss ${outcome.result.best?.loss ?? '-'} after ${outcome.result.epochs} epochs`);
      }
    }
  }

  // Parameters of points without a result (or trained with --no-check): one bridge session for all.
  const states = points.map((p) => ({ p, runDir: join(dir, p.label), ...pointStatus(join(dir, p.label), p) }));
  const params = new Map<string, number>();
  const need = states.filter((s) => !s.result?.params);
  if (need.length && (opts.check ?? true) && existsSync(join(points[0].spec.dataset, 'manifest.json'))) {
    const ds = BinnedDataset.open(points[0].spec.dataset);
    await withBridge(async (b) => {
      for (const s of need)
        params.set(
          s.p.label,
          (await b.countParameters(s.p.spec.arch, archOverrides(s.p.spec), modelDims(s.p.spec, ds))).total,
        );
    });
  }
  const rows = states.map((s) =>
    table10Row(
      s.p.label,
      {
        arch: s.p.spec.arch,
        learning_rate: s.p.spec.learning_rate,
        dropout: s.p.spec.dropout,
        sizes: archSizes(s.p.spec),
      },
      s.result,
      s.status,
      params.get(s.p.label) ?? null,
    ),
  );
  const files = { json: join(dir, TABLE10_JSON), md: join(dir, TABLE10_MD) };
  await writeFileAtomic(
    files.json,
    JSON.stringify({ kind: 'netflowgen.table10', createdBy: `netflowgen ${VERSION}`, sweep: name, rows }, null, 2) +
      '\n',
  );
  await writeFileAtomic(files.md, `# Table 10: ${name}\n\n${table10Markdown(rows)}`);
  return { dir, rows, trained, skipped, files };
}

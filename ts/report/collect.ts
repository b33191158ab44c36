/**
 * The report's data from the stages' output folders: each table or figure of the plan collected by its
 * module of the registry (tables/index.ts), the data statement, the claims and paired comparisons of
 * the tables' summaries, the operating points, the training curves and the headline. Every number of
 * ours is read from a file a stage wrote, typed by its writer, and keeps its file and JSON pointer
 * (source.ts); the paper's published numbers sit in the table modules.
 */
import { join } from 'node:path';
import { VERSION } from '../common/version.js';
import { SUMMARY_FILE, type DetectSummary } from '../evaluate/summary.js';
import { SYNTH_MANIFEST, type SynthManifest } from '../synth/synth.js';
import { readRunLog, RUN_LOG } from '../train/folder.js';
import { curvePoints } from './curves.js';
import {
  formatValue,
  type CurveGroupData,
  type GenerationReport,
  type ReportClaim,
  type ReportData,
  type ReportFigure,
  type ReportTable,
  type StageTime,
} from './model.js';
import type { ReportPlan } from './plan.js';
import { SourceReader } from './source.js';
import { TABLES, tableModule, type CollectContext } from './tables/index.js';
import { operatingPoints } from './tables/table5.js';

export { getPointer, SourceReader } from './source.js';
export { mean, median } from './tables/cells.js';

/** The record of the data a `--preset` run on the user's own flows read (written by ts/reproduce/source.ts, INGEST_FILE). */
export const INGEST_RECORD = 'ingest.json';

function dataStatement(r: SourceReader, sourceDir: string): string {
  const synthFile = join(sourceDir, SYNTH_MANIFEST);
  let s: SynthManifest;
  try {
    s = r.json<SynthManifest>(synthFile);
  } catch {
    const file = join(sourceDir, INGEST_RECORD);
    const f = r.json<{ inputs: string[]; alerts: string }>(file);
    return `Our numbers come from your flow data: ${f.inputs.join(', ')}, alerts ${f.alerts} (${r.rel(file)}).`;
  }
  const c = s.config;
  return (
    `Our numbers come from synthetic ISP traffic made by \`netflowgen synth\` (synth preset ${s.preset}, seed ${c.seed}): ${c.nodes} nodes of ${c.customers} customers over ` +
    `${c.minutes.toLocaleString('en-US')} minutes (${(c.minutes / 1440).toFixed(1)} days), ${s.records.total.toLocaleString('en-US')} flow records, ${c.attacks} attacks and ${s.alerts.total} alerts` +
    `${c.sampling > 1 ? `, packet sampling 1:${c.sampling}` : ''} (${r.rel(synthFile)}).`
  );
}

// ---------------------------------------------------------------- claims and paired comparisons

/** Every claim the tables' summaries measured, each value read with its source. */
function claimsOf(r: SourceReader, plan: ReportPlan, dirs: Record<string, string>): ReportClaim[] {
  const out: ReportClaim[] = [];
  for (const t of plan.tables) {
    if (!t.summary || !dirs[t.summary]) continue;
    const f = join(dirs[t.summary], SUMMARY_FILE);
    // Both summaries (DetectSummary, PretrainSummary) carry their claims in the same shape.
    (r.json<DetectSummary>(f).claims ?? []).forEach((c, i) => {
      const v = (k: keyof DetectSummary['claims'][number]['measured']) =>
        r.value<DetectSummary>(f, (d) => d.claims[i].measured[k], c.metric === 'loss' ? 'f4' : 'f3');
      out.push({
        id: c.id,
        statement: c.statement,
        paper: c.paper,
        attackType: c.attackType,
        metric: c.metric,
        kind: c.kind,
        margin: c.margin,
        a: v('a'),
        b: v('b'),
        diff: v('diff'),
        lo: v('lo'),
        hi: v('hi'),
        verdict: c.verdict,
      });
    });
  }
  return out;
}

function comparisonsOf(r: SourceReader, plan: ReportPlan, dirs: Record<string, string>): ReportData['comparisons'] {
  const out: ReportData['comparisons'] = [];
  for (const t of plan.tables) {
    if (!t.summary || !dirs[t.summary] || !tableModule(t.kind).comparisons) continue;
    const f = join(dirs[t.summary], SUMMARY_FILE);
    (r.json<DetectSummary>(f).comparisons ?? []).forEach((c, i) => {
      const v = (k: 'diff' | 'lo' | 'hi') => r.value<DetectSummary>(f, (d) => d.comparisons[i][k], 'f3');
      out.push({
        table: t.id,
        attackType: c.attackType,
        a: c.a,
        b: c.b,
        metric: c.metric,
        diff: v('diff'),
        lo: v('lo'),
        hi: v('hi'),
      });
    });
  }
  return out;
}

function claimLine(c: ReportClaim): string {
  return `Claim${c.attackType ? ` (${c.attackType})` : ''}: ${c.statement} Measured ${c.metric === 'loss' ? 'loss difference (bigram − pre-trained)' : `${c.metric.toUpperCase()} difference`} ${formatValue(c.diff)} [${formatValue(c.lo)}, ${formatValue(c.hi)}] (paper: ${c.paper}): **${c.verdict}**.`;
}

// ---------------------------------------------------------------- the whole report

export interface CollectOptions {
  /** Wall time of each stage (the reproduce chain's stage records); none when not given. */
  stages?: StageTime[];
}

/**
 * The report's data from the plan and the finished stage folders (role -> folder). `root` is the
 * folder the Source paths are relative to (the stages folder).
 */
export function collectReport(
  plan: ReportPlan,
  dirs: Record<string, string>,
  root: string,
  opts: CollectOptions = {},
): ReportData {
  const r = new SourceReader(root);
  const need = (role: string | undefined, what: string) => {
    if (!role || !dirs[role])
      throw new Error(`report: ${what} needs the stage '${role ?? '?'}', which is not among the report's inputs`);
    return dirs[role];
  };
  const ctx: CollectContext = { r, plan, dirs, need };
  const dataStatistics: ReportTable[] = [];
  const tables: ReportTable[] = [];
  const figures: ReportFigure[] = [];
  const generation: GenerationReport[] = [];
  /** Headline lines by kind, of the first table of each kind. */
  const headlines = new Map<string, string[]>();
  for (const t of plan.tables) {
    const m = tableModule(t.kind);
    const got = m.collect(ctx, t);
    if ('table' in got) {
      (m.section === 'data' ? dataStatistics : tables).push(got.table);
      if (got.headline && !headlines.has(t.kind)) headlines.set(t.kind, got.headline);
    } else if ('figure' in got) figures.push(got.figure);
    else generation.push(got.generation);
  }
  const claims = claimsOf(r, plan, dirs);
  const curves: CurveGroupData[] = plan.curves.map((g) => ({
    title: g.title,
    curves: g.runs
      .filter((x) => dirs[x.run])
      .map((x) => ({
        label: x.label,
        file: r.rel(join(dirs[x.run], RUN_LOG)),
        points: curvePoints(readRunLog(dirs[x.run])),
      })),
  }));
  return {
    kind: 'netflowgen.report',
    createdBy: `netflowgen ${VERSION}`,
    createdAt: new Date().toISOString(),
    preset: plan.preset,
    dataStatement: dataStatement(r, need(plan.data.source, 'the data statement')),
    comparisonStatement:
      "The paper's numbers come from three months of a large ISP's private NetFlow (6,975 nodes before filtering, 16K alerts of a commercial DDoS defense); they cannot be re-run. Ours run the same method on the data stated above, so compare the shape — which model wins, by how much, where the gaps are — not the digits.",
    sourcesRelativeTo: 'stages',
    dataStatistics,
    tables,
    figures,
    ...(generation.length ? { generation } : {}),
    curves,
    stages: opts.stages ?? [],
    headline: [...claims.map(claimLine), ...TABLES.flatMap((m) => headlines.get(m.kind) ?? [])],
    claims,
    comparisons: comparisonsOf(r, plan, dirs),
    operatingPoints: operatingPoints(r, plan, dirs),
  };
}

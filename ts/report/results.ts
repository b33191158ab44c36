/**
 * The results of a preset's run as small text files committed beside the presets
 * (experiments/results/<preset>.json and .md), so that a change that moves a number shows in the diff:
 * every number of ours in the report (tables, claims), keyed by where it sits, with the commit, date
 * and settings that made it. compareResults() checks a fresh run against a committed file within the
 * tolerances stated here (and in experiments/results/README.md).
 */
import type { ReportData, ReportTable } from './model.js';
import { formatCell } from './model.js';
import { blockMarkdown } from './render.js';
import { tableModule } from './tables/index.js';

export interface PresetResults {
  kind: 'netflowgen.preset-results';
  preset: string;
  /** git commit and date of the code that made them; how the run was started. */
  commit: string;
  date: string;
  /** seconds: wall time of the reproduce command that wrote this (a cached rerun is quick); stageSeconds: the stages' own times, summed (they ran side by side with jobs > 1). */
  run: { threads: number | null; jobs: number; seconds: number; stageSeconds: number };
  /** "table/block/row/column" -> our number (as a number; null where the cell is empty). */
  numbers: Record<string, number | null>;
  claims: {
    id: string;
    attackType: string | null;
    diff: number | null;
    lo: number | null;
    hi: number | null;
    verdict: string;
  }[];
}

/** Every table of ours in the report, in its order: data statistics, results, operating points, generation. */
function tablesOf(d: ReportData): ReportTable[] {
  return [
    ...d.dataStatistics,
    ...d.tables,
    ...(d.operatingPoints ? [d.operatingPoints.table] : []),
    ...(d.generation ?? []).map((g) => g.table),
  ];
}

/**
 * Which keys of resultNumbers(d) come from training or sampling (compareResults' tolerances apply)
 * rather than from the deterministic data stages (exact): the registry's `trained` of each table's
 * kind (tables/index.ts); the operating points and the figures' summaries are trained.
 */
export function trainedKeys(d: ReportData): (key: string) => boolean {
  const kinds = new Map(tablesOf(d).map((t) => [t.id, t.kind]));
  return (key) => {
    const kind = kinds.get(key.split(' / ')[0]);
    return kind === undefined || kind === 'operating-points' || tableModule(kind).trained;
  };
}

/** Every number of ours in the report, keyed by table id, block title, row label and column header. */
export function resultNumbers(d: ReportData): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const t of tablesOf(d))
    t.blocks.forEach((b, bi) => {
      if (b.published) return;
      // Column names: every header row expanded by its colspans, the upper rows' text before the
      // last's ("DNS: NetFlowGen"), as the Markdown rendering folds them; then the data columns.
      const cells = b.rows[0]?.cells.length ?? 0;
      const rows = b.head.map((row) =>
        row.flatMap((h) => Array.from({ length: h.colspan ?? 1 }, () => h.text)).slice(-cells),
      );
      const head = rows[rows.length - 1].map((h, i) =>
        [...new Set([...rows.slice(0, -1).map((r) => r[i]), h])].filter(Boolean).join(': '),
      );
      for (const r of b.rows)
        r.cells.forEach((c, ci) => {
          if (typeof c.ours.v === 'string') return;
          out[[t.id, b.title ?? `block ${bi + 1}`, r.label.join(' '), head[ci] ?? `column ${ci + 1}`].join(' / ')] =
            c.ours.v;
        });
    });
  for (const f of d.figures)
    for (const r of f.summary.rows)
      r.cells.forEach((c, ci) => {
        if (typeof c.ours.v !== 'string')
          out[[f.id, 'summary', r.label.join(' '), f.summary.head[0][ci + 1]?.text ?? `column ${ci + 1}`].join(' / ')] =
            c.ours.v;
      });
  return out;
}

export function presetResults(
  d: ReportData,
  meta: { commit: string; date: string; threads: number | null; jobs: number; seconds: number },
): PresetResults {
  const stageSeconds = Math.round(d.stages.reduce((s, x) => s + x.seconds, 0));
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    kind: 'netflowgen.preset-results',
    preset: d.preset.name,
    commit: meta.commit,
    date: meta.date,
    run: { threads: meta.threads, jobs: meta.jobs, seconds: Math.round(meta.seconds), stageSeconds },
    numbers: resultNumbers(d),
    claims: d.claims.map((c) => ({
      id: c.id,
      attackType: c.attackType,
      diff: num(c.diff.v),
      lo: num(c.lo.v),
      hi: num(c.hi.v),
      verdict: c.verdict,
    })),
  };
}

/** The results as Markdown: how they were made, the claims, every table. */
export function resultsMarkdown(d: ReportData, r: PresetResults): string {
  const parts = [
    `# Results of the ${r.preset} preset\n`,
    `Made by \`netflowgen reproduce --preset ${r.preset}${r.run.jobs > 1 ? ` --jobs ${r.run.jobs}` : ''}${r.run.threads ? ` --threads ${r.run.threads}` : ''} --save-results\` at commit ${r.commit} on ${r.date}; its stages took ${Math.round(r.run.stageSeconds / 60)} min in all${r.run.jobs > 1 ? ` (${r.run.jobs} side by side)` : ''}. Regenerate them the same way after a change that moves results; the diff shows what moved. ${d.preset.description ?? ''}\n`,
  ];
  if (d.claims.length) {
    parts.push('## Claims of the paper\n');
    parts.push('| claim | A − B [95% interval] | verdict |\n| --- | --- | --- |');
    for (const c of d.claims)
      parts.push(
        `| ${c.id}${c.attackType ? ` (${c.attackType})` : ''} | ${formatCell({ ours: c.diff })} [${formatCell({ ours: c.lo })}, ${formatCell({ ours: c.hi })}] | ${c.verdict} |`,
      );
    parts.push('');
  }
  for (const t of tablesOf(d)) {
    parts.push(`## ${t.caption}\n`);
    for (const b of t.blocks) if (!b.published) parts.push(`${b.title ? `*${b.title}*\n\n` : ''}${blockMarkdown(b)}`);
  }
  for (const f of d.figures) parts.push(`## ${f.caption}\n\n${blockMarkdown(f.summary)}`);
  return parts.join('\n');
}

/**
 * Tolerances of compareResults, by the kind of number (the key's row label): counts of the data
 * stages are exact (they are deterministic); a training result may move a little between machines
 * and thread counts (floating-point sums in a different order can flip an example across a
 * threshold: one example of the micro preset's 34 moves F1 by up to about 0.06). Losses, perplexities
 * and parameter counts: 1% relative; shares and F1: 0.07; percentages: 7 points; Table 8's counts of
 * unseen-node examples: 2.
 */
export const RESULT_TOLERANCE = { relative: 0.01, share: 0.07, percent: 7, count: 2 };

/** Differences between a fresh run's results and committed ones, beyond the tolerances; [] when they agree. */
export function compareResults(
  fresh: PresetResults,
  committed: PresetResults,
  trained: (key: string) => boolean,
): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(fresh.numbers), ...Object.keys(committed.numbers)]);
  for (const k of keys) {
    const a = fresh.numbers[k];
    const b = committed.numbers[k];
    if (!(k in fresh.numbers) || !(k in committed.numbers)) {
      out.push(`${k}: ${k in fresh.numbers ? 'not in the committed results' : 'no longer made'}`);
      continue;
    }
    if (a === b) continue;
    if (a === null || b === null) {
      out.push(`${k}: ${a} now, ${b} committed`);
      continue;
    }
    if (!trained(k)) {
      out.push(`${k}: ${a} now, ${b} committed (a data count: must be equal)`);
      continue;
    }
    const count = k.startsWith('table8 ');
    const percent = /Effectiveness|FPR|FNR|budget|effectiveness/.test(k);
    const loss = /Loss|loss|Perplexity|perplexity|Params/.test(k);
    const tol = count
      ? RESULT_TOLERANCE.count
      : loss
        ? RESULT_TOLERANCE.relative * Math.max(Math.abs(a), Math.abs(b))
        : percent
          ? RESULT_TOLERANCE.percent
          : RESULT_TOLERANCE.share;
    if (Math.abs(a - b) > tol + 1e-12) out.push(`${k}: ${a} now, ${b} committed (tolerance ${tol})`);
  }
  return out;
}

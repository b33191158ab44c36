/**
 * Writes the report of a reproduction into a folder:
 *
 *   report.json   every number with the file and JSON pointer it comes from (model.ts)
 *   report.md     Markdown; the plots are the .svg files beside it
 *   report.html   one self-contained page (inline CSS and SVG)
 *   *.svg         Figure 5's violins, the training curves, the operating points, the generation plot
 */
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { budgetSpec, curvesSpec, generationSpec, svgOf, violinSpec } from './charts.js';
import { collectReport, type CollectOptions } from './collect.js';
import type { ReportData } from './model.js';
import type { ReportPlan } from './plan.js';
import { reportHtml, reportMarkdown, type Plot, type RenderedPlots } from './render.js';

export const REPORT_FILES = { json: 'report.json', md: 'report.md', html: 'report.html' };

/** Renders every plot of the report data to SVG. */
export async function renderPlots(d: ReportData): Promise<RenderedPlots> {
  const figures: Record<string, Plot[]> = {};
  for (const f of d.figures) {
    const plots: Plot[] = [];
    if (f.effectiveness.some((s) => s.values.length)) {
      const id = `${f.id}-effectiveness`;
      plots.push({
        id,
        title: `${f.id}: effectiveness (%) per model and overhead bound`,
        svg: await svgOf(
          violinSpec(f.effectiveness, { title: 'effectiveness (%)', extent: [0, 100], bandwidth: 4 }),
          id,
        ),
      });
    }
    if (f.mitigation.some((s) => s.values.length)) {
      const id = `${f.id}-mitigation`;
      const max = Math.max(1, ...f.mitigation.flatMap((s) => s.values));
      plots.push({
        id,
        title: `${f.id}: absolute mitigation time (minutes) of the detected attacks`,
        svg: await svgOf(
          violinSpec(f.mitigation, {
            title: '|mitigation time| (min)',
            extent: [0, Math.ceil(max) + 1],
            bandwidth: Math.max(0.5, max / 30),
          }),
          id,
        ),
      });
    }
    figures[f.id] = plots;
  }
  const curves: Plot[] = [];
  for (const [i, g] of d.curves.entries()) {
    const id = `curves-${i + 1}`;
    curves.push({
      id,
      title: `${g.title}: loss per epoch`,
      svg: await svgOf(curvesSpec(g.curves.filter((c) => c.points.length)), id),
    });
  }
  const operating = d.operatingPoints?.series.length
    ? [
        {
          id: 'operating-points',
          title: 'mean effectiveness against the overhead budget',
          svg: await svgOf(budgetSpec(d.operatingPoints.series), 'operating-points'),
        },
      ]
    : [];
  const generation: Plot[] = [];
  for (const g of d.generation ?? [])
    if (g.plot.length)
      generation.push({
        id: `${g.id}-series`,
        title: `${g.id}: real against sampled bins of ${g.plot.length} node(s), from ${g.plot[0].firstMinute}`,
        svg: await svgOf(generationSpec(g.plot), `${g.id}-series`),
      });
  return { figures, curves, operating, generation };
}

/**
 * Collects the report from finished stage folders (role -> folder) and writes it into `out`; source
 * paths in the report are relative to `root` (default: out's parent, the stages folder); `opts.stages`
 * are the stages' wall times for the report's last section.
 */
export async function writeReport(
  plan: ReportPlan,
  dirs: Record<string, string>,
  out: string,
  root = dirname(out),
  opts: CollectOptions = {},
): Promise<ReportData> {
  const data = collectReport(plan, dirs, root, opts);
  const plots = await renderPlots(data);
  await fsp.mkdir(out, { recursive: true });
  for (const p of [...Object.values(plots.figures).flat(), ...plots.curves, ...plots.operating, ...plots.generation])
    await writeFileAtomic(join(out, `${p.id}.svg`), p.svg);
  await writeFileAtomic(join(out, REPORT_FILES.json), JSON.stringify(data, null, 1) + '\n');
  await writeFileAtomic(join(out, REPORT_FILES.md), reportMarkdown(data, plots));
  await writeFileAtomic(join(out, REPORT_FILES.html), reportHtml(data, plots));
  return data;
}

/**
 * The report as Markdown (plots as SVG files beside it) and as one self-contained HTML page (CSS and
 * SVG inline, no external asset; a short inline script marks each table and plot once the browser
 * has laid it out, which the headless-browser test reads back). Pure functions of the report data
 * and the rendered SVG texts.
 */
import { formatCell, formatValue, type Cell, type ReportData, type ReportTable, type TableBlock } from './model.js';

export interface Plot {
  /** Unique id, also the SVG file's name (id.svg). */
  id: string;
  title: string;
  svg: string;
}

export interface RenderedPlots {
  /** Figure 5's plots, by figure id. */
  figures: Record<string, Plot[]>;
  /** One plot per curve group, in the data's order. */
  curves: Plot[];
  /** The operating-point plot (none without a Table 5 summary). */
  operating: Plot[];
  /** The generation section's plots (real against sampled series), by section id `<id>-series`. */
  generation: Plot[];
}

const GENERATION_TITLE = 'Generation (beyond the paper)';
const GENERATION_INTRO =
  "The paper pre-trains a generative model but never samples from it. Here the preset's pre-trained model samples every minute of a split it did not train on, and its series are set against the real ones, two simple generators and the real-vs-real floor (docs/generate.md).";
const generationPlots = (plots: RenderedPlots, id: string) => plots.generation.filter((p) => p.id === `${id}-series`);

const claimRows = (d: ReportData) =>
  d.claims.map((c) => [
    `${c.statement}${c.attackType ? ` (${c.attackType})` : ''}`,
    c.paper,
    `${formatValue(c.a)} vs ${formatValue(c.b)}`,
    `${formatValue(c.diff)} [${formatValue(c.lo)}, ${formatValue(c.hi)}]`,
    `${c.kind === 'better' ? `A better than B (no difference within ±${c.margin}${c.metric === 'loss' ? ' nats' : ''})` : `A ≥ B − ${c.margin}`}`,
    c.verdict,
  ]);
const comparisonRows = (d: ReportData) =>
  d.comparisons.map((c) => [
    c.table,
    c.attackType ?? 'all',
    `${c.a} − ${c.b}`,
    c.metric.toUpperCase(),
    `${formatValue(c.diff)} [${formatValue(c.lo)}, ${formatValue(c.hi)}]`,
  ]);
const COMPARISON_HEAD = ['Table', 'Attack type', 'A − B', 'Metric', 'Difference [95% interval]'];
const COMPARISONS_INTRO =
  'Every paired difference the tables measured, with the same bootstrap as the claims: the learned models against the simple detectors, and, per attack type in Table 6, NetFlowGen against the others (the paper makes no per-type claim: its own NetFlowGen is behind MS-LSTM on UDP and TF on NTP).';
const CLAIM_HEAD = [
  'Claim of the paper',
  'Paper',
  'Ours (A vs B, mean over seeds)',
  'A − B [95% interval]',
  'Test',
  'Verdict',
];
const CLAIMS_INTRO =
  "Each claim compares two models on the same examples: for detection, the paired difference of their test F1 (A − B), averaged over seeds, with a 95% bootstrap interval over test examples and seeds (seed k of A paired with seed k of B); for Table 4, the bigram's validation loss minus the pre-trained model's, on the same windows, with an interval over windows and pre-training seeds. 'holds': the interval is on the claim's side; 'does not hold': it is on the other side (or, for 'better', within the margin of no difference); 'inconclusive': neither. Thresholds were chosen on calibration splits, never on test.";

// ---------------------------------------------------------------- Markdown

const mdEscape = (s: string) => s.replace(/\|/g, '\\|');

function mdCell(c: Cell, published: boolean): string {
  const ours = formatCell(c);
  if (published) return mdEscape(ours);
  return mdEscape(c.paper !== undefined ? `${ours} / *${c.paper}*` : ours);
}

export function blockMarkdown(b: TableBlock): string {
  const labelCols = b.rows[0]?.label.length ?? 1;
  // Markdown has one header row: the last; groups of an upper row are folded into it ("DNS: NetFlowGen").
  const expand = (row: { text: string; colspan?: number }[]) =>
    row.flatMap((h) => Array.from({ length: h.colspan ?? 1 }, () => h.text));
  const rows = b.head.map(expand);
  const last = rows[rows.length - 1];
  const header = last.map((h, i) => {
    const above = rows
      .slice(0, -1)
      .map((r) => r[i])
      .filter((x) => x && x !== h);
    return [...above, h].filter(Boolean).join(': ');
  });
  while (header.length < labelCols + (b.rows[0]?.cells.length ?? 0)) header.unshift('');
  const lines = [
    `| ${header.map(mdEscape).join(' | ')} |`,
    `| ${header.map((_, i) => (i < labelCols ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const r of b.rows)
    lines.push(`| ${[...r.label.map(mdEscape), ...r.cells.map((c) => mdCell(c, Boolean(b.published)))].join(' | ')} |`);
  return lines.join('\n') + '\n';
}

function tableMarkdown(t: ReportTable): string {
  const parts = [`### ${t.caption}\n`, `${t.note}\n`];
  for (const w of t.warnings) parts.push(`> **Note:** ${w}\n`);
  for (const b of t.blocks) parts.push(`${b.title ? `*${b.title}*\n\n` : ''}${blockMarkdown(b)}`);
  return parts.join('\n');
}

export function reportMarkdown(d: ReportData, plots: RenderedPlots): string {
  const out: string[] = [];
  out.push(`# NetFlowGen reproduction — preset ${d.preset.name}\n`);
  if (d.preset.description) out.push(`${d.preset.description}\n`);
  out.push(`**Data.** ${d.dataStatement}\n`);
  out.push(`**Comparison.** ${d.comparisonStatement}\n`);
  out.push(
    `**How to read the tables.** A cell \`ours / *paper*\` holds our number, then (in italics) the number the paper publishes for the same cell; a cell without a slash has no published counterpart. Tables titled "published in the paper" are the paper's own, typed in from it (ts/report/paper-numbers.ts). Everything else is read from the run's output files, named under each table.\n`,
  );
  if (d.headline.length) out.push(`## Headline\n\n${d.headline.map((h) => `- ${h}`).join('\n')}\n`);
  if (d.claims.length)
    out.push(
      `## Claims of the paper, measured\n\n${CLAIMS_INTRO}\n\n| ${CLAIM_HEAD.join(' | ')} |\n| ${CLAIM_HEAD.map(() => '---').join(' | ')} |\n${claimRows(
        d,
      )
        .map((r) => `| ${r.map(mdEscape).join(' | ')} |`)
        .join('\n')}\n`,
    );
  if (d.comparisons.length)
    out.push(
      `## Paired comparisons (beyond the claims)\n\n${COMPARISONS_INTRO}\n\n| ${COMPARISON_HEAD.join(' | ')} |\n| ${COMPARISON_HEAD.map(() => '---').join(' | ')} |\n${comparisonRows(
        d,
      )
        .map((r) => `| ${r.map(mdEscape).join(' | ')} |`)
        .join('\n')}\n`,
    );
  if (d.dataStatistics.length) out.push(`## Data statistics\n\n${d.dataStatistics.map(tableMarkdown).join('\n')}`);
  if (d.tables.length) out.push(`## Results\n\n${d.tables.map(tableMarkdown).join('\n')}`);
  if (d.operatingPoints) {
    out.push(`## Operating points\n\n${tableMarkdown(d.operatingPoints.table)}`);
    for (const p of plots.operating) out.push(`![${p.title}](${p.id}.svg)\n`);
  }
  for (const f of d.figures) {
    out.push(`## ${f.caption}\n\n${f.note}\n`);
    for (const p of plots.figures[f.id] ?? []) out.push(`![${p.title}](${p.id}.svg)\n`);
    out.push(`*${f.summary.title}*\n\n${blockMarkdown(f.summary)}`);
  }
  if (d.generation?.length) {
    out.push(`## ${GENERATION_TITLE}\n\n${GENERATION_INTRO}\n`);
    for (const g of d.generation) {
      out.push(`### ${g.caption}\n\n${g.note}\n`);
      for (const w of g.table.warnings) out.push(`> **Note:** ${w}\n`);
      for (const b of g.table.blocks) out.push(blockMarkdown(b));
      if (g.verdicts.length) out.push(`${g.verdicts.map((v) => `- ${v}`).join('\n')}\n`);
      for (const p of generationPlots(plots, g.id)) out.push(`![${p.title}](${p.id}.svg)\n`);
    }
  }
  if (d.curves.length) {
    out.push(
      `## Training curves\n\nTraining loss (per logged update, at fractional epochs) and validation loss (end of each epoch) of every model trained for the tables, from each run's run.jsonl.\n`,
    );
    d.curves.forEach((g, i) => {
      const p = plots.curves[i];
      out.push(
        `### ${g.title}\n\n${p ? `![${p.title}](${p.id}.svg)\n` : ''}\nRuns: ${g.curves.map((c) => `${c.label} (${c.file})`).join(', ')}.\n`,
      );
    });
  }
  if (d.stages.length) {
    const total = d.stages.reduce((s, x) => s + x.seconds, 0);
    out.push(
      `## Stages\n\nWall time of each stage when it ran (stages found in the cache keep the time of the run that made them); ${total.toFixed(0)} s in all.\n\n| stage | seconds |\n| --- | ---: |\n${d.stages.map((s) => `| ${mdEscape(s.label)} | ${s.seconds.toFixed(1)} |`).join('\n')}\n`,
    );
  }
  out.push(
    `---\n${d.createdBy}, ${d.createdAt}. Paths are relative to the run's ${d.sourcesRelativeTo}/ folder; report.json holds every number with the file and JSON pointer it was read from.\n`,
  );
  return out.join('\n');
}

// ---------------------------------------------------------------- HTML

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Markdown-ish inline code (`x`) in our prose, as <code>. */
const prose = (s: string) => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');

function htmlCell(c: Cell, published: boolean): string {
  const ours = esc(formatCell(c));
  const src = c.ours.src
    ? ` title="${esc(`${c.ours.src.file} ${c.ours.src.pointer}${c.ours.src.scale ? ` x ${c.ours.src.scale}` : ''}`)}"`
    : '';
  if (published) return `<td class="published">${ours}</td>`;
  return `<td${src}><span class="ours">${ours}</span>${c.paper !== undefined ? `<span class="paper" title="published in the paper">${esc(c.paper)}</span>` : ''}</td>`;
}

function blockHtml(b: TableBlock, tableId: string): string {
  const labelCols = b.rows[0]?.label.length ?? 1;
  const head = b.head
    .map((row, i) => {
      const cells = [...row];
      // The first header cell spans the label columns.
      const first = cells.shift();
      const firstHtml = `<th colspan="${labelCols}">${esc(first?.text ?? '')}</th>`;
      return `<tr>${i === 0 || first ? firstHtml : ''}${cells.map((h) => `<th${h.colspan && h.colspan > 1 ? ` colspan="${h.colspan}"` : ''}>${esc(h.text)}</th>`).join('')}</tr>`;
    })
    .join('');
  const body = b.rows
    .map(
      (r) =>
        `<tr>${r.label.map((l) => `<th scope="row">${esc(l)}</th>`).join('')}${r.cells.map((c) => htmlCell(c, Boolean(b.published))).join('')}</tr>`,
    )
    .join('\n');
  return `${b.title ? `<p class="block-title">${esc(b.title)}</p>` : ''}<table class="report-table${b.published ? ' published-table' : ''}" data-table="${esc(tableId)}"><thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

function tableHtml(t: ReportTable): string {
  return `<section class="table" id="${esc(t.id)}"><h3>${esc(t.caption)}</h3><p class="note">${prose(t.note)}</p>${t.warnings.map((w) => `<p class="warning">${prose(w)}</p>`).join('')}${t.blocks.map((b) => blockHtml(b, t.id)).join('\n')}</section>`;
}

function plotHtml(p: Plot): string {
  return `<figure class="plot" data-plot="${esc(p.id)}">${p.svg.replace(/^<svg /, '<svg role="img" style="max-width:100%;height:auto" ')}<figcaption>${esc(p.title)}</figcaption></figure>`;
}

const CSS = `
body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em;margin-top:1.6em}
code{background:#f4f4f4;padding:0 .2em;border-radius:3px}
.statement{background:#f7f9fc;border-left:4px solid #4c78a8;padding:.6em 1em}
.note{color:#555;font-size:.92em}.warning{color:#8a4b00;background:#fff6e5;padding:.3em .6em;font-size:.92em}
table.report-table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}
table.report-table th,table.report-table td{border:1px solid #ddd;padding:.25em .55em;text-align:right;white-space:nowrap}
table.report-table th[scope=row]{text-align:left;background:#fafafa}
table.report-table thead th{background:#f0f0f0;text-align:center}
td .paper{display:block;color:#888;font-style:italic;font-size:.85em}
td .paper::before{content:"paper "}
table.published-table td{color:#666;font-style:italic}
.block-title{margin:.8em 0 0;font-style:italic;color:#444}
figure.plot{margin:1em 0;overflow-x:auto}figcaption{color:#555;font-size:.9em}
.legend span{display:inline-block;margin-right:1.2em}
`;

/** Marks each table and plot the browser laid out with a size; sums it up on <html>. */
const CHECK_SCRIPT = `
(function(){
  var plots=document.querySelectorAll('figure.plot'), tables=document.querySelectorAll('table.report-table'), okP=0, okT=0;
  plots.forEach(function(f){var s=f.querySelector('svg');var r=s&&s.getBoundingClientRect();var marks=s?s.querySelectorAll('path,rect,line,circle,text').length:0;
    var ok=!!(r&&r.width>0&&r.height>0&&marks>0);f.setAttribute('data-rendered',ok?'yes':'no');if(ok)okP++;});
  tables.forEach(function(t){var r=t.getBoundingClientRect();var ok=r.width>0&&r.height>0&&t.querySelectorAll('tbody tr').length>0;t.setAttribute('data-rendered',ok?'yes':'no');if(ok)okT++;});
  document.documentElement.setAttribute('data-render-check',JSON.stringify({plots:plots.length,plotsRendered:okP,tables:tables.length,tablesRendered:okT}));
})();
`;

export function reportHtml(d: ReportData, plots: RenderedPlots): string {
  const parts: string[] = [];
  parts.push(`<h1>NetFlowGen reproduction — preset ${esc(d.preset.name)}</h1>`);
  if (d.preset.description) parts.push(`<p>${prose(d.preset.description)}</p>`);
  parts.push(
    `<div class="statement"><p><strong>Data.</strong> ${prose(d.dataStatement)}</p><p><strong>Comparison.</strong> ${prose(d.comparisonStatement)}</p>`,
  );
  parts.push(
    `<p><strong>How to read the tables.</strong> Each cell holds our number and, below it in grey italics after “paper”, the number the paper publishes for the same cell, where it has one. Tables titled “published in the paper” are the paper's own (typed in from it: ts/report/paper-numbers.ts). Everything else is read from the run's output files, named under each table; hover a number to see its file and JSON pointer.</p></div>`,
  );
  if (d.headline.length)
    parts.push(`<h2>Headline</h2><ul>${d.headline.map((h) => `<li>${prose(h)}</li>`).join('')}</ul>`);
  if (d.claims.length)
    parts.push(
      `<h2>Claims of the paper, measured</h2><p class="note">${prose(CLAIMS_INTRO)}</p><table class="report-table" data-table="claims"><thead><tr>${CLAIM_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${claimRows(
        d,
      )
        .map(
          (r) =>
            `<tr><th scope="row">${esc(r[0])}</th>${r
              .slice(1)
              .map((x, i) => `<td${i === r.length - 2 ? ` class="verdict"` : ''}>${esc(x)}</td>`)
              .join('')}</tr>`,
        )
        .join('\n')}</tbody></table>`,
    );
  if (d.comparisons.length)
    parts.push(
      `<h2>Paired comparisons (beyond the claims)</h2><p class="note">${prose(COMPARISONS_INTRO)}</p><table class="report-table" data-table="comparisons"><thead><tr>${COMPARISON_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${comparisonRows(
        d,
      )
        .map(
          (r) =>
            `<tr><th scope="row">${esc(r[0])}</th>${r
              .slice(1)
              .map((x) => `<td>${esc(x)}</td>`)
              .join('')}</tr>`,
        )
        .join('\n')}</tbody></table>`,
    );
  if (d.dataStatistics.length) parts.push(`<h2>Data statistics</h2>${d.dataStatistics.map(tableHtml).join('\n')}`);
  if (d.tables.length) parts.push(`<h2>Results</h2>${d.tables.map(tableHtml).join('\n')}`);
  if (d.operatingPoints)
    parts.push(
      `<h2>Operating points</h2>${tableHtml(d.operatingPoints.table)}${plots.operating.map(plotHtml).join('')}`,
    );
  for (const f of d.figures) {
    parts.push(
      `<section class="figure" id="${esc(f.id)}"><h2>${esc(f.caption)}</h2><p class="note">${prose(f.note)}</p>`,
    );
    for (const p of plots.figures[f.id] ?? []) parts.push(plotHtml(p));
    parts.push(`${blockHtml(f.summary, f.id)}</section>`);
  }
  if (d.generation?.length) {
    parts.push(`<h2>${esc(GENERATION_TITLE)}</h2><p class="note">${prose(GENERATION_INTRO)}</p>`);
    for (const g of d.generation)
      parts.push(
        `<section class="generation" id="${esc(g.id)}"><h3>${esc(g.caption)}</h3><p class="note">${prose(g.note)}</p>${g.table.warnings.map((w) => `<p class="warning">${prose(w)}</p>`).join('')}${g.table.blocks.map((b) => blockHtml(b, g.id)).join('\n')}${g.verdicts.length ? `<ul>${g.verdicts.map((v) => `<li>${prose(v)}</li>`).join('')}</ul>` : ''}${generationPlots(plots, g.id).map(plotHtml).join('')}</section>`,
      );
  }
  if (d.curves.length) {
    parts.push(
      `<h2>Training curves</h2><p class="note">Training loss (per logged update, at fractional epochs, blue) and validation loss (end of each epoch, red) of every model trained for the tables, from each run's run.jsonl.</p>`,
    );
    d.curves.forEach((g, i) => {
      const p = plots.curves[i];
      parts.push(
        `<section class="curves"><h3>${esc(g.title)}</h3>${p ? plotHtml(p) : ''}<p class="note">${g.curves.map((c) => `${esc(c.label)}: ${esc(c.file)}`).join('; ')}</p></section>`,
      );
    });
  }
  if (d.stages.length) {
    const total = d.stages.reduce((s, x) => s + x.seconds, 0);
    parts.push(
      `<h2>Stages</h2><p class="note">Wall time of each stage when it ran (cached stages keep the time of the run that made them); ${total.toFixed(0)} s in all.</p><table class="report-table" data-table="stages"><thead><tr><th>stage</th><th>seconds</th></tr></thead><tbody>${d.stages.map((s) => `<tr><th scope="row">${esc(s.label)}</th><td>${s.seconds.toFixed(1)}</td></tr>`).join('')}</tbody></table>`,
    );
  }
  parts.push(
    `<hr><p class="note">${esc(d.createdBy)}, ${esc(d.createdAt)}. Paths are relative to the run's ${esc(d.sourcesRelativeTo)}/ folder; report.json holds every number with the file and JSON pointer it was read from.</p>`,
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>NetFlowGen reproduction — ${esc(d.preset.name)}</title>
<style>${CSS}</style></head>
<body>
${parts.join('\n')}
<script>${CHECK_SCRIPT}</script>
</body></html>
`;
}

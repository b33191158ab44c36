/**
 * The report as data (report.json): tables laid out like the paper's, each of our numbers with the
 * file and JSON pointer it comes from, the paper's published number beside it where the layouts
 * match; the figures' data; the training curves. The Markdown and HTML pages are renderings of this.
 */

/** How a number prints. pct: the value is already in percent. */
export type Fmt = 'int' | 'f2' | 'f3' | 'f4' | 'pct' | 'params' | 'text' | 'bound';

/** Where one of our numbers comes from: a JSON file (relative to the stages folder) and a pointer in it; value = scale x that. */
export interface Source {
  file: string;
  pointer: string;
  scale?: number;
}

export interface Value {
  v: number | string | null;
  fmt: Fmt;
  src?: Source;
}

export interface Cell {
  ours: Value;
  /** Over seeds: the sd and the 95% bootstrap interval (examples and seeds) of `ours`, a mean. */
  spread?: { sd: Value; lo: Value; hi: Value };
  /** The paper's published number, as printed there (absent where the paper has none). */
  paper?: string;
}

export interface HeadCell {
  text: string;
  colspan?: number;
}

export interface TableRow {
  /** Row header cells (one or more columns on the left). */
  label: string[];
  cells: Cell[];
}

export interface TableBlock {
  /** Sub-title: e.g. "validation split", or "published in the paper". */
  title?: string;
  /** Header rows; the first covers the label columns too. */
  head: HeadCell[][];
  rows: TableRow[];
  /** True when the block is the paper's own table (every cell's ours is the paper's number). */
  published?: boolean;
}

export interface ReportTable {
  id: string;
  kind: string;
  caption: string;
  /** Where the numbers come from, in plain words. */
  note: string;
  blocks: TableBlock[];
  /** Something missing (a model that did not train, an empty split), said plainly. */
  warnings: string[];
}

export interface ViolinSeries {
  model: string;
  bound: number;
  values: number[];
  src: Source;
}

export interface ReportFigure {
  id: string;
  caption: string;
  note: string;
  /** Effectiveness (percent) of each attack example, per model and bound. */
  effectiveness: ViolinSeries[];
  /** |mitigation time| (minutes) of each detected attack, per model and bound. */
  mitigation: ViolinSeries[];
  summary: TableBlock;
}

/** A series of the generation plot: one generator's (or the real) bins of one node, minute by minute. */
export interface GenerationLine {
  label: string;
  bins: number[];
  src: Source;
}

/**
 * The generation section (beyond the paper): the sampled series of the pre-trained model against the
 * real ones of a split it did not train on, the baselines and the real-vs-real floor
 * (netflowgen evaluate-generation's generation.json), and a few nodes' series for the plot.
 */
export interface GenerationReport {
  id: string;
  caption: string;
  note: string;
  /** The metrics, one row per generator. */
  table: ReportTable;
  /** Per model: does it beat the baselines, and how far is its mean JSD from the floor's. */
  verdicts: string[];
  /** A few nodes: the real bins and each generator's, over the first minutes of the span. */
  plot: { node: string; feature: string; firstMinute: string; lines: GenerationLine[] }[];
}

export interface CurvePoint {
  /** Epoch, fractional for train_inner records (fairseq's epoch + position in it). */
  x: number;
  loss: number;
  series: 'train' | 'valid';
}

export interface Curve {
  label: string;
  /** run.jsonl, relative to the stages folder. */
  file: string;
  points: CurvePoint[];
}

export interface CurveGroupData {
  title: string;
  curves: Curve[];
}

export interface StageTime {
  id: string;
  label: string;
  seconds: number;
}

export interface ReportData {
  kind: 'netflowgen.report';
  createdBy: string;
  createdAt: string;
  preset: { name: string; description?: string; expected?: string };
  /** Plain statement of the data our numbers come from. */
  dataStatement: string;
  /** What the reader should take from the comparison (the paper's data is private). */
  comparisonStatement: string;
  /** Paths in Source.file are relative to this folder. */
  sourcesRelativeTo: string;
  dataStatistics: ReportTable[];
  tables: ReportTable[];
  figures: ReportFigure[];
  /** Sampling from the pre-trained model (beyond the paper); absent when no table asks for it. */
  generation?: GenerationReport[];
  curves: CurveGroupData[];
  stages: StageTime[];
  /** Headline rows, for a summary at the top. */
  headline: string[];
  /** The paper's claims with the measured paired difference, its 95% interval and a verdict. */
  claims: ReportClaim[];
  /** Every paired difference the tables' summaries measured (claims or not): learned models against the simple detectors, per type in Table 6. */
  comparisons: {
    table: string;
    attackType: string | null;
    a: string;
    b: string;
    metric: string;
    diff: Value;
    lo: Value;
    hi: Value;
  }[];
  /** Effectiveness against the overhead budget at each bound (Table 5's models, tau on calibration). */
  operatingPoints: {
    table: ReportTable;
    series: { model: string; bound: number; budget: number; effectiveness: number }[];
  } | null;
}

export interface ReportClaim {
  id: string;
  statement: string;
  paper: string;
  attackType: string | null;
  metric: string;
  kind: 'better' | 'not worse';
  margin: number;
  a: Value;
  b: Value;
  diff: Value;
  lo: Value;
  hi: Value;
  verdict: 'holds' | 'does not hold' | 'inconclusive';
}

/** Our number as printed. */
export function formatValue(v: Value): string {
  const x = v.v;
  if (x === null || x === undefined) return '-';
  if (typeof x === 'string') return x;
  if (!Number.isFinite(x)) return String(x);
  switch (v.fmt) {
    case 'int':
      return Math.round(x).toLocaleString('en-US');
    case 'f2':
    case 'pct':
      return x.toFixed(2);
    case 'f3':
      return x.toFixed(3);
    case 'f4':
      return x.toFixed(4);
    case 'bound':
      return `${Math.round(x * 1000) / 10}%`;
    case 'params':
      return x >= 1e6
        ? `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M`
        : x >= 1e3
          ? `${(x / 1e3).toFixed(x >= 1e4 ? 0 : 1)}K`
          : String(x);
    case 'text':
      return String(x);
  }
}

/** A cell's own text: the value, and "± sd [lo, hi]" when it is a mean over seeds. */
export function formatCell(c: Cell): string {
  const ours = formatValue(c.ours);
  if (!c.spread || c.ours.v === null) return ours;
  const sd = c.spread.sd.v === null ? '' : ` ± ${formatValue(c.spread.sd)}`;
  const ci =
    c.spread.lo.v === null || c.spread.hi.v === null
      ? ''
      : ` [${formatValue(c.spread.lo)}, ${formatValue(c.spread.hi)}]`;
  return `${ours}${sd}${ci}`;
}

export const text = (s: string): Cell => ({ ours: { v: s, fmt: 'text' } });

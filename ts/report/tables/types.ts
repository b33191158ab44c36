/**
 * The contract of a table or figure of the report: one module per table (ts/report/tables/*.ts),
 * registered in tables/index.ts, which the report (collect.ts), `reproduce --save-results`
 * (results.ts), the plan (plan.ts) and the reproduce chain (ts/reproduce/chain.ts) read. A module
 * says what it needs from the chain (`chain`: the recipe of stages that makes its inputs), how it
 * collects its numbers from those stages' files (`collect`, through the writers' own file names and
 * types), and carries the paper's published numbers for it.
 */
import { join } from 'node:path';
import type { SourceReader } from '../source.js';
import type { GenerationReport, ReportFigure, ReportTable } from '../model.js';
import type { PlannedTable, ReportPlan } from '../plan.js';

/**
 * The stages a table needs, by recipe (ts/reproduce/chain.ts makes them):
 *  - data: source, serialize, bin (always made);
 *  - detect-data: also the EarlyDetect dataset;
 *  - pretrain-evaluation: a pre-trained model, the bigram baseline, evaluate-pretrain, the pre-training summary;
 *  - sweep: one pre-training per point of the preset's size sweep;
 *  - detection: each shown model fine-tuned (or a simple detector) and evaluated, per seed, and a summary;
 *  - detection-per-type: the same per attack type of the data;
 *  - generation: a pre-trained model sampled against a split it did not train on (evaluate-generation).
 */
export type ChainRecipe =
  'data' | 'detect-data' | 'pretrain-evaluation' | 'sweep' | 'detection' | 'detection-per-type' | 'generation';

/** What collect reads: the stage folders by role, the plan, and the file reader. */
export interface CollectContext {
  r: SourceReader;
  plan: ReportPlan;
  dirs: Record<string, string>;
  /** The folder of a role, or an error naming the table that needs it. */
  need(role: string | undefined, what: string): string;
}

export type Collected =
  { table: ReportTable; headline?: string[] } | { figure: ReportFigure } | { generation: GenerationReport };

export interface TableModule<K extends string = string> {
  /** The table specs' `kind` (experiments/tables/*.json; schemas/reproduce-table.schema.json lists the same). */
  kind: K;
  /** Where the report sets it: data statistics, results, figures, or the generation section. */
  section: 'data' | 'results' | 'figures' | 'generation';
  chain: ChainRecipe;
  /**
   * Its numbers come from training or sampling (they may move a little between machines and thread
   * counts), not only from the deterministic data stages (exact counts): compareResults' tolerances.
   */
  trained: boolean;
  /** It reads a summary stage over the seeds (detection recipes; Table 4 has its own). */
  summary?: boolean;
  /** The paired comparisons of its summary are listed in the report (not for Figure 5: Table 5's again). */
  comparisons?: boolean;
  /** The paper's published numbers for it, as printed there (absent where the paper has none). */
  paper?: unknown;
  collect(ctx: CollectContext, t: PlannedTable): Collected;
}

/** The paper the published numbers come from. */
export const PAPER_SOURCE = 'NetFlowGen paper (private ISP NetFlow, 3 months, 16K alerts)';

/**
 * A table of the data section (Tables 1, 2, 7): exact counts, no training; its numbers come from one
 * file (`file`) of the data stage the plan names (`stage`), handed to `collect` parsed, with its path.
 */
export function dataTable<K extends string, D>(
  m: { kind: K; chain: ChainRecipe; paper: unknown; stage: (plan: ReportPlan) => string | undefined; file: string },
  collect: (doc: D, path: string, ctx: CollectContext, t: PlannedTable) => Collected,
): TableModule<K> {
  return {
    kind: m.kind,
    section: 'data',
    chain: m.chain,
    trained: false,
    paper: m.paper,
    collect(ctx, t) {
      const path = join(ctx.need(m.stage(ctx.plan), t.id), m.file);
      return collect(ctx.r.json<D>(path), path, ctx, t);
    },
  };
}

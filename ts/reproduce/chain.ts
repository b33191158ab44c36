/**
 * The chain of `netflowgen reproduce`, as stages of the graph (graph.ts), from a preset and the table
 * specs it lists:
 *
 *   source (synth | ingest) -> serialize -> bin -> detect-dataset                              chain/data.ts
 *                                          bin -> baseline
 *                                          bin -> pretrain:<name> -> evaluate-pretrain:<name>   (Table 4)   chain/pretrain.ts
 *                                          bin -> size:<point>                                   (Table 10)
 *        detect-dataset (+ pretrain:<name>) -> finetune:<model> -> evaluate-detect:<model>     (Tables 5, 6, 8, 9, Figure 5)   chain/detection.ts
 *                                 bin, pretrain:<name> -> evaluate-generation:<name>           (generation)   chain/generation.ts
 *                                     everything a table reads -> report
 *
 * Which stages a table needs is its module's `chain` recipe in the report's table registry
 * (ts/report/tables/). Only the stages the chosen tables need are made. Each stage's config is what
 * decides its output: the resolved spec without its name, description and paths (inputs come in
 * through their hashes). The functions called are the library's own (the same the CLI commands call);
 * nothing is shelled out but the Python training and scoring those functions run.
 */
import { writeReport } from '../report/write.js';
import type { StageTime } from '../report/model.js';
import type { PlannedTable, ReportPlan } from '../report/plan.js';
import { tableModule } from '../report/tables/index.js';
import type { OverrideLayer } from '../config/compose.js';
import { createBuilder } from './chain/builder.js';
import { addDataStages } from './chain/data.js';
import { detectionRecipes } from './chain/detection.js';
import { generationTable } from './chain/generation.js';
import { pretrainEvaluationTable, sweepTable } from './chain/pretrain.js';
import type { Preset, TableSpec } from './config.js';
import { readStageRecord, type StageSpec } from './graph.js';

export interface ChainOptions {
  preset: Preset;
  /** The tables to make (selectTables). */
  tables: TableSpec[];
  /** Every table of the preset: the detection bounds are their union, so --only does not change them. */
  allTables: TableSpec[];
  /** OMP threads of the Python children (default: theirs). */
  threads?: number;
  /** Check each training command with fairseq's parser first (slower; default false). */
  check?: boolean;
  /** Layers laid over every pre-training and fine-tuning spec (--device, --bf16 ...). */
  trainOverrides?: OverrideLayer[];
}

/** Stage versions: raise one when its code changes what the stage writes. */
const V = {
  source: 1,
  serialize: 1,
  bin: 1,
  detect: 2,
  baseline: 2,
  pretrain: 1,
  evaluatePretrain: 1,
  finetune: 2,
  evaluateDetect: 5,
  detector: 1,
  summary: 5,
  evaluateGeneration: 2, // 2: generation.md says n/a, not 'not met', for a floor JSD of 0
  report: 5,
};
export type StageVersions = typeof V;

export { SUMMARY_FILE } from '../evaluate/summary.js';
export { EVALUATION_FILE } from '../evaluate/evaluate.js';

/** Wall time of each finished stage from its record (stages sharing a folder ran once), in the folders' order. */
export function stageTimes(dirs: Record<string, string>): StageTime[] {
  const out: StageTime[] = [];
  const seen = new Set<string>();
  for (const [id, dir] of Object.entries(dirs)) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    const s = readStageRecord(dir);
    if (s) out.push({ id, label: s.label, seconds: s.seconds });
  }
  return out;
}

export function buildChain(opts: ChainOptions): { stages: StageSpec[]; report: ReportPlan } {
  const { preset, tables } = opts;
  const b = createBuilder(opts, V);
  addDataStages(
    b,
    tables.some((t) => tableModule(t.kind).chain.startsWith('detect')),
  );
  const detection = detectionRecipes(b);
  const planned: PlannedTable[] = [];
  for (const t of tables) {
    const base: PlannedTable = {
      id: t.id,
      kind: t.kind,
      caption: t.caption,
      ...(t.description ? { description: t.description } : {}),
    };
    const m = tableModule(t.kind);
    switch (m.chain) {
      case 'data':
      case 'detect-data':
        planned.push(base);
        break;
      case 'pretrain-evaluation':
        planned.push(pretrainEvaluationTable(b, t, base));
        break;
      case 'sweep':
        planned.push(sweepTable(b, base));
        break;
      case 'detection-per-type':
        planned.push(detection.perType(t, base));
        break;
      case 'detection':
        planned.push(detection.allTypes(t, base, Boolean(m.summary)));
        break;
      case 'generation':
        planned.push(generationTable(b, t, base));
        break;
    }
  }

  // ---- training curves: every training stage the tables use, grouped
  const label = (id: string) => id.replace(/^[a-z-]+:/, '');
  const ids = [...b.stages.keys()];
  const curves = [
    {
      title: 'Pre-training',
      runs: ids.filter((i) => i.startsWith('pretrain:')).map((i) => ({ label: label(i), run: i })),
    },
    {
      title: 'Model sizes (Table 10)',
      runs: ids.filter((i) => i.startsWith('size:')).map((i) => ({ label: label(i), run: i })),
    },
    // first seed of each fine-tuning (the others train the same way)
    {
      title: 'Fine-tuning (SAFE loss, first seed)',
      runs: ids.filter((i) => i.startsWith('finetune:') && !i.includes('#s')).map((i) => ({ label: label(i), run: i })),
    },
  ].filter((g) => g.runs.length);

  const report: ReportPlan = {
    preset: {
      name: preset.name,
      ...(preset.description ? { description: preset.description } : {}),
      ...(preset.expected ? { expected: preset.expected } : {}),
    },
    data: { source: 'source', store: 'serialize', bin: 'bin', ...(b.stages.has('detect') ? { detect: 'detect' } : {}) },
    tables: planned,
    curves,
  };
  const reportInputs = Object.fromEntries(ids.map((id) => [id, id]));
  b.add({
    id: 'report',
    kind: 'report',
    label: 'report: Markdown and HTML',
    version: V.report,
    config: report,
    inputs: reportInputs,
    run: async (ctx) => {
      const dirs = Object.fromEntries(ids.map((id) => [id, ctx.input(id)]));
      await writeReport(report, dirs, ctx.dir, undefined, { stages: stageTimes(dirs) });
    },
  });
  return { stages: [...b.stages.values()], report };
}

/**
 * What the report is made of: the report stage's config, written by the chain (ts/reproduce/chain.ts).
 * It names, for every table and figure, the stages whose outputs it reads, by their role among the
 * report stage's inputs. Plain JSON: it is hashed with the rest of the stage's config.
 */
import type { TableKind } from './tables/index.js';

/** The tables and figures the report knows how to lay out: the kinds of the registry (tables/index.ts). */
export type { TableKind };

export interface PlannedModel {
  /** The model's name in the table (the table spec's). */
  name: string;
  group?: string;
  /** Role of its evaluate-detect stage. */
  evaluation: string;
  /** Role of its finetune stage (training curves). */
  run: string;
  attackType?: string;
  /** Every seed's stages (the first is evaluation/run above). */
  replicates?: { seed: number; pretrainSeed?: number; evaluation: string; run: string }[];
  /** A simple detector (not in the paper): no training. */
  detector?: boolean;
}

export interface PlannedSizePoint {
  label: string;
  /** Role of the point's pretrain stage (its first pre-training seed). */
  run: string;
  /** One pretrain stage per pre-training seed of the preset (seeds.pretrain), the first is `run`. */
  replicates?: { seed: number; run: string }[];
  arch: string;
  sizes: { layers: number; heads: number; width: number; ffn: number };
  learning_rate: number;
  dropout: number;
}

export interface PlannedTable {
  id: string;
  kind: TableKind;
  caption: string;
  description?: string;
  /** table4: role of the evaluate-pretrain stage, and the splits shown. */
  evaluation?: string;
  splits?: ('valid' | 'test')[];
  /** table10: the sweep's points. */
  points?: PlannedSizePoint[];
  /** Detection tables and Figure 5. */
  models?: PlannedModel[];
  /** Role of the table's detect-summary stage (mean, sd, intervals over seeds; claims). */
  summary?: string;
  bound?: number;
  bounds?: number[];
  split?: 'valid' | 'test';
  unseenSplits?: ('valid' | 'test')[];
  /** table6: attack types of the spec that the data does not have. */
  leftOut?: string[];
  /** generation: role of the evaluate-generation stage. */
  generation?: string;
}

export interface CurveGroup {
  title: string;
  runs: { label: string; run: string }[];
}

export interface ReportPlan {
  preset: { name: string; description?: string; expected?: string };
  /** Roles of the data stages (absent when the chain did not need them). */
  data: { source: string; store?: string; bin?: string; detect?: string };
  tables: PlannedTable[];
  curves: CurveGroup[];
}

/**
 * THE TABLE REGISTRY: every table and figure the report can make, one module each. To add one, write
 * its module (tables/types.ts: what it needs from the chain, how it collects its numbers, the paper's
 * numbers) and list it here; add its kind to schemas/reproduce-table.schema.json (a test checks they
 * agree) and a table spec to experiments/tables/. The order is the headline's.
 */
import { figure5 } from './figure5.js';
import { generation } from './generation.js';
import { table1 } from './table1.js';
import { table10 } from './table10.js';
import { table2 } from './table2.js';
import { table4 } from './table4.js';
import { table5 } from './table5.js';
import { table6 } from './table6.js';
import { table7 } from './table7.js';
import { table8 } from './table8.js';
import { table9 } from './table9.js';
import type { ChainRecipe, TableModule } from './types.js';

export const TABLES = [
  table1,
  table2,
  table7,
  table4,
  table5,
  table6,
  table8,
  table9,
  table10,
  figure5,
  generation,
] as const;

/** The tables and figures the report knows how to lay out (the table specs' `kind`). */
export type TableKind = (typeof TABLES)[number]['kind'];

export const TABLE_KINDS: readonly TableKind[] = TABLES.map((t) => t.kind);

/** The module of a kind; an unknown kind is an error naming the known ones. */
export function tableModule(kind: string): TableModule {
  const m = (TABLES as readonly TableModule[]).find((t) => t.kind === kind);
  if (!m) throw new Error(`report: no table kind '${kind}' (known: ${TABLE_KINDS.join(', ')})`);
  return m;
}

/** The recipe of stages a kind needs from the reproduce chain. */
export const chainRecipe = (kind: string): ChainRecipe => tableModule(kind).chain;

export type { ChainRecipe, CollectContext, Collected, TableModule } from './types.js';
export { PAPER_SOURCE } from './types.js';

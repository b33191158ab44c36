/**
 * The two pre-training tables of the paper, as JSON rows and Markdown:
 *   Table 10: one row per sweep point: configuration, parameters, best validation loss, accuracy, perplexity;
 *   Table 4:  the pre-trained model against the bigram baseline: loss, perplexity, accuracy per split.
 * Pure functions over results already on disk.
 */
import type { RunResult } from './run.js';
import { archLabel, shortNumber } from './spec.js';

/** A Markdown table; numbers are formatted by the caller. */
export function markdownTable(headers: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const a = align ?? headers.map((_, i) => (i === 0 ? 'l' : 'r'));
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const width = headers.map((_, c) => Math.max(3, ...cells.map((r) => r[c].length)));
  const line = (r: string[]) =>
    `| ${r.map((v, c) => (a[c] === 'r' ? v.padStart(width[c]) : v.padEnd(width[c]))).join(' | ')} |`;
  const rule = `| ${width.map((w, c) => (a[c] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n') + '\n';
}

const fixed = (x: number | null | undefined, d = 4) =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d);

// ---------------------------------------------------------------- Table 10

export interface Table10Row {
  /** Sweep point label (its run folder). */
  run: string;
  /** layers-heads-width-ffn */
  config: string;
  arch: string;
  learning_rate: number;
  dropout: number;
  params: number | null;
  best_valid_loss: number | null;
  best_valid_acc: number | null;
  best_valid_ppl: number | null;
  best_epoch: number | null;
  epochs: number | null;
  /** 'done', or why there is no result: 'not run', 'unfinished' (a checkpoint but no result), 'different spec'. */
  status: string;
}

export function table10Row(
  run: string,
  point: {
    arch: string;
    learning_rate: number;
    dropout: number;
    sizes: { layers: number; heads: number; width: number; ffn: number };
  },
  result: RunResult | undefined,
  status: string,
  params: number | null,
): Table10Row {
  const s = point.sizes;
  return {
    run,
    config: `${s.layers}-${s.heads}-${s.width}-${s.ffn}`,
    arch: point.arch,
    learning_rate: point.learning_rate,
    dropout: point.dropout,
    params: result?.params?.total ?? params,
    best_valid_loss: result?.best?.loss ?? null,
    best_valid_acc: result?.best?.acc ?? null,
    best_valid_ppl: result?.best?.ppl ?? null,
    best_epoch: result?.best?.epoch ?? null,
    epochs: result?.epochs ?? null,
    status,
  };
}

export function table10Markdown(rows: Table10Row[]): string {
  return markdownTable(
    ['Config', 'LR', 'Dropout', '# of Params.', 'Best valid loss', 'Accuracy', 'Perplexity', 'Epochs', 'Status'],
    rows.map((r) => [
      archLabel(r.arch) === r.config ? r.config : `${r.config} (${archLabel(r.arch)})`,
      shortNumber(r.learning_rate),
      String(r.dropout),
      r.params === null ? '-' : r.params.toLocaleString('en-US'),
      fixed(r.best_valid_loss),
      fixed(r.best_valid_acc),
      fixed(r.best_valid_ppl),
      r.epochs === null ? '-' : String(r.epochs),
      r.status,
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

// ---------------------------------------------------------------- Table 4

/** Loss (nats per predicted step and feature), perplexity, accuracy, and accuracy per feature group. */
export interface SplitMetrics {
  loss: number;
  ppl: number;
  acc: number;
  groups?: Record<string, number>;
}

export interface Table4Row {
  model: string;
  split: string;
  loss: number;
  ppl: number;
  acc: number;
  /** Accuracy per feature group, where known. */
  groups: Record<string, number>;
  source: string;
}

/** score.json of python/score.py -> metrics (acc_<group> keys become groups). */
export function scoreMetrics(score: Record<string, unknown>): SplitMetrics {
  const groups: Record<string, number> = {};
  for (const [k, v] of Object.entries(score)) if (k.startsWith('acc_') && typeof v === 'number') groups[k.slice(4)] = v;
  return {
    loss: Number(score.loss),
    ppl: Number(score.ppl ?? Math.exp(Number(score.loss))),
    acc: Number(score.acc),
    groups,
  };
}

/**
 * A bigram result of `netflowgen baseline` (ts/baseline/run.ts: loss, perplexity, accuracy, groups)
 * -> metrics. `group` picks one feature group's metrics instead of the overall ones (a light model,
 * 6 volume features, is compared with the bigram on those features only).
 */
export function bigramMetrics(result: Record<string, unknown>, group?: string): SplitMetrics {
  const groups = (result.groups ?? {}) as Record<
    string,
    { loss: number; perplexity?: number; ppl?: number; accuracy?: number; acc?: number }
  >;
  const pick = (m: Record<string, unknown>): SplitMetrics => {
    const loss = Number(m.loss);
    return { loss, ppl: Number(m.perplexity ?? m.ppl ?? Math.exp(loss)), acc: Number(m.accuracy ?? m.acc) };
  };
  if (group) {
    const g = groups[group];
    if (!g) throw new Error(`the bigram result has no '${group}' group`);
    return { ...pick(g as Record<string, unknown>), groups: { [group]: Number(g.accuracy ?? g.acc) } };
  }
  return {
    ...pick(result),
    groups: Object.fromEntries(Object.entries(groups).map(([k, g]) => [k, Number(g.accuracy ?? g.acc)])),
  };
}

export function table4Row(model: string, split: string, m: SplitMetrics, source: string): Table4Row {
  return { model, split, loss: m.loss, ppl: m.ppl, acc: m.acc, groups: m.groups ?? {}, source };
}

export function table4Markdown(rows: Table4Row[]): string {
  const groups = [...new Set(rows.flatMap((r) => Object.keys(r.groups)))];
  return markdownTable(
    ['Model', 'Split', 'Loss', 'PPL', 'Acc', ...groups.map((g) => `Acc ${g}`)],
    rows.map((r) => [
      r.model,
      r.split,
      fixed(r.loss),
      fixed(r.ppl),
      fixed(r.acc),
      ...groups.map((g) => fixed(r.groups[g])),
    ]),
    ['l', 'l', 'r', 'r', 'r', ...groups.map(() => 'r' as const)],
  );
}

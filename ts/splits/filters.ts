/**
 * Node and customer filters (SPEC §2): drop listed customers, drop nodes below an activity threshold,
 * keep the top-K nodes. Measured on the training split only. Pure.
 */

/** Training-split activity of one node. */
export interface NodeActivity {
  /** Minutes with any non-zero value in any store column. */
  activeMinutes: number;
  /** Minutes measured (the training split's length). */
  minutes: number;
  /** Incoming plus outgoing bytes (in.byt + out.byt; the sum of all columns when the store lacks them). */
  bytes: number;
}

/** Activity of a node block (minute-major, `stride` columns) over minutes [from, to). */
export function nodeActivity(
  series: Float32Array,
  stride: number,
  from: number,
  to: number,
  byteCols: readonly number[],
): NodeActivity {
  let active = 0;
  let bytes = 0;
  const cols = byteCols.length ? byteCols : Array.from({ length: stride }, (_, c) => c);
  for (let t = from; t < to; t++) {
    const row = t * stride;
    let any = false;
    for (let c = 0; c < stride; c++)
      if (series[row + c] !== 0) {
        any = true;
        break;
      }
    if (any) {
      active++;
      for (const c of cols) bytes += series[row + c];
    }
  }
  return { activeMinutes: active, minutes: to - from, bytes };
}

export interface FilterOptions {
  /** Drop nodes whose share of active training minutes is below this (0..1). Default 0: keep all. */
  minActive?: number;
  /** Customers dropped with all their nodes (the paper's dominant customer and its associates). */
  excludeCustomers?: readonly string[];
  /** Keep at most this many nodes: the ones with the most training bytes. */
  topK?: number;
}

export type DropReason = 'excluded_customer' | 'inactive' | 'top_k';

export interface NodeSelection {
  /** Store indices of the kept nodes, in store order. */
  kept: number[];
  /** Why each other node was dropped (store index -> reason). */
  dropped: Map<number, DropReason>;
}

/**
 * Applies the filters in order: excluded customers, activity threshold (a node with no active
 * training minute is always dropped as inactive), then top-K by training bytes (ties: store order).
 */
export function selectNodes(
  customers: readonly string[],
  activity: readonly NodeActivity[],
  opts: FilterOptions = {},
): NodeSelection {
  if (customers.length !== activity.length)
    throw new Error(`selectNodes: ${customers.length} nodes but ${activity.length} activity records`);
  const minActive = opts.minActive ?? 0;
  if (!(minActive >= 0 && minActive <= 1)) throw new Error(`--min-active must be a share in [0, 1], got ${minActive}`);
  if (opts.topK !== undefined && !(Number.isInteger(opts.topK) && opts.topK > 0))
    throw new Error(`--top-k must be a positive integer, got ${opts.topK}`);
  const excluded = new Set(opts.excludeCustomers ?? []);
  const dropped = new Map<number, DropReason>();
  let pass: number[] = [];
  customers.forEach((c, i) => {
    const a = activity[i];
    if (excluded.has(c)) dropped.set(i, 'excluded_customer');
    else if (a.activeMinutes === 0 || a.activeMinutes < minActive * a.minutes) dropped.set(i, 'inactive');
    else pass.push(i);
  });
  if (opts.topK !== undefined && pass.length > opts.topK) {
    const ranked = [...pass].sort((a, b) => activity[b].bytes - activity[a].bytes || a - b);
    const keep = new Set(ranked.slice(0, opts.topK));
    for (const i of pass) if (!keep.has(i)) dropped.set(i, 'top_k');
    pass = pass.filter((i) => keep.has(i));
  }
  return { kept: pass, dropped };
}

/**
 * `netflowgen inspect`: a look into a series store. Pure formatting over what SeriesStore reads.
 */
import { FEATURES, FEATURE_GROUPS, resolveFeatures } from '../catalogue/features.js';
import { SeriesStore, isoToMinute, minuteToIso } from '../serialize/store.js';

export interface NodeRowsOptions {
  node: string;
  features?: string;
  from?: string;
  to?: string;
}

/** Resolves a node given as an address (any spelling of it) or as `#ID`. */
export function findNode(store: SeriesStore, node: string, canonical: (a: string) => string | null): number {
  if (/^#\d+$/.test(node)) {
    const id = Number(node.slice(1));
    if (id >= store.nNodes) throw new Error(`node ${node} out of range (the store has ${store.nNodes} nodes)`);
    return id;
  }
  const c = canonical(node);
  if (c === null) throw new Error(`--node '${node}' is not an IP address (or #ID)`);
  const id = store.nodeIndex(c);
  if (id < 0)
    throw new Error(
      `node ${c} is not in the store (${store.nNodes} nodes; \`netflowgen inspect STORE\` lists the busiest)`,
    );
  return id;
}

/** One CSV table: `minute` then the chosen features in catalogue order, one row per minute in [from, to). */
export function* nodeCsvRows(
  store: SeriesStore,
  nodeId: number,
  opts: Omit<NodeRowsOptions, 'node'>,
): Generator<string> {
  const names = store.manifest.features;
  const wanted = opts.features ? resolveFeatures(opts.features).sort((a, b) => a - b) : names.map((_, i) => i);
  const cols = wanted.map((f) => {
    const i = names.indexOf(FEATURES[f].name);
    if (i < 0) throw new Error(`feature ${FEATURES[f].name} is not in this store`);
    return i;
  });
  const from = opts.from !== undefined ? isoToMinute(opts.from) - store.startMinute : 0;
  const to = opts.to !== undefined ? isoToMinute(opts.to) - store.startMinute : store.nMinutes;
  const lo = Math.max(0, from);
  const hi = Math.min(store.nMinutes, to);
  yield ['minute', ...cols.map((c) => names[c])].join(',');
  const F = store.nFeatures;
  const step = 4096;
  for (let a = lo; a < hi; a += step) {
    const b = Math.min(hi, a + step);
    const block = store.readNode(nodeId, a, b);
    for (let t = 0; t < b - a; t++) {
      let row = minuteToIso(store.startMinute + a + t);
      for (const c of cols) row += ',' + formatCount(block[t * F + c]);
      yield row;
    }
  }
}

function formatCount(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
}

/** Readable summary of a whole store. */
export function storeSummary(store: SeriesStore, top = 10): string {
  const m = store.manifest;
  const lines: string[] = [];
  const end = minuteToIso(m.startMinute + m.minutes);
  lines.push(`series store ${store.dir}`);
  lines.push(`  span      ${m.firstMinute} .. ${end} (${m.minutes} minutes, ${(m.minutes / 1440).toFixed(2)} days)`);
  lines.push(
    `  nodes     ${m.nodes.length} of ${m.customers.length} customers; ${m.features.length} features; sampling 1:${m.sampling}`,
  );
  lines.push(
    `  inputs    ${m.inputs.length} files, ${(m.inputs.reduce((a, i) => a + i.bytes, 0) / 1e6).toFixed(1)} MB (${[...new Set(m.inputs.map((i) => i.format))].join(', ')})`,
  );
  const r = m.records;
  const rej = Object.values(r.rejected).reduce((a, b) => a + b, 0);
  lines.push(
    `  records   ${r.read} read: ${r.used} used, ${r.unmatched} matched no node, ${r.outsideRange} outside the time range, ${rej} rejected`,
  );
  for (const [reason, n] of Object.entries(r.rejected)) if (n > 0) lines.push(`              ${reason}: ${n}`);
  for (const ex of r.examples.slice(0, 5))
    lines.push(`              e.g. ${ex.file}:${ex.line} ${ex.reason} (${ex.field}): ${ex.detail}`);
  // Busiest nodes by incoming bytes.
  const inByt = m.features.indexOf('in.byt');
  const outByt = m.features.indexOf('out.byt');
  if (inByt >= 0 && m.nodes.length > 0) {
    const totals = m.nodes.map((n) => {
      const x = store.readNode(n.id);
      let i = 0;
      let o = 0;
      let active = 0;
      for (let t = 0; t < m.minutes; t++) {
        const a = x[t * store.nFeatures + inByt];
        const b = outByt >= 0 ? x[t * store.nFeatures + outByt] : 0;
        i += a;
        o += b;
        if (a > 0 || b > 0) active++;
      }
      return { n, i, o, active };
    });
    totals.sort((a, b) => b.i - a.i);
    lines.push(`  busiest nodes by incoming bytes (of ${m.nodes.length}):`);
    lines.push(
      `    ${'address'.padEnd(40)} ${'customer'.padEnd(12)} ${'in MB'.padStart(10)} ${'out MB'.padStart(10)} ${'active min'.padStart(10)}`,
    );
    for (const { n, i, o, active } of totals.slice(0, top))
      lines.push(
        `    ${n.address.padEnd(40)} ${n.customer.padEnd(12)} ${(i / 1e6).toFixed(2).padStart(10)} ${(o / 1e6).toFixed(2).padStart(10)} ${String(active).padStart(10)}`,
      );
  }
  return lines.join('\n');
}

/** Readable summary of one node: totals per feature group and the busiest minute. */
export function nodeSummary(store: SeriesStore, nodeId: number): string {
  const m = store.manifest;
  const n = m.nodes[nodeId];
  const x = store.readNode(nodeId);
  const F = store.nFeatures;
  const totals = new Float64Array(F);
  let busiest = -1;
  let busiestVal = -1;
  const inByt = m.features.indexOf('in.byt');
  for (let t = 0; t < m.minutes; t++) {
    for (let f = 0; f < F; f++) totals[f] += x[t * F + f];
    if (inByt >= 0 && x[t * F + inByt] > busiestVal) {
      busiestVal = x[t * F + inByt];
      busiest = t;
    }
  }
  const lines = [`node ${n.address} (#${n.id}, customer ${n.customer}${n.role ? `, role ${n.role}` : ''})`];
  for (const g of FEATURE_GROUPS) {
    const feats = FEATURES.filter((f) => f.group === g && m.features.includes(f.name));
    if (feats.length === 0) continue;
    lines.push(`  ${g}:`);
    for (const f of feats) {
      const v = totals[m.features.indexOf(f.name)];
      if (v > 0) lines.push(`    ${f.name.padEnd(20)} ${formatCount(v)}`);
    }
  }
  if (busiest >= 0)
    lines.push(`  busiest minute ${minuteToIso(m.startMinute + busiest)}: ${formatCount(busiestVal)} incoming bytes`);
  return lines.join('\n');
}

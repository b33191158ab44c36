/**
 * An independent, deliberately plain recomputation of the detection metrics (SPEC §7) straight from the
 * files: the EarlyDetect arrays and a run's survival.f32. The tests compare `netflowgen evaluate-detect`
 * with it. Brute force: every distinct survival value is tried as the threshold.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RefExample {
  row: number;
  label: number;
  onset: number;
  attackType: number;
  alert: number;
  customer: number;
  mask: number[];
  traffic: number[];
  survival: number[];
}

export interface RefMetrics {
  tau: number;
  detections: number[];
  effectiveness: number;
  overhead: number;
  fpr: number | null;
  fnr: number | null;
  f1: number | null;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  effectivenessPerAttack: number[];
  mitigation: number[];
}

function i32(path: string): Int32Array {
  const b = readFileSync(path);
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function f32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Every example of a split with its survival curve (from survivalFile; none: all 1) and its customer (binned manifest). */
export function readExamples(earlyDetect: string, split: string, survivalFile?: string): RefExample[] {
  const m = JSON.parse(readFileSync(join(earlyDetect, 'manifest.json'), 'utf8'));
  const ds = JSON.parse(readFileSync(join(m.dataset, 'manifest.json'), 'utf8'));
  const D = m.detectLength;
  const ex = i32(join(earlyDetect, `${split}.examples.i32`));
  const mask = readFileSync(join(earlyDetect, `${split}.mask.u8`));
  const traffic = f32(join(earlyDetect, `${split}.traffic.f32`));
  const surv = survivalFile ? f32(survivalFile) : new Float32Array(traffic.length).fill(1);
  const out: RefExample[] = [];
  for (let i = 0; i < ex.length / 6; i++) {
    const pick = (a: ArrayLike<number>) => Array.from({ length: D }, (_, t) => a[i * D + t]);
    out.push({
      row: ex[i * 6],
      label: ex[i * 6 + 2],
      onset: ex[i * 6 + 3],
      attackType: ex[i * 6 + 4],
      alert: ex[i * 6 + 5],
      customer: ds.nodes[ex[i * 6]].customerId,
      mask: pick(mask),
      traffic: pick(traffic),
      survival: pick(surv),
    });
  }
  return out;
}

function detect(s: number[], tau: number): number {
  for (let t = 0; t < s.length; t++) if (s[t] < tau) return t;
  return -1;
}

/** The metrics of a list of examples at tau, the bounded overhead at `bound`. */
export function metricsAt(examples: RefExample[], tau: number, bound: number): RefMetrics {
  const detections = examples.map((e) => detect(e.survival, tau));
  const worst = new Map<number, number>();
  const effs: number[] = [];
  const mitigation: number[] = [];
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  examples.forEach((e, i) => {
    const d = detections[i];
    let A = 0;
    let B = 0;
    let C = 0;
    let total = 0;
    for (let t = 0; t < e.traffic.length; t++) {
      total += e.traffic[t];
      if (e.mask[t]) A += e.traffic[t];
      if (d >= 0 && t >= d) {
        if (e.mask[t]) B += e.traffic[t];
        else C += e.traffic[t];
      }
    }
    const over = d >= 0 && total > 0 ? C / total : 0;
    worst.set(e.customer, Math.max(worst.get(e.customer) ?? 0, over));
    if (e.label === 1) {
      effs.push(d < 0 ? 0 : A > 0 ? B / A : 1);
      if (d >= 0) mitigation.push(Math.abs(d - e.onset));
      if (d >= 0) tp++;
      else fn++;
    } else if (d >= 0) fp++;
    else tn++;
  });
  const sorted = [...worst.values()].sort((a, b) => a - b);
  const k = Math.max(1, Math.ceil(bound * sorted.length - 1e-9));
  return {
    tau,
    detections,
    effectiveness: effs.length ? effs.reduce((a, b) => a + b, 0) / effs.length : 0,
    overhead: sorted.length ? sorted[k - 1] : 0,
    fpr: fp + tn ? fp / (fp + tn) : null,
    fnr: fn + tp ? fn / (fn + tp) : null,
    f1: 2 * tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : null,
    tp,
    fp,
    tn,
    fn,
    effectivenessPerAttack: effs,
    mitigation,
  };
}

/** The threshold under the bound, by trying every distinct survival value (and one above them all). */
export function referenceSelection(examples: RefExample[], bound: number, budget: number): RefMetrics {
  const values = [...new Set(examples.flatMap((e) => e.survival))].sort((a, b) => a - b);
  values.push(Number.POSITIVE_INFINITY);
  let best: RefMetrics | undefined;
  for (const tau of values) {
    const m = metricsAt(examples, tau, bound);
    if (m.overhead > budget + 1e-12) continue;
    if (!best) {
      best = m;
      continue;
    }
    const dE = m.effectiveness - best.effectiveness;
    if (
      dE > 1e-12 ||
      (Math.abs(dE) <= 1e-12 &&
        (m.overhead < best.overhead - 1e-12 ||
          (Math.abs(m.overhead - best.overhead) <= 1e-12 && m.fp + m.fn < best.fp + best.fn)))
    )
      best = m;
  }
  return best!;
}

/** Cells of a Markdown table row. */
export function cells(line: string): string[] {
  return line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
}

/** The rows of the Markdown table that follows `heading` in a document (header and rule skipped). */
export function tableAfter(md: string, heading: string): string[][] {
  const lines = md.split('\n');
  const at = lines.findIndex((l) => l.startsWith(heading));
  if (at < 0) throw new Error(`no '${heading}' in the document`);
  let i = at + 1;
  while (i < lines.length && !lines[i].startsWith('|')) i++;
  const rows: string[][] = [];
  for (i += 2; i < lines.length && lines[i].startsWith('|'); i++) rows.push(cells(lines[i]));
  return rows;
}

/**
 * The product's DetectionSet (evaluate/metrics.ts) of some examples, for calling its functions on the
 * same data as the reference: survival, mask and traffic concatenated example by example; nCustomers
 * the number of distinct customers.
 */
export function detectionSet(
  ex: { survival: number[]; mask: number[]; traffic: number[]; label: number; onset: number; customer: number }[],
) {
  return {
    n: ex.length,
    D: ex[0].survival.length,
    survival: Float32Array.from(ex.flatMap((e) => e.survival)),
    mask: Uint8Array.from(ex.flatMap((e) => e.mask)),
    traffic: Float32Array.from(ex.flatMap((e) => e.traffic)),
    label: ex.map((e) => e.label),
    onsetStep: ex.map((e) => e.onset),
    customer: ex.map((e) => e.customer),
    nCustomers: new Set(ex.map((e) => e.customer)).size,
  };
}

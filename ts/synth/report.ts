/**
 * `netflowgen synth-report`: figures a person can judge the synthetic series by, beside the same
 * figures of a real ISP series (CESNET-TimeSeries24, hourly).
 *
 * For each node the series is its incoming bytes per minute: in.byt of a series store made by
 * `serialize` (the bytes of the flows whose destination is the node, in the minute of their start). A
 * synth output folder is serialized first. The attack minutes of the ground truth are left out, and the
 * hours they touch. Per role, the median over the role's nodes of:
 *   zero min   share of minutes with no incoming traffic;
 *   CV min     coefficient of variation (std / mean) of the per-minute series;
 *   zero h, CV h, the same on hourly sums (CESNET is hourly);
 *   ACF 24h    autocorrelation of the hourly series at a lag of 24 hours (daily rhythm);
 *   peak h     UTC hour of the day with the highest mean traffic;
 *   wkend      mean traffic on Saturdays and Sundays over the mean on weekdays.
 * "all (sum)" is the sum over every node, the closest thing to CESNET's aggregate of one big address.
 *
 * The statistics are pure functions over arrays (tested on hand-made series); the store is read node by node.
 */
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { GroundTruthLine } from '../catalogue/alerts.js';
import { N_FEATURES } from '../catalogue/features.js';
import { median } from '../common/stats.js';
import { serialize } from '../serialize/serialize.js';
import { MANIFEST as STORE_MANIFEST, SeriesStore, isoToMinute, minuteToIso } from '../serialize/store.js';
import { FLOWS_DIR, SYNTH_MANIFEST, type SynthManifest } from './synth.js';

const NODES_FILE = 'nodes.csv';
/** Largest store made on the fly for a synth folder (the paper preset's is ~24 GiB: serialize it once). */
const MAX_TEMPORARY_STORE_BYTES = 2 ** 31;
const GROUND_TRUTH_FILE = 'ground-truth.jsonl';

// ---- statistics (pure) ------------------------------------------------------------------------

/** Share of values equal to zero (NaN values are left out). */
export function zeroShare(x: ArrayLike<number>): number {
  let n = 0;
  let z = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i])) continue;
    n++;
    if (x[i] === 0) z++;
  }
  return n ? z / n : NaN;
}

/** Coefficient of variation: population standard deviation over mean (NaN values left out; NaN when the mean is 0). */
export function coefVar(x: ArrayLike<number>): number {
  const { mean, variance } = moments(x);
  return mean > 0 ? Math.sqrt(variance) / mean : NaN;
}

function moments(x: ArrayLike<number>): { mean: number; variance: number; n: number } {
  let n = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++)
    if (!Number.isNaN(x[i])) {
      n++;
      s += x[i];
    }
  const mean = n ? s / n : NaN;
  let v = 0;
  for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) v += (x[i] - mean) ** 2;
  return { mean, variance: n ? v / n : NaN, n };
}

/**
 * Sample autocorrelation at `lag`: sum over pairs of (x_t - mean)(x_{t+lag} - mean) / n, over the
 * variance (the usual biased estimator; pairs with a NaN are left out). NaN for a constant series.
 */
export function autocorrelation(x: ArrayLike<number>, lag: number): number {
  const { mean, variance, n } = moments(x);
  if (!(variance > 0) || lag >= x.length) return NaN;
  let s = 0;
  for (let t = 0; t + lag < x.length; t++)
    if (!Number.isNaN(x[t]) && !Number.isNaN(x[t + lag])) s += (x[t] - mean) * (x[t + lag] - mean);
  return s / n / variance;
}

/** UTC hour of day (0-23) with the highest mean, for an hourly series whose first value is at epoch hour `startHour`. */
export function peakHour(hourly: ArrayLike<number>, startHour: number): number {
  const sum = new Float64Array(24);
  const cnt = new Float64Array(24);
  for (let i = 0; i < hourly.length; i++) {
    if (Number.isNaN(hourly[i])) continue;
    const h = (((startHour + i) % 24) + 24) % 24;
    sum[h] += hourly[i];
    cnt[h]++;
  }
  let best = -1;
  for (let h = 0; h < 24; h++) if (cnt[h] && (best < 0 || sum[h] / cnt[h] > sum[best] / cnt[best])) best = h;
  return best;
}

/** Mean on Saturdays and Sundays (UTC) over the mean on weekdays; NaN when either is missing or the weekday mean is 0. */
export function weekendRatio(hourly: ArrayLike<number>, startHour: number): number {
  const sum = [0, 0]; // weekdays, weekend
  const n = [0, 0];
  for (let i = 0; i < hourly.length; i++) {
    if (Number.isNaN(hourly[i])) continue;
    // Epoch day 0 (1970-01-01) was a Thursday: day % 7 == 2 is Saturday, 3 Sunday.
    const day = ((Math.floor((startHour + i) / 24) % 7) + 7) % 7;
    const w = day === 2 || day === 3 ? 1 : 0;
    sum[w] += hourly[i];
    n[w]++;
  }
  return n[1] && n[0] && sum[0] > 0 ? sum[1] / n[1] / (sum[0] / n[0]) : NaN;
}

export interface SeriesFigures {
  zeroMinutes: number;
  cvMinutes: number;
  zeroHours: number;
  cvHours: number;
  acf24h: number;
  peakHour: number;
  weekendRatio: number;
}

/** Figures of an hourly series (minute-level figures NaN: use withMinuteFigures). */
export function hourlyFigures(hourly: ArrayLike<number>, startHour: number): SeriesFigures {
  return {
    zeroMinutes: NaN,
    cvMinutes: NaN,
    zeroHours: zeroShare(hourly),
    cvHours: coefVar(hourly),
    acf24h: autocorrelation(hourly, 24),
    peakHour: peakHour(hourly, startHour),
    weekendRatio: weekendRatio(hourly, startHour),
  };
}

// ---- synthetic series from a series store ------------------------------------------------------

export interface NodeSeries {
  address: string;
  customer: string;
  role: string;
  figures: SeriesFigures;
}

export interface SyntheticSeries {
  store: string;
  startMinute: number;
  minutes: number;
  /** Incoming flow records of the inventory's nodes (in.flow over the store, over its sampling). */
  records: number;
  nodes: NodeSeries[];
  /** Figures of the sum over all nodes. */
  total: SeriesFigures;
}

/**
 * Attack minutes per store node, as store minute ranges [first, last], from a ground truth (JSON lines
 * of schemas/ground-truth.schema.json: victim, onset, end inclusive).
 */
export async function attackMinutes(path: string, store: SeriesStore): Promise<[number, number][][]> {
  const out: [number, number][][] = Array.from({ length: store.nNodes }, () => []);
  (await fsp.readFile(path, 'utf8')).split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const g = JSON.parse(line) as Pick<GroundTruthLine, 'victim' | 'onset' | 'end'>;
    const k = store.nodeIndex(g.victim);
    if (k < 0) throw new Error(`${path}:${i + 1}: victim ${g.victim} is not a node of the series store ${store.dir}`);
    out[k].push([isoToMinute(g.onset) - store.startMinute, isoToMinute(g.end) - store.startMinute]);
  });
  return out;
}

/**
 * The figures of every node's incoming bytes per minute (in.byt of the store) and of their sum. A
 * node's attack minutes are left out of its series (NaN), and so are the hours they touch; the sum
 * leaves each node's attack minutes out of its terms.
 */
export function syntheticSeries(store: SeriesStore, attacks: [number, number][][] | null): SyntheticSeries {
  const T = store.nMinutes;
  const F = store.nFeatures;
  const [byt, flow] = ['in.byt', 'in.flow'].map((f) => store.manifest.features.indexOf(f));
  if (byt < 0 || flow < 0) throw new Error(`${store.dir}: the series store lacks in.byt or in.flow`);
  const hours = Math.ceil(T / 60);
  const startHour = store.startMinute / 60;
  const totalM = new Float64Array(T);
  let flows = 0;
  const nodes = store.manifest.nodes.map((node, i): NodeSeries => {
    const data = store.readNode(i);
    const x = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      x[t] = data[t * F + byt];
      flows += data[t * F + flow];
    }
    for (const [a, b] of attacks?.[i] ?? []) for (let t = Math.max(a, 0); t <= Math.min(b, T - 1); t++) x[t] = NaN;
    const h = new Float64Array(hours); // an hour with a left-out minute is NaN
    for (let t = 0; t < T; t++) {
      h[Math.floor(t / 60)] += x[t];
      if (!Number.isNaN(x[t])) totalM[t] += x[t];
    }
    const figures = { ...hourlyFigures(h, startHour), zeroMinutes: zeroShare(x), cvMinutes: coefVar(x) };
    return { address: node.address, customer: node.customer, role: node.role ?? '(none)', figures };
  });
  const totalH = new Float64Array(hours);
  for (let t = 0; t < T; t++) totalH[Math.floor(t / 60)] += totalM[t];
  const total = { ...hourlyFigures(totalH, startHour), zeroMinutes: zeroShare(totalM), cvMinutes: coefVar(totalM) };
  const records = Math.round(flows / store.manifest.sampling);
  return { store: store.dir, startMinute: store.startMinute, minutes: T, records, nodes, total };
}

/**
 * The ground truth of a store made from a synth folder: OUT/ground-truth.jsonl beside OUT/flows/, the
 * folder of the store's inputs; null when there is none.
 */
function groundTruthOf(store: SeriesStore): string | null {
  const input = store.manifest.inputs[0]?.path ?? '';
  const i = input.lastIndexOf(`/${FLOWS_DIR}/`);
  return i < 0 ? null : existsOr(join(input.slice(0, i), GROUND_TRUTH_FILE));
}

/**
 * A series store of a synth output folder (its flows/ and nodes.csv, over synth.json's minutes, with its
 * sampling), made by serialize in a temporary folder that `use` reads before it is removed.
 */
async function withSynthStore<T>(dir: string, use: (store: SeriesStore) => Promise<T>): Promise<T> {
  const m = JSON.parse(await fsp.readFile(join(dir, SYNTH_MANIFEST), 'utf8')) as SynthManifest;
  const bytes = m.nodes * m.minutes * N_FEATURES * 4;
  if (bytes > MAX_TEMPORARY_STORE_BYTES)
    throw new Error(
      `${dir}: its series store would take ${(bytes / 2 ** 30).toFixed(1)} GiB; serialize it once ` +
        `(netflowgen serialize ${join(dir, FLOWS_DIR)} --nodes ${join(dir, NODES_FILE)} -o STORE) and give the store`,
    );
  const tmp = await fsp.mkdtemp(join(tmpdir(), 'netflowgen-synth-report-'));
  try {
    const out = join(tmp, 'store');
    const to = minuteToIso(isoToMinute(m.firstMinute) + m.minutes);
    const sampling = m.config.sampling;
    await serialize({
      inputs: [join(dir, FLOWS_DIR)],
      nodes: join(dir, NODES_FILE),
      out,
      from: m.firstMinute,
      to,
      sampling,
    });
    return await use(SeriesStore.open(out));
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

// ---- CESNET-TimeSeries24 (hourly) ---------------------------------------------------------------

export interface CesnetSeries {
  name: string;
  hours: number;
  startHour: number;
  bytes: SeriesFigures;
  packets: SeriesFigures;
  flows: SeriesFigures;
}

/**
 * Reads a CESNET-TimeSeries24 folder: one or more `<id>.csv` (id_time,n_flows,n_packets,n_bytes,...)
 * and `times_1_hour.csv` (id_time,time). Hours missing from a series are NaN (left out of the figures).
 */
export async function cesnetSeries(dir: string): Promise<CesnetSeries[]> {
  const timesPath = join(dir, 'times_1_hour.csv');
  const timesText = await fsp.readFile(timesPath, 'utf8').catch((e: Error) => {
    throw new Error(
      `${timesPath}: cannot read (${e.message}); --compare-cesnet wants a CESNET-TimeSeries24 folder with times_1_hour.csv`,
    );
  });
  const times = new Map<number, number>();
  timesText.split('\n').forEach((line, i) => {
    if (i === 0 || !line.trim()) return;
    const [id, time] = line.split(',');
    const t = Date.parse(time.trim().replace(' ', 'T'));
    if (!Number.isFinite(t)) throw new Error(`${timesPath}:${i + 1}: field 'time': not a time: '${time}'`);
    times.set(Number(id), Math.floor(t / 3_600_000));
  });
  const firstHour = Math.min(...times.values());
  const hours = Math.max(...times.values()) - firstHour + 1;
  const files = (await fsp.readdir(dir)).filter((f) => /^\d+\.csv$/.test(f)).sort();
  if (!files.length) throw new Error(`${dir}: no <id>.csv series files beside times_1_hour.csv`);
  const out: CesnetSeries[] = [];
  for (const f of files) {
    const path = join(dir, f);
    const lines = (await fsp.readFile(path, 'utf8')).split('\n');
    const header = lines[0].split(',').map((s) => s.trim());
    const col = (name: string) => {
      const k = header.indexOf(name);
      if (k < 0)
        throw new Error(
          `${path}:1: no column '${name}' (expected CESNET-TimeSeries24: id_time,n_flows,n_packets,n_bytes,...)`,
        );
      return k;
    };
    const [cId, cFlows, cPkts, cBytes] = [col('id_time'), col('n_flows'), col('n_packets'), col('n_bytes')];
    const [bytes, packets, flows] = [0, 1, 2].map(() => new Float64Array(hours).fill(NaN));
    lines.forEach((line, i) => {
      if (i === 0 || !line.trim()) return;
      const v = line.split(',');
      const hour = times.get(Number(v[cId]));
      if (hour === undefined)
        throw new Error(`${path}:${i + 1}: field 'id_time': ${v[cId]} is not in times_1_hour.csv`);
      const k = hour - firstHour;
      bytes[k] = Number(v[cBytes]);
      packets[k] = Number(v[cPkts]);
      flows[k] = Number(v[cFlows]);
    });
    out.push({
      name: `CESNET ${f.replace(/\.csv$/, '')}`,
      hours: bytes.filter((x) => !Number.isNaN(x)).length,
      startHour: firstHour,
      bytes: hourlyFigures(bytes, firstHour),
      packets: hourlyFigures(packets, firstHour),
      flows: hourlyFigures(flows, firstHour),
    });
  }
  return out;
}

// ---- the report -----------------------------------------------------------------------------------

export interface RoleFigures {
  role: string;
  nodes: number;
  figures: SeriesFigures;
}

export interface SynthReport {
  /** The folder given: a series store, or a synth output folder (then serialized for the report). */
  dir: string;
  firstMinute: string;
  minutes: number;
  records: number;
  roles: RoleFigures[];
  total: SeriesFigures;
  /** Whether the attack minutes of the ground truth are in the figures. */
  includeAttacks: boolean;
  /** The ground truth whose attack minutes were left out (null: none found, or includeAttacks). */
  groundTruth: string | null;
  cesnet: CesnetSeries[];
}

export interface SynthReportOptions {
  compareCesnet?: string;
  includeAttacks?: boolean;
  /** Ground truth (JSON lines) whose attack minutes are left out; default: the synth folder's. */
  groundTruth?: string;
}

/**
 * The report over a series store made by `serialize` (in.byt per node and minute), or over a synth
 * output folder, which is serialized first (the same store `netflowgen serialize OUT/flows --nodes
 * OUT/nodes.csv` makes, over synth.json's minutes).
 */
export async function synthReport(dir: string, opts: SynthReportOptions = {}): Promise<SynthReport> {
  if (!existsSync(dir)) throw new Error(`${dir}: no such folder (give a series store or the output folder of synth)`);
  const isStore = existsSync(join(dir, STORE_MANIFEST));
  if (!isStore && !existsSync(join(dir, SYNTH_MANIFEST)))
    throw new Error(`${dir}: neither a series store (${STORE_MANIFEST}) nor a synth output folder (${SYNTH_MANIFEST})`);
  const read = async (store: SeriesStore) => {
    const gt = opts.includeAttacks
      ? null
      : (opts.groundTruth ?? (isStore ? groundTruthOf(store) : existsOr(join(dir, GROUND_TRUTH_FILE))));
    return { s: syntheticSeries(store, gt ? await attackMinutes(gt, store) : null), gt };
  };
  const { s, gt } = isStore ? await read(SeriesStore.open(dir)) : await withSynthStore(dir, read);
  const byRole = new Map<string, NodeSeries[]>();
  for (const n of s.nodes) byRole.set(n.role, [...(byRole.get(n.role) ?? []), n]);
  const roles: RoleFigures[] = [...byRole.entries()].map(([role, list]) => ({
    role,
    nodes: list.length,
    figures: Object.fromEntries(
      (Object.keys(list[0].figures) as (keyof SeriesFigures)[]).map((k) => [k, median(list.map((n) => n.figures[k]))]),
    ) as unknown as SeriesFigures,
  }));
  const cesnet = opts.compareCesnet ? await cesnetSeries(opts.compareCesnet) : [];
  const { minutes, records, total } = s;
  const [firstMinute, includeAttacks] = [minuteToIso(s.startMinute), Boolean(opts.includeAttacks)] as const;
  return { dir, firstMinute, minutes, records, roles, total, includeAttacks, groundTruth: gt, cesnet };
}

const existsOr = (path: string): string | null => (existsSync(path) ? path : null);

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const hour = (x: number) => (x >= 0 ? String(x) : '-');

/** The report as an aligned text table. */
export function formatReport(r: SynthReport): string {
  const head = ['series', 'nodes', 'zero min', 'CV min', 'zero h', 'CV h', 'ACF 24h', 'peak h', 'wkend'];
  const rows: string[][] = [];
  const cells: [keyof SeriesFigures, (x: number) => string][] = [
    ['zeroMinutes', pct],
    ['cvMinutes', num],
    ['zeroHours', pct],
    ['cvHours', num],
    ['acf24h', num],
    ['peakHour', hour],
    ['weekendRatio', num],
  ];
  const row = (name: string, nodes: string, f: SeriesFigures) =>
    rows.push([name, nodes, ...cells.map(([k, g]) => g(f[k]))]);
  for (const g of [...r.roles].sort((a, b) => a.role.localeCompare(b.role))) row(g.role, String(g.nodes), g.figures);
  row('all (sum)', String(r.roles.reduce((s, g) => s + g.nodes, 0)), r.total);
  const synthRows = rows.length;
  for (const c of r.cesnet) for (const k of ['bytes', 'packets', 'flows'] as const) row(`${c.name} ${k}`, '1', c[k]);
  const width = head.map((h, k) => Math.max(h.length, ...rows.map((x) => x[k].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, k) => (k === 0 ? c.padEnd(width[k]) : c.padStart(width[k]))).join('  ');
  const top = [fmt(head), fmt(head.map((_, k) => '-'.repeat(width[k])))];
  const lines = [
    `Synthetic series: incoming bytes per node and minute, ${r.dir} (${r.minutes.toLocaleString('en-US')} minutes from ${r.firstMinute}, ${r.records.toLocaleString('en-US')} incoming records)`,
    `Per role: median over the role's nodes. Hourly figures on hourly sums; peak h in UTC; wkend = weekend mean / weekday mean.`,
    r.includeAttacks
      ? 'Attack minutes included.'
      : r.groundTruth
        ? `Attack minutes (${basename(r.groundTruth)}) left out, and the hours they touch: the figures describe normal traffic.`
        : 'No ground truth found: attack minutes, if any, are in the figures.',
    '',
    ...top,
    ...rows.slice(0, synthRows).map(fmt),
  ];
  if (r.cesnet.length) {
    lines.push(
      '',
      `Real ISP series (CESNET-TimeSeries24, one address of the backbone perimeter, hourly: minute figures do not exist):`,
      ...top,
      ...rows.slice(synthRows).map(fmt),
      ...r.cesnet.map(
        (c) =>
          `${c.name}: ${c.hours.toLocaleString('en-US')} hours from ${minuteToIso(c.startHour * 60).slice(0, 13)}:00Z`,
      ),
    );
  }
  return lines.join('\n') + '\n';
}

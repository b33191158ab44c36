/**
 * `netflowgen synth-report`: figures a person can judge the synthetic series by, beside the same
 * figures of a real ISP series (CESNET-TimeSeries24, hourly).
 *
 * For each node the series is its incoming bytes per minute (the sum of `ibyt` of the flows whose
 * destination is the node, in the minute of their start: what `serialize` stores as in.byt without
 * sampling). Per role, the median over the role's nodes of:
 *   zero min   share of minutes with no incoming traffic;
 *   CV min     coefficient of variation (std / mean) of the per-minute series;
 *   zero h, CV h, the same on hourly sums (CESNET is hourly);
 *   ACF 24h    autocorrelation of the hourly series at a lag of 24 hours (daily rhythm);
 *   peak h     UTC hour of the day with the highest mean traffic;
 *   wkend      mean traffic on Saturdays and Sundays over the mean on weekdays.
 * "all (sum)" is the sum over every node, the closest thing to CESNET's aggregate of one big address.
 *
 * The statistics are pure functions over arrays (tested on hand-made series); the readers stream.
 */
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

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
  for (let t = 0; t + lag < x.length; t++) {
    const a = x[t];
    const b = x[t + lag];
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    s += (a - mean) * (b - mean);
  }
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
  let bestMean = -Infinity;
  for (let h = 0; h < 24; h++) {
    if (!cnt[h]) continue;
    const m = sum[h] / cnt[h];
    if (m > bestMean) {
      bestMean = m;
      best = h;
    }
  }
  return best;
}

/** Mean on Saturdays and Sundays (UTC) over the mean on weekdays; NaN when either is missing or the weekday mean is 0. */
export function weekendRatio(hourly: ArrayLike<number>, startHour: number): number {
  let we = 0;
  let nwe = 0;
  let wd = 0;
  let nwd = 0;
  for (let i = 0; i < hourly.length; i++) {
    if (Number.isNaN(hourly[i])) continue;
    // Epoch day 0 (1970-01-01) was a Thursday: day % 7 == 2 is Saturday, 3 Sunday.
    const day = ((Math.floor((startHour + i) / 24) % 7) + 7) % 7;
    if (day === 2 || day === 3) {
      we += hourly[i];
      nwe++;
    } else {
      wd += hourly[i];
      nwd++;
    }
  }
  return nwe && nwd && wd > 0 ? we / nwe / (wd / nwd) : NaN;
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

/** Median of the finite values (NaN when there are none). */
export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// ---- synthetic series from the flow files -----------------------------------------------------

export interface NodeSeries {
  address: string;
  customer: string;
  role: string;
  figures: SeriesFigures;
}

export interface SyntheticSeries {
  dir: string;
  startMinute: number;
  minutes: number;
  records: number;
  nodes: NodeSeries[];
  /** Figures of the sum over all nodes. */
  total: SeriesFigures;
}

/** Lists the flow files of a synth output folder (OUT/flows/*.csv[.gz]) in name order. */
export async function flowFiles(dir: string): Promise<string[]> {
  const flows = join(dir, 'flows');
  let names: string[];
  try {
    names = await fsp.readdir(flows);
  } catch {
    throw new Error(`${dir}: no flows/ folder (is it the output of netflowgen synth?)`);
  }
  const files = names
    .filter((n) => /\.csv(\.gz)?$/.test(n))
    .sort()
    .map((n) => join(flows, n));
  if (!files.length) throw new Error(`${flows}: no .csv or .csv.gz flow files`);
  return files;
}

/** Reads nodes.csv (prefix,customer,role): exact addresses only (what synth writes). */
export async function readInventory(path: string): Promise<{ address: string; customer: string; role: string }[]> {
  const text = await fsp.readFile(path, 'utf8').catch((e: Error) => {
    throw new Error(`${path}: cannot read the node inventory (${e.message})`);
  });
  const out: { address: string; customer: string; role: string }[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#') || (i === 0 && t.startsWith('prefix'))) return;
    const [address, customer, role] = t.split(',').map((s) => s.trim());
    if (!address || !customer) throw new Error(`${path}:${i + 1}: expected prefix,customer[,role], got '${t}'`);
    out.push({ address, customer, role: role || '(none)' });
  });
  return out;
}

const minuteOfPrefix = (p: string): number => Math.floor(Date.parse(p.replace(' ', 'T') + ':00Z') / 60_000);

/**
 * Aggregates the incoming bytes of every node per minute, streaming the flow files (which synth
 * writes in time order), and computes the figures of each node and of their sum.
 */
export async function syntheticSeries(dir: string, opts: { includeAttacks?: boolean } = {}): Promise<SyntheticSeries> {
  if (!existsSync(dir)) throw new Error(`${dir}: no such folder (give the output folder of netflowgen synth)`);
  const inv = await readInventory(join(dir, 'nodes.csv'));
  const index = new Map(inv.map((n, i) => [n.address, i] as const));
  const files = await flowFiles(dir);

  let startMinute = NaN;
  let declaredMinutes = NaN;
  const manifestPath = join(dir, 'synth.json');
  if (existsSync(manifestPath)) {
    const m = JSON.parse(await fsp.readFile(manifestPath, 'utf8')) as { firstMinute: string; minutes: number };
    startMinute = Math.floor(Date.parse(m.firstMinute) / 60_000);
    declaredMinutes = m.minutes;
  }

  const n = inv.length;
  // Attack minutes (from ground-truth.jsonl) are left out: the figures describe normal traffic.
  const excluded: [number, number][][] = inv.map(() => []);
  const gtPath = join(dir, 'ground-truth.jsonl');
  if (!opts.includeAttacks && existsSync(gtPath)) {
    if (Number.isNaN(startMinute))
      throw new Error(`${dir}: ground-truth.jsonl without synth.json; pass includeAttacks`);
    (await fsp.readFile(gtPath, 'utf8')).split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      const g = JSON.parse(line) as { victim: string; onset: string; end: string };
      const k = index.get(g.victim);
      if (k === undefined) throw new Error(`${gtPath}:${i + 1}: victim ${g.victim} is not in nodes.csv`);
      excluded[k].push([
        Math.floor(Date.parse(g.onset) / 60_000) - startMinute,
        Math.floor(Date.parse(g.end) / 60_000) - startMinute,
      ]);
    });
  }
  const isExcluded = (node: number, idx: number) => excluded[node].some(([a, b]) => idx >= a && idx <= b);
  const cur = new Float64Array(n).fill(NaN); // minute being summed per node
  const val = new Float64Array(n);
  const sum = new Float64Array(n);
  const sumsq = new Float64Array(n);
  const nonzero = new Float64Array(n);
  let hourly: Float64Array[] = inv.map(() => new Float64Array(0));
  let totalMinute = new Float64Array(0);
  let lastMinute = -Infinity;
  let records = 0;

  const ensure = (minuteIdx: number) => {
    if (minuteIdx < totalMinute.length) return;
    const len = Math.max(minuteIdx + 1, totalMinute.length * 2, 1440);
    const grow = (a: Float64Array, size: number) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    totalMinute = grow(totalMinute, len);
    hourly = hourly.map((h) => grow(h, Math.ceil(len / 60)));
  };
  const flush = (i: number) => {
    if (Number.isNaN(cur[i])) return;
    const v = val[i];
    const idx = cur[i] - startMinute;
    val[i] = 0;
    if (isExcluded(i, idx)) return;
    sum[i] += v;
    sumsq[i] += v * v;
    if (v > 0) nonzero[i]++;
    hourly[i][Math.floor(idx / 60)] += v;
    totalMinute[idx] += v;
  };

  let prefix = '';
  let prefixMinute = 0;
  for (const file of files) {
    let input: NodeJS.ReadableStream = createReadStream(file, { highWaterMark: 1 << 20 });
    if (file.endsWith('.gz')) input = input.pipe(createGunzip());
    let lineNo = 0;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      if (lineNo === 1 || line.length === 0) continue;
      // ts is field 0, da field 4, ibyt field 12.
      let p = 0;
      const commas: number[] = [];
      while (commas.length < 13) {
        const c = line.indexOf(',', p);
        if (c < 0) break;
        commas.push(c);
        p = c + 1;
      }
      if (commas.length < 13) throw new Error(`${file}:${lineNo}: expected nfdump CSV with at least 13 fields`);
      const da = line.slice(commas[3] + 1, commas[4]);
      const node = index.get(da);
      if (node === undefined) continue;
      const pre = line.slice(0, 16);
      if (pre !== prefix) {
        prefix = pre;
        prefixMinute = minuteOfPrefix(pre);
        if (!Number.isFinite(prefixMinute))
          throw new Error(`${file}:${lineNo}: field 'ts': not a time: '${line.slice(0, commas[0])}'`);
      }
      const minute = prefixMinute;
      if (Number.isNaN(startMinute)) startMinute = minute;
      if (minute < startMinute) continue;
      const bytes = Number(line.slice(commas[11] + 1, commas[12]));
      if (!Number.isFinite(bytes)) throw new Error(`${file}:${lineNo}: field 'ibyt': not a number`);
      if (cur[node] !== minute) {
        if (minute < cur[node])
          throw new Error(
            `${file}:${lineNo}: records out of time order (the report expects synth's time-ordered output)`,
          );
        flush(node);
        cur[node] = minute;
        ensure(minute - startMinute);
      }
      val[node] += bytes;
      records++;
      if (minute > lastMinute) lastMinute = minute;
    }
  }
  for (let i = 0; i < n; i++) flush(i);
  if (Number.isNaN(startMinute)) throw new Error(`${dir}: no flows towards the inventory's nodes`);
  const minutes = Number.isFinite(declaredMinutes) ? declaredMinutes : lastMinute - startMinute + 1;
  const hours = Math.ceil(minutes / 60);
  const startHour = startMinute / 60;

  const nodes: NodeSeries[] = inv.map((node, i) => {
    // Minutes of the node's attacks are out of its series; so are the hours they touch.
    let kept = minutes;
    const h = padded(hourly[i], hours);
    for (const [a, b] of excluded[i]) {
      kept -= Math.min(b, minutes - 1) - Math.max(a, 0) + 1;
      for (let k = Math.floor(Math.max(a, 0) / 60); k <= Math.floor(Math.min(b, minutes - 1) / 60); k++) h[k] = NaN;
    }
    const mean = sum[i] / kept;
    const variance = Math.max(0, sumsq[i] / kept - mean * mean);
    return {
      ...node,
      figures: {
        ...hourlyFigures(h, startHour),
        zeroMinutes: 1 - nonzero[i] / kept,
        cvMinutes: mean > 0 ? Math.sqrt(variance) / mean : NaN,
      },
    };
  });
  const totalM = padded(totalMinute, minutes);
  const totalH = new Float64Array(hours);
  for (let t = 0; t < minutes; t++) totalH[Math.floor(t / 60)] += totalM[t];
  const total = { ...hourlyFigures(totalH, startHour), zeroMinutes: zeroShare(totalM), cvMinutes: coefVar(totalM) };
  return { dir, startMinute, minutes, records, nodes, total };
}

/** A copy of `a` cut or zero-padded to `len`. */
function padded(a: Float64Array, len: number): Float64Array {
  const b = new Float64Array(len);
  b.set(a.subarray(0, Math.min(len, a.length)));
  return b;
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
    const bytes = new Float64Array(hours).fill(NaN);
    const packets = new Float64Array(hours).fill(NaN);
    const flows = new Float64Array(hours).fill(NaN);
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
  dir: string;
  firstMinute: string;
  minutes: number;
  records: number;
  roles: RoleFigures[];
  total: SeriesFigures;
  /** Whether the attack minutes of ground-truth.jsonl are in the figures. */
  includeAttacks: boolean;
  cesnet: CesnetSeries[];
}

export async function synthReport(
  dir: string,
  opts: { compareCesnet?: string; includeAttacks?: boolean } = {},
): Promise<SynthReport> {
  const s = await syntheticSeries(dir, opts);
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
  return {
    dir,
    firstMinute: new Date(s.startMinute * 60_000).toISOString().replace(/\.000Z$/, 'Z'),
    minutes: s.minutes,
    records: s.records,
    roles,
    total: s.total,
    includeAttacks: Boolean(opts.includeAttacks),
    cesnet,
  };
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const hour = (x: number) => (x >= 0 ? String(x) : '-');

/** The report as an aligned text table. */
export function formatReport(r: SynthReport): string {
  const head = ['series', 'nodes', 'zero min', 'CV min', 'zero h', 'CV h', 'ACF 24h', 'peak h', 'wkend'];
  const rows: string[][] = [];
  const row = (name: string, nodes: string, f: SeriesFigures) =>
    rows.push([
      name,
      nodes,
      pct(f.zeroMinutes),
      num(f.cvMinutes),
      pct(f.zeroHours),
      num(f.cvHours),
      num(f.acf24h),
      hour(f.peakHour),
      num(f.weekendRatio),
    ]);
  for (const g of [...r.roles].sort((a, b) => a.role.localeCompare(b.role))) row(g.role, String(g.nodes), g.figures);
  row('all (sum)', String(r.roles.reduce((s, g) => s + g.nodes, 0)), r.total);
  const synthRows = rows.length;
  for (const c of r.cesnet) {
    row(`${c.name} bytes`, '1', c.bytes);
    row(`${c.name} packets`, '1', c.packets);
    row(`${c.name} flows`, '1', c.flows);
  }
  const width = head.map((h, k) => Math.max(h.length, ...rows.map((x) => x[k].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, k) => (k === 0 ? c.padEnd(width[k]) : c.padStart(width[k]))).join('  ');
  const lines = [
    `Synthetic series: incoming bytes per node and minute, ${r.dir} (${r.minutes.toLocaleString('en-US')} minutes from ${r.firstMinute}, ${r.records.toLocaleString('en-US')} incoming records)`,
    `Per role: median over the role's nodes. Hourly figures on hourly sums; peak h in UTC; wkend = weekend mean / weekday mean.`,
    r.includeAttacks
      ? 'Attack minutes included.'
      : 'Attack minutes (ground-truth.jsonl) left out, and the hours they touch: the figures describe normal traffic.',
    '',
    fmt(head),
    fmt(head.map((_, k) => '-'.repeat(width[k]))),
    ...rows.slice(0, synthRows).map(fmt),
  ];
  if (r.cesnet.length) {
    lines.push(
      '',
      `Real ISP series (CESNET-TimeSeries24, one address of the backbone perimeter, hourly: minute figures do not exist):`,
      fmt(head),
      fmt(head.map((_, k) => '-'.repeat(width[k]))),
      ...rows.slice(synthRows).map(fmt),
    );
    for (const c of r.cesnet)
      lines.push(
        `${c.name}: ${c.hours.toLocaleString('en-US')} hours from ${new Date(c.startHour * 3_600_000).toISOString().slice(0, 13)}:00Z`,
      );
  }
  return lines.join('\n') + '\n';
}

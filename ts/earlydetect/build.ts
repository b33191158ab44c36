/**
 * `netflowgen detect-dataset`: the EarlyDetect examples (SPEC §6, paper §4.3 and Table 2).
 *
 * Per alert kept by the filter: the onset by CUSUM on the attack's matching feature; one attack
 * example whose detection window (the last D minutes of W) holds the onset and the alert start; one
 * non-attack example of the same node, detection window in the same split, its whole window clear of
 * every alert of that node (plus a margin), as the paper's data allows; `negatives: 'ground-truth'`
 * also keeps it clear of every true attack. Output, per split (docs/earlydetect.md):
 *
 *   OUT/<split>.examples.i32  int32   [n, 6]   row, start, label, onsetStep, attackType, alert
 *   OUT/<split>.mask.u8       uint8   [n, D]   1 = anomalous minute of the detection window
 *   OUT/<split>.traffic.f32   float32 [n, D]   incoming bytes per minute of the detection window
 *   OUT/manifest.json         schemas/earlydetect.schema.json
 *
 * The W-minute history is read from the binned dataset's bins.u8 by (row, start).
 */
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkOutputDir, withAtomicDir, writeFileAtomic } from '../common/atomic.js';
import { validateWithSchema } from '../common/schema.js';
import { VERSION } from '../common/version.js';
import { BinnedDataset } from '../datasets/binned.js';
import { SeriesStore } from '../serialize/store.js';
import { SPLITS, splitOf, type MinuteRange, type SplitName, type Splits } from '../splits/splits.js';
import { ATTACK_TYPES, readAlerts, readGroundTruth, type AttackType, type TruthAttack } from '../splits/alerts.js';
import { DEFAULT_CUSUM, cusumOnset } from './cusum.js';
import {
  anomalyMask,
  freeEnds,
  pickFromIntervals,
  placeAttack,
  seededRandom,
  validEnds,
  type Geometry,
} from './examples.js';
import { ALERT_DROP_REASONS, type AlertDropReason } from '../splits/alert-filter.js';
import { screenAlerts } from '../splits/alert-screen.js';
import { EXAMPLE_COLUMNS, N_COLUMNS, onsetError, table2 } from './summary.js';
import { negativesOverlap, noAlertKept } from './dropped.js';
import {
  DEFAULT_MATCH_FEATURES,
  EARLYDETECT_MANIFEST,
  EARLYDETECT_SCHEMA,
  NEGATIVES_MODES,
  type CusumConfig,
  type DetectDatasetOptions,
  type EarlyDetectManifest,
  type KeptAlert,
} from './manifest.js';

// What moved out of this file stays importable from here.
export * from './manifest.js';
export * from './dropped.js';

interface SplitBuffers {
  rows: number[];
  mask: number[];
  traffic: number[];
}

function abortError(): Error {
  const e = new Error('interrupted: no EarlyDetect dataset was written');
  e.name = 'AbortError';
  return e;
}

export async function buildEarlyDetect(opts: DetectDatasetOptions): Promise<EarlyDetectManifest> {
  await checkOutputDir(opts.out, {
    overwrite: opts.force,
    inputs: [opts.dataset, opts.store, opts.alerts, opts.groundTruth],
  });
  const ds = BinnedDataset.open(opts.dataset);
  const dm = ds.manifest;
  const storeDir = opts.store ?? dm.source.store;
  const store = SeriesStore.open(storeDir);
  if (store.startMinute !== dm.startMinute || store.nMinutes !== dm.minutes)
    throw new Error(
      `${storeDir} covers other minutes than the dataset ${opts.dataset} (first minute ${store.manifest.firstMinute} vs ${dm.firstMinute}, ${store.nMinutes} vs ${dm.minutes} minutes)`,
    );
  const W = opts.windowLength ?? dm.windowLength;
  const D = opts.detectLength ?? 30;
  if (!(Number.isInteger(D) && D > 0 && Number.isInteger(W) && W >= D))
    throw new Error(`need integer lengths with window (${W}) >= detection window (${D}) > 0`);
  const g: Geometry = { windowLength: W, detectLength: D, minutes: store.nMinutes };
  const cusum: CusumConfig = { ...DEFAULT_CUSUM, baseline: 240, lookback: D - 1, ...opts.cusum };
  const match = { ...DEFAULT_MATCH_FEATURES, ...opts.matchFeatures };
  const matchCol = Object.fromEntries(
    ATTACK_TYPES.map((t) => {
      const c = store.manifest.features.indexOf(match[t]);
      if (c < 0)
        throw new Error(`${storeDir}: the store has no feature '${match[t]}' (matching feature of ${t} attacks)`);
      return [t, c];
    }),
  ) as Record<AttackType, number>;
  const bytCol = store.manifest.features.indexOf('in.byt');
  const placement = opts.placement ?? 'random';
  if (placement !== 'random' && !(Number.isInteger(placement) && placement >= 0 && placement < D))
    throw new Error(`--placement must be 'random' or a step in 0..${D - 1}, got ${placement}`);
  const seed = opts.seed ?? 1;
  const margin = opts.margin ?? 30;
  const negatives = opts.negatives ?? 'alerts';
  if (!NEGATIVES_MODES.includes(negatives))
    throw new Error(`--negatives must be one of ${NEGATIVES_MODES.join(', ')}, got '${negatives}'`);
  if (negatives === 'ground-truth' && !opts.groundTruth)
    throw new Error(
      "--negatives ground-truth needs --ground-truth (the true attacks the non-attack examples must avoid); without a ground truth file use --negatives alerts, as the paper's data does",
    );
  const ratio = opts.ratio ?? 0.95;
  const selected = opts.attackTypes ?? ATTACK_TYPES;
  const splits: Splits = { train: dm.splits.train, valid: dm.splits.valid, test: dm.splits.test };

  const alerts = readAlerts(opts.alerts);
  const truth: TruthAttack[] = opts.groundTruth ? readGroundTruth(opts.groundTruth) : [];
  const truthById = new Map(truth.filter((t) => t.alert_id !== null).map((t) => [t.alert_id as string, t]));
  if (opts.onset === 'truth' && !opts.groundTruth) throw new Error('--onset truth needs --ground-truth');

  // Minutes that non-attack examples must avoid, per node address: every alert (whatever its flags), and with negatives 'ground-truth' every true attack.
  const busy = new Map<string, MinuteRange[]>();
  const block = (addr: string, first: number, last: number) => {
    const list = busy.get(addr) ?? [];
    list.push({ start: first - store.startMinute - margin, end: last - store.startMinute + 1 + margin });
    busy.set(addr, list);
  };
  for (const a of alerts) block(a.victim, a.startMinute, a.endMinute);
  if (negatives === 'ground-truth') for (const t of truth) block(t.victim, t.onsetMinute, t.endMinute);
  const chosen = new Map<number, MinuteRange[]>(); // non-attack windows already taken, per row

  const buf = Object.fromEntries(SPLITS.map((s) => [s, { rows: [], mask: [], traffic: [] } as SplitBuffers])) as Record<
    SplitName,
    SplitBuffers
  >;
  const dropped = Object.fromEntries(ALERT_DROP_REASONS.map((r) => [r, 0])) as Record<AlertDropReason, number>;
  const kept: KeptAlert[] = [];
  const errors: number[] = [];
  let noAlarm = 0;

  const trafficOf = (node: number, end: number): Float32Array => {
    const b = store.readNode(node, end - D, end);
    return Float32Array.from({ length: D }, (_, i) => b[i * store.nFeatures + bytCol]);
  };
  const addExample = (
    s: SplitName,
    row: number,
    start: number,
    label: number,
    onsetStep: number,
    type: number,
    alert: number,
    mask: Uint8Array,
    traffic: Float32Array,
  ) => {
    buf[s].rows.push(row, start, label, onsetStep, type, alert);
    buf[s].mask.push(...mask);
    buf[s].traffic.push(...traffic);
  };
  const pickNormal = (row: number, address: string, s: SplitName, rand: () => number): number | null => {
    const taken = chosen.get(row) ?? [];
    const end = pickFromIntervals(freeEnds(validEnds(splits[s], g), [...(busy.get(address) ?? []), ...taken], W), rand);
    if (end !== null) chosen.set(row, [...taken, { start: end - W, end }]);
    return end;
  };

  const screened = screenAlerts(alerts, store, { attackTypes: selected, ratio }).sort(
    (a, b) => a.alert.startMinute - b.alert.startMinute || (a.alert.alert_id < b.alert.alert_id ? -1 : 1),
  );
  for (const sc of screened) {
    if (opts.signal?.aborted) throw abortError();
    const a = sc.alert;
    const drop = (r: AlertDropReason) => dropped[r]++;
    if (sc.drop) {
      drop(sc.drop);
      continue;
    }
    const row = ds.rowOf(a.victim);
    if (row < 0) {
      drop('not_in_dataset');
      continue;
    }
    const split = splitOf(sc.start, splits) as SplitName;

    // CUSUM on the matching feature: baseline [scan - B, scan), scan [start - lookback, end].
    const scanStart = Math.max(0, sc.start - cusum.lookback);
    const from = Math.max(0, scanStart - cusum.baseline);
    const series = store.readNode(sc.node, from, sc.end + 1);
    const col = matchCol[a.attack_type];
    const x = Float64Array.from({ length: sc.end + 1 - from }, (_, i) => series[i * store.nFeatures + col]);
    const res = cusumOnset(x, { start: 0, end: scanStart - from }, { start: scanStart - from, end: x.length }, cusum);
    const cusumAt = res.onset >= 0 ? res.onset + from : -1;
    const t = truthById.get(a.alert_id);
    const truthOnset = t ? t.onsetMinute - store.startMinute : undefined;
    if (truthOnset !== undefined) {
      if (cusumAt < 0) noAlarm++;
      errors.push((cusumAt >= 0 ? cusumAt : sc.start) - truthOnset);
    }
    let onset: number;
    let onsetSource: KeptAlert['onsetSource'];
    if (opts.onset === 'truth' && truthOnset !== undefined) [onset, onsetSource] = [truthOnset, 'truth'];
    else if (cusumAt >= 0) [onset, onsetSource] = [cusumAt, 'cusum'];
    else [onset, onsetSource] = [sc.start, 'alert_start'];

    const rand = seededRandom(seed, a.alert_id);
    const end = placeAttack(onset, sc.start, splits[split], g, placement, rand);
    if (end === null) {
      drop(Math.min(onset, sc.start) + D < W ? 'short_history' : 'window_does_not_fit');
      continue;
    }
    const normalEnd = pickNormal(row, a.victim, split, rand);
    if (normalEnd === null) {
      drop('no_free_window');
      continue;
    }
    const index = kept.length;
    const type = ATTACK_TYPES.indexOf(a.attack_type);
    const spoof = t
      ? new Set(t.minutes.filter((m) => m.bytes > 0).map((m) => m.minute - store.startMinute))
      : undefined;
    addExample(
      split,
      row,
      end - W,
      1,
      onset - (end - D),
      type,
      index,
      anomalyMask(end, D, onset, sc.end, spoof),
      trafficOf(sc.node, end),
    );
    const normalNode = dm.nodes[row].storeIndex;
    addExample(split, row, normalEnd - W, 0, -1, type, index, new Uint8Array(D), trafficOf(normalNode, normalEnd));
    kept.push({
      index,
      alert_id: a.alert_id,
      victim: a.victim,
      row,
      split,
      attack_type: a.attack_type,
      start: sc.start,
      end: sc.end,
      onset,
      onsetSource,
      cusumOnset: cusumAt,
      ...(truthOnset !== undefined ? { truthOnset } : {}),
      attackStart: end - W,
      normalStart: normalEnd - W,
    });
  }

  if (kept.length === 0)
    throw new Error(
      noAlertKept(opts.alerts, alerts.length, dropped, store.manifest.firstMinute, store.nMinutes, selected),
    );

  // Optional non-attack examples from unseen rows (paper §7.1: unseen nodes, no attacks).
  const unseenRows = dm.nodes.filter((n) => !n.seen);
  if ((opts.unseenExamples ?? 0) > 0 && unseenRows.length)
    for (const s of ['valid', 'test'] as const) {
      const rand = seededRandom(seed, `unseen:${s}`);
      let made = 0;
      for (let attempt = 0; attempt < opts.unseenExamples! * 10 && made < opts.unseenExamples!; attempt++) {
        const n = unseenRows[Math.floor(rand() * unseenRows.length)];
        const end = pickNormal(n.row, n.address, s, rand);
        if (end === null) continue;
        addExample(s, n.row, end - W, 0, -1, -1, -1, new Uint8Array(D), trafficOf(n.storeIndex, end));
        made++;
      }
    }

  const examples = Object.fromEntries(SPLITS.map((s) => [s, Int32Array.from(buf[s].rows)])) as Record<
    SplitName,
    Int32Array
  >;
  const overlap = opts.groundTruth
    ? negativesOverlap(examples, truth, (row) => dm.nodes[row].address, store.startMinute, W, D)
    : null;
  const manifest: EarlyDetectManifest = {
    kind: 'netflowgen.earlydetect',
    schemaVersion: 1,
    createdBy: `netflowgen ${VERSION}`,
    dataset: resolve(opts.dataset),
    store: resolve(storeDir),
    alertsFile: resolve(opts.alerts),
    groundTruthFile: opts.groundTruth ? resolve(opts.groundTruth) : null,
    windowLength: W,
    detectLength: D,
    columns: [...EXAMPLE_COLUMNS],
    attackTypes: [...ATTACK_TYPES],
    selectedAttackTypes: [...selected],
    matchFeatures: match,
    cusum,
    ratio,
    margin,
    negatives,
    negativesOverlappingTrueAttacks: overlap?.example ?? null,
    negativesTrueAttackInDetectionWindow: overlap?.detectionWindow ?? null,
    placement,
    onsetSource: opts.onset ?? 'cusum',
    seed,
    splits: Object.fromEntries(
      SPLITS.map((s) => [
        s,
        {
          count: examples[s].length / N_COLUMNS,
          examples: `${s}.examples.i32`,
          mask: `${s}.mask.u8`,
          traffic: `${s}.traffic.f32`,
        },
      ]),
    ) as EarlyDetectManifest['splits'],
    alerts: kept,
    alertsRead: alerts.length,
    dropped,
    table2: table2(examples),
    onsetError: onsetError(errors, noAlarm),
  };
  validateWithSchema(EARLYDETECT_SCHEMA, manifest, join(opts.out, EARLYDETECT_MANIFEST));
  await withAtomicDir(
    opts.out,
    async (tmp) => {
      for (const s of SPLITS) {
        const e = examples[s];
        await fsp.writeFile(
          join(tmp, manifest.splits[s].examples),
          new Uint8Array(e.buffer, e.byteOffset, e.byteLength),
        );
        await fsp.writeFile(join(tmp, manifest.splits[s].mask), Uint8Array.from(buf[s].mask));
        const tr = Float32Array.from(buf[s].traffic);
        await fsp.writeFile(join(tmp, manifest.splits[s].traffic), new Uint8Array(tr.buffer));
      }
      await writeFileAtomic(join(tmp, EARLYDETECT_MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
    },
    { overwrite: opts.force, inputs: [opts.dataset, storeDir, opts.alerts, opts.groundTruth] },
  );
  return manifest;
}

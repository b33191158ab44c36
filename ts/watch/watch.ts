/**
 * `netflowgen watch`: online early detection on a collector directory (docs/watch.md).
 *
 * Loop: poll the directory for finished flow files (source.ts) -> read each into the open minutes
 * (minutes.ts, serialize's aggregation) -> close the minutes the collector has moved past (plus the delay)
 * -> push each closed minute into every node's W-minute window (nodes.ts, the dataset's cutoffs) -> one
 * model call per minute for all scorable nodes (model.ts) -> alert state per node (alerts.ts) -> alerts
 * file, notify script, state file (state.ts). --replay reads a finished directory as if live: files in
 * time order, every minute closed at the end, as fast as possible or at --speed N (N minutes of traffic per
 * minute of wall time).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { timeFeatureTable } from '../splits/splits.js';
import type { InputFormat } from '../ingest/record.js';
import { alertStep, makeAlert, newAlertState, type AlertState, type DetectorName, type WatchAlert } from './alerts.js';
import { MinuteAggregator, type AggregationRules } from './minutes.js';
import { ModelCallError, WatchModel } from './model.js';
import { NodeTable, type WatchNode } from './nodes.js';
import { setupWatch, type WatchSetup } from './setup.js';
import { SimpleDetectors } from './simple.js';
import { FlowDirectory, type FlowFile } from './source.js';
import { AlertLog, notify, readState, writeState, type WatchState } from './state.js';
import { StatusLine } from './status.js';

export interface WatchOptions {
  flowDir: string;
  run: string;
  evaluation?: string;
  nodes?: string;
  prefixes?: string[];
  format?: InputFormat;
  replay?: boolean;
  /** Replay: minutes of traffic per minute of wall time; 0 or absent: as fast as possible. */
  speed?: number;
  /** Replay: score minutes in [from, to) only (epoch minutes); the W minutes before `from` fill the windows. */
  from?: number;
  to?: number;
  delayMinutes?: number;
  staleMinutes?: number;
  pollMs?: number;
  cooldown?: number;
  endAfter?: number;
  alerts?: string;
  state?: string;
  notifyScript?: string;
  detectors?: boolean;
  detectorTaus?: Partial<Record<'static' | 'ewma-cusum', number>>;
  rules?: Partial<AggregationRules>;
  device?: string;
  threads?: number;
  callTimeoutMs?: number;
  batchSize?: number;
  workDir?: string;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /** Every scored minute: the nodes (in row order of the scores) and their curves [n, D]. */
  onScores?: (minute: number, nodes: readonly WatchNode[], survival: Float32Array, hazard: Float32Array) => void;
  /** Every detector's survival S_{D-1} for every scored node and minute, alerting or not (bench:watch's logs). */
  onSurvival?: (detector: DetectorName, minute: number, node: string, survival: number) => void;
  /** The wait between minutes at --speed (default: a timer; tests observe the pacing through it). */
  pace?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  /** Called once the model is loaded (tests read its pid). */
  onModel?: (info: WatchModel['info']) => void;
}

export interface WatchSummary {
  minutesClosed: number;
  minutesScored: number;
  nodeScores: number;
  alerts: number;
  modelSeconds: number;
  errors: number;
  records: MinuteAggregator['counts'];
  tau: number;
  detectorTaus: WatchSetup['detectorTaus'];
}

const DETECTORS: DetectorName[] = ['model', 'static', 'ewma-cusum'];

export async function watch(opts: WatchOptions): Promise<WatchSummary> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const setup = await setupWatch(opts);
  const { W, D, registry } = setup;
  const statePath = opts.state ?? null;
  const prior = statePath ? readState(statePath, setup.run, opts.flowDir) : null;
  const lastDone = prior?.lastMinute ?? -Infinity;
  const alertStates = new Map<DetectorName, Map<string, AlertState>>(
    DETECTORS.map((d) => [d, new Map(Object.entries(prior?.alerts[d] ?? {}))]),
  );
  const alertLog = new AlertLog(opts.alerts ?? null);
  alertLog.recall(Number.isFinite(lastDone) ? lastDone : -Infinity);
  const simple = opts.detectors ? new SimpleDetectors(setup.dataset, setup.store, D) : null;
  if (simple) {
    if (!simple.hasStatic) log(`watch: ${setup.store} cannot be read: the static threshold is off`);
    for (const d of ['static', 'ewma-cusum'] as const)
      if (setup.detectorTaus[d] === undefined)
        log(`watch: no tau for the ${d} detector (evaluate its simple-detect run with the model, or --detector-tau)`);
  }
  // The per-minute exchange files of the model process: a private temporary folder, removed at the end.
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'netflowgen-watch-'));
  const model = await WatchModel.open({
    checkpoint: setup.checkpoint,
    earlyDetect: setup.earlyDetect,
    workDir,
    device: opts.device,
    threads: opts.threads,
    callTimeoutMs: opts.callTimeoutMs,
  }).catch((e: unknown) => {
    if (!opts.workDir) rmSync(workDir, { recursive: true, force: true });
    throw e;
  });
  opts.onModel?.(model.info);
  const modelTag = {
    run: setup.run,
    checkpoint: setup.checkpoint,
    arch: model.info.arch,
    window: W,
    detect: D,
  };
  const table = new NodeTable(setup.dataset, W, W);
  const agg = new MinuteAggregator(registry, setup.rules);
  const dir = new FlowDirectory(opts.flowDir, { format: opts.format, settle: !opts.replay });
  const status = new StatusLine();
  const summary: WatchSummary = {
    minutesClosed: 0,
    minutesScored: 0,
    nodeScores: 0,
    alerts: 0,
    modelSeconds: 0,
    errors: 0,
    records: agg.counts,
    tau: setup.tau.tau,
    detectorTaus: setup.detectorTaus,
  };
  let addressOf: string[] = [];
  let scoreFrom = Number.isFinite(lastDone) ? lastDone + 1 : (opts.from ?? -Infinity);
  let lastMinute = lastDone;
  let first = true;

  const refreshAddresses = () => {
    if (addressOf.length === registry.size) return;
    const { order, nodes } = registry.finalOrder();
    addressOf = new Array<string>(registry.size);
    order.forEach((temp, i) => (addressOf[temp] = nodes[i].address));
  };

  const closeMinute = async (minute: number, byId: Map<number, Float64Array>): Promise<boolean> => {
    opts.signal?.throwIfAborted(); // Ctrl-C stops within a minute's scoring; the state holds the last one
    refreshAddresses();
    const vectors = new Map<string, Float64Array>();
    for (const [id, v] of byId) {
      const address = addressOf[id];
      table.add(address, registry.customerOf(id));
      vectors.set(address, v);
    }
    table.push(vectors);
    summary.minutesClosed++;
    if (opts.to !== undefined && minute >= opts.to) return false;
    if (minute < scoreFrom || minute <= lastDone) return true;
    const nodes = table.scorable();
    const alerts: WatchAlert[] = [];
    if (nodes.length) {
      const n = nodes.length;
      const bins = new Uint8Array(n * W * table.F);
      const node = new Int32Array(n);
      const customer = new Int32Array(n);
      nodes.forEach((x, i) => {
        table.window(x, bins, i * W * table.F);
        node[i] = x.nodeId;
        customer[i] = Math.max(0, x.customerId);
      });
      const time = timeFeatureTable(minute - W + 1, W);
      try {
        const s = await model.score({ n, node, customer, time, bins }, opts.batchSize);
        summary.minutesScored++;
        summary.nodeScores += n;
        summary.modelSeconds += s.seconds;
        opts.onScores?.(minute, nodes, s.survival, s.hazard);
        nodes.forEach((x, i) => {
          opts.onSurvival?.('model', minute, x.address, s.survival[i * D + D - 1]);
          step('model', x, minute, s.survival[i * D + D - 1], s.hazard[i * D + D - 1], setup.tau.tau, alerts);
        });
      } catch (e) {
        if (!(e instanceof ModelCallError)) throw e;
        summary.errors++;
        log(`watch: minute ${new Date(minute * 60_000).toISOString()} not scored: ${e.message} (the watch goes on)`);
      }
      if (simple) {
        const st = setup.detectorTaus.static;
        const ct = setup.detectorTaus['ewma-cusum'];
        const all = Boolean(opts.onSurvival); // logged: computed even without a tau
        for (const x of nodes) {
          const sv = st !== undefined || all ? simple.staticSurvival(table, x) : null;
          if (sv !== null) opts.onSurvival?.('static', minute, x.address, sv);
          if (sv !== null && st !== undefined) step('static', x, minute, sv, null, st, alerts);
          const cv = ct !== undefined || all ? simple.cusumSurvival(table, x) : null;
          if (cv !== null) opts.onSurvival?.('ewma-cusum', minute, x.address, cv);
          if (cv !== null && ct !== undefined) step('ewma-cusum', x, minute, cv, null, ct, alerts);
        }
      }
    }
    const fresh = alerts.filter((a) => !alertLog.has(a.id));
    alertLog.write(fresh);
    summary.alerts += fresh.length;
    if (opts.notifyScript)
      for (const a of fresh) {
        const err = await notify(opts.notifyScript, a);
        if (err) log(`watch: ${err}`);
      }
    lastMinute = minute;
    if (statePath) await writeState(statePath, stateOf());
    status.show(minute, agg.newestMinute(), table.nodes.size, summary.alerts);
    if (opts.replay && opts.speed && opts.speed > 0)
      await (opts.pace ?? ((ms, signal) => sleep(ms, undefined, { signal })))(60_000 / opts.speed, opts.signal);
    return true;
  };

  const step = (
    det: DetectorName,
    x: WatchNode,
    minute: number,
    survival: number,
    hazard: number | null,
    tau: number,
    out: WatchAlert[],
  ) => {
    const states = alertStates.get(det)!;
    let s = states.get(x.address);
    if (!s) states.set(x.address, (s = newAlertState()));
    const since = s.since;
    const event = alertStep(s, minute, survival, tau, { cooldown: opts.cooldown ?? 15, endAfter: opts.endAfter ?? 5 });
    if (!event) return;
    out.push(
      makeAlert({
        event,
        detector: det,
        node: x.address,
        customer: x.customer,
        minute,
        state: event === 'end' ? { ...s, since } : s,
        survival,
        hazard,
        tau,
        current: x.current,
        groups: table.groupRise(x),
        model: modelTag,
        ...(x.row < 0 && x.mappedTo !== undefined
          ? {
              mapping: {
                mappedTo: setup.dataset.manifest.nodes[x.mappedTo].address,
                distance: x.distance ?? 0,
              },
            }
          : {}),
      }),
    );
  };

  const stateOf = (): WatchState => {
    const alerts: WatchState['alerts'] = {};
    for (const [d, m] of alertStates) {
      const keep: Record<string, AlertState> = {};
      for (const [a, s] of m) if (s.active || s.cooldownUntil > lastMinute) keep[a] = s;
      alerts[d] = keep;
    }
    return {
      kind: 'netflowgen.watch-state',
      version: 1,
      run: setup.run,
      flowDir: opts.flowDir,
      lastMinute,
      alerts,
      updated: '',
    };
  };

  const drain = async (below: number): Promise<boolean> => {
    for (const c of agg.close(below)) if (!(await closeMinute(c.minute, c.nodes))) return false;
    return true;
  };

  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      let files = await dir.poll();
      if (first && files.length) {
        // the first files decide where to start (live: the newest file, with W minutes and an hour before)
        files = skipBefore(files, startNeed(files, scoreFrom, lastDone, W, Boolean(opts.replay)));
        if (!Number.isFinite(scoreFrom) && !opts.replay) scoreFrom = newestStart(files);
        first = false;
      }
      let going = true;
      for (const f of files) {
        await agg.readFile(f, opts.signal).catch((e: unknown) => {
          summary.errors++;
          log(`watch: ${f.path} skipped: ${(e as Error).message}`);
        });
        going = await drain(agg.frontier(opts.delayMinutes ?? 2, opts.staleMinutes ?? 15));
        if (!going) break;
      }
      if (opts.replay) {
        if (going) await drain(agg.newestMinute() + 1);
        break;
      }
      await sleep(opts.pollMs ?? 5000, undefined, { signal: opts.signal });
    }
  } finally {
    status.stop();
    alertLog.close();
    await model.close();
    if (!opts.workDir) rmSync(workDir, { recursive: true, force: true });
  }
  return summary;
}

/** The first minute the windows need: W before the first minute to score (or to resume after). */
function startNeed(files: FlowFile[], scoreFrom: number, lastDone: number, W: number, replay: boolean): number {
  if (Number.isFinite(lastDone)) return lastDone + 1 - W;
  if (Number.isFinite(scoreFrom)) return scoreFrom - W;
  if (replay) return -Infinity;
  return newestStart(files) - W - 60; // live, first start: an hour of catching up on top of the window
}

function newestStart(files: FlowFile[]): number {
  let m = -Infinity;
  for (const f of files) if (f.minute > m) m = f.minute;
  return m;
}

/** Drops the files wholly before `need`: those whose exporter's next file starts at or before it. */
export function skipBefore(files: FlowFile[], need: number): FlowFile[] {
  if (!Number.isFinite(need)) return files;
  const byExporter = new Map<string, FlowFile[]>();
  for (const f of files) byExporter.set(f.exporter, [...(byExporter.get(f.exporter) ?? []), f]);
  const drop = new Set<string>();
  for (const list of byExporter.values())
    for (let i = 0; i + 1 < list.length; i++) if (list[i + 1].minute <= need) drop.add(list[i].path);
  return files.filter((f) => !drop.has(f.path));
}

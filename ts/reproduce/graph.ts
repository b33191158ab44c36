/**
 * The stage graph of `netflowgen reproduce`: every step of the chain (synth, serialize, bin, ...,
 * report) is a stage with a JSON config and named inputs (other stages). Its output folder is
 *
 *   ROOT/<kind>-<hash>/        hash = sha256 of (kind, version, config, the inputs' hashes)
 *
 * so a change of config, or of anything upstream, gives a new folder, and an unchanged stage is found
 * again and skipped. A stage writes into ROOT/<kind>-<hash>.partial/ and the folder is renamed into
 * place only when the stage has finished and written its stage.json: an interrupted stage never looks
 * done. Stages that resume by themselves (training keeps checkpoints) keep their .partial folder
 * between attempts; the others start it afresh. Two stages with the same hash (the same training
 * asked for by two tables) share one folder and run once.
 *
 * planStages() is pure (order, hashes, folders); runPlan() is the imperative shell.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../config/compose.js';
import { VERSION } from '../common/version.js';

export const STAGE_FILE = 'stage.json';
export const STAGE_LOG = 'stage.log';
export const PARTIAL_SUFFIX = '.partial';

/** What a stage is handed while it runs. */
export interface StageContext {
  /** The folder to write (ROOT/<kind>-<hash>.partial while running). */
  dir: string;
  /** The finished output folder of an input, by role. */
  input(role: string): string;
  signal?: AbortSignal;
  /** A status line (shown above the progress view; kept in stage.log). */
  log(message: string): void;
  /** What the stage is doing now, and how far it is (0..1) when it knows. */
  progress(detail: string, fraction?: number): void;
}

export interface StageSpec {
  /** Unique in the graph, e.g. 'pretrain:main', 'sizes:4-4-128-512_lr5e-4_do0.3'. */
  id: string;
  /** Folder prefix and the kind of work: synth, serialize, bin, ... */
  kind: string;
  /** Human description for the progress view. */
  label: string;
  /** Raise when the stage's code changes what it writes: old outputs then stop matching. */
  version: number;
  /** Everything that decides the output besides the inputs: hashed. */
  config: unknown;
  /** role -> id of the stage whose output is read. */
  inputs: Record<string, string>;
  /** Keep the .partial folder of an interrupted attempt (the stage resumes from what is there). */
  resumable?: boolean;
  run(ctx: StageContext): Promise<void>;
}

export interface PlannedStage extends StageSpec {
  hash: string;
  /** Final output folder. */
  dir: string;
  /** Another stage of the plan with the same hash, listed earlier: this one reuses its folder. */
  sameAs?: string;
}

/** Contents of ROOT/<kind>-<hash>/stage.json, written last. */
export interface StageRecord {
  kind: 'netflowgen.stage';
  id: string;
  stageKind: string;
  label: string;
  hash: string;
  version: number;
  config: unknown;
  inputs: Record<string, { id: string; hash: string; dir: string }>;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  createdBy: string;
}

/** sha256 (16 hex digits) of what decides a stage's output. */
export function stageHash(kind: string, version: number, config: unknown, inputHashes: Record<string, string>): string {
  return createHash('sha256')
    .update(canonicalJson({ kind, version, config, inputs: inputHashes }))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Orders the stages so that every input comes first (stable: the given order where it is free),
 * and gives each its hash and folder. Throws on an unknown input, a duplicate id or a cycle.
 */
export function planStages(stages: readonly StageSpec[], root: string): PlannedStage[] {
  const byId = new Map<string, StageSpec>();
  for (const s of stages) {
    if (byId.has(s.id)) throw new Error(`stage graph: two stages are called '${s.id}'`);
    byId.set(s.id, s);
  }
  for (const s of stages)
    for (const [role, dep] of Object.entries(s.inputs))
      if (!byId.has(dep)) throw new Error(`stage graph: '${s.id}' reads '${dep}' (as ${role}), which is not a stage`);
  const order: StageSpec[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: StageSpec, path: string[]) => {
    const st = state.get(s.id);
    if (st === 'done') return;
    if (st === 'visiting') throw new Error(`stage graph: a cycle: ${[...path, s.id].join(' -> ')}`);
    state.set(s.id, 'visiting');
    for (const dep of Object.values(s.inputs)) visit(byId.get(dep)!, [...path, s.id]);
    state.set(s.id, 'done');
    order.push(s);
  };
  for (const s of stages) visit(s, []);
  const planned = new Map<string, PlannedStage>();
  const firstOfHash = new Map<string, string>();
  for (const s of order) {
    const inputHashes = Object.fromEntries(
      Object.entries(s.inputs).map(([role, dep]) => [role, planned.get(dep)!.hash]),
    );
    const hash = stageHash(s.kind, s.version, s.config, inputHashes);
    const key = `${s.kind}-${hash}`;
    const sameAs = firstOfHash.get(key);
    if (sameAs === undefined) firstOfHash.set(key, s.id);
    planned.set(s.id, { ...s, hash, dir: join(root, key), ...(sameAs !== undefined ? { sameAs } : {}) });
  }
  return order.map((s) => planned.get(s.id)!);
}

/** The stages `targets` need (themselves and everything upstream), in plan order. */
export function upstreamOf(plan: readonly PlannedStage[], targets: readonly string[]): PlannedStage[] {
  const byId = new Map(plan.map((s) => [s.id, s]));
  const need = new Set<string>();
  const add = (id: string) => {
    if (need.has(id)) return;
    const s = byId.get(id);
    if (!s) throw new Error(`stage graph: no stage '${id}'`);
    need.add(id);
    for (const dep of Object.values(s.inputs)) add(dep);
  };
  for (const t of targets) add(t);
  return plan.filter((s) => need.has(s.id));
}

/**
 * Ids of the stages to redo: those named (by id or kind) and everything downstream of them (their
 * outputs were made from what is being redone).
 */
export function redoSet(plan: readonly PlannedStage[], names: readonly string[]): Set<string> {
  const out = new Set<string>();
  const known = new Set(plan.flatMap((s) => [s.id, s.kind]));
  for (const n of names)
    if (!known.has(n))
      throw new Error(
        `--redo: no stage or kind '${n}' in this plan (stages: ${[...new Set(plan.map((s) => s.kind))].join(', ')})`,
      );
  for (const s of plan) {
    if (names.includes(s.id) || names.includes(s.kind) || Object.values(s.inputs).some((d) => out.has(d)))
      out.add(s.id);
  }
  return out;
}

/** The finished record of a stage folder, when it holds one with the expected hash. */
export function readStageRecord(dir: string, hash?: string): StageRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, STAGE_FILE), 'utf8')) as StageRecord;
    return hash === undefined || r.hash === hash ? r : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- the runner

export type StageEvent =
  | { type: 'plan'; stages: { id: string; label: string; kind: string; cached: boolean }[] }
  | { type: 'start'; id: string; label: string; index: number; total: number; resumed: boolean }
  | { type: 'progress'; id: string; detail: string; fraction?: number }
  | { type: 'log'; id: string; message: string }
  | {
      type: 'done';
      id: string;
      label: string;
      index: number;
      total: number;
      cached: boolean;
      seconds: number;
      dir: string;
    }
  | { type: 'failed'; id: string; label: string; error: Error };

export interface RunPlanOptions {
  /** Stage ids to run again even when their folder is complete (see redoSet). */
  redo?: ReadonlySet<string>;
  /** Stages run at once when their inputs are ready (default 1: one after the other). */
  jobs?: number;
  signal?: AbortSignal;
  onEvent?: (e: StageEvent) => void;
}

export interface StageOutcome {
  id: string;
  dir: string;
  cached: boolean;
  seconds: number;
}

function abortError(id: string): Error {
  const e = new Error(`interrupted during ${id}; run the same command again to continue (finished stages are kept)`);
  e.name = 'AbortError';
  return e;
}

/**
 * Runs the plan; a stage whose folder is complete is skipped. With `jobs` above 1, up to that many
 * stages whose inputs are finished run at once (in plan order among the ready ones); with 1, stages
 * run one after the other in plan order. A stage sharing another's folder (sameAs) waits for it. On a
 * failure the other running stages are stopped (their resumable .partial folders are kept) and the
 * first error is thrown.
 */
export async function runPlan(plan: readonly PlannedStage[], opts: RunPlanOptions = {}): Promise<StageOutcome[]> {
  const emit = opts.onEvent ?? (() => {});
  const redo = opts.redo ?? new Set<string>();
  const jobs = Math.max(1, Math.floor(opts.jobs ?? 1));
  const byId = new Map(plan.map((s) => [s.id, s]));
  const isDone = (s: PlannedStage) => !redo.has(s.id) && readStageRecord(s.dir, s.hash) !== undefined;
  emit({ type: 'plan', stages: plan.map((s) => ({ id: s.id, label: s.label, kind: s.kind, cached: isDone(s) })) });
  const outcomes: StageOutcome[] = [];
  const redone = new Set<string>();
  const finished = new Set<string>();
  const total = plan.length;
  // One controller for the running stages: the user's signal, or the first failure, stops them all.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();

  const runOne = async (s: PlannedStage, index: number): Promise<void> => {
    const shared = s.sameAs !== undefined && (redone.has(s.sameAs) || isDone(byId.get(s.sameAs)!));
    if (shared || isDone(s)) {
      emit({ type: 'done', id: s.id, label: s.label, index, total, cached: true, seconds: 0, dir: s.dir });
      outcomes.push({ id: s.id, dir: s.dir, cached: true, seconds: 0 });
      return;
    }
    if (stop.signal.aborted) throw abortError(s.id);
    const work = s.dir + PARTIAL_SUFFIX;
    await fsp.rm(s.dir, { recursive: true, force: true });
    const resumed = Boolean(s.resumable) && !redo.has(s.id) && existsSync(work);
    if (!resumed) await fsp.rm(work, { recursive: true, force: true });
    await fsp.mkdir(work, { recursive: true });
    emit({ type: 'start', id: s.id, label: s.label, index, total, resumed });
    const t0 = Date.now();
    const ctx: StageContext = {
      dir: work,
      input: (role) => {
        const dep = s.inputs[role];
        if (dep === undefined)
          throw new Error(
            `stage ${s.id} has no input '${role}' (it has ${Object.keys(s.inputs).join(', ') || 'none'})`,
          );
        return byId.get(dep)!.dir;
      },
      signal: jobs > 1 || opts.signal ? stop.signal : undefined,
      log: (message) => {
        appendFileSync(join(work, STAGE_LOG), `${new Date().toISOString()} ${message}\n`);
        emit({ type: 'log', id: s.id, message });
      },
      progress: (detail, fraction) => emit({ type: 'progress', id: s.id, detail, fraction }),
    };
    try {
      if (stop.signal.aborted) throw abortError(s.id);
      await s.run(ctx);
      if (stop.signal.aborted) throw abortError(s.id);
    } catch (e) {
      const err = e as Error;
      if (stop.signal.aborted && err.name !== 'AbortError') throw abortError(s.id);
      if (err.name !== 'AbortError') emit({ type: 'failed', id: s.id, label: s.label, error: err });
      throw err;
    }
    const seconds = (Date.now() - t0) / 1000;
    const record: StageRecord = {
      kind: 'netflowgen.stage',
      id: s.id,
      stageKind: s.kind,
      label: s.label,
      hash: s.hash,
      version: s.version,
      config: s.config,
      inputs: Object.fromEntries(
        Object.entries(s.inputs).map(([role, dep]) => [
          role,
          { id: dep, hash: byId.get(dep)!.hash, dir: byId.get(dep)!.dir },
        ]),
      ),
      startedAt: new Date(t0).toISOString(),
      finishedAt: new Date().toISOString(),
      seconds,
      createdBy: `netflowgen ${VERSION}`,
    };
    await fsp.writeFile(join(work, STAGE_FILE), JSON.stringify(record, null, 2) + '\n');
    await fsp.rename(work, s.dir);
    redone.add(s.id);
    emit({ type: 'done', id: s.id, label: s.label, index, total, cached: false, seconds, dir: s.dir });
    outcomes.push({ id: s.id, dir: s.dir, cached: false, seconds });
  };

  const deps = (s: PlannedStage) => [...Object.values(s.inputs), ...(s.sameAs !== undefined ? [s.sameAs] : [])];
  const pending = plan.map((s, index) => ({ s, index }));
  const running = new Map<string, Promise<void>>();
  let failure: Error | undefined;
  try {
    while (pending.length || running.size) {
      if (!failure && !stop.signal.aborted)
        for (let k = 0; k < pending.length && running.size < jobs;) {
          const { s, index } = pending[k];
          if (!deps(s).every((d) => finished.has(d))) {
            k++;
            continue;
          }
          pending.splice(k, 1);
          running.set(
            s.id,
            runOne(s, index).then(
              () => {
                finished.add(s.id);
              },
              (e: Error) => {
                if (!failure) failure = e;
                stop.abort();
              },
            ),
          );
        }
      if (!running.size) {
        if (failure || stop.signal.aborted) break;
        if (pending.length)
          throw new Error(
            `stage graph: ${pending.map((p) => p.s.id).join(', ')} can never start (an input is missing)`,
          );
        break;
      }
      const [id] = await Promise.race([...running.entries()].map(([id, p]) => p.then(() => [id] as const)));
      running.delete(id);
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure;
  if (pending.length) throw abortError(pending[0].s.id);
  return outcomes;
}

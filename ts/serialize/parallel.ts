/**
 * Runs serialize's read jobs (job.ts) on `threads` worker threads (worker.ts), or in this thread when
 * `threads` is 1 (the same code, without the messages). Jobs start in order, each on the next idle
 * thread; what they send back goes to `handlers` as it arrives (results in any order: the caller
 * puts them back in order).
 */
import { Worker } from 'node:worker_threads';
import { NodeRegistry, loadInventory, parsePrefixOptions } from './inventory.js';
import { runJob, type JobContext, type JobResult, type JobSpec } from './job.js';
import { abortError } from './outcome.js';

export type WorkerMessage =
  | { type: 'nodes'; from: number; nodes: { v4: number; v6: string }[] }
  | { type: 'blocks'; index: number; start: number; nodes: Int32Array; data: Float64Array }
  | { type: 'progress'; index: number; bytes: number }
  | { type: 'done'; result: JobResult }
  | { type: 'failed'; index: number; name: string; message: string; stack: string };

export interface JobHandlers {
  /** Nodes `from`, `from + 1`, ... of thread `thread`'s registry. */
  nodes(thread: number, from: number, nodes: readonly { v4: number; v6: string }[]): void;
  /** Blocks (chunkMinutes x features each, one after the other in `data`) of the thread's nodes. */
  blocks(thread: number, index: number, start: number, nodes: ArrayLike<number>, data: Float64Array): void;
  progress(index: number, bytes: number): void;
  /** A job's result, from thread `thread`; may throw (the run stops). */
  done(result: JobResult, thread: number): void;
  /** The job about to start, with anything decided at its start (the serial run's late budget). */
  prepare(spec: JobSpec): JobSpec;
}

export async function runJobs(
  specs: readonly JobSpec[],
  ctx: JobContext,
  threads: number,
  h: JobHandlers,
  signal?: AbortSignal,
): Promise<void> {
  if (threads <= 1) return runHere(specs, ctx, h, signal);
  const workerUrl = new URL('./worker.js', import.meta.url);
  const workers: Worker[] = [];
  let next = 0;
  let finished = 0;
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const stop = (err: unknown): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(err);
    };
    const onAbort = (): void => stop(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    const give = (w: Worker): void => {
      if (next < specs.length) w.postMessage(h.prepare(specs[next++]));
    };
    const n = Math.min(threads, specs.length);
    for (let t = 0; t < n; t++) {
      const w = new Worker(workerUrl, { workerData: ctx });
      workers.push(w);
      w.on('error', stop);
      w.on('exit', (code) => {
        if (!failed) stop(new Error(`a serialize worker thread stopped (exit code ${code}) before its jobs were done`));
      });
      w.on('message', (m: WorkerMessage) => {
        if (failed) return;
        try {
          if (m.type === 'nodes') h.nodes(t, m.from, m.nodes);
          else if (m.type === 'blocks') h.blocks(t, m.index, m.start, m.nodes, m.data);
          else if (m.type === 'progress') h.progress(m.index, m.bytes);
          else if (m.type === 'failed') {
            const err = new Error(m.message);
            err.name = m.name;
            err.stack = m.stack;
            stop(err);
          } else {
            h.done(m.result, t);
            finished++;
            if (finished === specs.length) {
              signal?.removeEventListener('abort', onAbort);
              failed = true; // nothing more to take
              void Promise.all(workers.map((x) => x.terminate())).then(() => resolve(), reject);
            } else give(w);
          }
        } catch (e) {
          stop(e);
        }
      });
      give(w);
    }
    if (specs.length === 0) resolve();
  });
}

async function runHere(
  specs: readonly JobSpec[],
  ctx: JobContext,
  h: JobHandlers,
  signal: AbortSignal | undefined,
): Promise<void> {
  const registry = new NodeRegistry();
  if (ctx.nodes) await loadInventory(ctx.nodes, registry);
  if (ctx.prefixes?.length) parsePrefixOptions(ctx.prefixes, registry);
  let announced = 0;
  const announce = (): void => {
    if (registry.size === announced) return;
    const nodes: { v4: number; v6: string }[] = [];
    for (let id = announced; id < registry.size; id++) nodes.push(registry.addressOf(id));
    h.nodes(0, announced, nodes);
    announced = registry.size;
  };
  for (const spec of specs) {
    if (signal?.aborted) throw abortError();
    const s = h.prepare(spec);
    const result = await runJob(
      s,
      ctx,
      registry,
      {
        blocks(start, nodes, blocks) {
          announce();
          for (let i = 0; i < nodes.length; i++) h.blocks(0, s.index, start, [nodes[i]], blocks[i]);
        },
        progress: (bytes) => h.progress(s.index, bytes),
      },
      signal,
    );
    announce();
    h.done(result, 0);
  }
}

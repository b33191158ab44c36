/**
 * A serialize worker thread: runs the read jobs (job.ts) the main thread sends it, one at a time,
 * and posts back the nodes it meets, the blocks its windows let go, progress, and each job's result.
 * Messages of one worker arrive in the order they were posted, so a block's nodes are always known.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { N_FEATURES } from '../catalogue/features.js';
import { NodeRegistry, loadInventory, parsePrefixOptions } from './inventory.js';
import { runJob, type JobContext, type JobSpec } from './job.js';
import type { WorkerMessage } from './parallel.js';

const ctx = workerData as JobContext;
const port = parentPort!;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const registry = new NodeRegistry();
const ready = (async () => {
  if (ctx.nodes) await loadInventory(ctx.nodes, registry);
  if (ctx.prefixes?.length) parsePrefixOptions(ctx.prefixes, registry);
})();
let announced = 0;
function announce(): void {
  if (registry.size === announced) return;
  const nodes: { v4: number; v6: string }[] = [];
  for (let id = announced; id < registry.size; id++) nodes.push(registry.addressOf(id));
  post({ type: 'nodes', from: announced, nodes });
  announced = registry.size;
}

const block = ctx.chunkMinutes * N_FEATURES;
port.on('message', (spec: JobSpec) => {
  void (async () => {
    try {
      await ready;
      const result = await runJob(spec, ctx, registry, {
        blocks(start, nodes, blocks) {
          announce();
          const data = new Float64Array(blocks.length * block);
          blocks.forEach((b, i) => data.set(b, i * block));
          post({ type: 'blocks', index: spec.index, start, nodes: Int32Array.from(nodes), data }, [data.buffer]);
        },
        progress(bytes) {
          post({ type: 'progress', index: spec.index, bytes });
        },
      });
      announce();
      post({ type: 'done', result });
    } catch (e) {
      const err = e as Error;
      post({ type: 'failed', index: spec.index, name: err.name, message: err.message, stack: err.stack ?? '' });
    }
  })();
});

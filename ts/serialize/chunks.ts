/**
 * Bounded-memory accumulation of node-minute feature vectors, in two parts.
 *
 * ChunkWindow (one per read job: a file, or a byte range of one): records arrive roughly in time
 * order. Minutes are grouped in chunks of `chunkMinutes`; only the chunks inside the job's reorder
 * window are open in memory (one dense float64 block per node active in them). A chunk that falls
 * behind the window leaves it: its blocks go to `onSpill` (and back to the pool). Memory grows with the
 * nodes active in the open chunks, never with the number of records or the length of the span.
 *
 * SeriesMerge (one per run, in the main thread): sums the blocks every job sends, per node and
 * chunk, in float64, keeping at most `budgetBytes` of them in memory; beyond, the oldest chunks go to a
 * scratch file (float32 where that is exact, else float64). At the end, blocks of the same node and
 * chunk are summed in float64 and the node-major series file is written in float32. Since every
 * value is a sum of integers (packets, bytes, flows; times an integer sampling rate), float64 sums are
 * exact whatever the order, so the series does not depend on how the records were split between jobs,
 * threads or blocks (with --spread-long-flows or a fractional sampling rate serialize uses one
 * thread, and the order is fixed).
 */
import { closeSync, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { readFully } from '../common/files.js';

/**
 * One chunk of minutes: a dense block [minute in chunk][feature] per node active in it. Blocks come
 * from a pool and go back to it when the chunk is spilled, so a long run allocates (and zero-fills)
 * only as many blocks as the open window ever holds at once.
 */
export class Chunk {
  /** Block of each slot, and the node (temporary id) it belongs to. */
  readonly blocks: Float64Array[] = [];
  readonly nodes: number[] = [];
  private slotOf: Int32Array;

  constructor(
    readonly start: number,
    private readonly minutes: number,
    private readonly features: number,
    private readonly pool: Float64Array[],
  ) {
    this.slotOf = new Int32Array(64).fill(-1);
  }

  /** The block of a node, added (from the pool, zeroed) when the node is new to this chunk. */
  block(node: number): Float64Array {
    if (node >= this.slotOf.length) {
      const grown = new Int32Array(Math.max(node + 1, this.slotOf.length * 2)).fill(-1);
      grown.set(this.slotOf);
      this.slotOf = grown;
    }
    const slot = this.slotOf[node];
    if (slot >= 0) return this.blocks[slot];
    const b = this.pool.pop() ?? new Float64Array(this.minutes * this.features);
    this.slotOf[node] = this.blocks.length;
    this.blocks.push(b);
    this.nodes.push(node);
    return b;
  }

  /** Offset of a minute's feature vector inside a block. */
  offset(minute: number): number {
    return (minute - this.start) * this.features;
  }

  /** Hands the blocks back to the pool (zeroed) once they are spilled. */
  release(): void {
    for (const b of this.blocks) {
      b.fill(0);
      this.pool.push(b);
    }
    this.blocks.length = 0;
    this.nodes.length = 0;
  }
}

/** Where a job's window sends a chunk that leaves it: its start minute, its nodes and their blocks. */
export type SpillSink = (start: number, nodes: readonly number[], blocks: readonly Float64Array[]) => void;

export class ChunkWindow {
  private readonly open = new Map<number, Chunk>();
  private readonly pool: Float64Array[] = [];
  private last: Chunk | null = null;
  private maxMinute = -Infinity;
  peakOpenChunks = 0;
  /** Smallest and largest minute that received data. */
  minMinute = Infinity;
  lastMinute = -Infinity;

  constructor(
    readonly chunkMinutes: number,
    readonly features: number,
    /** How far (in minutes) a record may lag behind the newest one seen and still be accepted. */
    readonly reorderMinutes: number,
    private readonly onSpill: SpillSink,
  ) {
    if (!(chunkMinutes >= 1) || !Number.isInteger(chunkMinutes))
      throw new Error(`chunk minutes must be a positive integer, got ${chunkMinutes}`);
    if (!(reorderMinutes >= 0)) throw new Error(`reorder minutes must be >= 0, got ${reorderMinutes}`);
  }

  /** The newest minute seen since the last restart (what the window follows); -Infinity before any. */
  get newest(): number {
    return this.maxMinute;
  }

  /** Restarts the window from the next record (the late records' replay, in time order). */
  restart(): void {
    this.maxMinute = -Infinity;
    this.last = null;
  }

  /**
   * The open chunk holding `minute`, or null when the minute is older than the reorder window allows
   * (the caller keeps the record aside). `advance` false opens a chunk ahead of the newest record
   * without moving the window (the tail of a long flow spread over later minutes).
   */
  chunkFor(minute: number, advance = true): Chunk | null {
    const last = this.last;
    if (last !== null && minute >= last.start && minute < last.start + this.chunkMinutes) return last;
    if (advance && minute > this.maxMinute) {
      this.maxMinute = minute;
      this.flushOlderThan(minute - this.reorderMinutes);
    }
    if (minute < this.maxMinute - this.reorderMinutes) return null;
    const start = Math.floor(minute / this.chunkMinutes) * this.chunkMinutes;
    let chunk = this.open.get(start);
    if (!chunk) {
      chunk = new Chunk(start, this.chunkMinutes, this.features, this.pool);
      this.open.set(start, chunk);
      this.peakOpenChunks = Math.max(this.peakOpenChunks, this.open.size);
    }
    this.last = chunk;
    return chunk;
  }

  /** Notes that `minute` received data (for the store's time range). */
  touch(minute: number): void {
    if (minute < this.minMinute) this.minMinute = minute;
    if (minute > this.lastMinute) this.lastMinute = minute;
  }

  private flushOlderThan(watermark: number): void {
    for (const [start, chunk] of this.open) {
      if (start + this.chunkMinutes <= watermark) {
        this.spill(chunk);
        this.open.delete(start);
        if (this.last === chunk) this.last = null;
      }
    }
  }

  private spill(chunk: Chunk): void {
    if (chunk.blocks.length > 0) this.onSpill(chunk.start, chunk.nodes, chunk.blocks);
    chunk.release();
  }

  /** Sends every chunk still open, oldest first. */
  finish(): void {
    for (const chunk of [...this.open.values()].sort((a, b) => a.start - b.start)) this.spill(chunk);
    this.open.clear();
    this.last = null;
  }
}

/** Blocks held in memory by SeriesMerge at most, by default. */
export const DEFAULT_MERGE_BUDGET_BYTES = 128 * 1024 * 1024;

export class SeriesMerge {
  /** Chunk start -> node -> summed block. */
  private readonly open = new Map<number, Map<number, Float64Array>>();
  /** Spilled blocks kept for reuse (so a long run does not churn the heap with freed blocks). */
  private readonly pool: Float64Array[] = [];
  private heldBytes = 0;
  /** Spill index: for each block, its chunk start, node, byte offset and whether it is float64. */
  private readonly blockStart: number[] = [];
  private readonly blockNode: number[] = [];
  private readonly blockPos: number[] = [];
  private readonly blockF64: boolean[] = [];
  private spillFd: number;
  private spillBytes = 0;
  /** What one spill writes, reused (grown as needed) so spilling allocates nothing per chunk. */
  private spillOut = new Uint8Array(0);
  private readonly blockValues: number;
  minMinute = Infinity;
  lastMinute = -Infinity;

  constructor(
    private readonly spillPath: string,
    readonly chunkMinutes: number,
    readonly features: number,
    private readonly budgetBytes = DEFAULT_MERGE_BUDGET_BYTES,
  ) {
    this.blockValues = chunkMinutes * features;
    this.spillFd = openSync(spillPath, 'w+');
  }

  /**
   * Adds a job's block of `node` for the chunk at `start` (`values` from `offset`, chunkMinutes x
   * features). `owned`: the caller hands `values` over (a worker's message), so a new block may be a
   * view of it instead of a copy.
   */
  add(start: number, node: number, values: Float64Array, offset = 0, owned = false): void {
    let chunk = this.open.get(start);
    if (!chunk) {
      chunk = new Map();
      this.open.set(start, chunk);
    }
    const n = this.blockValues;
    const mine = chunk.get(node);
    if (mine === undefined) {
      let block: Float64Array;
      if (owned) block = values.subarray(offset, offset + n);
      else {
        block = this.pool.pop() ?? new Float64Array(n);
        block.set(values.subarray(offset, offset + n));
      }
      chunk.set(node, block);
      this.heldBytes += n * 8;
      if (this.heldBytes > this.budgetBytes) this.spillOldest(start);
    } else for (let i = 0; i < n; i++) mine[i] += values[offset + i];
  }

  /** Notes the minutes that received data (a job's first and last). */
  touch(first: number, last: number): void {
    if (first < this.minMinute) this.minMinute = first;
    if (last > this.lastMinute) this.lastMinute = last;
  }

  /** Spills chunks, oldest first, until the held blocks fit in half the budget (never the chunk `keep`). */
  private spillOldest(keep: number): void {
    const starts = [...this.open.keys()].sort((a, b) => a - b);
    for (const s of starts) {
      if (this.heldBytes <= this.budgetBytes / 2) break;
      if (s !== keep) this.spillChunk(s);
    }
  }

  private spillChunk(start: number): void {
    const chunk = this.open.get(start);
    if (!chunk) return;
    const n = this.blockValues;
    // all of the chunk's blocks in one write: float32 where exact, else float64
    if (this.spillOut.length < chunk.size * n * 8) this.spillOut = new Uint8Array(chunk.size * n * 8);
    const out = this.spillOut;
    let used = 0;
    for (const [node, block] of chunk) {
      const f32 = new Float32Array(out.buffer, used, n);
      f32.set(block);
      let exact = true;
      for (let i = 0; i < n; i++)
        if (f32[i] !== block[i]) {
          exact = false;
          break;
        }
      if (!exact) new Float64Array(out.buffer, used, n).set(block);
      this.blockStart.push(start);
      this.blockNode.push(node);
      this.blockPos.push(this.spillBytes + used);
      this.blockF64.push(!exact);
      used += exact ? n * 4 : n * 8;
      this.heldBytes -= n * 8;
    }
    writeAll(this.spillFd, out.subarray(0, used), this.spillBytes);
    this.spillBytes += used;
    this.open.delete(start);
    for (const block of chunk.values())
      if (
        block.byteOffset === 0 &&
        block.buffer.byteLength === n * 8 &&
        this.pool.length * n * 8 < this.budgetBytes / 2
      )
        this.pool.push(block);
  }

  /** Blocks written to the scratch file so far (for tests). */
  get spilledBlocks(): number {
    return this.blockStart.length;
  }

  /**
   * Spills what is still held, then writes the node-major series file [nodes][minutes][features] for
   * minutes [start, start + minutes), float32. `finalId` maps a merge node id to its row (or -1 to drop
   * it). Blocks of the same node and chunk are summed in float64 first. The scratch file is removed.
   */
  writeSeries(path: string, finalId: Int32Array, nNodes: number, start: number, minutes: number): number {
    for (const s of [...this.open.keys()].sort((a, b) => a - b)) this.spillChunk(s);
    this.spillOut = new Uint8Array(0); // no more spills: its memory is not held through the read-back
    const F = this.features;
    const C = this.chunkMinutes;
    const n = this.blockValues;
    const fd = openSync(path, 'w');
    const total = nNodes * minutes * F * 4;
    try {
      ftruncateSync(fd, total);
      const raw = new Uint8Array(n * 8);
      const as32 = new Float32Array(raw.buffer, 0, n);
      const as64 = new Float64Array(raw.buffer);
      const sum = new Float64Array(n);
      const out = new Float32Array(n);
      const outBytes = new Uint8Array(out.buffer);
      const count = this.blockStart.length;
      const order = Array.from({ length: count }, (_, b) => b);
      order.sort((x, y) => this.blockNode[x] - this.blockNode[y] || this.blockStart[x] - this.blockStart[y] || x - y);
      for (let i = 0; i < count;) {
        const b = order[i];
        let j = i + 1;
        while (
          j < count &&
          this.blockNode[order[j]] === this.blockNode[b] &&
          this.blockStart[order[j]] === this.blockStart[b]
        )
          j++;
        const row = finalId[this.blockNode[b]];
        const cs = this.blockStart[b];
        const from = Math.max(cs, start);
        const to = Math.min(cs + C, start + minutes);
        if (row >= 0 && from < to) {
          sum.fill(0);
          for (let k = i; k < j; k++) {
            const o = order[k];
            if (this.blockF64[o]) {
              readFully(this.spillFd, raw, this.blockPos[o], 'spill file ended early');
              for (let x = 0; x < n; x++) sum[x] += as64[x];
            } else {
              readFully(this.spillFd, raw.subarray(0, n * 4), this.blockPos[o], 'spill file ended early');
              for (let x = 0; x < n; x++) sum[x] += as32[x];
            }
          }
          out.set(sum);
          writeAll(
            fd,
            outBytes.subarray((from - cs) * F * 4, (to - cs) * F * 4),
            (row * minutes + (from - start)) * F * 4,
          );
        }
        i = j;
      }
    } finally {
      closeSync(fd);
      this.close();
    }
    return total;
  }

  /** Releases the scratch file (also on failure). */
  close(): void {
    this.spillOut = new Uint8Array(0);
    if (this.spillFd >= 0) {
      closeSync(this.spillFd);
      this.spillFd = -1;
      try {
        unlinkSync(this.spillPath);
      } catch {
        /* already gone */
      }
    }
  }
}

function writeAll(fd: number, buf: Uint8Array, pos: number): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, pos + off);
}

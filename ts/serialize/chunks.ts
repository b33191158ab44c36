/**
 * Bounded-memory accumulation of node-minute feature vectors.
 *
 * Records arrive roughly in time order. Minutes are grouped in chunks of `chunkMinutes`; only the
 * chunks inside the reorder window are open in memory (one dense block per node active in them).
 * A chunk that falls behind the window is spilled to a scratch file as float32 blocks. At the end the
 * blocks are written into the node-major series file. Memory grows with the nodes active in the open
 * chunks, never with the number of records or the length of the span.
 *
 * The window belongs to one input file (`beginFile` starts a new one): a later file may go back in
 * time, e.g. a second exporter's file of the same hours. A chunk it reopens after it was spilled
 * gets a new block, and blocks of the same node and chunk are summed when the series is written
 * (in float64, from their float32 values), so overlapping files merge whatever their order.
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

export interface ChunkStats {
  spilledBlocks: number;
  peakOpenChunks: number;
  peakOpenSlots: number;
}

export class ChunkedAccumulator {
  private readonly open = new Map<number, Chunk>();
  private readonly pool: Float64Array[] = [];
  private last: Chunk | null = null;
  private maxMinute = -Infinity;
  /** Spill index: for each block, its chunk start, node and byte offset in the spill file. */
  private blockStart: number[] = [];
  private blockNode: number[] = [];
  private spillFd: number;
  private spillBytes = 0;
  readonly stats: ChunkStats = { spilledBlocks: 0, peakOpenChunks: 0, peakOpenSlots: 0 };
  /** Smallest and largest minute that received data. */
  minMinute = Infinity;
  lastMinute = -Infinity;

  constructor(
    private readonly spillPath: string,
    readonly chunkMinutes: number,
    readonly features: number,
    /** How far (in minutes) a record may lag behind the newest one seen and still be accepted. */
    readonly reorderMinutes: number,
  ) {
    if (!(chunkMinutes >= 1) || !Number.isInteger(chunkMinutes))
      throw new Error(`chunk minutes must be a positive integer, got ${chunkMinutes}`);
    if (!(reorderMinutes >= 0)) throw new Error(`reorder minutes must be >= 0, got ${reorderMinutes}`);
    this.spillFd = openSync(spillPath, 'w+');
  }

  /** A new input file: its records may go back in time; the window restarts from its first record. */
  beginFile(): void {
    this.maxMinute = -Infinity;
    this.last = null;
  }

  /**
   * The open chunk holding `minute`, or null when the minute is older than the reorder window allows
   * (the caller keeps the record aside, or rejects it as out of order). `advance` false opens a chunk ahead of the
   * newest record without moving the window (the tail of a long flow spread over later minutes).
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
      this.stats.peakOpenChunks = Math.max(this.stats.peakOpenChunks, this.open.size);
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
    let slots = 0;
    for (const c of this.open.values()) slots += c.nodes.length;
    this.stats.peakOpenSlots = Math.max(this.stats.peakOpenSlots, slots);
    // All of a chunk's blocks in one write, converted to float32 natively by TypedArray.set.
    const block = this.chunkMinutes * this.features;
    const f32 = new Float32Array(block * chunk.blocks.length);
    for (let s = 0; s < chunk.blocks.length; s++) {
      f32.set(chunk.blocks[s], s * block);
      this.blockStart.push(chunk.start);
      this.blockNode.push(chunk.nodes[s]);
    }
    writeAll(this.spillFd, new Uint8Array(f32.buffer), this.spillBytes);
    this.spillBytes += f32.byteLength;
    this.stats.spilledBlocks += chunk.blocks.length;
    chunk.release();
  }

  /**
   * Spills what is still open, then writes the node-major series file [nodes][minutes][features] for
   * minutes [start, start + minutes). `finalId` maps a temporary node id to its row (or -1 to drop it).
   * Blocks of the same node and chunk (a chunk reopened by a later file) are summed. `onBlock`
   * reports progress. The spill file is removed.
   */
  writeSeries(
    path: string,
    finalId: Int32Array,
    nNodes: number,
    start: number,
    minutes: number,
    onBlock?: (done: number, total: number) => void,
  ): number {
    for (const chunk of [...this.open.values()].sort((a, b) => a.start - b.start)) this.spill(chunk);
    this.open.clear();
    this.last = null;
    const F = this.features;
    const C = this.chunkMinutes;
    const fd = openSync(path, 'w');
    const total = nNodes * minutes * F * 4;
    try {
      ftruncateSync(fd, total);
      const block = new Uint8Array(C * F * 4);
      const n = this.blockStart.length;
      // Blocks in spill order, except that blocks of one node and chunk come together (summed).
      const order = Array.from({ length: n }, (_, b) => b);
      const seen = new Map<string, number>();
      let dup = false;
      for (let b = 0; b < n; b++) {
        const key = `${this.blockNode[b]}:${this.blockStart[b]}`;
        if (seen.has(key)) dup = true;
        else seen.set(key, b);
      }
      if (dup)
        order.sort((x, y) => this.blockNode[x] - this.blockNode[y] || this.blockStart[x] - this.blockStart[y] || x - y);
      const f32 = new Float32Array(block.buffer);
      const sum = dup ? new Float64Array(C * F) : null;
      for (let i = 0; i < n;) {
        const b = order[i];
        let j = i + 1;
        while (
          j < n &&
          this.blockNode[order[j]] === this.blockNode[b] &&
          this.blockStart[order[j]] === this.blockStart[b]
        )
          j++;
        const row = finalId[this.blockNode[b]];
        const cs = this.blockStart[b];
        const from = Math.max(cs, start);
        const to = Math.min(cs + C, start + minutes);
        if (row >= 0 && from < to) {
          readFully(this.spillFd, block, b * block.length, 'spill file ended early');
          if (j > i + 1) {
            sum!.set(f32);
            for (let k = i + 1; k < j; k++) {
              readFully(this.spillFd, block, order[k] * block.length, 'spill file ended early');
              for (let x = 0; x < sum!.length; x++) sum![x] += f32[x];
            }
            f32.set(sum!);
          }
          const src = block.subarray((from - cs) * F * 4, (to - cs) * F * 4);
          writeAll(fd, src, (row * minutes + (from - start)) * F * 4);
        }
        if (onBlock && (i & 1023) === 0) onBlock(i, n);
        i = j;
      }
      onBlock?.(n, n);
    } finally {
      closeSync(fd);
      this.close();
    }
    return total;
  }

  /** Releases the scratch file (also on failure). */
  close(): void {
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

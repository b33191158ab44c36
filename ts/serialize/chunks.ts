/**
 * Bounded-memory accumulation of node-minute feature vectors.
 *
 * Records arrive roughly in time order. Minutes are grouped in chunks of `chunkMinutes`; only the
 * chunks inside the reorder window are open in memory (one dense block per node active in them).
 * A chunk that falls behind the window is spilled to a scratch file as float32 blocks. At the end the
 * blocks are written into the node-major series file. Memory grows with the nodes active in the open
 * chunks, never with the number of records or the length of the span.
 */
import { closeSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';

export class Chunk {
  /** Accumulators: slot-major, [slot][minute in chunk][feature]. Reallocated as slots are added. */
  acc: Float64Array;
  /** Node (temporary id) of each slot. */
  readonly nodes: number[] = [];
  private slotOf: Int32Array;

  constructor(
    readonly start: number,
    private readonly minutes: number,
    private readonly features: number,
  ) {
    this.acc = new Float64Array(8 * minutes * features);
    this.slotOf = new Int32Array(64).fill(-1);
  }

  /** Offset in `acc` of (node, minute)'s feature vector; adds a slot for a node new to this chunk. */
  offset(node: number, minute: number): number {
    if (node >= this.slotOf.length) {
      const grown = new Int32Array(Math.max(node + 1, this.slotOf.length * 2)).fill(-1);
      grown.set(this.slotOf);
      this.slotOf = grown;
    }
    let slot = this.slotOf[node];
    if (slot < 0) {
      slot = this.nodes.length;
      this.nodes.push(node);
      this.slotOf[node] = slot;
      const need = (slot + 1) * this.minutes * this.features;
      if (need > this.acc.length) {
        const grown = new Float64Array(Math.max(need, this.acc.length * 2));
        grown.set(this.acc);
        this.acc = grown;
      }
    }
    return (slot * this.minutes + (minute - this.start)) * this.features;
  }
}

export interface ChunkStats {
  spilledBlocks: number;
  peakOpenChunks: number;
  peakOpenSlots: number;
}

export class ChunkedAccumulator {
  private readonly open = new Map<number, Chunk>();
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
    if (!(chunkMinutes >= 1) || !Number.isInteger(chunkMinutes)) throw new Error(`chunk minutes must be a positive integer, got ${chunkMinutes}`);
    this.spillFd = openSync(spillPath, 'w+');
  }

  /**
   * The open chunk holding `minute`, or null when the minute is older than the reorder window allows
   * (the caller rejects the record as out of order).
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
      chunk = new Chunk(start, this.chunkMinutes, this.features);
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
    const block = this.chunkMinutes * this.features;
    const f32 = new Float32Array(block);
    const bytes = new Uint8Array(f32.buffer);
    for (let s = 0; s < chunk.nodes.length; s++) {
      for (let i = 0; i < block; i++) f32[i] = chunk.acc[s * block + i];
      writeAll(this.spillFd, bytes, this.spillBytes);
      this.spillBytes += bytes.length;
      this.blockStart.push(chunk.start);
      this.blockNode.push(chunk.nodes[s]);
      this.stats.spilledBlocks++;
    }
  }

  /**
   * Spills what is still open, then writes the node-major series file [nodes][minutes][features] for
   * minutes [start, start + minutes). `finalId` maps a temporary node id to its row (or -1 to drop it).
   * `onBlock` reports progress. The spill file is removed.
   */
  writeSeries(path: string, finalId: Int32Array, nNodes: number, start: number, minutes: number, onBlock?: (done: number, total: number) => void): number {
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
      for (let b = 0; b < n; b++) {
        const row = finalId[this.blockNode[b]];
        const cs = this.blockStart[b];
        const from = Math.max(cs, start);
        const to = Math.min(cs + C, start + minutes);
        if (row < 0 || from >= to) continue;
        readAll(this.spillFd, block, b * block.length);
        const src = block.subarray((from - cs) * F * 4, (to - cs) * F * 4);
        writeAll(fd, src, ((row * minutes + (from - start)) * F) * 4);
        if (onBlock && (b & 1023) === 0) onBlock(b, n);
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

function readAll(fd: number, buf: Uint8Array, pos: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, pos + off);
    if (n === 0) throw new Error('spill file ended early');
    off += n;
  }
}

/**
 * The flow records of one minute, in columns (no object per record), with the per-node incoming
 * totals the alert feed needs. Packet sampling 1:N happens here: a flow keeps Binomial(packets, 1/N)
 * of its packets (bytes in proportion) and disappears when none is left, as on a router that samples
 * packets. Totals are kept in real units (sampled counts times N), the units of a store serialized
 * with `--sampling N`.
 */
import type { FlowColumns, NfdumpCsvEncoder } from './nfdump.js';
import type { Rng } from '../common/rng.js';

export class FlowBuffer implements FlowColumns {
  n = 0;
  private cap = 0;
  startMs = new Float64Array(0);
  durMs = new Int32Array(0);
  exportMs = new Int32Array(0);
  src: string[] = [];
  dst: string[] = [];
  sp = new Int32Array(0);
  dp = new Int32Array(0);
  proto = new Uint8Array(0);
  flags = new Uint8Array(0);
  pkts = new Float64Array(0);
  bytes = new Float64Array(0);

  /** Incoming packets, bytes and flows of each node in this minute, real units. */
  readonly inPkts: Float64Array;
  readonly inBytes: Float64Array;
  readonly inFlows: Float64Array;
  /** Real-unit packets and bytes of the last add() (0 when sampling dropped it). */
  lastPkts = 0;
  lastBytes = 0;

  constructor(
    readonly nodes: number,
    readonly sampling: number,
  ) {
    this.inPkts = new Float64Array(nodes);
    this.inBytes = new Float64Array(nodes);
    this.inFlows = new Float64Array(nodes);
    this.grow(1024);
  }

  reset(): void {
    this.n = 0;
    this.inPkts.fill(0);
    this.inBytes.fill(0);
    this.inFlows.fill(0);
  }

  /**
   * Adds a flow. `dstNode` is the node it enters (-1 when none). Returns false when sampling dropped it.
   * `rng` is the caller's stream (sampling and the export delay draw from it).
   */
  add(
    rng: Rng,
    startMs: number,
    durMs: number,
    src: string,
    dst: string,
    sp: number,
    dp: number,
    proto: number,
    flags: number,
    pkts: number,
    bytes: number,
    dstNode: number,
  ): boolean {
    const exportMs = 1000 + rng.int(29_000);
    if (this.sampling > 1) {
      const k = rng.binomial(pkts, 1 / this.sampling);
      if (k === 0) {
        this.lastPkts = this.lastBytes = 0;
        return false;
      }
      bytes = Math.max(k, Math.round((bytes * k) / pkts));
      pkts = k;
    }
    if (this.n === this.cap) this.grow(this.cap * 2);
    const i = this.n++;
    this.startMs[i] = startMs;
    this.durMs[i] = durMs;
    this.exportMs[i] = exportMs;
    this.src[i] = src;
    this.dst[i] = dst;
    this.sp[i] = sp;
    this.dp[i] = dp;
    this.proto[i] = proto;
    this.flags[i] = flags;
    this.pkts[i] = pkts;
    this.bytes[i] = bytes;
    this.lastPkts = pkts * this.sampling;
    this.lastBytes = bytes * this.sampling;
    if (dstNode >= 0) {
      this.inPkts[dstNode] += this.lastPkts;
      this.inBytes[dstNode] += this.lastBytes;
      this.inFlows[dstNode] += this.sampling;
    }
    return true;
  }

  /** Record indices in start-second order (stable: a counting sort on the second within the minute). */
  order(minuteStartMs: number): Int32Array {
    const counts = new Int32Array(61);
    const sec = new Uint8Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const s = Math.min(59, Math.max(0, Math.floor((this.startMs[i] - minuteStartMs) / 1000)));
      sec[i] = s;
      counts[s + 1]++;
    }
    for (let s = 1; s <= 60; s++) counts[s] += counts[s - 1];
    const out = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) out[counts[sec[i]]++] = i;
    return out;
  }

  /** The minute's records as nfdump CSV lines, in start-time order, into an encoder. */
  encode(enc: NfdumpCsvEncoder, minuteStartMs: number): void {
    const order = this.order(minuteStartMs);
    for (let k = 0; k < order.length; k++) enc.line(this, order[k]);
  }

  private grow(cap: number): void {
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array) => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    this.startMs = f64(this.startMs);
    this.durMs = i32(this.durMs);
    this.exportMs = i32(this.exportMs);
    this.sp = i32(this.sp);
    this.dp = i32(this.dp);
    this.proto = u8(this.proto);
    this.flags = u8(this.flags);
    this.pkts = f64(this.pkts);
    this.bytes = f64(this.bytes);
    this.cap = cap;
  }
}

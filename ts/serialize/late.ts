/**
 * Records that lag more than the reorder window behind their file's newest record, kept aside in
 * flat typed arrays (6 float64 and 7 int32 a record) and replayed in start-time order at the end.
 */
import { emptyRecord, type FlowRecord } from '../ingest/record.js';

/** Records kept aside because they lag more than the reorder window behind their file's newest record. */
export class LateRecords {
  n = 0;
  private cap = 0;
  private f64 = new Float64Array(0); // startMs endMs pkts bytes rpkts rbytes
  private i32 = new Int32Array(0); // s d sp dp proto flags rflags

  push(rec: FlowRecord, s: number, d: number): void {
    if (this.n === this.cap) {
      this.cap = Math.max(1024, this.cap * 2);
      const f = new Float64Array(this.cap * 6);
      f.set(this.f64);
      this.f64 = f;
      const i = new Int32Array(this.cap * 7);
      i.set(this.i32);
      this.i32 = i;
    }
    const f = this.n * 6;
    const i = this.n * 7;
    this.f64[f] = rec.startMs;
    this.f64[f + 1] = rec.endMs;
    this.f64[f + 2] = rec.pkts;
    this.f64[f + 3] = rec.bytes;
    this.f64[f + 4] = rec.rpkts;
    this.f64[f + 5] = rec.rbytes;
    this.i32[i] = s;
    this.i32[i + 1] = d;
    this.i32[i + 2] = rec.sp;
    this.i32[i + 3] = rec.dp;
    this.i32[i + 4] = rec.proto;
    this.i32[i + 5] = rec.flags;
    this.i32[i + 6] = rec.rflags;
    this.n++;
  }

  /** Every record, in start-time order, into `rec` (reused), with its nodes. */
  replay(each: (rec: FlowRecord, s: number, d: number) => void): void {
    const order = Array.from({ length: this.n }, (_, k) => k).sort(
      (a, b) => this.f64[a * 6] - this.f64[b * 6] || a - b,
    );
    const rec = emptyRecord();
    for (const k of order) {
      const f = k * 6;
      const i = k * 7;
      rec.startMs = this.f64[f];
      rec.endMs = this.f64[f + 1];
      rec.pkts = this.f64[f + 2];
      rec.bytes = this.f64[f + 3];
      rec.rpkts = this.f64[f + 4];
      rec.rbytes = this.f64[f + 5];
      rec.sp = this.i32[i + 2];
      rec.dp = this.i32[i + 3];
      rec.proto = this.i32[i + 4];
      rec.flags = this.i32[i + 5];
      rec.rflags = this.i32[i + 6];
      each(rec, this.i32[i], this.i32[i + 1]);
    }
  }
}

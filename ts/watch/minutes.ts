/**
 * Live per-minute aggregation for `netflowgen watch`: flow records in, one closed minute at a time out.
 * The arithmetic is serialize's (serialize/aggregate.ts addRecord: the same 86 features, SPEC §1), the
 * nodes serialize's (serialize/inventory.ts NodeRegistry: the same inventory, longest prefix wins), the
 * rules the series store was made with (packet sampling, long flows spread over the minutes they span or
 * counted in their start minute, the UTC offset of naive time stamps): so a closed minute's vector equals
 * the store's row for that node and minute when the same files are given.
 *
 * When a minute closes (docs/watch.md). Each exporter (FlowFile.exporter) has a watermark, the latest record
 * start minute seen in its files. The collector has moved past minute m when every live exporter's watermark
 * is above m; with a delay of d minutes (exporters flush long flows late: the active timeout), minutes
 * m < min(watermarks) - d close. An exporter whose watermark lags the newest one by more than `staleMinutes`
 * is not waited for (a dead router must not stop the watch). A record of a closed minute is late: counted,
 * not used.
 */
import type { FlowRecord, RecordSink, SourceLocation } from '../ingest/record.js';
import { readerFor } from '../ingest/index.js';
import { N_FEATURES } from '../catalogue/features.js';
import { addRecord } from '../serialize/aggregate.js';
import type { NodeRegistry } from '../serialize/inventory.js';
import type { FlowFile } from './source.js';

export interface AggregationRules {
  sampling: number;
  spreadLongFlows: boolean;
  utcOffsetHours: number;
}

export interface ClosedMinute {
  minute: number;
  /** Feature vectors (86) of the nodes with traffic this minute, by registry node id. */
  nodes: Map<number, Float64Array>;
}

export interface AggregationCounts {
  records: number;
  used: number;
  unmatched: number;
  rejected: number;
  late: number;
}

export class MinuteAggregator {
  private readonly open = new Map<number, Map<number, Float64Array>>();
  private readonly watermark = new Map<string, number>();
  /** Minutes below this one are closed. */
  closedBelow = -Infinity;
  readonly counts: AggregationCounts = { records: 0, used: 0, unmatched: 0, rejected: 0, late: 0 };

  constructor(
    readonly registry: NodeRegistry,
    readonly rules: AggregationRules,
  ) {}

  /** Reads one file's records into the open minutes. */
  async readFile(f: FlowFile, signal?: AbortSignal): Promise<void> {
    const sink: RecordSink = {
      record: (rec: FlowRecord, _loc: SourceLocation) => this.add(rec, f.exporter),
      reject: () => {
        this.counts.rejected++;
      },
    };
    await readerFor(f.format).read(f.path, sink, { signal, utcOffsetHours: this.rules.utcOffsetHours });
  }

  /** One record (serialize's sink, without its time-range screening: a live watch has no range). */
  add(rec: FlowRecord, exporter: string): void {
    this.counts.records++;
    const minute = Math.floor(rec.startMs / 60_000);
    if (!((this.watermark.get(exporter) ?? -Infinity) >= minute)) this.watermark.set(exporter, minute);
    const s = rec.src4 >= 0 ? this.registry.node4(rec.src4) : this.registry.node6(rec.src6);
    const d = rec.dst4 >= 0 ? this.registry.node4(rec.dst4) : this.registry.node6(rec.dst6);
    if (s < 0 && d < 0) {
      this.counts.unmatched++;
      return;
    }
    if (minute < this.closedBelow) {
      this.counts.late++;
      return;
    }
    this.counts.used++;
    const sampling = this.rules.sampling;
    const end = this.rules.spreadLongFlows && rec.endMs > rec.startMs ? Math.floor(rec.endMs / 60_000) : Number.NaN;
    if (!(end > minute)) {
      addRecord(rec, s >= 0 ? this.vector(minute, s) : null, 0, d >= 0 ? this.vector(minute, d) : null, 0, sampling);
      return;
    }
    const dur = rec.endMs - rec.startMs;
    for (let m = minute; m <= end; m++) {
      const share = (Math.min(rec.endMs, (m + 1) * 60_000) - Math.max(rec.startMs, m * 60_000)) / dur;
      addRecord(
        rec,
        s >= 0 ? this.vector(m, s) : null,
        0,
        d >= 0 ? this.vector(m, d) : null,
        0,
        sampling,
        share,
        m === minute,
      );
    }
  }

  private vector(minute: number, node: number): Float64Array {
    let byNode = this.open.get(minute);
    if (!byNode) this.open.set(minute, (byNode = new Map()));
    let v = byNode.get(node);
    if (!v) byNode.set(node, (v = new Float64Array(N_FEATURES)));
    return v;
  }

  /** The first minute that has records and is not closed, or NaN. */
  firstOpenMinute(): number {
    let lo = Infinity;
    for (const m of this.open.keys()) if (m < lo) lo = m;
    return Number.isFinite(lo) ? lo : Number.NaN;
  }

  /** Minutes below the returned one may close (module docstring); -Infinity before any record. */
  frontier(delayMinutes: number, staleMinutes: number): number {
    let newest = -Infinity;
    for (const w of this.watermark.values()) newest = Math.max(newest, w);
    let low = Infinity;
    for (const w of this.watermark.values()) if (w >= newest - staleMinutes) low = Math.min(low, w);
    return Number.isFinite(low) ? low - delayMinutes : -Infinity;
  }

  /** The newest record minute of any exporter (NaN before any). */
  newestMinute(): number {
    let newest = Number.NaN;
    for (const w of this.watermark.values()) if (!(w <= newest)) newest = w;
    return newest;
  }

  /**
   * Closes every minute below `below` in order, empty minutes included from the first closed one on
   * (a silent minute is a minute of zeros for every node, as in the store).
   */
  close(below: number): ClosedMinute[] {
    const out: ClosedMinute[] = [];
    if (!(below > this.closedBelow)) return out;
    let from = this.closedBelow;
    if (!Number.isFinite(from)) {
      from = this.firstOpenMinute();
      if (Number.isNaN(from)) return out;
    }
    for (let m = from; m < below; m++) {
      out.push({ minute: m, nodes: this.open.get(m) ?? new Map() });
      this.open.delete(m);
    }
    if (out.length) this.closedBelow = below;
    return out;
  }

  /** Forgets the minutes below `minute` without emitting them (a restart resumes after its last minute). */
  skipBelow(minute: number): void {
    for (const m of [...this.open.keys()]) if (m < minute) this.open.delete(m);
    this.closedBelow = Math.max(this.closedBelow, minute);
  }
}

/** Shared by the test/ingest-*.test.ts files: sinks that keep what readers give them, and paths. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { packageRoot } from '../ts/common/paths.js';
import {
  InputError,
  type FlowRecord,
  type RecordSink,
  type RejectReason,
  type SourceLocation,
} from '../ts/ingest/record.js';

/** The shared real samples (../shared next to the repository, see /work/shared/data/real/README.md). */
export const REAL = join(packageRoot(), '..', 'shared', 'data', 'real');
export const FIXTURES = join(packageRoot(), 'test', 'fixtures', 'ingest');

export interface Kept {
  rec: FlowRecord;
  line: number;
  file: string;
}
export interface Rejected {
  reason: RejectReason;
  file: string;
  line: number;
  field: string;
  detail: string;
}

/** Keeps copies of every record and reject (readers reuse the objects they pass). */
export class CollectSink implements RecordSink {
  records: Kept[] = [];
  rejects: Rejected[] = [];
  progressCalls: number[] = [];
  record(rec: FlowRecord, loc: SourceLocation): void {
    this.records.push({ rec: { ...rec }, line: loc.line, file: loc.file });
  }
  reject(reason: RejectReason, loc: SourceLocation, field: string, detail: string): void {
    this.rejects.push({ reason, file: loc.file, line: loc.line, field, detail });
  }
  progress(bytes: number): void {
    this.progressCalls.push(bytes);
  }
  recs(): FlowRecord[] {
    return this.records.map((k) => k.rec);
  }
}

/** Throws an InputError at the first bad record, as the store's strict mode does. */
export class StrictSink extends CollectSink {
  override reject(reason: RejectReason, loc: SourceLocation, field: string, detail: string): void {
    throw new InputError(reason, { ...loc }, field, detail);
  }
}

/**
 * Reads `path` with a StrictSink: the read must fail with an InputError whose message matches
 * `message` (file:line and field), after exactly `kept` good records.
 */
export async function expectStrictStop(
  reader: { read(path: string, sink: RecordSink): Promise<unknown> },
  path: string,
  message: RegExp,
  kept: number,
): Promise<void> {
  const sink = new StrictSink();
  const err: unknown = await reader.read(path, sink).catch((e: unknown) => e);
  expect(err).to.be.instanceOf(InputError);
  expect((err as Error).message).to.match(message);
  expect(sink.records.length).to.equal(kept);
}

/** Text of a file, gunzipped when needed. */
export function readText(path: string): string {
  const raw = readFileSync(path);
  return (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('latin1');
}

/** IPv4 dotted quad of an unsigned 32-bit number, written out here rather than imported. */
export function quad(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** An address of a record as text: dotted quad or the IPv6 string. */
export function addrOf(v4: number, v6: string): string {
  return v4 >= 0 ? quad(v4) : v6;
}

/** An independent IPv6 canonicaliser: the WHATWG URL parser (RFC 5952 compression, lower case). */
export function urlCanonicalIPv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** Sums per key. */
export function addTo(map: Map<string, [number, number, number]>, key: string, pkts: number, bytes: number): void {
  const v = map.get(key) ?? [0, 0, 0];
  v[0] += 1;
  v[1] += pkts;
  v[2] += bytes;
  map.set(key, v);
}

export function sorted(map: Map<string, [number, number, number]>): [string, [number, number, number]][] {
  return [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

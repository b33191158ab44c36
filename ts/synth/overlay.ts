/**
 * Attack shapes from real captures. A capture in nfdump CSV (e.g. a StopDDoS pcap run through
 * nfpcapd) becomes a template: the attack flows towards its victim (the destination receiving the
 * most bytes; of its flows, those of the dominant attack vector), with their sources, ports,
 * protocols, flags, bytes per packet and timing within the capture. At generation time (attacks.ts) a template's flows are re-timed into each attack minute,
 * following the capture's own per-second profile, and re-addressed to the synthetic victim; the
 * attack's volume curve (ramp, plateau, decay) scales them.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import type { AttackType } from './config.js';
import { parseFlagString, protoNumber } from './nfdump.js';
import type { FlowRecord } from '../ingest/record.js';

export interface AttackTemplate {
  file: string;
  /** Attack type read off the dominant traffic (UDP from port 53: DNS, from 123: NTP, SYN-only TCP: SYN, other UDP: UDP). */
  type: AttackType;
  /** Address family of the sources (the synthetic victim gets the same family). */
  family: 4 | 6;
  /** The capture's victim, as written in it. */
  victim: string;
  /** Seconds from the first to the last flow start. */
  seconds: number;
  /** Distinct source addresses. */
  sources: number;
  /** Bytes per packet over all flows. */
  bytesPerPacket: number;
  /** Per flow: start offset within the capture (s), source, ports, protocol, flags, packets, bytes. */
  offset: Float64Array;
  src: string[];
  sp: Int32Array;
  dp: Int32Array;
  proto: Uint8Array;
  flags: Uint8Array;
  pkts: Float64Array;
  bytes: Float64Array;
}

/** A flow line of the overlay's nfdump CSV: start minute `t`, addresses as written, the record's ports, protocol, flags and forward counts. */
type RawFlow = { t: number; src: string; dst: string } & Pick<
  FlowRecord,
  'sp' | 'dp' | 'proto' | 'flags' | 'pkts' | 'bytes'
>;

const NEEDED = ['ts', 'sa', 'da', 'sp', 'dp', 'pr', 'flg', 'ipkt', 'ibyt'] as const;

/** Parses nfdump's `YYYY-MM-DD hh:mm:ss[.fff]` as UTC milliseconds; NaN when malformed. */
export function parseNfdumpTime(s: string): number {
  const m = /^\s*(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?\s*$/.exec(s);
  if (!m) return NaN;
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}

/** Reads an nfdump CSV capture (plain or .gz) into a template. Errors name the file, line and field. */
export async function loadTemplate(file: string): Promise<AttackTemplate> {
  let input: NodeJS.ReadableStream = createReadStream(file);
  if (file.endsWith('.gz')) input = input.pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Infinity });
  const flows: RawFlow[] = [];
  let col: Record<(typeof NEEDED)[number], number> | null = null;
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      const f = line.split(',');
      if (!col) {
        const names = f.map((s) => s.trim());
        const missing = NEEDED.filter((n) => !names.includes(n));
        if (missing.length)
          throw new Error(
            `${file}:${lineNo}: not an nfdump CSV header (missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}); write it with nfdump -o csv`,
          );
        col = Object.fromEntries(NEEDED.map((n) => [n, names.indexOf(n)])) as Record<(typeof NEEDED)[number], number>;
        continue;
      }
      if (f.length < 9 || /^Summary|^flows|^No matching/i.test(f[0])) continue; // nfdump's summary lines
      flows.push(parseFlow(f, col, file, lineNo));
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw new Error(`${file}: cannot read (${(e as Error).message})`);
    throw e;
  }
  if (!col) throw new Error(`${file}: empty file, no nfdump CSV header`);
  return templateFromFlows(flows, file);
}

function parseFlow(f: string[], col: Record<(typeof NEEDED)[number], number>, file: string, line: number): RawFlow {
  const bad = (field: string, why: string): never => {
    throw new Error(`${file}:${line}: field '${field}': ${why}`);
  };
  const num = (field: (typeof NEEDED)[number]) => {
    const v = Number(f[col[field]]);
    if (!Number.isFinite(v) || v < 0) bad(field, `not a non-negative number: '${f[col[field]]}'`);
    return v;
  };
  const t = parseNfdumpTime(f[col.ts] ?? '');
  if (!Number.isFinite(t)) bad('ts', `not a time: '${f[col.ts]}'`);
  const proto = protoNumber(f[col.pr] ?? '');
  if (proto < 0) bad('pr', `unknown protocol '${f[col.pr]}'`);
  const flags = parseFlagString(f[col.flg] ?? '');
  if (flags < 0) bad('flg', `not an nfdump flag string: '${f[col.flg]}'`);
  const src = (f[col.sa] ?? '').trim();
  const dst = (f[col.da] ?? '').trim();
  if (!src) bad('sa', 'empty');
  if (!dst) bad('da', 'empty');
  return { t, src, dst, sp: num('sp'), dp: num('dp'), proto, flags, pkts: num('ipkt'), bytes: num('ibyt') };
}

/**
 * The template of a list of flows: those towards the destination that receives the most bytes, and
 * among them those of the attack vector (a capture also holds the victim's other traffic and scans).
 */
export function templateFromFlows(flows: RawFlow[], file: string): AttackTemplate {
  if (flows.length === 0) throw new Error(`${file}: no flow records`);
  const byDst = new Map<string, number>();
  for (const f of flows) byDst.set(f.dst, (byDst.get(f.dst) ?? 0) + f.bytes);
  const victim = [...byDst.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  const incoming = flows.filter((f) => f.dst === victim && f.pkts > 0);
  const type = classifyAttack(
    incoming,
    incoming.reduce((s, f) => s + f.bytes, 0),
  );
  const vector = attackVector(type, incoming);
  const kept = incoming.filter(vector).sort((a, b) => a.t - b.t);
  const t0 = kept[0].t;
  const n = kept.length;
  const t: AttackTemplate = {
    file,
    type: 'other',
    family: victim.includes(':') ? 6 : 4,
    victim,
    seconds: Math.max(1, (kept[n - 1].t - t0) / 1000),
    sources: new Set(kept.map((f) => f.src)).size,
    bytesPerPacket: 0,
    offset: new Float64Array(n),
    src: kept.map((f) => f.src),
    sp: Int32Array.from(kept, (f) => f.sp),
    dp: Int32Array.from(kept, (f) => f.dp),
    proto: Uint8Array.from(kept, (f) => f.proto),
    flags: Uint8Array.from(kept, (f) => f.flags),
    pkts: Float64Array.from(kept, (f) => f.pkts),
    bytes: Float64Array.from(kept, (f) => f.bytes),
  };
  kept.forEach((f, i) => (t.offset[i] = (f.t - t0) / 1000));
  const totalBytes = kept.reduce((s, f) => s + f.bytes, 0);
  t.bytesPerPacket = totalBytes / kept.reduce((s, f) => s + f.pkts, 0);
  t.type = type;
  return t;
}

/** Which flows of a capture belong to its attack: the dominant vector (IP fragments without ports count with UDP amplification). */
export function attackVector(
  type: AttackType,
  flows: readonly { sp: number; dp: number; proto: number; flags: number; bytes: number }[],
): (f: { sp: number; dp: number; proto: number; flags: number }) => boolean {
  const fragment = (f: { sp: number; dp: number; proto: number }) => f.proto === 17 && f.sp === 0 && f.dp === 0;
  switch (type) {
    case 'DNS':
      return (f) => (f.proto === 17 && f.sp === 53) || fragment(f);
    case 'NTP':
      return (f) => (f.proto === 17 && f.sp === 123) || fragment(f);
    case 'SYN':
      return (f) => f.proto === 6 && (f.flags & 0x12) === 0x02;
    case 'UDP':
      return (f) => f.proto === 17;
    default: {
      const byProto = new Map<number, number>();
      for (const f of flows) byProto.set(f.proto, (byProto.get(f.proto) ?? 0) + f.bytes);
      const main = [...byProto.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
      return (f) => f.proto === main;
    }
  }
}

/** The attack type of a set of incoming flows by their dominant bytes (more than half). */
export function classifyAttack(
  flows: readonly { sp: number; proto: number; flags: number; bytes: number }[],
  totalBytes: number,
): AttackType {
  let dns = 0;
  let ntp = 0;
  let udp = 0;
  let syn = 0;
  for (const f of flows) {
    if (f.proto === 17) {
      udp += f.bytes;
      if (f.sp === 53) dns += f.bytes;
      if (f.sp === 123) ntp += f.bytes;
    } else if (f.proto === 6 && (f.flags & 0x12) === 0x02) syn += f.bytes;
  }
  if (dns > totalBytes / 2) return 'DNS';
  if (ntp > totalBytes / 2) return 'NTP';
  if (syn > totalBytes / 2) return 'SYN';
  if (udp > totalBytes / 2) return 'UDP';
  return 'other';
}

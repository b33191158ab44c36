/**
 * Argus bidirectional flows as CSV (`ra -c , -s ...`, the Stratosphere / CTU `*.binetflow` files):
 * `StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,
 * [SrcPkts],[srcUdata,dstUdata],Label`. Columns are located by header name.
 *
 * Our readings (docs/ingest.md):
 * - One Argus record is one bidirectional flow. Forward (src -> dst) = SrcPkts / SrcBytes; reverse
 *   (dst -> src) = TotPkts - SrcPkts / TotBytes - SrcBytes.
 * - Without a SrcPkts column (older files: CTU-13, CTU-Normal-7) forward packets are estimated:
 *   half of TotPkts, within the bounds the byte counts allow (see estimateForwardPackets).
 * - DstPkts / DstBytes stand in for a missing SrcPkts / SrcBytes or TotPkts / TotBytes (exact).
 * - Without SrcBytes (nor DstBytes) both directions are estimated (estimateForward): a record that
 *   shows no reply (TotPkts 1, State INT, a TCP state without destination flags) is all forward;
 *   otherwise half the packets each way and the forward side at most 60 bytes a packet, at most
 *   half the bytes. Each estimate is reported to the sink (`estimated`) and counted in the store.
 * - `Dir` (padded: `   ->`, `  <->`, `  <?>`, `  <-`, `  who`): Argus puts `>` on the right when
 *   the source sent packets and `<` on the left when the destination did (ArgusPrintDirection in
 *   argus-clients; for TCP with the SYN seen on a reversed flow it prints `<-`). So an arrow with
 *   `<` and no `>` (`<-`, `<?`) means the destination is the (only) sender: we swap the two ends,
 *   so that src is the sender of the forward bytes. `<->`, `<?>`, `->`, `?>` keep the order.
 * - TCP `State` `SPA_SRPA` = source flags `_` destination flags (S SYN, A ACK, P PSH, F FIN, R RST,
 *   U URG, E ECE, C CWR) -> flags / rflags. Other states (CON, INT, ECO, ...) and non-TCP: -1.
 * - `Proto` lower-case names (tcp, udp, icmp, ipv6-icmp, igmp, ...; rtp/rtcp/udt are UDP).
 *   `arp`, `rarp`, `llc`, ... are not IP: rejected as `unknown_protocol` (counted, not hidden).
 * - Ports may be empty (0), decimal or hex (`0x0303`). For ICMP Argus prints type and code in
 *   Sport (code in the high byte: `0x0403` = type 3 code 4) and the id in Dport; we store them
 *   as nfdump does: sp = 0, dp = type * 256 + code.
 * - `StartTime` `YYYY/MM/DD hh:mm:ss.ffffff` (capture clock: UTC + utcOffsetHours) or epoch
 *   seconds; end = start + Dur seconds.
 * - Quoted fields, and payload columns (srcUdata/dstUdata) holding commas, do not shift the
 *   columns: those before the payload are counted from the left, those after it from the right.
 */
import {
  fieldText,
  parseCount,
  parseDecimal,
  parsePort,
  parseTimestamp,
  skipSpaces,
  splitFieldsQuoted,
  trimEnd,
} from './fields.js';
import { ProtocolLookup } from './protocols.js';
import type { FlowReader, FlowRecord } from './record.js';
import { HeaderParser, headerReader, shown, type HeaderArgs, type RecordLineParser } from './text-records.js';

/** Flag bit of each letter of an Argus TCP state (F FIN, S SYN, R RST, P PSH, A ACK, U URG, E ECE, C CWR); -1 for any other byte. */
const STATE_FLAG_BITS = new Int16Array(256).fill(-1);
for (const [letter, bit] of Object.entries({ F: 1, S: 2, R: 4, P: 8, A: 16, U: 32, E: 64, C: 128 }))
  STATE_FLAG_BITS[letter.charCodeAt(0)] = bit;

/** TCP flag byte of one side of an Argus state (`SPA`), or -1 for a letter that is no flag. */
export function argusFlags(buf: Uint8Array, start: number, end: number): number {
  let f = 0;
  for (let i = start; i < end; i++) {
    const bit = STATE_FLAG_BITS[buf[i]];
    if (bit < 0) return -1;
    f |= bit;
  }
  return f;
}

/** Smallest and largest packet, in bytes, for the estimate below: an IP header; an Ethernet frame. */
const MIN_PACKET_BYTES = 20;
const MAX_PACKET_BYTES = 1514;

/**
 * Forward packets of an Argus record without SrcPkts (only TotPkts, TotBytes, SrcBytes known).
 * Half of the packets each way (TCP acknowledges what it receives, request/response protocols
 * alternate), kept within what the bytes allow: each direction that sent bytes has between
 * bytes/1514 and bytes/20 packets (and at least one). When those bounds cannot all hold (jumbo
 * frames), the byte-proportional share is used, at least 1 and at most TotPkts - 1.
 *
 * Why not the byte-proportional share round(TotPkts * SrcBytes / TotBytes) throughout: on the
 * Stratosphere file that has the true SrcPkts (test2-malicious, 6,751 flows) it underestimates the
 * forward packets of downloads, whose forward side is small ACKs: total 71,463 estimated for
 * 206,003 true (mean error 21.8 packets per flow); this estimate gives 219,775 (mean error 3.5).
 * See test/ingest-argus.test.ts. Exported for tests.
 */
export function estimateForwardPackets(totPkts: number, totBytes: number, srcBytes: number): number {
  const dstBytes = totBytes - srcBytes;
  if (srcBytes <= 0 || totPkts <= 0) return 0;
  if (dstBytes <= 0 || totPkts === 1) return totPkts;
  const lo = Math.max(1, Math.ceil(srcBytes / MAX_PACKET_BYTES), totPkts - Math.floor(dstBytes / MIN_PACKET_BYTES));
  const hi = Math.min(
    totPkts - 1,
    Math.floor(srcBytes / MIN_PACKET_BYTES),
    totPkts - Math.ceil(dstBytes / MAX_PACKET_BYTES),
  );
  if (lo <= hi) return Math.min(Math.max(Math.round(totPkts / 2), lo), hi);
  return Math.min(Math.max(Math.round((totPkts * srcBytes) / totBytes), 1), totPkts - 1);
}

/** Bytes of a forward packet at most, for the estimate below: a TCP ACK with options, a DNS query. */
const FORWARD_PACKET_BYTES = 60;

/**
 * Forward packets and bytes of an Argus record with neither SrcBytes nor SrcPkts (`ra` output with
 * only TotPkts, TotBytes). `oneWay`: the record shows no reply (State INT, a TCP state with no
 * destination flags, or a single packet): everything is forward. Otherwise half the packets
 * (rounded up) each way, and the forward side, the initiator, sends small packets: at most 60 bytes
 * each and at most its packet share of the bytes. Measured on test2-malicious with its SrcBytes and
 * SrcPkts removed: mean error 2.4 KB and 7.6 packets per flow (the plain half: 23 KB); forward bytes
 * 14.8 MB estimated for 26.3 MB true, packets 246,770 for 206,003. A guess all the same: see
 * docs/ingest.md. Exported for tests.
 */
export function estimateForward(
  totPkts: number,
  totBytes: number,
  oneWay: boolean,
  knownPkts = NaN,
): { pkts: number; bytes: number } {
  if (oneWay || totPkts <= 1) return { pkts: knownPkts === knownPkts ? knownPkts : totPkts, bytes: totBytes };
  const pkts = knownPkts === knownPkts ? knownPkts : Math.ceil(totPkts / 2);
  if (pkts <= 0) return { pkts: 0, bytes: 0 };
  if (pkts >= totPkts) return { pkts, bytes: totBytes };
  return { pkts, bytes: Math.min(Math.round((totBytes * pkts) / totPkts), pkts * FORWARD_PACKET_BYTES) };
}

/**
 * The columns a record needs, then the optional ones: the packet and byte totals may be absent when
 * both directions' counts are there (checked after), ports are absent for some protocols.
 */
const NEEDED = { start: 'StartTime', proto: 'Proto', src: 'SrcAddr', dst: 'DstAddr' } as const;
// prettier-ignore
const OPTIONAL = {
  totPkts: 'TotPkts', totBytes: 'TotBytes', srcBytes: 'SrcBytes', srcPkts: 'SrcPkts', dstBytes: 'DstBytes', dstPkts: 'DstPkts',
  dur: 'Dur', sport: 'Sport', dport: 'Dport', dir: 'Dir', state: 'State',
} as const;

/** The two measures with a total and per-direction columns (TotPkts, SrcPkts, DstPkts; TotBytes, ...). */
const MEASURES = ['Pkts', 'Bytes'] as const;
type Measure = (typeof MEASURES)[number];

/** A measure's total and forward count (NaN when unknown). */
interface Directed {
  tot: number;
  src: number;
}

/** The fields that trade places when a record is read the other way round. */
// prettier-ignore
const REVERSED = [['src4', 'dst4'], ['src6', 'dst6'], ['sp', 'dp'], ['flags', 'rflags'], ['pkts', 'rpkts'], ['bytes', 'rbytes']] as const;

/** Turns a record around: source and destination, and forward and reverse flags and counts, trade places. */
export function reverseDirection(rec: FlowRecord): void {
  const r = rec as unknown as Record<string, unknown>;
  for (const [a, b] of REVERSED) {
    const t = r[a];
    r[a] = r[b];
    r[b] = t;
  }
}

class ArgusParser extends HeaderParser implements RecordLineParser {
  private readonly c: Readonly<Record<keyof typeof NEEDED | keyof typeof OPTIONAL, number>>;
  /** Last payload column (srcUdata/dstUdata), -1 when none: columns after it count from the line's end. */
  private readonly udLast: number;
  private readonly protocols = new ProtocolLookup('iana');
  /** Extra fields of the current line (commas inside payload columns). */
  private shift = 0;
  /** The current line's packets and bytes (reused: no allocation per line). */
  private readonly pkts: Directed = { tot: 0, src: 0 };
  private readonly bytes: Directed = { tot: 0, src: 0 };

  constructor(...args: HeaderArgs) {
    super(args, 'Argus CSV', true);
    const names = this.names;
    this.c = this.locate(NEEDED, OPTIONAL);
    const c = this.c;
    for (const m of MEASURES) if (c[`tot${m}`] < 0 && (c[`src${m}`] < 0 || c[`dst${m}`] < 0)) this.need(`Tot${m}`);
    const ud = names.map((n, i) => (/udata$/i.test(n) ? i : -1)).filter((i) => i >= 0);
    this.udLast = ud.length ? ud[ud.length - 1] : -1;
  }

  /** Index into pos of column c on the current line. */
  private at(c: number): number {
    return this.udLast >= 0 && c > this.udLast ? c + this.shift : c;
  }

  /** End of the field last located by `from` (no tuple: no allocation per field). */
  private fieldEnd = 0;

  /** Start of column c's field on the current line; its end goes to `fieldEnd`. */
  private from(c: number): number {
    const k = this.at(c);
    this.fieldEnd = this.pos[k + 1] - 1;
    return this.pos[k];
  }

  /** Source (`which` 0) or destination (1) address from column c; reports `bad_address` naming `field` and returns false. */
  private addressAt(which: 0 | 1, c: number, field: string, buf: Buffer, terminated: boolean): boolean {
    const a = this.from(c);
    const b = this.fieldEnd;
    if (this.address(which, buf, a, b)) return true;
    this.bad(terminated, 'bad_address', field, `${shown(fieldText(buf, a, b))} is not an IPv4 or IPv6 address`);
    return false;
  }

  /** A port from column c (empty: 0; decimal or 0x hex); reports `bad_port` naming `field` and returns -1. */
  private portAt(c: number, field: string, buf: Buffer, terminated: boolean): number {
    const a = this.from(c);
    const b = this.fieldEnd;
    const x = skipSpaces(buf, a, b);
    const y = trimEnd(buf, x, b);
    const port = x === y ? 0 : parsePort(buf, x, y);
    if (port < 0) this.bad(terminated, 'bad_port', field, `${shown(fieldText(buf, a, b))} is not a port number`);
    return port;
  }

  /** A count from column c (NaN when the column is absent); reports `bad_count` naming `field` and returns -1. */
  private countOf(c: number, field: string, what: string, buf: Buffer, terminated: boolean): number {
    if (c < 0) return NaN;
    const x = this.from(c);
    const v = parseCount(buf, x, this.fieldEnd);
    if (v < 0)
      this.bad(terminated, 'bad_count', field, `${shown(fieldText(buf, x, this.fieldEnd))} is not a ${what} count`);
    return v;
  }

  /**
   * One measure's total and forward count into `d` from its Tot, Src and Dst columns, as the file has
   * them: two of three give the third; `src` stays NaN when it cannot be known. False when a field is
   * no count (reported).
   */
  private directed(m: Measure, what: string, d: Directed, buf: Buffer, terminated: boolean): boolean {
    const tot = this.countOf(this.c[`tot${m}`], `Tot${m}`, what, buf, terminated);
    if (tot < 0) return false;
    const src = this.countOf(this.c[`src${m}`], `Src${m}`, what, buf, terminated);
    if (src < 0) return false;
    const dst = this.countOf(this.c[`dst${m}`], `Dst${m}`, what, buf, terminated);
    if (dst < 0) return false;
    d.tot = tot !== tot ? src + dst : tot;
    d.src = tot === tot && src !== src && dst === dst ? tot - dst : src;
    return true;
  }

  /** False, reported as `bad_count`, when a measure's forward count is known and not within 0..Tot. */
  private forwardWithin(m: Measure, what: string, d: Directed, terminated: boolean): boolean {
    if (d.src !== d.src || (d.src >= 0 && d.src <= d.tot)) return true;
    const field = this.c[`src${m}`] >= 0 ? `Src${m}` : `Dst${m}`;
    this.bad(terminated, 'bad_count', field, `forward ${what}s ${d.src} are not between 0 and Tot${m} (${d.tot})`);
    return false;
  }

  line(buf: Buffer, start: number, end: number, lineNo: number, terminated: boolean): void {
    this.loc.line = lineNo;
    const n = splitFieldsQuoted(buf, start, end, this.pos);
    if (n > this.pos.length - 2) return this.bad(terminated, 'malformed_line', '', `too many fields (${n})`);
    if (n < this.ncols || (n > this.ncols && this.udLast < 0)) return this.fieldCount(terminated, this.ncols, n);
    this.shift = n - this.ncols;
    const rec = this.rec;

    let a = this.from(this.c.proto);
    let b = this.fieldEnd;
    const proto = this.protocols.lookup(buf, skipSpaces(buf, a, b), trimEnd(buf, a, b));
    if (proto < 0)
      return this.bad(
        terminated,
        'unknown_protocol',
        'Proto',
        `${shown(fieldText(buf, a, b))} is not an IP protocol this reader knows`,
      );
    rec.proto = proto;

    a = this.from(this.c.start);
    b = this.fieldEnd;
    a = skipSpaces(buf, a, b);
    b = trimEnd(buf, a, b);
    let t = parseTimestamp(buf, a, b);
    if (t === t) t += this.offsetMs;
    else t = Math.round(parseDecimal(buf, a, b) * 1000); // epoch seconds (ra -u)
    if (t !== t)
      return this.bad(
        terminated,
        'bad_timestamp',
        'StartTime',
        `${shown(fieldText(buf, a, b))} is not YYYY/MM/DD hh:mm:ss[.ffffff] or epoch seconds`,
      );
    rec.startMs = t;
    rec.endMs = NaN;
    if (this.c.dur >= 0) {
      a = this.from(this.c.dur);
      b = this.fieldEnd;
      const text = fieldText(buf, a, b);
      if (text !== '') {
        const dur = parseDecimal(buf, a, b);
        if (!(dur >= 0))
          return this.bad(terminated, 'bad_timestamp', 'Dur', `${shown(text)} is not a duration in seconds`);
        rec.endMs = t + Math.round(dur * 1000);
      }
    }

    if (!this.addressAt(0, this.c.src, 'SrcAddr', buf, terminated)) return;
    if (!this.addressAt(1, this.c.dst, 'DstAddr', buf, terminated)) return;

    const sp = this.c.sport >= 0 ? this.portAt(this.c.sport, 'Sport', buf, terminated) : 0;
    if (sp < 0) return;
    const dp = this.c.dport >= 0 ? this.portAt(this.c.dport, 'Dport', buf, terminated) : 0;
    if (dp < 0) return;

    // counts: Tot*, Src*, Dst* as the file has them (two of three give the third)
    const { pkts, bytes } = this;
    if (!this.directed('Pkts', 'packet', pkts, buf, terminated)) return;
    if (!this.directed('Bytes', 'byte', bytes, buf, terminated)) return;
    if (
      !this.forwardWithin('Bytes', 'byte', bytes, terminated) ||
      !this.forwardWithin('Pkts', 'packet', pkts, terminated)
    )
      return;
    const totPkts = pkts.tot;
    const totBytes = bytes.tot;
    let srcPkts = pkts.src;
    let srcBytes = bytes.src;
    if (srcBytes !== srcBytes) {
      // no per-direction bytes: both directions from the documented estimate
      let oneWay = totPkts <= 1;
      if (!oneWay && this.c.state >= 0) {
        const x = skipSpaces(buf, this.from(this.c.state), this.fieldEnd);
        const y = trimEnd(buf, x, this.fieldEnd);
        oneWay =
          (y - x === 3 && buf[x] === 73 && buf[x + 1] === 78 && buf[x + 2] === 84) /* INT */ ||
          (proto === 6 && y > x && buf[y - 1] === 95); /* '_' */
      }
      const e = estimateForward(totPkts, totBytes, oneWay, srcPkts);
      if (srcPkts !== srcPkts) this.sink.estimated?.('forward_packets', this.loc);
      this.sink.estimated?.('forward_bytes', this.loc);
      srcPkts = e.pkts;
      srcBytes = e.bytes;
    } else if (srcPkts !== srcPkts) {
      srcPkts = estimateForwardPackets(totPkts, totBytes, srcBytes);
      this.sink.estimated?.('forward_packets', this.loc);
    }

    let flags = -1;
    let rflags = -1;
    if (proto === 6 && this.c.state >= 0) {
      a = this.from(this.c.state);
      b = this.fieldEnd;
      a = skipSpaces(buf, a, b);
      b = trimEnd(buf, a, b);
      const us = buf.indexOf(95, a); // '_'
      if (us >= 0 && us < b) {
        flags = argusFlags(buf, a, us);
        rflags = argusFlags(buf, us + 1, b);
        if (flags < 0 || rflags < 0) flags = rflags = -1; // not a flag state after all
      }
    }

    // who sent the forward bytes: swap when only the destination side of the arrow is marked
    let swap = false;
    if (this.c.dir >= 0) {
      a = this.from(this.c.dir);
      b = this.fieldEnd;
      let lt = false;
      let gt = false;
      for (let i = a; i < b; i++) {
        if (buf[i] === 60) lt = true;
        else if (buf[i] === 62) gt = true;
      }
      swap = lt && !gt;
    }
    rec.sp = sp;
    rec.dp = dp;
    rec.flags = flags;
    rec.rflags = rflags;
    rec.pkts = srcPkts;
    rec.bytes = srcBytes;
    rec.rpkts = totPkts - srcPkts;
    rec.rbytes = totBytes - srcBytes;
    if (swap) reverseDirection(rec);
    if (proto === 1 || proto === 58) {
      // Argus: Sport = code << 8 | type; nfdump's convention: sp 0, dp = type << 8 | code
      rec.sp = 0;
      rec.dp = ((sp & 0xff) << 8) | (sp >>> 8);
    }
    this.sink.record(rec, this.loc);
  }
}

export const argusReader: FlowReader = headerReader('argus', (...a) => new ArgusParser(...a));

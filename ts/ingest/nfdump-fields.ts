/**
 * nfdump's text output, what the reader needs to know of it: the columns of its CSV and of the short
 * `fmt` output the nfcapd reader asks for, the lines that are not records, and the two fields whose
 * spelling is nfdump's own (TCP flags as `...A..S.`, ICMP type and code as `3.10`). Used by
 * nfdump-csv.ts (the parser), detect.ts (the CSV header) and nfcapd.ts (the `-o` argument).
 */
import { parsePort, parseUint } from './fields.js';

/** The fields the 86 features need, in the order the nfcapd reader asks nfdump to print them. */
export const NFDUMP_FMT_COLUMNS = ['ts', 'te', 'sa', 'da', 'sp', 'dp', 'pr', 'flg', 'ipkt', 'ibyt', 'opkt', 'obyt'];

/** nfdump's `-o` argument printing these fields, comma-separated: `fmt:%ts,%te,...`. */
export function nfdumpFmt(columns: readonly string[]): string {
  return `fmt:${columns.map((c) => `%${c}`).join(',')}`;
}

/** nfdump's `-o` argument for those fields (run with `-N`: plain numbers, and `-6`: whole IPv6 addresses). */
export const NFDUMP_FMT = nfdumpFmt(NFDUMP_FMT_COLUMNS);

/** What serialize's first pass asks nfdump for (it needs the times alone): about half of nfdump's work for NFDUMP_FMT. */
export const NFDUMP_TIMES_COLUMNS = ['ts', 'te'];
export const NFDUMP_TIMES_FMT = nfdumpFmt(NFDUMP_TIMES_COLUMNS);

/** The start of the title line nfdump prints first for NFDUMP_FMT (and NFDUMP_TIMES_FMT). */
export const FMT_TITLE = Buffer.from('Date first seen');

/** The columns nfdump 1.7.1 prints with `-o csv` (and omits, with the header, under `-q`). */
export const NFDUMP_CSV_COLUMNS =
  'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr'.split(
    ',',
  );

/** The line that ends nfdump's records, and the one it prints when none matched. */
export const SUMMARY = Buffer.from('Summary');
export const NO_MATCH = Buffer.from('No matching flows');

/** Whether buf[start, end) starts with `word`. */
export function startsWithBytes(buf: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word[i]) return false;
  return true;
}

/** ICMP type and code as nfdump's fmt output prints a destination port (`3.10`): type * 256 + code, or -1. */
export function parseIcmpTypeCode(buf: Uint8Array, start: number, end: number): number {
  const dot = buf.indexOf(46, start);
  if (dot < 0 || dot >= end) return -1;
  const type = parseUint(buf, start, dot);
  const code = parseUint(buf, dot + 1, end);
  return type >= 0 && type <= 255 && code >= 0 && code <= 255 ? type * 256 + code : -1;
}

/** TCP flag byte of an nfdump `flg` field (`...A..S.`, or a number), or -1. */
export function parseNfdumpFlags(buf: Uint8Array, start: number, end: number): number {
  if (end - start === 8) {
    let flags = 0;
    let i = 0;
    for (; i < 8; i++) {
      const c = buf[start + i];
      if (c === 46) continue; // '.'
      if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) flags |= 128 >> i;
      else break;
    }
    if (i === 8) return flags;
  }
  const p = parsePort(buf, start, end); // a number: decimal or 0x hex
  return p >= 0 && p <= 255 ? p : -1;
}

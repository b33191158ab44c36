/**
 * Which reader a file needs, from its first bytes: the nfcapd magic, else (gunzipped if need be) the
 * header line's column names.
 *
 *   nfcapd        bytes 0c a5 (magic 0xA50C little-endian), then layout version 1 or 2
 *   nfdump-csv    ts, sa, da, pr, ipkt, ibyt ... (or a header-less `nfdump -q` record line)
 *   argus         StartTime, SrcAddr, DstAddr ...
 *   cicflowmeter  Source IP (or Src IP), Timestamp, Total Fwd Packets (or Tot Fwd Pkts) ...
 *   nf-v9         IPV4_SRC_ADDR (or IPV6_SRC_ADDR), L4_SRC_PORT, IN_BYTES ...
 */
import { open } from 'node:fs/promises';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { columnIndex } from './text-records.js';
import { headerNames, parseTimestamp } from './fields.js';
import { isNfcapdHeader } from './nfcapd.js';
import { NFDUMP_CSV_COLUMNS } from './nfdump-fields.js';
import { INPUT_FORMATS, InputError, type InputFormat } from './record.js';

const SNIFF_BYTES = 64 * 1024;

export const FORMAT_DESCRIPTIONS: Record<InputFormat, string> = {
  'nfdump-csv': 'nfdump CSV (nfdump -o csv: ts,te,td,sa,da,...)',
  nfcapd: 'nfcapd binary files (read with nfdump -r)',
  argus: 'Argus CSV / binetflow (StartTime,Dur,Proto,SrcAddr,...)',
  cicflowmeter: 'CICFlowMeter CSV (Source IP, Timestamp, Total Fwd Packets, ...)',
  'nf-v9': 'NetFlow v9 CSV of the NF-* datasets (IPV4_SRC_ADDR, L4_SRC_PORT, ..., FLOW_START_MILLISECONDS)',
};

function supported(): string {
  return INPUT_FORMATS.map((f) => `${f}: ${FORMAT_DESCRIPTIONS[f]}`).join('; ');
}

/** The start of a gzip stream, decompressed as far as the bytes we have allow. */
function gunzipHead(head: Buffer): Buffer {
  try {
    return gunzipSync(head);
  } catch {
    // a truncated stream (we read only its head): skip the gzip header, inflate what is there
    let p = 10;
    const flg = head[3];
    if (flg & 4) p += 2 + head.readUInt16LE(p); // FEXTRA
    if (flg & 8) while (p < head.length && head[p++] !== 0); // FNAME
    if (flg & 16) while (p < head.length && head[p++] !== 0); // FCOMMENT
    if (flg & 2) p += 2; // FHCRC
    try {
      return inflateRawSync(head.subarray(p), { finishFlush: 2 /* Z_SYNC_FLUSH */ });
    } catch {
      return Buffer.alloc(0);
    }
  }
}

/** pcap (either byte order, micro- or nanosecond) or pcapng magic. */
function isPacketCapture(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const m = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
  return m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1 || m === 0x0a0d0d0a;
}

/** The format of one header line's column names, or null. */
export function formatOfHeader(names: readonly string[]): InputFormat | null {
  const has = (...cands: string[]): boolean => columnIndex(names, ...cands) >= 0;
  if (has('ts') && has('sa') && has('da') && has('pr') && has('ipkt') && has('ibyt')) return 'nfdump-csv';
  if (has('StartTime') && has('SrcAddr') && has('DstAddr')) return 'argus';
  if (has('Source IP', 'Src IP') && has('Timestamp') && has('Total Fwd Packets', 'Tot Fwd Pkts')) return 'cicflowmeter';
  if (has('IPV4_SRC_ADDR', 'IPV6_SRC_ADDR') && has('L4_SRC_PORT') && has('IN_BYTES')) return 'nf-v9';
  return null;
}

/** Detects the format of a flow file. Throws InputError('format') naming the file when unknown. */
export async function detectFormat(path: string): Promise<InputFormat> {
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(SNIFF_BYTES);
      const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new InputError('io', { file: path }, '', `cannot read: ${(err as Error).message}`);
  }
  if (head.length === 0) throw new InputError('format', { file: path }, '', 'the file is empty');
  if (isNfcapdHeader(head)) return 'nfcapd';
  if (isPacketCapture(head)) {
    throw new InputError(
      'format',
      { file: path },
      '',
      `a packet capture (pcap/pcapng), not flow records: make flows first (nfpcapd -r FILE -w DIR, then read DIR as nfcapd). Supported formats: ${supported()}`,
    );
  }
  let text = head;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    text = gunzipHead(head);
    if (isNfcapdHeader(text))
      throw new InputError(
        'format',
        { file: path },
        '',
        'a gzip-compressed nfcapd file: nfdump cannot read it compressed; gunzip it first',
      );
  }
  // first non-blank line
  let start = 0;
  let line = '';
  while (start < text.length) {
    let nl = text.indexOf(10, start);
    if (nl < 0) nl = text.length;
    let end = nl;
    if (end > start && text[end - 1] === 13) end--;
    if (text.subarray(start, end).toString('latin1').trim() !== '') {
      const names = headerNames(text, start, end);
      const format = formatOfHeader(names);
      if (format) return format;
      // header-less nfdump CSV (nfdump -q): a record line with nfdump's column count
      const comma = text.indexOf(44, start);
      if (
        names.length === NFDUMP_CSV_COLUMNS.length &&
        comma > start &&
        comma < end &&
        parseTimestamp(text, start, comma) === parseTimestamp(text, start, comma)
      )
        return 'nfdump-csv';
      line = text
        .subarray(start, Math.min(end, start + 120))
        .toString('latin1')
        .replace(/[^\x20-\x7e]/g, '?');
      break;
    }
    start = nl + 1;
  }
  const what =
    line === ''
      ? 'no header line found in the first 64 KiB'
      : `unrecognised header '${line}${line.length >= 120 ? '...' : ''}'`;
  throw new InputError(
    'format',
    { file: path },
    '',
    `unknown flow file format: ${what}. Supported formats: ${supported()}. Pass the format explicitly (--format) if detection is wrong`,
  );
}

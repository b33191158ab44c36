/**
 * How serialize spreads its input over threads: whole files, and large plain nfdump CSV files cut
 * into byte ranges at line ends (one per thread), so that one big export keeps every core busy too.
 */
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { isGzipFile } from '../ingest/lines.js';
import type { ByteRange } from './job.js';
import type { Planned } from './scan.js';

/** Threads when --threads is not given: the cores Node may use, at most this many. */
export const MAX_DEFAULT_THREADS = 8;

/** A plain nfdump CSV file at least this large is read in byte ranges when threads > 1. */
export const SPLIT_MIN_BYTES = 32 * 1024 * 1024;

/** How far from a cut point the next line end may be (and how far the header may be from the start). */
const LOOK_BYTES = 1024 * 1024;

export function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_THREADS));
}

/**
 * The byte ranges of a large plain nfdump CSV file, one per thread, each starting after a line end;
 * null when the file is read whole (another format, gzip, small, or no line end near a cut).
 */
export async function splitFile(f: Planned, threads: number, minBytes = SPLIT_MIN_BYTES): Promise<ByteRange[] | null> {
  if (threads <= 1 || f.format !== 'nfdump-csv' || f.bytes < minBytes || (await isGzipFile(f.path))) return null;
  const fh = await open(f.path, 'r');
  try {
    const buf = Buffer.alloc(LOOK_BYTES);
    // the first non-blank line: the header (or a first record) every range's parser is built from
    const { bytesRead } = await fh.read(buf, 0, LOOK_BYTES, 0);
    let header: string | null = null;
    let headerLine = 0;
    let headerEnd = 0;
    for (let pos = 0; pos < bytesRead;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0 || nl >= bytesRead) break;
      headerLine++;
      const text = buf.toString('latin1', pos, nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl);
      if (text.trim() !== '') {
        header = text;
        headerEnd = nl + 1;
        break;
      }
      pos = nl + 1;
    }
    if (header === null) return null;
    const cuts = [0];
    for (let k = 1; k < threads; k++) {
      const at = Math.floor((k * f.bytes) / threads);
      const { bytesRead: n } = await fh.read(buf, 0, LOOK_BYTES, at);
      const nl = buf.subarray(0, n).indexOf(10);
      if (nl < 0) return null;
      const cut = at + nl + 1;
      if (cut > cuts[cuts.length - 1] && cut >= headerEnd && cut < f.bytes) cuts.push(cut);
    }
    cuts.push(f.bytes);
    if (cuts.length < 3) return null;
    return cuts.slice(0, -1).map((start, k) => ({
      start,
      end: cuts[k + 1],
      header: k === 0 ? null : header,
      headerLine,
    }));
  } finally {
    await fh.close();
  }
}

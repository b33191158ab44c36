/**
 * How a serialize run ends when it is not a clean store: the reject share over its bound (the store
 * is written, RejectShareError says it is not what was asked), no record used (emptyMessage names the
 * likely cause), an interruption; and the inputs' SHA-256 for the manifest.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { plainChunks } from '../ingest/lines.js';
import type { SerializeOptions } from './options.js';
import { MANIFEST, type SeriesStoreManifest, type SkippedFile } from './store.js';

/** The run wrote its store but rejected more records than allowed: the store is there, the exit code says it is not what was asked. */
export class RejectShareError extends Error {
  constructor(
    message: string,
    readonly manifest: SeriesStoreManifest,
  ) {
    super(message);
    this.name = 'RejectShareError';
  }
}

/** The manifest, or RejectShareError when more than `maxRejectShare` of the records read were rejected. */
export function checkRejectShare(
  manifest: SeriesStoreManifest,
  out: string,
  maxRejectShare: number,
): SeriesStoreManifest {
  const r = manifest.records;
  const rej = Object.values(r.rejected).reduce((a, b) => a + b, 0);
  if (r.read > 0 && rej / r.read > maxRejectShare) {
    const why = Object.entries(r.rejected)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    throw new RejectShareError(
      `wrote ${out}, but ${rej} of ${r.read} records (${((100 * rej) / r.read).toFixed(2)}%) were rejected, more than --max-reject-share ${maxRejectShare} allows (${why}; first examples in ${out}/${MANIFEST})`,
      manifest,
    );
  }
  return manifest;
}

export function emptyMessage(
  opts: Pick<SerializeOptions, 'inputs' | 'from' | 'to'>,
  counts: { read: number; used: number; unmatched: number; outsideRange: number },
  rej: number,
  rejected: Record<string, number>,
  skipped: SkippedFile[],
  files: number,
): string {
  const where = opts.inputs.join(', ');
  let cause: string;
  if (files === 0)
    cause = `every input file was skipped (${skipped
      .map((s) => `${s.path}: ${s.reason}`)
      .slice(0, 3)
      .join('; ')}${skipped.length > 3 ? '; ...' : ''})`;
  else if (counts.read === 0) cause = `the files hold no flow records (a header only?)`;
  else if (counts.unmatched === counts.read - rej - counts.outsideRange && counts.unmatched > 0)
    cause = `none of the ${counts.unmatched} good records has an address of the inventory: check --nodes/--prefix against the addresses in the files (netflowgen inspect shows a store's nodes)`;
  else if (counts.outsideRange > 0 && counts.outsideRange >= counts.read - rej)
    cause = `all ${counts.outsideRange} good records are outside --from/--to (${opts.from ?? '...'} to ${opts.to ?? '...'})`;
  else {
    const top = Object.entries(rejected)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    cause = `${rej} of ${counts.read} records were rejected (${top})`;
  }
  return `no record was used from ${where}: ${cause}. Read ${counts.read}, matched no node ${counts.unmatched}, outside --from/--to ${counts.outsideRange}, rejected ${rej}${skipped.length ? `, ${skipped.length} file(s) skipped` : ''}; no store was written`;
}

export function abortError(): Error {
  const e = new Error('interrupted: no store was written');
  e.name = 'AbortError';
  return e;
}

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const h = createHash('sha256');
  // two reused buffers, the next read under way while one is hashed: no allocation per chunk
  const src = plainChunks(await open(path, 'r'));
  try {
    for await (const chunk of src.chunks) {
      signal?.throwIfAborted();
      h.update(chunk);
    }
  } finally {
    src.close();
  }
  return h.digest('hex');
}

/**
 * The collector directory `netflowgen watch` follows (docs/watch.md): which files are finished flow files,
 * which exporter each belongs to, and the time each starts.
 *
 *  - Files below the directory, recursively; one subfolder per exporter is allowed (nfcapd -l DIR per
 *    exporter, or nfcapd -w -S ...): the exporter of a file is the first path component below the root, or
 *    '.' for files lying in the root itself.
 *  - nfcapd writes `nfcapd.current.<pid>` and renames it to `nfcapd.YYYYMMDDhhmm` when it rotates (-t
 *    seconds): a `.current` file is still being written and is ignored until it is renamed (ingest's
 *    expandInputs skips it, and dot files). nfdump CSV files (`nfdump -r ... -o csv > f.csv`, also
 *    .csv.gz) are read as they are: write them under a dot name or another folder and rename them into
 *    place when complete (a rename is atomic).
 *  - A file's start minute is the one its name carries (`nfcapd.YYYYMMDDhhmm[ss]`, or a
 *    `YYYYMMDD-hhmm` / `YYYYMMDDhhmm` stamp such as `synth --file-minutes`'s `flows-20240101-0005.csv`),
 *    else its first record's. Files are taken in (start minute, path) order.
 *  - A file is read once, when it first appears with a size that stayed the same over two scans (a CSV
 *    still being copied in place grows between scans).
 */
import { promises as fsp } from 'node:fs';
import { relative, sep } from 'node:path';
import { detectFormat, expandInputs, firstRecordMinute, nfcapdNameMinute } from '../ingest/index.js';
import type { InputFormat } from '../ingest/record.js';

export interface FlowFile {
  path: string;
  exporter: string;
  /** Start minute (epoch minutes, UTC) from its name, else from its first record; NaN when it has none. */
  minute: number;
  format: InputFormat;
  size: number;
}

/** The minute a file name's time stamp gives (nfcapd's, or YYYYMMDD[-_]hhmm), or null. */
export function nameMinute(path: string): number | null {
  const nf = nfcapdNameMinute(path);
  if (nf !== null) return nf;
  const name = path.slice(path.lastIndexOf('/') + 1);
  const m = /(\d{4})(\d{2})(\d{2})[-_T]?(\d{2})(\d{2})(?!\d)/.exec(name);
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return Number.isFinite(t) ? Math.floor(t / 60_000) : null;
}

/** The exporter a file belongs to: its first folder below the root, or '.'. */
export function exporterOf(root: string, path: string): string {
  const rel = relative(root, path).split(sep);
  return rel.length > 1 ? rel[0] : '.';
}

/** Follows a directory: each call to `poll` returns the finished files not returned before, in time order. */
export class FlowDirectory {
  private readonly seen = new Set<string>();
  private readonly pending = new Map<string, number>();
  /** Files that are not flow data or cannot be read: reported once each. */
  readonly skipped: { path: string; reason: string }[] = [];

  constructor(
    readonly root: string,
    private readonly opts: { format?: InputFormat; settle?: boolean } = {},
  ) {}

  /** Marks files as already handled (a restart: files wholly before the needed minutes). */
  markSeen(paths: Iterable<string>): void {
    for (const p of paths) this.seen.add(p);
  }

  /**
   * New finished files. With `settle` (live mode, the default), a file is returned once its size is the
   * same as at the previous poll; without (replay), at once.
   */
  async poll(): Promise<FlowFile[]> {
    const out: FlowFile[] = [];
    for (const path of await expandInputs([this.root])) {
      if (this.seen.has(path)) continue;
      let size: number;
      try {
        size = (await fsp.stat(path)).size;
      } catch {
        continue; // renamed or removed between the listing and now
      }
      if (this.opts.settle !== false && this.pending.get(path) !== size) {
        this.pending.set(path, size);
        continue;
      }
      this.pending.delete(path);
      this.seen.add(path);
      let format: InputFormat;
      try {
        format = this.opts.format ?? (await detectFormat(path));
      } catch (e) {
        this.skipped.push({ path, reason: (e as Error).message });
        continue;
      }
      let minute: number | null = nameMinute(path);
      if (minute === null) minute = await firstRecordMinute(path, format).catch(() => null);
      out.push({ path, exporter: exporterOf(this.root, path), minute: minute ?? NaN, format, size });
    }
    return out.sort((a, b) => (a.minute === b.minute ? (a.path < b.path ? -1 : 1) : byMinute(a.minute, b.minute)));
  }
}

function byMinute(a: number, b: number): number {
  if (Number.isNaN(a)) return 1;
  if (Number.isNaN(b)) return -1;
  return a - b;
}

/**
 * nfcapd binary files, read through Debian's nfdump: `nfdump -N -6 -r FILE -o fmt:%ts,%te,%sa,...`
 * (NFDUMP_FMT: only the 12 fields the features need, about half the text of its 48-column CSV) is
 * streamed into the nfdump CSV parser in its `fmt` mode, which gives the same records as the full CSV
 * (`-o csv`, still used when NETFLOWGEN_NFDUMP_OUTPUT=csv). Line numbers in errors are lines of that
 * output (the title line is line 1, as the CSV header was); the location names the nfcapd file.
 *
 * - nfdump runs with TZ=UTC, so the times it prints are UTC (nfcapd stores epoch times; the
 *   `utcOffsetHours` option does not apply).
 * - Without `-q`, nfdump 1.7.1 prints a title line (the CSV header) first and a `Summary` block
 *   last (with `-q` it prints neither); the Summary ends the records.
 * - `-N` keeps counts plain (without it, fmt output scales them: `1.5 M`); `-6` prints whole IPv6
 *   addresses (without it, fmt output shortens them with `..`).
 * - nfdump reports a file it cannot read (`bad magic`, truncated blocks) on stderr, sometimes
 *   with exit status 0: any stderr output or a non-zero status is an InputError naming the file.
 * - A directory stands for the nfcapd files below it (recursively, sorted by path, skipping
 *   `nfcapd.current.*`, which nfcapd is still writing).
 * - The child is killed when the read stops early (abort, or a strict sink throwing).
 * - With ReadOptions.timesOnly (serialize's first pass), nfdump prints only `%ts,%te`
 *   (NFDUMP_TIMES_FMT): the same records and line numbers, at about half of nfdump's work.
 * The nfdump binary: `NETFLOWGEN_NFDUMP` or `nfdump` on the PATH.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { splitLines } from './lines.js';
import { nfdumpCsvParserFactory, nfdumpFmtParserFactory } from './nfdump-reader.js';
import { NFDUMP_FMT_COLUMNS, NFDUMP_TIMES_COLUMNS, nfdumpFmt } from './nfdump-fields.js';
import { InputError, type FlowReader, type ReadOptions, type RecordSink } from './record.js';
import { recordLineHandler } from './text-records.js';

/** nfcapd file magic: 0xA50C little-endian, then the layout version (1, or 2 for nfdump 1.7). */
export function isNfcapdHeader(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x0c && head[1] === 0xa5 && (head[2] === 1 || head[2] === 2) && head[3] === 0;
}

/** Whether a file starts with the nfcapd magic. */
export async function isNfcapdFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && isNfcapdHeader(head);
  } finally {
    await fh.close();
  }
}

/** Whether a file name is one nfcapd is still writing. */
export function isNfcapdCurrent(name: string): boolean {
  return name.startsWith('nfcapd.current.');
}

/**
 * Every file below a directory, recursively, sorted by path, that `keep` accepts; dot files and
 * nfcapd.current.* (still being written) are skipped.
 */
export async function filesBelow(
  dir: string,
  keep: (path: string) => Promise<boolean> = async () => true,
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.') || isNfcapdCurrent(e.name)) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && (await keep(p))) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/** The nfcapd files below a directory, recursively, sorted by path; skips nfcapd.current.* and dot files. */
export function listNfcapdFiles(dir: string): Promise<string[]> {
  return filesBelow(dir, isNfcapdFile);
}

function nfdumpBinary(): string {
  return process.env.NETFLOWGEN_NFDUMP || 'nfdump';
}

/** Reads one nfcapd file through nfdump into the sink. */
async function readOneNfcapd(path: string, sink: RecordSink, opts: ReadOptions | undefined): Promise<void> {
  opts?.signal?.throwIfAborted();
  const bin = nfdumpBinary();
  const csv = process.env.NETFLOWGEN_NFDUMP_OUTPUT === 'csv';
  // serialize's first pass wants the times alone: nfdump prints only those (about half its work)
  const columns = opts?.timesOnly ? NFDUMP_TIMES_COLUMNS : NFDUMP_FMT_COLUMNS;
  const child = execa(bin, csv ? ['-r', path, '-o', 'csv'] : ['-N', '-6', '-r', path, '-o', nfdumpFmt(columns)], {
    env: { TZ: 'UTC', LC_ALL: 'C' },
    stdin: 'ignore',
    buffer: { stdout: false, stderr: true },
    reject: false,
    stripFinalNewline: true,
  });
  const handler = recordLineHandler(
    csv ? nfdumpCsvParserFactory(sink, path, opts, false) : nfdumpFmtParserFactory(sink, path, opts, columns),
  );
  let readErr: unknown = null;
  try {
    await splitLines(child.stdout as AsyncIterable<Buffer>, handler, { file: path, signal: opts?.signal });
  } catch (err) {
    readErr = err;
    child.kill();
  }
  const result = await child;
  if (readErr !== null) throw readErr;
  const code = (result as { code?: string }).code;
  if (code === 'ENOENT' || (result.failed && result.exitCode === undefined && /ENOENT/.test(String(result.message)))) {
    throw new InputError(
      'io',
      { file: path },
      '',
      `cannot run '${bin}' to read this nfcapd file: nfdump is not installed. Run the setup (npm run setup) or install it (apt-get install nfdump), or set NETFLOWGEN_NFDUMP to its path`,
    );
  }
  const stderr = String(result.stderr ?? '').trim();
  if (result.exitCode !== 0 || stderr !== '') {
    const why =
      stderr !== '' ? stderr.split('\n').slice(-5).join(' | ') : `exit status ${result.exitCode ?? result.signal}`;
    throw new InputError('format', { file: path }, '', `nfdump could not read this nfcapd file: ${why}`);
  }
  sink.progress?.((await stat(path)).size);
}

export const nfcapdReader: FlowReader = {
  format: 'nfcapd',
  async read(path: string, sink: RecordSink, opts?: ReadOptions): Promise<void> {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      throw new InputError('io', { file: path }, '', `cannot read: ${(err as Error).message}`);
    }
    const files = info.isDirectory() ? await listNfcapdFiles(path) : [path];
    for (const f of files) await readOneNfcapd(f, sink, opts);
  },
};

/**
 * Streaming line splitter for the text readers. Reads a file in large chunks (gunzipping on the fly
 * when it starts with the gzip magic 1f 8b), and hands each line to the caller as a byte range of a
 * Buffer: no strings are made, so a reader can parse the bytes directly.
 *
 * - `\n` and `\r\n` line ends; the `\r` is not part of the line.
 * - A line that spans two chunks is copied once into a scratch buffer (reused); memory stays bounded
 *   by the chunk size plus the longest line (at most MAX_LINE_BYTES, beyond which the file is
 *   refused as not a text flow file).
 * - The last line of a file may lack its newline: the handler then gets `terminated = false` and
 *   decides whether the line is complete (a wrong field count means it was cut: `truncated_line`).
 * - Between chunks: reports input bytes consumed (compressed bytes for gzip) and honours an
 *   AbortSignal (throws its reason, an AbortError by default).
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from './record.js';

export const CHUNK_BYTES = 1024 * 1024;
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Receives one line: `buf[start, end)` without its line end, the 1-based line number, and whether a
 * newline ended it (false only for a last line cut short). `buf` is reused after the call returns.
 */
export type LineHandler = (buf: Buffer, start: number, end: number, lineNo: number, terminated: boolean) => void;

export interface SplitOptions {
  /** Stop between chunks when aborted. */
  signal?: AbortSignal;
  /** Called after each chunk with the input bytes consumed so far. */
  progress?: (bytesRead: number) => void;
  /** Name for error messages (the file as the user gave it). */
  file: string;
}

/** Whether the first bytes of a file are the gzip magic. */
export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** A file's content as a stream of Buffers (decompressed when gzip), with the raw bytes read so far. */
export interface ChunkSource {
  chunks: AsyncIterable<Buffer>;
  bytesRead(): number;
  gzip: boolean;
  close(): void;
}

/** Opens a file for chunked reading. Throws InputError('io') when it cannot be opened. */
export async function openChunks(path: string, file = path): Promise<ChunkSource> {
  let gzip: boolean;
  try {
    gzip = await isGzipFile(path);
  } catch (err) {
    throw new InputError('io', { file }, '', `cannot read the file: ${(err as Error).message}`);
  }
  if (!gzip) return plainChunks(await open(path, 'r'));
  const raw = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  raw.on('error', (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  return {
    chunks: gunzip,
    bytesRead: () => raw.bytesRead,
    gzip,
    close: () => {
      raw.destroy();
      gunzip.destroy();
    },
  };
}

/**
 * A plain file read into two buffers in turn: while the caller parses one chunk, the next is
 * already being read (on libuv's thread pool). No allocation per chunk. A chunk's buffer is
 * overwritten once the caller asks for the chunk after the next, so callers must not keep it.
 * The file's bytes as they are (no gunzip): serialize hashes the inputs with it too.
 */
export function plainChunks(fh: FileHandle): ChunkSource {
  let total = 0;
  let pending: Promise<{ bytesRead: number }> | null = null;
  async function* chunks(): AsyncGenerator<Buffer> {
    const bufs = [Buffer.allocUnsafeSlow(CHUNK_BYTES), Buffer.allocUnsafeSlow(CHUNK_BYTES)];
    let k = 0;
    pending = fh.read(bufs[0], 0, CHUNK_BYTES, null);
    try {
      for (;;) {
        const { bytesRead } = await pending;
        pending = null;
        if (bytesRead === 0) return;
        total += bytesRead;
        const current = bufs[k];
        k ^= 1;
        pending = fh.read(bufs[k], 0, CHUNK_BYTES, null);
        yield current.subarray(0, bytesRead);
      }
    } finally {
      if (pending) await pending.catch(() => undefined);
      pending = null;
    }
  }
  return {
    chunks: chunks(),
    bytesRead: () => total,
    gzip: false,
    close: () => {
      void (pending ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => fh.close())
        .catch(() => undefined);
    },
  };
}

/**
 * Splits a stream of Buffers into lines and calls `onLine` for each (blank lines included: the
 * caller decides). Returns the number of lines seen.
 */
export async function splitLines(
  chunks: AsyncIterable<Buffer>,
  onLine: LineHandler,
  opts: SplitOptions,
  bytesRead?: () => number,
): Promise<number> {
  let carry = Buffer.alloc(0); // scratch for a line spanning chunks
  let carryLen = 0;
  let lineNo = 0;
  let consumed = 0;
  opts.signal?.throwIfAborted();
  for await (const chunk of chunks) {
    consumed += chunk.length;
    let pos = 0;
    const n = chunk.length;
    if (carryLen > 0) {
      // finish the pending line with the head of this chunk
      const nl = chunk.indexOf(10);
      const take = nl < 0 ? n : nl;
      if (carryLen + take > MAX_LINE_BYTES) tooLong(opts.file, lineNo + 1);
      if (carry.length < carryLen + take) {
        const bigger = Buffer.allocUnsafe(Math.max(carryLen + take, carry.length * 2));
        carry.copy(bigger, 0, 0, carryLen);
        carry = bigger;
      }
      chunk.copy(carry, carryLen, 0, take);
      carryLen += take;
      if (nl < 0) {
        reportAndCheck(opts, bytesRead ? bytesRead() : consumed);
        continue;
      }
      let end = carryLen;
      if (end > 0 && carry[end - 1] === 13) end--;
      carryLen = 0;
      onLine(carry, 0, end, ++lineNo, true);
      pos = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) break;
      let end = nl;
      if (end > pos && chunk[end - 1] === 13) end--;
      onLine(chunk, pos, end, ++lineNo, true);
      pos = nl + 1;
    }
    if (pos < n) {
      // keep the unfinished tail for the next chunk
      const rest = n - pos;
      if (rest > MAX_LINE_BYTES) tooLong(opts.file, lineNo + 1);
      if (carry.length < rest) carry = Buffer.allocUnsafe(Math.max(rest, 2 * carry.length, 4096));
      chunk.copy(carry, 0, pos, n);
      carryLen = rest;
    }
    reportAndCheck(opts, bytesRead ? bytesRead() : consumed);
  }
  if (carryLen > 0) {
    let end = carryLen;
    if (carry[end - 1] === 13) end--;
    onLine(carry, 0, end, ++lineNo, false);
  }
  return lineNo;
}

function reportAndCheck(opts: SplitOptions, bytes: number): void {
  opts.progress?.(bytes);
  opts.signal?.throwIfAborted();
}

function tooLong(file: string, line: number): never {
  throw new InputError(
    'format',
    { file, line },
    '',
    `line longer than ${MAX_LINE_BYTES / 1048576} MiB: not a text flow file (a binary nfcapd file? use --format nfcapd)`,
  );
}

/** Reads a text file (plain or gzip) line by line. Returns the number of lines. */
export async function readLines(path: string, onLine: LineHandler, opts: SplitOptions): Promise<number> {
  const src = await openChunks(path, opts.file);
  try {
    return await splitLines(ioErrorsAsInputErrors(src, opts.file), onLine, opts, src.bytesRead);
  } finally {
    src.close();
  }
}

/** The chunks of a source, with read and gunzip failures turned into InputError('io') naming the file. */
async function* ioErrorsAsInputErrors(src: ChunkSource, file: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of src.chunks) yield chunk;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const what = src.gzip && e.code?.startsWith('Z_') ? 'corrupt or truncated gzip data' : 'read error';
    throw new InputError('io', { file }, '', `${what}: ${e.message}`);
  }
}

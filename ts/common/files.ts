/**
 * Reading what the stages write: a manifest (JSON checked against its schema in schemas/) and an
 * exact byte range of a binary file.
 */
import { readFileSync, readSync } from 'node:fs';
import { validateWithSchema } from './schema.js';

/** The manifest at `path`, checked against `schema`; unreadable or not JSON: "PATH: not a readable WHAT (why)". */
export function readManifest<T>(path: string, schema: string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not a readable ${what} (${(e as Error).message})`);
  }
  return validateWithSchema<T>(schema, raw, path);
}

/** Fills `buf` from byte `pos` of the open file `fd`; when the file ends first, throws `short`. */
export function readFully(fd: number, buf: Uint8Array, pos: number, short: string): void {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, pos + off);
    if (n === 0) throw new Error(short);
    off += n;
  }
}

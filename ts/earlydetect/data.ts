/**
 * The reader of an EarlyDetect folder (the writer is ./build.ts), with the sizes checked against
 * the manifest:
 *
 *   EARLYDETECT/manifest.json             schemas/earlydetect.schema.json (netflowgen detect-dataset)
 *   EARLYDETECT/<split>.examples.i32      int32 [n, 6]  row, start, label, onsetStep, attackType, alert
 *   EARLYDETECT/<split>.mask.u8           uint8 [n, D]
 *   EARLYDETECT/<split>.traffic.f32       float32 [n, D] incoming bytes
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateWithSchema } from '../common/schema.js';
import { EARLYDETECT_SCHEMA, type EarlyDetectManifest } from './build.js';
import { N_COLUMNS } from './summary.js';
import type { SplitName } from '../splits/splits.js';

/** Reads and checks an EarlyDetect manifest. */
export function readEarlyDetectManifest(dir: string): EarlyDetectManifest {
  const path = join(dir, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(
      `${path}: not a readable EarlyDetect manifest (${(e as Error).message}); make one with netflowgen detect-dataset`,
    );
  }
  return validateWithSchema<EarlyDetectManifest>(EARLYDETECT_SCHEMA, raw, path);
}

/** A whole little-endian file as a typed array, its size checked. */
export function readTyped<T extends Int32Array | Float32Array | Uint8Array>(
  path: string,
  ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  count: number,
  what: string,
): T {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const bytes = count * ctor.BYTES_PER_ELEMENT;
  if (buf.byteLength !== bytes) throw new Error(`${path}: ${buf.byteLength} bytes, expected ${bytes} (${what})`);
  return new ctor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
}

/** The examples of one split of an EarlyDetect dataset. */
export interface DetectSplit {
  split: SplitName;
  n: number;
  D: number;
  /** [n, 6]: row, start, label, onsetStep, attackType, alert. */
  examples: Int32Array;
  mask: Uint8Array;
  traffic: Float32Array;
}

export function readDetectSplit(dir: string, m: EarlyDetectManifest, split: SplitName): DetectSplit {
  const f = m.splits[split];
  const n = f.count;
  const D = m.detectLength;
  return {
    split,
    n,
    D,
    examples: readTyped(join(dir, f.examples), Int32Array, n * N_COLUMNS, `${split} examples [${n}, ${N_COLUMNS}]`),
    mask: readTyped(join(dir, f.mask), Uint8Array, n * D, `${split} anomaly masks [${n}, ${D}]`),
    traffic: readTyped(join(dir, f.traffic), Float32Array, n * D, `${split} traffic [${n}, ${D}]`),
  };
}

/**
 * A reader of NumPy's .npy files (format versions 1-3), for the arrays python/ writes: little-endian
 * float32, float64 or int32, C order. Anything else is refused with the file's name.
 */
import { readFileSync } from 'node:fs';

export interface NpyArray {
  dtype: '<f4' | '<f8' | '<i4';
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

const CTORS = { '<f4': Float32Array, '<f8': Float64Array, '<i4': Int32Array } as const;

export function readNpy(path: string): NpyArray {
  const buf = readFileSync(path);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined)
    throw new Error(`${path}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (!(descr in CTORS)) throw new Error(`${path}: dtype ${descr} is not one of ${Object.keys(CTORS).join(', ')}`);
  if (fortran === 'True') throw new Error(`${path}: Fortran-ordered arrays are not read`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const dtype = descr as NpyArray['dtype'];
  const Ctor = CTORS[dtype];
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (buf.length - offset !== count * Ctor.BYTES_PER_ELEMENT)
    throw new Error(
      `${path}: ${buf.length - offset} data bytes, shape [${shape.join(', ')}] needs ${count * Ctor.BYTES_PER_ELEMENT}`,
    );
  const copy = buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + buf.length);
  return { dtype, shape, data: new Ctor(copy) };
}

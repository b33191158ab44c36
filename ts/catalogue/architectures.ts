/**
 * The named model sizes (Table 10's {layers}-{heads}-{width}-{ffn}, and netflowgen_tiny for tests and the
 * CPU demo), kept as data in schemas/architectures.json: the one table that both this module and the
 * Fairseq plugin (fairseq_plugins/models/netflowgen.py, which registers one architecture per entry) read.
 *
 * The names are a checked type: `Arch` is the key union of that JSON file as the compiler reads it (a
 * type-only import, so nothing of it is emitted), and the table read at run time must hold exactly those
 * keys, each with positive integer sizes and a width divisible by the heads.
 */
import { readFileSync } from 'node:fs';
import { schemaPath } from '../common/paths.js';

export const ARCHITECTURES_FILE = 'architectures.json';

type ArchTable = Omit<typeof import('../../schemas/architectures.json', { with: { type: 'json' } }), '$comment'>;

/** A named architecture: a key of schemas/architectures.json. */
export type Arch = keyof ArchTable & string;

export interface ArchSizes {
  layers: number;
  heads: number;
  width: number;
  ffn: number;
}

const SIZE_KEYS = ['layers', 'heads', 'width', 'ffn'] as const;

/** Reads and checks a table of architectures (`$`-prefixed keys are comments). Exported for tests. */
export function parseArchitectures(text: string, file = ARCHITECTURES_FILE): Record<string, ArchSizes> {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const out: Record<string, ArchSizes> = {};
  for (const [name, entry] of Object.entries(raw)) {
    if (name.startsWith('$')) continue;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${file}: ${name}: expected an object of sizes`);
    const e = entry as Record<string, unknown>;
    const extra = Object.keys(e).filter((k) => !(SIZE_KEYS as readonly string[]).includes(k));
    if (extra.length)
      throw new Error(`${file}: ${name}: unknown key ${extra.join(', ')} (expected ${SIZE_KEYS.join(', ')})`);
    for (const k of SIZE_KEYS) {
      const v = e[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
        throw new Error(`${file}: ${name}.${k}: expected a positive integer, got ${JSON.stringify(v)}`);
    }
    const sizes = e as unknown as ArchSizes;
    if (sizes.width % sizes.heads)
      throw new Error(`${file}: ${name}: width ${sizes.width} is not divisible by heads ${sizes.heads}`);
    out[name] = { layers: sizes.layers, heads: sizes.heads, width: sizes.width, ffn: sizes.ffn };
  }
  return out;
}

function load(): Record<Arch, ArchSizes> {
  const path = schemaPath(ARCHITECTURES_FILE);
  return parseArchitectures(readFileSync(path, 'utf8'), path) as Record<Arch, ArchSizes>;
}

/** Layers, heads, width, FFN width of each named architecture, in the file's order. */
export const ARCH_SIZES: Readonly<Record<Arch, Readonly<ArchSizes>>> = load();

/** The architecture names, in the file's order (tiny first, then Table 10 by size). */
export const ARCHS: readonly Arch[] = Object.keys(ARCH_SIZES) as Arch[];

export function isArch(name: string): name is Arch {
  return Object.prototype.hasOwnProperty.call(ARCH_SIZES, name);
}

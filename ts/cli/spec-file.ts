/**
 * Where a spec argument of pretrain, finetune and sweep is read from: the path as typed, relative to
 * the working folder; else the same path among the specs shipped with netflowgen (so that
 * `netflowgen pretrain experiments/pretrain/tiny.json`, as the docs write it, works from any folder),
 * said on stderr; else an error naming the path as typed, with "did you mean" among the shipped specs.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { packageRoot } from '../common/paths.js';
import { closest } from '../common/suggest.js';
import { SpecError } from '../config/compose.js';

/** The shipped specs, as paths relative to the package (experiments/pretrain/tiny.json, ...). */
export function shippedSpecs(root = packageRoot()): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(join(root, rel)).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = `${rel}/${n}`;
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else if (n.endsWith('.json')) out.push(p);
    }
  };
  for (const d of ['pretrain', 'finetune', 'sweeps']) walk(`experiments/${d}`);
  return out;
}

/** The file to read for the spec argument `typed` (see the module docstring). */
export function findSpecFile(
  typed: string,
  cwd = process.cwd(),
  note: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): string {
  if (existsSync(resolve(cwd, typed))) return resolve(cwd, typed);
  const root = packageRoot();
  const rel = typed.replace(/^\.\//, '');
  for (const candidate of [join(root, rel), join(root, 'experiments', rel)]) {
    if (relative(root, candidate).startsWith('..')) continue;
    if (existsSync(candidate) && statSync(candidate).isFile()) {
      note(`netflowgen: ${typed} is not in ${cwd}; using the spec shipped with netflowgen: ${candidate}`);
      return candidate;
    }
  }
  const shipped = shippedSpecs(root);
  const s =
    closest(rel, shipped) ??
    closest(
      rel.split('/').pop()!,
      shipped.map((p) => p.split('/').pop()!),
    );
  const guess = s ? (shipped.includes(s) ? s : shipped.find((p) => p.endsWith(`/${s}`))!) : null;
  throw new SpecError([
    `${typed}: no such spec file here (${cwd}) nor among the specs shipped with netflowgen${guess ? `; did you mean ${guess}?` : ''} (shipped: ${shipped.slice(0, 6).join(', ')}${shipped.length > 6 ? `, ... ${shipped.length} in all under ${join(root, 'experiments')}` : ''})`,
  ]);
}

// The pipeline order is a rule the code keeps: a folder of ts/ imports only folders earlier in
// ingest -> serialize -> (synth, inspect beside) -> splits/discretize -> unseen -> datasets ->
// earlydetect -> baseline/train -> generate -> evaluate -> report -> reproduce -> cli, over common/,
// catalogue/, config/ and bridge/ at the bottom; and no two folders import each other. Read from the
// sources, so a new import that runs back up the order fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../ts/common/paths.js';

const ORDER: Record<string, number> = {
  common: 0,
  catalogue: 0,
  config: 0,
  bridge: 0,
  ingest: 1,
  serialize: 2,
  synth: 2.5,
  inspect: 2.5,
  splits: 3,
  discretize: 3,
  unseen: 3.5,
  datasets: 4,
  earlydetect: 4.5,
  baseline: 5,
  train: 5,
  generate: 5.5,
  evaluate: 6,
  watch: 6.5,
  report: 7,
  reproduce: 8,
  cli: 9,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the pipeline order of ts/ folders', () => {
  const ts = join(packageRoot(), 'ts');
  const edges = new Map<string, Set<string>>();
  for (const f of files(ts)) {
    const from = relative(ts, f).split('/')[0];
    if (from.endsWith('.ts')) continue; // ts/index.ts re-exports everything
    for (const m of readFileSync(f, 'utf8').matchAll(/from '(\.\.?\/[^']+)'/g)) {
      const to = relative(ts, normalize(join(dirname(f), m[1]))).split('/')[0];
      if (to !== from && !to.startsWith('..'))
        edges.set(`${from} -> ${to}`, (edges.get(`${from} -> ${to}`) ?? new Set()).add(relative(ts, f)));
    }
  }

  it('knows every folder', () => {
    const folders = readdirSync(ts).filter((n) => statSync(join(ts, n)).isDirectory());
    expect(folders.filter((n) => !(n in ORDER))).to.deep.equal([]);
  });

  it('no folder imports one later in the order, and no two folders import each other', () => {
    expect(edges.size).to.be.greaterThan(40); // the imports were read
    expect(edges.has('evaluate -> train')).to.equal(true);
    const bad: string[] = [];
    for (const [edge, where] of edges) {
      const [a, b] = edge.split(' -> ');
      if (edges.has(`${b} -> ${a}`)) bad.push(`cycle ${edge} (${[...where].join(', ')})`);
      else if (ORDER[b] > ORDER[a]) bad.push(`${edge} runs back up the pipeline (${[...where].join(', ')})`);
    }
    expect(bad).to.deep.equal([]);
  });
});

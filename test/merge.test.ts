/**
 * Issue 15, "past one machine": time partitions serialized apart (`serialize --from --to`, as a
 * Slurm job array or a Kubernetes Indexed Job would run them) and merged with `netflowgen merge`
 * give the store of one whole run: the same series.f32 bytes and the same manifest, apart from the
 * fields listed in PER_PARTITION below.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { serialize } from '../ts/serialize/serialize.js';
import { mergeStores } from '../ts/serialize/merge.js';
import type { SeriesStoreManifest } from '../ts/serialize/store.js';
import { twoDaySynth } from './helpers/store.js';
import { useTempDir } from './helpers/tmp.js';

const CLI = new URL('../ts/cli/main.js', import.meta.url).pathname;

/**
 * Manifest fields that may differ between one whole run and the merge of its partitions, each with
 * its reason. Everything else must be equal.
 */
const PER_PARTITION: Record<string, string> = {
  'options.peakOpenChunks':
    'a memory statistic of the run: the merge reports the largest of the partitions, which may be below the whole run (its window may reach across a boundary)',
  'options.lateRecords':
    "records kept aside because they lagged their file's newest record: a partition ignores records outside its range, so its window may advance differently (the data are the same: late records are added at the end)",
};

function withoutPerPartition(m: SeriesStoreManifest): SeriesStoreManifest {
  const c = JSON.parse(JSON.stringify(m)) as SeriesStoreManifest;
  for (const path of Object.keys(PER_PARTITION)) {
    const [a, b] = path.split('.');
    delete (c as unknown as Record<string, Record<string, unknown>>)[a][b];
  }
  return c;
}

const bytes = (dir: string) => readFileSync(join(dir, 'series.f32'));
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SeriesStoreManifest;

describe('merge: time partitions equal one whole run (issue 15)', function () {
  this.timeout(300_000);
  const tmp = useTempDir();
  let flows: string;
  let nodes: string;
  const FROM = '2021-09-06T00:00:00Z';
  const CUT1 = '2021-09-06T13:17:00Z'; // inside the first day's file
  const CUT2 = '2021-09-07T00:00:00Z'; // on the file boundary
  const TO = '2021-09-08T00:00:00Z';

  before(async () => {
    const s = join(tmp.dir, 'synth');
    await twoDaySynth(s, 5);
    flows = join(s, 'flows');
    nodes = join(s, 'nodes.csv');
  });

  const part = (out: string, from: string, to: string, inputs = [flows]) =>
    serialize({ inputs, nodes, out: join(tmp.dir, out), from, to });

  it('three partitions of the same files, cut inside and on a file boundary, merge to the bytes of one whole run', async () => {
    const whole = await part('whole', FROM, TO);
    await part('p1', FROM, CUT1);
    await part('p2', CUT1, CUT2);
    await part('p3', CUT2, TO);
    // given out of order: merge sorts by time
    const merged = await mergeStores({
      stores: ['p3', 'p1', 'p2'].map((p) => join(tmp.dir, p)),
      out: join(tmp.dir, 'merged'),
    });
    expect(whole.records.used).to.be.greaterThan(1000);
    expect(bytes(join(tmp.dir, 'merged')).equals(bytes(join(tmp.dir, 'whole')))).to.equal(true);
    expect(withoutPerPartition(manifest(join(tmp.dir, 'merged')))).to.deep.equal(
      withoutPerPartition(manifest(join(tmp.dir, 'whole'))),
    );
    expect(withoutPerPartition(merged)).to.deep.equal(withoutPerPartition(whole));
    // the manifest text too, field order included, apart from the listed fields
    expect(JSON.stringify(withoutPerPartition(manifest(join(tmp.dir, 'merged'))))).to.equal(
      JSON.stringify(withoutPerPartition(manifest(join(tmp.dir, 'whole')))),
    );
  });

  it('partitions that read their own files (one day each) merge to one whole run over all the files', async () => {
    const files = ['flows-20210906-0000', 'flows-20210907-0000'].map((f) => join(flows, `${f}.csv`));
    for (const f of files) expect(existsSync(f), f).to.equal(true);
    const whole = await part('whole-files', FROM, TO, files);
    await part('d1', FROM, CUT2, [files[0]]);
    await part('d2', CUT2, TO, [files[1]]);
    const merged = await mergeStores({
      stores: [join(tmp.dir, 'd1'), join(tmp.dir, 'd2')],
      out: join(tmp.dir, 'merged-files'),
    });
    expect(bytes(join(tmp.dir, 'merged-files')).equals(bytes(join(tmp.dir, 'whole-files')))).to.equal(true);
    expect(withoutPerPartition(merged)).to.deep.equal(withoutPerPartition(whole));
  });

  it('bad lines are counted once, as in one whole run, when every partition reads them', async () => {
    const bad = join(tmp.dir, 'flows-bad');
    mkdirSync(bad);
    for (const f of ['flows-20210906-0000.csv', 'flows-20210907-0000.csv']) {
      const lines = readFileSync(join(flows, f), 'utf8').split('\n');
      lines.splice(5, 0, 'this,is,not,a,flow');
      writeFileSync(join(bad, f), lines.join('\n'));
    }
    const whole = await part('whole-bad', FROM, TO, [bad]);
    await part('b1', FROM, CUT1, [bad]);
    await part('b2', CUT1, TO, [bad]);
    const merged = await mergeStores({
      stores: [join(tmp.dir, 'b1'), join(tmp.dir, 'b2')],
      out: join(tmp.dir, 'merged-bad'),
    });
    const rejected = Object.values(whole.records.rejected).reduce((a, b) => a + b, 0);
    expect(rejected).to.equal(2);
    expect(whole.records.examples).to.have.length(2);
    expect(bytes(join(tmp.dir, 'merged-bad')).equals(bytes(join(tmp.dir, 'whole-bad')))).to.equal(true);
    expect(withoutPerPartition(merged)).to.deep.equal(withoutPerPartition(whole));
  });

  it('refuses overlapping ranges, a gap, another node inventory, and inputs shared by only some partitions, naming the stores', async () => {
    const d = (p: string) => join(tmp.dir, p);
    await part('ov', '2021-09-06T12:00:00Z', CUT2);
    let err = await mergeStores({ stores: [d('p1'), d('ov')], out: d('x') }).catch((e: Error) => e);
    expect(String(err)).to.contain(d('p1')).and.to.contain(d('ov')).and.to.contain('overlap');
    err = await mergeStores({ stores: [d('p1'), d('p3')], out: d('x') }).catch((e: Error) => e);
    expect(String(err)).to.contain(d('p1')).and.to.contain(d('p3')).and.to.contain('in no partition');
    const fewer = join(tmp.dir, 'fewer.csv');
    writeFileSync(fewer, readFileSync(nodes, 'utf8').split('\n').slice(0, 4).join('\n') + '\n');
    await serialize({ inputs: [flows], nodes: fewer, out: d('other-nodes'), from: CUT2, to: TO });
    err = await mergeStores({ stores: [d('p2'), d('other-nodes')], out: d('x') }).catch((e: Error) => e);
    expect(String(err)).to.contain(d('p2')).and.to.contain(d('other-nodes')).and.to.contain('node inventory');
    err = await mergeStores({ stores: [d('p2'), d('d2')], out: d('x') }).catch((e: Error) => e);
    expect(String(err)).to.contain('both read').and.to.contain('flows-20210907-0000.csv');
    expect(existsSync(d('x'))).to.equal(false);
  });

  it('the CLI writes the store, refuses to replace it without --force, and --force never replaces a folder that is not ours', async () => {
    const args = ['merge', '-o', 'cli', 'p1', 'p2', 'p3'];
    let r = await execa('node', [CLI, ...args], { cwd: tmp.dir, reject: false });
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('wrote cli: 3 stores merged');
    expect(bytes(join(tmp.dir, 'cli')).equals(bytes(join(tmp.dir, 'whole')))).to.equal(true);
    r = await execa('node', [CLI, ...args], { cwd: tmp.dir, reject: false });
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain('pass --force');
    r = await execa('node', [CLI, ...args, '--force'], { cwd: tmp.dir, reject: false });
    expect(r.exitCode, r.stderr).to.equal(0);
    mkdirSync(join(tmp.dir, 'mine'));
    writeFileSync(join(tmp.dir, 'mine/notes.txt'), 'mine\n');
    r = await execa('node', [CLI, 'merge', '-o', 'mine', 'p1', 'p2', '--force'], { cwd: tmp.dir, reject: false });
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain('mine is not a previous netflowgen output');
    expect(readFileSync(join(tmp.dir, 'mine/notes.txt'), 'utf8')).to.equal('mine\n');
    r = await execa('node', [CLI, 'merge', '-o', 'p1', 'p1', 'p2', '--force'], { cwd: tmp.dir, reject: false });
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain("p1 holds 'p1'");
  });
});

/**
 * Issue 11: outputs are the only thing --force may replace. A folder is replaced only when it is a
 * previous netflowgen output (its manifest says so) and holds none of the command's inputs; anything
 * else is refused, naming what is in the way. Errors name the path the user gave.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutputDir, OutputError, outputKind, refuseInputsInside } from '../ts/common/atomic.js';
import { netflowgen as cli } from './helpers/cli.js';
import { useTempDir } from './helpers/tmp.js';

/** `netflowgen synth` of 4 nodes x 60 minutes into `out` (in `cwd`), with `extra` arguments. */
const smallSynth = (cwd: string, out: string, ...extra: string[]) =>
  cli(['synth', '-o', out, ...extra, '--nodes', '4', '--customers', '2', '--minutes', '60', '-q'], cwd);

describe('--force replaces only previous outputs (issue 11)', function () {
  this.timeout(120_000);
  const tmp = useTempDir();
  before(async () => {
    const r = await cli(
      ['synth', '-o', 'p', '--nodes', '4', '--customers', '2', '--minutes', '120', '--attacks', '1', '-q'],
      tmp.dir,
    );
    expect(r.exitCode, r.stderr).to.equal(0);
  });

  it('serialize -i out/p/flows -o out/p --force is refused, naming the input, and deletes nothing', async () => {
    const before = readdirSync(join(tmp.dir, 'p/flows'));
    const r = await cli(['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'p', '--force'], tmp.dir);
    expect(r.exitCode).to.equal(1);
    expect(r.stderr)
      .to.contain("p holds 'p/flows', 'p/nodes.csv', inputs of this command")
      .and.to.contain('never replaced');
    expect(r.stderr).not.to.contain('.partial');
    expect(readdirSync(join(tmp.dir, 'p/flows'))).to.deep.equal(before);
    expect(existsSync(join(tmp.dir, 'p/synth.json'))).to.equal(true);
  });

  it('synth -o DIR --force refuses a folder of unrelated files, naming them; they stay', async () => {
    const dir = join(tmp.dir, 'mine');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    writeFileSync(join(dir, 'manifest.json'), '{"kind": "something-else"}\n');
    const r = await smallSynth(tmp.dir, 'mine', '--force');
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain('mine is not a previous netflowgen output').and.to.contain('manifest.json, notes.txt');
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).to.equal('mine\n');
    expect(readdirSync(dir).sort()).to.deep.equal(['manifest.json', 'notes.txt']);
  });

  it('every command that writes a folder applies the same rule (serialize, synth, bin, detect-dataset, simple-detect)', async () => {
    const dir = join(tmp.dir, 'user');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.csv'), 'a,b\n');
    const commands = [
      ['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'user', '--force'],
      ['synth', '-o', 'user', '--force', '--minutes', '60'],
      ['bin', '-s', 'p', '-o', 'user', '--force'],
      ['detect-dataset', '-d', 'p', '--alerts', 'p/alerts.jsonl', '-o', 'user', '--force'],
      ['simple-detect', 'p', '--detector', 'static', '-o', 'user', '--force'],
    ];
    for (const args of commands) {
      const r = await cli(args, tmp.dir);
      expect(r.exitCode, args[0]).to.equal(1);
      expect(r.stderr, args[0]).to.contain('user is not a previous netflowgen output').and.to.contain('keep.csv');
      expect(readdirSync(dir), args[0]).to.deep.equal(['keep.csv']);
    }
  });

  it('a previous output is replaced with --force; without --force the error says so', async () => {
    const first = await cli(['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'store', '-q'], tmp.dir);
    expect(first.exitCode, first.stderr).to.equal(0);
    expect(await outputKind(join(tmp.dir, 'store'))).to.equal('netflowgen.series-store');
    const again = await cli(['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'store', '-q'], tmp.dir);
    expect(again.exitCode).to.equal(1);
    expect(again.stderr).to.contain('store exists (a previous series-store output); pass --force');
    const forced = await cli(
      ['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'store', '-q', '--force'],
      tmp.dir,
    );
    expect(forced.exitCode, forced.stderr).to.equal(0);
    // an empty folder holds nothing to lose: it is filled without --force
    mkdirSync(join(tmp.dir, 'empty'));
    const empty = await cli(['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'empty', '-q'], tmp.dir);
    expect(empty.exitCode, empty.stderr).to.equal(0);
  });

  it('an output folder reached through a link that holds an input is refused too; a run folder holding its pretrained model as well', async () => {
    symlinkSync(join(tmp.dir, 'p'), join(tmp.dir, 'p-link'));
    let err: unknown;
    await checkOutputDir(join(tmp.dir, 'p-link'), { overwrite: true, inputs: [join(tmp.dir, 'p/flows/x.csv')] }).catch(
      (e) => (err = e),
    );
    expect(err).to.be.instanceOf(OutputError);
    err = undefined;
    await refuseInputsInside(join(tmp.dir, 'p'), [join(tmp.dir, 'p/checkpoint_best.pt')]).catch((e) => (err = e));
    expect((err as Error).message).to.contain('never replaced');
  });

  it('-o in a place that cannot be written fails at once, naming the path given, not a hidden folder', async () => {
    // /proc: Node's recursive mkdir spins there for ever; this must fail at once (the test's timeout guards it)
    const proc = await cli(['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', '/proc/x', '-q'], tmp.dir);
    expect(proc.exitCode).to.equal(1);
    expect(proc.stderr)
      .to.match(/^netflowgen: cannot write \/proc\/x: /)
      .and.not.to.contain('.partial');
    const deep = await cli(['synth', '-o', '/proc/a/b', '--minutes', '60', '-q'], tmp.dir);
    expect(deep.exitCode).to.equal(1);
    expect(deep.stderr).to.contain('cannot write /proc/a/b').and.not.to.contain('.partial');
    writeFileSync(join(tmp.dir, 'afile'), 'x');
    const under = await cli(['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'afile/store', '-q'], tmp.dir);
    expect(under.stderr).to.contain('cannot write afile/store:').and.to.contain('afile is not a folder');
    if (process.getuid?.() !== 0) {
      const ro = join(tmp.dir, 'ro');
      mkdirSync(ro, { mode: 0o555 });
      const r = await cli(['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'ro/store', '-q'], tmp.dir);
      expect(r.stderr)
        .to.contain('cannot write ro/store')
        .and.to.contain('not writable')
        .and.not.to.contain('.partial');
    }
  });

  it('--force refuses a previous output that also holds files the user put there, naming them; they stay (review item 2)', async () => {
    const first = await smallSynth(tmp.dir, 's1');
    expect(first.exitCode, first.stderr).to.equal(0);
    writeFileSync(join(tmp.dir, 's1/mynotes.txt'), 'mine\n');
    mkdirSync(join(tmp.dir, 's1/flows/extra'));
    const r = await smallSynth(tmp.dir, 's1', '--force');
    expect(r.exitCode).to.equal(1);
    expect(r.stderr)
      .to.contain('s1 is a previous')
      .and.to.contain('flows/extra, mynotes.txt')
      .and.not.to.contain('.partial');
    expect(readFileSync(join(tmp.dir, 's1/mynotes.txt'), 'utf8')).to.equal('mine\n');
    // once the user's files are out of the way, --force replaces it
    rmSync(join(tmp.dir, 's1/mynotes.txt'));
    rmSync(join(tmp.dir, 's1/flows/extra'), { recursive: true });
    const again = await smallSynth(tmp.dir, 's1', '--force');
    expect(again.exitCode, again.stderr).to.equal(0);
    // serialize too
    const st = await cli(['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'st2', '-q'], tmp.dir);
    expect(st.exitCode, st.stderr).to.equal(0);
    writeFileSync(join(tmp.dir, 'st2/mine.csv'), 'a\n');
    const sf = await cli(['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'st2', '-q', '--force'], tmp.dir);
    expect(sf.exitCode).to.equal(1);
    expect(sf.stderr).to.contain('mine.csv');
    expect(existsSync(join(tmp.dir, 'st2/mine.csv'))).to.equal(true);
  });

  it('--force replaces nothing in a previous output without its list of written files (an older version made it, or the list was removed): the user file stays', async () => {
    const first = await smallSynth(tmp.dir, 's3');
    expect(first.exitCode, first.stderr).to.equal(0);
    rmSync(join(tmp.dir, 's3/.netflowgen-files.json'));
    writeFileSync(join(tmp.dir, 's3/mynotes.txt'), 'mine\n');
    const r = await smallSynth(tmp.dir, 's3', '--force');
    expect(r.exitCode).to.equal(1);
    expect(r.stderr)
      .to.contain('s3 is a previous synth output without .netflowgen-files.json')
      .and.not.to.contain('.partial');
    expect(readFileSync(join(tmp.dir, 's3/mynotes.txt'), 'utf8')).to.equal('mine\n');
  });

  it('-o . and -o dir/. write into that folder; the hidden temporary folder is never named (review item 3)', async () => {
    mkdirSync(join(tmp.dir, 'here'));
    const r = await smallSynth(join(tmp.dir, 'here'), '.');
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(existsSync(join(tmp.dir, 'here/synth.json'))).to.equal(true);
    expect(readdirSync(tmp.dir).filter((n) => n.includes('.partial'))).to.deep.equal([]);
    const f = await smallSynth(join(tmp.dir, 'here'), '.', '--force');
    expect(f.exitCode, f.stderr).to.equal(0);
    mkdirSync(join(tmp.dir, 'there'));
    const d = await cli(['serialize', '-i', 'p/flows', '-n', 'p/nodes.csv', '-o', 'there/.', '-q'], tmp.dir);
    expect(d.exitCode, d.stderr).to.equal(0);
    expect(await outputKind(join(tmp.dir, 'there'))).to.equal('netflowgen.series-store');
    const busy = await smallSynth(join(tmp.dir, 'there'), '.');
    expect(busy.exitCode).to.equal(1);
    expect(busy.stderr).not.to.contain('.partial');
  });
});

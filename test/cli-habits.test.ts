/**
 * Issue 11: CLI habits. Unknown options, commands, choices and preset names get "did you mean" and
 * the list of choices without the whole help; one meaning per short flag across commands; errors
 * name the path the user gave.
 */
import { expect } from 'chai';
import { netflowgenCli } from '../ts/cli/app.js';
import { closest } from '../ts/cli/suggest.js';
import { capture, netflowgen as cli } from './helpers/cli.js';
import { useTempDir } from './helpers/tmp.js';

describe('CLI habits (issue 11)', function () {
  this.timeout(120_000);
  const tmp = useTempDir();

  it('an unknown option gets "did you mean" and the list of options, not the whole help', async () => {
    const r = await cli(['serialize', '-i', 'x', '-o', 'y', '--frmo', '2021-01-01']);
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain('netflowgen serialize: unknown option --frmo; did you mean --from?');
    expect(r.stderr).to.contain('options: --input (-i), --nodes (-n), --prefix, --out (-o)');
    expect(r.stderr).not.to.contain('Examples:');
    expect(r.stderr.trim().split('\n').length).to.be.at.most(4);
  });

  it('a misspelt command, choice or preset gets "did you mean" and the list', async () => {
    const cmd = await cli(['serialze', '-i', 'x']);
    expect(cmd.exitCode).to.equal(1);
    expect(cmd.stderr)
      .to.contain("unknown command 'serialze'; did you mean 'serialize'?")
      .and.to.contain('commands: synth, synth-report, serialize');
    const choice = await cli(['serialize', '-i', 'x', '-o', 'y', '--format', 'nfdump']);
    expect(choice.stderr)
      .to.contain("--format 'nfdump' is not one of the choices; did you mean 'nfdump-csv'?")
      .and.to.contain('choices: nfdump-csv, nfcapd, argus, cicflowmeter, nf-v9');
    expect(choice.stderr).not.to.contain('Examples:');
    const synthPreset = await cli(['synth', '-o', 'y', '--preset', 'tinyy']);
    expect(synthPreset.stderr).to.contain("did you mean 'tiny'?").and.to.contain('choices: tiny, small, paper');
    const preset = await cli(['reproduce', '--preset', 'tinny', '--dry-run'], tmp.dir);
    expect(preset.exitCode).to.equal(1);
    expect(preset.stderr)
      .to.contain("unknown preset 'tinny': did you mean 'tiny'? presets: ")
      .and.to.contain('micro')
      .and.not.to.contain('ENOENT');
    expect(closest('frmo', ['from', 'to', 'format'])).to.equal('from');
    expect(closest('zzzzzz', ['from', 'to'])).to.equal(null);
  });

  it('one meaning per short flag across every command', async () => {
    const top = await cli(['--help']);
    const commands = [...top.stdout.matchAll(/^ {2}netflowgen ([a-z-]+)/gm)].map((m) => m[1]);
    expect(commands).to.include.members(['synth', 'serialize', 'bin', 'detect-dataset', 'simple-detect', 'reproduce']);
    const meaning = new Map<string, Set<string>>();
    for (const c of commands) {
      // each command's help from the parser main.ts runs, in this process (a Node start per command took 20 s)
      const help = await capture(() => netflowgenCli([c, '--help']).exitProcess(false).wrap(100).parseAsync());
      expect(help.code, c).to.equal(0);
      expect(help.out, c).to.contain(`netflowgen ${c}`);
      for (const m of help.out.matchAll(/^\s+-([a-zA-Z]), --([a-z0-9-]+)/gm)) {
        const s = meaning.get(m[1]) ?? new Set<string>();
        s.add(`--${m[2]}`);
        meaning.set(m[1], s);
      }
    }
    const clashes = [...meaning]
      .filter(([, longs]) => longs.size > 1)
      .map(([s, longs]) => `-${s}: ${[...longs].join(', ')}`);
    expect(clashes).to.deep.equal([]);
    expect([...meaning.get('s')!]).to.deep.equal(['--store']);
  });

  it('errors name the path the user gave', async () => {
    const inv = await cli(['serialize', '-i', 'flows', '-n', 'my-nodes.csv', '-o', 'store'], tmp.dir);
    expect(inv.stderr).to.match(/^netflowgen: my-nodes.csv: cannot read the node inventory/);
    const input = await cli(['serialize', '-i', 'flows', '--prefix', '10.0.0.0/8', '-o', 'store'], tmp.dir);
    expect(input.stderr).to.match(/^netflowgen: flows: io: cannot read/);
    const ed = await cli(['simple-detect', 'my-ed', '--detector', 'static', '-o', 'out'], tmp.dir);
    expect(ed.stderr).to.match(/^netflowgen: my-ed\/manifest.json: not a readable EarlyDetect manifest/);
    const store = await cli(['bin', '-s', 'my-store', '-o', 'ds'], tmp.dir);
    expect(store.stderr).to.match(/^netflowgen: my-store\/manifest.json: /);
  });
});

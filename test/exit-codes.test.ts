/**
 * Issue 11: exit codes that tell the truth. A run rejecting more than --max-reject-share of its
 * records exits non-zero after writing its store; an empty result is an error at the stage that
 * produced it, naming the likely cause.
 */
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netflowgen as cli } from './helpers/cli.js';
import { REAL, useTempDir } from './helpers/tmp.js';

const SNMP = join(REAL, 'stopddos/amp.UDP.snmp.src161.pcapng.flows.csv');

describe('exit codes tell the truth (issue 11)', function () {
  this.timeout(120_000);
  const tmp = useTempDir();
  before(async () => {
    for (const args of [
      ['synth', '-o', 's', '--nodes', '6', '--customers', '2', '--days', '2', '--attacks', '4', '-q'],
      ['serialize', '-i', 's/flows', '-n', 's/nodes.csv', '-o', 'st', '-q'],
      ['bin', '-s', 'st', '-o', 'ds', '--window', '64', '-q'],
    ]) {
      const r = await cli(args, tmp.dir);
      expect(r.exitCode, r.stderr).to.equal(0);
    }
  });

  it('serialize rejecting more than --max-reject-share (default 1%) exits 1 after writing its store and report', async () => {
    // the real SNMP capture with 3% of its lines damaged
    const lines = readFileSync(SNMP, 'utf8').split('\n');
    let damaged = 0;
    for (let i = 1; i < lines.length - 1; i += 33) {
      lines[i] = lines[i].replace(/^([^,]*,[^,]*,[^,]*,)[^,]*/, '$1999.1.1.1');
      damaged++;
    }
    writeFileSync(join(tmp.dir, 'damaged.csv'), lines.join('\n'));
    const r = await cli(['serialize', '-i', 'damaged.csv', '--prefix', '10.10.10.0/24=v', '-o', 'damaged'], tmp.dir);
    expect(r.exitCode).to.equal(1);
    expect(r.stdout).to.contain('wrote damaged:');
    expect(r.stderr)
      .to.contain(`${damaged} of 4339 records`)
      .and.to.contain('more than --max-reject-share 0.01')
      .and.to.contain('bad_address');
    const m = JSON.parse(readFileSync(join(tmp.dir, 'damaged/manifest.json'), 'utf8'));
    expect(m.records.rejected.bad_address).to.equal(damaged);
    const ok = await cli(
      [
        'serialize',
        '-i',
        'damaged.csv',
        '--prefix',
        '10.10.10.0/24=v',
        '-o',
        'damaged',
        '--force',
        '--max-reject-share',
        '0.05',
        '-q',
      ],
      tmp.dir,
    );
    expect(ok.exitCode, ok.stderr).to.equal(0);
  });

  it('a header-only CSV is an error at serialize, with or without --strict, and writes no store', async () => {
    writeFileSync(join(tmp.dir, 'header.csv'), readFileSync(SNMP, 'utf8').split('\n')[0] + '\n');
    for (const extra of [[], ['--strict']]) {
      const r = await cli(
        ['serialize', '-i', 'header.csv', '--prefix', '10.10.10.0/24=v', '-o', 'empty-store', ...extra],
        tmp.dir,
      );
      expect(r.exitCode).to.equal(1);
      expect(r.stderr).to.contain('no record was used from header.csv: the files hold no flow records');
      expect(existsSync(join(tmp.dir, 'empty-store'))).to.equal(false);
    }
  });

  it('an inventory matching none of the addresses is an error naming that cause', async () => {
    const r = await cli(['serialize', '-i', SNMP, '--prefix', '192.0.2.0/24=nobody', '-o', 'nobody'], tmp.dir);
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain('none of the 4339 good records has an address of the inventory');
  });

  it('bin with no training or validation window is an error at bin, naming the minutes', async () => {
    const r = await cli(['bin', '-s', 'st', '-o', 'long-windows', '--window', '2000'], tmp.dir);
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain('no validation window: the valid split has 231 minutes').and.to.contain('--window');
    expect(existsSync(join(tmp.dir, 'long-windows'))).to.equal(false);
  });

  it('detect-dataset with an empty alert feed, or with every alert dropped, is an error naming why', async () => {
    writeFileSync(join(tmp.dir, 'none.jsonl'), '');
    const empty = await cli(['detect-dataset', '-d', 'ds', '-a', 'none.jsonl', '-o', 'ed', '--window', '64'], tmp.dir);
    expect(empty.exitCode).to.equal(1);
    expect(empty.stderr).to.contain('the alert feed none.jsonl holds no alert');
    const first = readFileSync(join(tmp.dir, 's/alerts.jsonl'), 'utf8').split('\n')[0];
    writeFileSync(join(tmp.dir, 'stranger.jsonl'), first.replace(/"victim":"[^"]*"/, '"victim":"203.0.113.9"') + '\n');
    const stranger = await cli(
      ['detect-dataset', '-d', 'ds', '-a', 'stranger.jsonl', '-o', 'ed', '--window', '64'],
      tmp.dir,
    );
    expect(stranger.exitCode).to.equal(1);
    expect(stranger.stderr).to.contain('all 1 alerts of stranger.jsonl were dropped (1 unknown_victim');
    expect(existsSync(join(tmp.dir, 'ed'))).to.equal(false);
    const good = await cli(
      ['detect-dataset', '-d', 'ds', '-a', 's/alerts.jsonl', '-o', 'ed', '--window', '64', '-q'],
      tmp.dir,
    );
    expect(good.exitCode, good.stderr).to.equal(0);
  });
});

/**
 * Issue 11: damaged and foreign files in a data folder are skipped and counted by reason
 * (unreadable_file, not_flow_data) with their names in the manifest; --strict makes them fatal.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serialize } from '../ts/serialize/serialize.js';
import { REAL, useTempDir } from './helpers/tmp.js';

const RRSIG = join(REAL, 'stopddos/amp.dns.RRSIG.fragmented.pcap.flows.csv');
const RRSIG_PCAP = join(REAL, 'stopddos/amp.dns.RRSIG.fragmented.pcap');
const NFCAPD = join(REAL, 'stratosphere/test1-malicious.nfdump');
const CLI = new URL('../ts/cli/main.js', import.meta.url).pathname;

describe('serialize: damaged and foreign files are skipped and counted (issue 11)', function () {
  this.timeout(120_000);
  const tmp = useTempDir();
  let tree: string;
  before(async () => {
    tree = join(tmp.dir, 'tree');
    mkdirSync(join(tree, 'edge1'), { recursive: true });
    mkdirSync(join(tree, 'edge2'), { recursive: true });
    // edge1's flows as nfdump CSV, the same minutes as edge2's nfcapd file
    const csv = await execa('nfdump', ['-r', NFCAPD, '-o', 'csv'], { env: { TZ: 'UTC' } });
    writeFileSync(join(tree, 'edge1', 'flows.csv'), csv.stdout.split('\n\n')[0].split('\nSummary')[0] + '\n');
    copyFileSync(NFCAPD, join(tree, 'edge2', 'nfcapd.201801121537'));
    // a truncated nfcapd file (nfdump: "Short read"), a README, a pcap, an empty file, corrupt gzip
    writeFileSync(join(tree, 'edge2', 'nfcapd.201801121542'), readFileSync(NFCAPD).subarray(0, 200_000));
    writeFileSync(join(tree, 'README.md'), '# flows of edge1 and edge2\n\nCollected with nfcapd -t 300.\n');
    copyFileSync(RRSIG_PCAP, join(tree, 'edge1', 'capture.pcap'));
    writeFileSync(join(tree, 'edge1', 'empty.csv'), '');
    const gz = gzipSync(readFileSync(RRSIG));
    writeFileSync(join(tree, 'edge1', 'cut.csv.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  });

  it('skips each with its reason and name in the manifest; the good files are read whole', async () => {
    const r = await execa(
      'node',
      [CLI, 'serialize', '-i', tree, '--prefix', '147.32.0.0/16=ctu', '-o', join(tmp.dir, 'store')],
      { reject: false },
    );
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stderr).to.contain(`skipped ${join(tree, 'README.md')}: not_flow_data`);
    expect(r.stdout).to.contain('5 file(s) skipped (unreadable_file 2, not_flow_data 3)');
    const m = JSON.parse(readFileSync(join(tmp.dir, 'store/manifest.json'), 'utf8'));
    const by = Object.fromEntries(
      m.skipped.map((s: { path: string; reason: string }) => [s.path.slice(tree.length + 1), s.reason]),
    );
    expect(by).to.deep.equal({
      'README.md': 'not_flow_data',
      'edge1/capture.pcap': 'not_flow_data',
      'edge1/empty.csv': 'not_flow_data',
      'edge1/cut.csv.gz': 'unreadable_file',
      'edge2/nfcapd.201801121542': 'unreadable_file',
    });
    expect(m.skipped.find((s: { path: string }) => s.path.endsWith('1542')).detail).to.contain('Short read');
    expect(m.inputs.map((i: { path: string }) => i.path.slice(tree.length + 1)).sort()).to.deep.equal([
      'edge1/flows.csv',
      'edge2/nfcapd.201801121537',
    ]);
    expect(m.records.read).to.equal(2 * 4593);
    expect(m.minutes).to.be.lessThan(5);
    const rejected = Object.values(m.records.rejected as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(m.records.read).to.equal(m.records.used + m.records.unmatched + m.records.outsideRange + rejected);
    expect(m.records.read).to.equal(m.inputs.reduce((a: number, i: { records: number }) => a + i.records, 0));
  });

  it('--strict makes the first skipped file fatal, naming it; no store is written', async () => {
    const r = await execa(
      'node',
      [CLI, 'serialize', '-i', tree, '--prefix', '147.32.0.0/16=ctu', '-o', join(tmp.dir, 'strict'), '--strict'],
      { reject: false },
    );
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.match(
      /^netflowgen: \S+(README\.md|capture\.pcap|empty\.csv|cut\.csv\.gz|nfcapd\.201801121542)(:\d+)?: (io|format): /,
    );
    expect(existsSync(join(tmp.dir, 'strict'))).to.equal(false);
  });

  it('with --from/--to (no first pass) a file damaged part-way keeps the records read before the damage, counted', async () => {
    const big = join(tmp.dir, 'big.csv');
    const lines = readFileSync(RRSIG, 'utf8').trimEnd().split('\n');
    const body = lines.slice(1);
    // enough lines that the damage comes after the first chunks
    writeFileSync(big, [lines[0], ...Array.from({ length: 12 }, () => body).flat()].join('\n') + '\n');
    const gz = gzipSync(readFileSync(big), { level: 0 });
    writeFileSync(join(tmp.dir, 'big.csv.gz'), gz.subarray(0, Math.floor(gz.length * 0.8)));
    const m = await serialize({
      inputs: [join(tmp.dir, 'big.csv.gz')],
      prefixes: ['10.10.10.0/24=victim'],
      out: join(tmp.dir, 'partial'),
      from: '2021-09-21T15:00:00Z',
      to: '2021-09-21T16:00:00Z',
      maxRejectShare: 1,
    }).catch((e: Error) => e);
    if (m instanceof Error) throw m;
    expect(m.skipped).to.have.length(1);
    expect(m.skipped![0]).to.deep.include({ reason: 'unreadable_file' });
    expect(m.skipped![0].recordsKept).to.be.greaterThan(0).and.to.equal(m.records.read);
    expect(m.inputs).to.have.length(0);
  });
});

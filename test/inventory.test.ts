/**
 * Issue 11: inventory rules. The same prefix for two customers is an error naming both lines;
 * overlapping prefixes are allowed with longest-prefix match, counted in the summary; the first
 * column may be called prefix, address, ip or cidr.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serialize } from '../ts/serialize/serialize.js';
import { NodeRegistry, loadInventory, parsePrefixOptions } from '../ts/serialize/inventory.js';
import { REAL, useTempDir } from './helpers/tmp.js';

const RRSIG = join(REAL, 'stopddos/amp.dns.RRSIG.fragmented.pcap.flows.csv');
const CLI = new URL('../ts/cli/main.js', import.meta.url).pathname;

describe('inventory rules (issue 11)', function () {
  this.timeout(60_000);
  const tmp = useTempDir();

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => 'no error',
      (e: Error) => e.message,
    );

  it('the same prefix for two customers is an error naming both lines (also across --prefix)', async () => {
    const inv = join(tmp.dir, 'twice.csv');
    writeFileSync(inv, 'prefix,customer\n10.10.10.0/24,alpha\n# a comment\n192.0.2.0/24,beta\n10.10.10.0/24,gamma\n');
    const msg = await failure(loadInventory(inv, new NodeRegistry()));
    expect(msg)
      .to.contain(`${inv}:5: 10.10.10.0/24 is given to customer 'gamma'`)
      .and.to.contain(`at ${inv}:2 to customer 'alpha'`);
    // a role differing is a conflict too; the same line twice is not
    const roles = join(tmp.dir, 'roles.csv');
    writeFileSync(roles, 'prefix,customer,role\n10.10.10.10,alpha,web\n10.10.10.10,alpha,dns\n');
    expect(await failure(loadInventory(roles, new NodeRegistry())))
      .to.contain(`${roles}:3:`)
      .and.to.contain(`${roles}:2`);
    const dup = join(tmp.dir, 'dup.csv');
    writeFileSync(dup, 'prefix,customer\n10.10.10.0/24,alpha\n10.10.10.0/24,alpha\n');
    expect(await loadInventory(dup, new NodeRegistry())).to.equal(2);
    const reg = new NodeRegistry();
    await loadInventory(dup, reg);
    expect(() => parsePrefixOptions(['10.10.10.0/24=delta'], reg)).to.throw(
      `--prefix 10.10.10.0/24=delta: 10.10.10.0/24 is given to customer 'delta', and at ${dup}:2 to customer 'alpha'`,
    );
    const r = await execa('node', [CLI, 'serialize', '-i', RRSIG, '-n', inv, '-o', join(tmp.dir, 'x')], {
      reject: false,
    });
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain(`${inv}:5:`).and.to.contain(`${inv}:2`);
  });

  it('overlapping prefixes: the longest wins, counted in the manifest and the summary', async () => {
    const inv = join(tmp.dir, 'nested.csv');
    writeFileSync(
      inv,
      'prefix,customer\n10.0.0.0/8,isp\n10.10.10.0/24,hosting\n10.10.10.10,gameserver\n2a01:4f8::/32,v6-isp\n2a01:4f8:221:17d3::/64,v6-host\n',
    );
    const m = await serialize({ inputs: [RRSIG], nodes: inv, out: join(tmp.dir, 'nested') });
    const owner = Object.fromEntries(m.nodes.map((n) => [n.address, n.customer]));
    expect(owner['10.10.10.10']).to.equal('gameserver');
    expect(owner['2a01:4f8:221:17d3::2']).to.equal('v6-host');
    expect(owner['2a01:4f8:221:17c1:1000::8f5e']).to.equal('v6-isp');
    const stats = m.options.inventory as {
      entries: number;
      overlapping: number;
      nodesInOverlaps: number;
      overlaps: { inner: string; outer: string }[];
    };
    expect(stats.entries).to.equal(5);
    expect(stats.overlapping).to.equal(3); // the /24 in the /8, the address in the /24, the /64 in the /32
    expect(stats.nodesInOverlaps).to.equal(2); // 10.10.10.10 and 2a01:4f8:221:17d3::2
    expect(stats.overlaps.map((o) => o.inner)).to.include(`10.10.10.10 (${inv}:4)`);
    const r = await execa('node', [CLI, 'serialize', '-i', RRSIG, '-n', inv, '-o', join(tmp.dir, 'nested-cli')], {
      reject: false,
    });
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(
      'inventory: 5 entries, 3 inside another (longest prefix wins), 2 nodes covered by more than one',
    );
  });

  it('accepts address, ip or cidr as the first column header', async () => {
    for (const name of ['address', 'IP', 'cidr', 'Prefix']) {
      const inv = join(tmp.dir, `h-${name}.csv`);
      writeFileSync(inv, `${name},customer,role\n10.10.10.10,c1,web\n`);
      const reg = new NodeRegistry();
      expect(await loadInventory(inv, reg)).to.equal(1);
      expect(reg.finalOrder().nodes).to.deep.equal([{ id: 0, address: '10.10.10.10', customer: 'c1', role: 'web' }]);
    }
    const bad = join(tmp.dir, 'h-bad.csv');
    writeFileSync(bad, 'host,customer\n10.10.10.10,c1\n');
    expect(await failure(loadInventory(bad, new NodeRegistry()))).to.contain(
      `${bad}:1: inventory header must name the columns 'prefix' (or 'address', 'ip', 'cidr')`,
    );
    const badLine = join(tmp.dir, 'h-bad-line.csv');
    writeFileSync(badLine, 'address,customer\n10.10.10.300,c1\n');
    expect(await failure(loadInventory(badLine, new NodeRegistry()))).to.contain(`${badLine}:2: field 'address'`);
    expect(readFileSync(badLine, 'utf8')).to.contain('10.10.10.300');
  });
});

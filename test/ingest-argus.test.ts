import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argusFlags, argusReader, estimateForwardPackets } from '../ts/ingest/argus.js';
import { addrOf, CollectSink, expectStrictStop, FIXTURES, REAL } from './ingest-helpers.js';

const TEST2 = `${REAL}/stratosphere/test2-malicious.binetflow`;
const HIST = `${REAL}/stratosphere/hist__Normal__CTU-Normal-7-2013-13-07.binetflow`;
const EDGE = join(FIXTURES, 'argus-edge.binetflow');

function rows(path: string): string[][] {
  return readFileSync(path, 'latin1')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(','));
}

/** Argus local time `YYYY/MM/DD hh:mm:ss.ffffff` as UTC ms, the simple way. */
function argusTime(s: string): number {
  return Math.floor(Date.parse(`${s.slice(0, 23).replace(/\//g, '-').replace(' ', 'T')}Z`));
}

/** Every record of an Argus file, with none rejected. */
async function readClean(path: string): Promise<CollectSink> {
  const sink = new CollectSink();
  await argusReader.read(path, sink);
  expect(sink.rejects).to.deep.equal([]);
  return sink;
}

describe('ingest/argus: the Stratosphere binetflow files', function () {
  this.timeout(30000);

  it('test2-malicious: one record per line, forward = Src*, reverse = Tot - Src', async () => {
    const want = rows(TEST2);
    const sink = await readClean(TEST2);
    expect(sink.records.length).to.equal(want.length).and.equal(6751);
    for (let i = 0; i < want.length; i++) {
      const [start, dur, proto, sa, , dir, da, , , , , tp, tb, sb, spk] = want[i];
      const r = sink.records[i].rec;
      expect(dir.trim(), 'no swapping direction in this file').to.be.oneOf(['->', '<->', '<?>']);
      expect(addrOf(r.src4, r.src6)).to.equal(sa);
      expect(addrOf(r.dst4, r.dst6)).to.equal(da);
      expect([r.pkts, r.bytes, r.rpkts, r.rbytes]).to.deep.equal([
        Number(spk),
        Number(sb),
        Number(tp) - Number(spk),
        Number(tb) - Number(sb),
      ]);
      expect(r.startMs).to.equal(argusTime(start));
      expect(r.endMs).to.equal(r.startMs + Math.round(Number(dur) * 1000));
      expect(r.proto).to.equal({ tcp: 6, udp: 17, icmp: 1, igmp: 2 }[proto]);
    }
    // sums per destination, the simple way
    const byDst = new Map<string, number>();
    for (const f of want) byDst.set(f[6], (byDst.get(f[6]) ?? 0) + Number(f[13]));
    const got = new Map<string, number>();
    for (const { rec } of sink.records)
      got.set(addrOf(rec.dst4, rec.dst6), (got.get(addrOf(rec.dst4, rec.dst6)) ?? 0) + rec.bytes);
    expect(got).to.deep.equal(byDst);
  });

  it('maps TCP states to flags for each side, and others to -1', async () => {
    const sink = new CollectSink();
    await argusReader.read(TEST2, sink);
    const want = rows(TEST2);
    const letters = 'FSRPAUEC';
    const side = (s: string): number => [...s].reduce((acc, ch) => acc | (1 << letters.indexOf(ch)), 0);
    let tcp = 0;
    for (let i = 0; i < want.length; i++) {
      const [, , proto, , , , , , state] = want[i];
      const r = sink.records[i].rec;
      if (proto === 'tcp' && state.includes('_')) {
        const [s, d] = state.split('_');
        expect([r.flags, r.rflags], state).to.deep.equal([side(s), side(d)]);
        tcp++;
      } else {
        expect([r.flags, r.rflags], `${proto} ${state}`).to.deep.equal([-1, -1]);
      }
    }
    expect(tcp).to.be.greaterThan(3000);
    expect(argusFlags(Buffer.from('SPA'), 0, 3)).to.equal(2 | 8 | 16);
    expect(argusFlags(Buffer.from('FSRPAUEC'), 0, 8)).to.equal(255);
    expect(argusFlags(Buffer.from('SX'), 0, 2)).to.equal(-1);
  });

  it('CTU-Normal-7 (no SrcPkts, payload columns): totals kept, forward packets estimated within bounds', async () => {
    const want = rows(HIST);
    const sink = await readClean(HIST);
    expect(sink.records.length).to.equal(want.length).and.equal(9797);
    let totPkts = 0;
    let totBytes = 0;
    let srcBytes = 0;
    for (const f of want) {
      totPkts += Number(f[11]);
      totBytes += Number(f[12]);
      srcBytes += Number(f[13]);
    }
    const recs = sink.recs();
    expect(recs.reduce((a, r) => a + r.pkts + r.rpkts, 0)).to.equal(totPkts);
    expect(recs.reduce((a, r) => a + r.bytes + r.rbytes, 0)).to.equal(totBytes);
    expect(recs.reduce((a, r) => a + r.bytes, 0)).to.equal(srcBytes);
    for (const r of recs) {
      if (r.bytes > 0) expect(r.pkts).to.be.at.least(1);
      if (r.rbytes > 0) expect(r.rpkts).to.be.at.least(1);
      if (r.bytes === 0) expect(r.pkts).to.equal(0);
    }
    // ICMP: Argus's hex Sport (code << 8 | type) becomes nfdump's dp = type << 8 | code
    const icmp = want.findIndex((f) => f[2] === 'icmp' && f[4] === '0x000b');
    expect(recs[icmp]).to.include({ proto: 1, sp: 0, dp: 11 * 256 });
  });

  it('the forward-packet estimate beats the byte-proportional share where the truth is known', () => {
    let estErr = 0;
    let propErr = 0;
    let estTotal = 0;
    let trueTotal = 0;
    for (const f of rows(TEST2)) {
      const [tp, tb, sb, spk] = [Number(f[11]), Number(f[12]), Number(f[13]), Number(f[14])];
      const est = estimateForwardPackets(tp, tb, sb);
      const prop =
        sb === 0 ? 0 : sb === tb ? tp : Math.min(Math.max(Math.round((tp * sb) / tb), 1), Math.max(1, tp - 1));
      expect(est).to.be.within(0, tp);
      estErr += Math.abs(est - spk);
      propErr += Math.abs(prop - spk);
      estTotal += est;
      trueTotal += spk;
    }
    expect(estErr).to.be.lessThan(propErr / 4);
    expect(Math.abs(estTotal - trueTotal) / trueTotal).to.be.lessThan(0.1);
    expect(estimateForwardPackets(10, 1000, 0)).to.equal(0);
    expect(estimateForwardPackets(10, 1000, 1000)).to.equal(10);
    expect(estimateForwardPackets(2, 142, 63)).to.equal(1); // a DNS query and its answer
    // a download: 400 forward bytes are at most 20 packets (20 bytes each); half of 120 would be 60
    expect(estimateForwardPackets(120, 150400, 400)).to.equal(20);
    // an upload: 9,000 forward bytes need at least 6 packets of 1,514 bytes; half of 10 would be 5
    expect(estimateForwardPackets(10, 9100, 9000)).to.equal(6);
  });
});

describe('ingest/argus: direction, payload columns and bad lines (fixture)', () => {
  it('swaps ends for <- and <?, converts ICMP ports, keeps payload commas out of the columns', async () => {
    const sink = new CollectSink();
    await argusReader.read(EDGE, sink);
    const byLine = new Map(sink.records.map((k) => [k.line, k.rec]));
    expect(byLine.get(2)).to.deep.include({
      sp: 48009,
      dp: 443,
      flags: 2 | 8 | 16,
      rflags: 2 | 4 | 8 | 16,
      pkts: 13,
      bytes: 1621,
      rpkts: 13,
      rbytes: 4102,
    });
    // `<-`: the destination was the only sender: it becomes the source
    expect(byLine.get(3)).to.deep.include({
      src4: 0x0a000002,
      dst4: 0x0a000001,
      sp: 5555,
      dp: 80,
      pkts: 3,
      bytes: 180,
      rpkts: 0,
      rbytes: 0,
      flags: 18,
      rflags: 0,
    });
    expect(byLine.get(11)).to.deep.include({ sp: 60000, dp: 50000, pkts: 5, bytes: 500, rpkts: 0, rbytes: 0 });
    expect(addrOf(byLine.get(11)!.src4, '')).to.equal('10.8.0.80');
    // ICMP unreachable (type 3, code 4): Sport 0x0403
    expect(byLine.get(4)).to.deep.include({ proto: 1, sp: 0, dp: 3 * 256 + 4 });
    // payload with commas (4 extra fields) and a quoted payload: the columns after them still line up
    expect(byLine.get(5)).to.deep.include({ pkts: 3, bytes: 300, rpkts: 1, rbytes: 100 });
    expect(byLine.get(6)).to.deep.include({ pkts: 1, bytes: 100, rpkts: 3, rbytes: 300 });
    // IPv6 in canonical form, ICMPv6 neighbour solicitation (type 135)
    expect(byLine.get(8)).to.deep.include({
      src4: -1,
      src6: 'fe80::1',
      dst6: 'ff02::1:ff00:1',
      proto: 58,
      dp: 135 * 256,
    });
    expect(byLine.get(10)).to.deep.include({ flags: 8 | 16, rflags: 8 | 16, pkts: 75, rpkts: 72 });
    expect(sink.rejects.map((r) => [r.reason, r.line, r.field])).to.deep.equal([
      ['unknown_protocol', 7, 'Proto'],
      ['bad_count', 9, 'SrcBytes'],
    ]);
    expect(sink.rejects[0].detail).to.contain("'arp'");
  });

  it('strict mode stops at the first bad line, naming file:line and field', async () => {
    await expectStrictStop(argusReader, EDGE, /argus-edge\.binetflow:7: unknown_protocol in field 'Proto'/, 5);
  });
});

/**
 * Issue 11: Argus format variants. Older CTU-13-style binetflow files carry TotPkts and TotBytes but
 * no SrcBytes (and no SrcPkts): read them, splitting directions by a documented estimate, counting
 * how many records needed it. DstPkts/DstBytes stand in exactly for a missing Src or Tot column.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { argusReader, estimateForward } from '../ts/ingest/argus.js';
import type { EstimateKind, FlowRecord, RejectReason, SourceLocation } from '../ts/ingest/record.js';
import { serialize } from '../ts/serialize/serialize.js';
import { REAL, useTempDir } from './helpers/tmp.js';

const TEST2 = join(REAL, 'stratosphere/test2-malicious.binetflow');
const NORMAL7 = join(REAL, 'stratosphere/hist__Normal__CTU-Normal-7-2013-13-07.binetflow');
const CLI = new URL('../ts/cli/main.js', import.meta.url).pathname;

/** The file with some columns dropped or replaced (by header name); columns after payload columns are untouched. */
function rewrite(
  src: string,
  dst: string,
  edit: (cols: Record<string, string>, header: string[]) => [string, string][],
): void {
  const [head, ...rows] = readFileSync(src, 'utf8').trimEnd().split('\n');
  const names = head.split(',');
  const n = names.indexOf('Label') >= 0 ? names.findIndex((x) => /udata$/i.test(x)) : -1;
  const keep = n >= 0 ? n : names.length;
  const out: string[] = [];
  for (const [i, line] of [head, ...rows].entries()) {
    const f = line.split(',');
    const cols = Object.fromEntries(names.slice(0, keep).map((name, k) => [name, f[k]]));
    const edited =
      i === 0
        ? edit(Object.fromEntries(names.slice(0, keep).map((x) => [x, x])), names).map(([name]) => name)
        : edit(cols, names).map(([, v]) => v);
    out.push([...edited, ...f.slice(keep)].join(','));
  }
  writeFileSync(dst, out.join('\n') + '\n');
}

class Keep {
  recs: (FlowRecord & { line: number })[] = [];
  rejects: { reason: RejectReason; line: number }[] = [];
  est: Record<string, number> = {};
  estimatedLines = new Set<number>();
  record(rec: FlowRecord, loc: SourceLocation): void {
    this.recs.push({ ...rec, line: loc.line });
  }
  reject(reason: RejectReason, loc: SourceLocation): void {
    this.rejects.push({ reason, line: loc.line });
  }
  estimated(what: EstimateKind, loc: SourceLocation): void {
    this.est[what] = (this.est[what] ?? 0) + 1;
    this.estimatedLines.add(loc.line);
  }
}

describe('Argus format variants (issue 11)', function () {
  this.timeout(60_000);
  const tmp = useTempDir();
  let truth: Keep;
  before(async () => {
    truth = new Keep();
    await argusReader.read(TEST2, truth);
  });

  it('TotPkts and TotBytes without SrcBytes or SrcPkts: every record read, totals kept, both directions estimated and counted', async () => {
    const f = join(tmp.dir, 'tot-only.binetflow');
    rewrite(TEST2, f, (c) => Object.entries(c).filter(([k]) => k !== 'SrcBytes' && k !== 'SrcPkts'));
    expect(readFileSync(f, 'utf8').split('\n')[0]).to.equal(
      'StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,Label',
    );
    const k = new Keep();
    await argusReader.read(f, k);
    expect(k.rejects).to.deep.equal(truth.rejects);
    expect(k.recs.length).to.equal(truth.recs.length);
    expect(k.est).to.deep.equal({ forward_packets: truth.recs.length, forward_bytes: truth.recs.length });
    let errB = 0;
    let errP = 0;
    for (const [i, r] of k.recs.entries()) {
      const t = truth.recs[i];
      expect(r.pkts + r.rpkts).to.equal(t.pkts + t.rpkts);
      expect(r.bytes + r.rbytes).to.equal(t.bytes + t.rbytes);
      expect([r.startMs, r.src4, r.dst4, r.sp, r.dp, r.proto]).to.deep.equal([
        t.startMs,
        t.src4,
        t.dst4,
        t.sp,
        t.dp,
        t.proto,
      ]);
      errB += Math.abs(r.bytes - t.bytes);
      errP += Math.abs(r.pkts - t.pkts);
    }
    // the documented accuracy (ts/ingest/argus.ts, docs/ingest.md): 2.4 KB and 7.6 packets per flow
    expect(errB / k.recs.length).to.be.below(2500);
    expect(errP / k.recs.length).to.be.below(8);
  });

  it('the estimate: a record without a reply is all forward; otherwise half the packets, small forward packets', () => {
    expect(estimateForward(5, 300, true)).to.deep.equal({ pkts: 5, bytes: 300 });
    expect(estimateForward(1, 60, false)).to.deep.equal({ pkts: 1, bytes: 60 });
    expect(estimateForward(10, 10_000, false)).to.deep.equal({ pkts: 5, bytes: 300 });
    expect(estimateForward(10, 400, false)).to.deep.equal({ pkts: 5, bytes: 200 });
    expect(estimateForward(10, 10_000, false, 4)).to.deep.equal({ pkts: 4, bytes: 240 });
  });

  it('a CTU-13-style file with payload columns and no SrcBytes (CTU-Normal-7 cut down) reads like the original, counts kept', async () => {
    const f = join(tmp.dir, 'normal7-no-srcbytes.binetflow');
    rewrite(NORMAL7, f, (c) => Object.entries(c).filter(([k]) => k !== 'SrcBytes'));
    const a = new Keep();
    const b = new Keep();
    await argusReader.read(NORMAL7, a);
    await argusReader.read(f, b);
    expect(b.recs.length).to.equal(a.recs.length);
    expect(b.rejects).to.deep.equal(a.rejects);
    expect(b.est.forward_bytes).to.equal(a.recs.length);
    for (const [i, r] of b.recs.entries()) expect(r.bytes + r.rbytes).to.equal(a.recs[i].bytes + a.recs[i].rbytes);
  });

  it('DstPkts and DstBytes instead of SrcPkts and SrcBytes give the same records exactly, nothing estimated', async () => {
    const f = join(tmp.dir, 'dst.binetflow');
    rewrite(TEST2, f, (c, names) =>
      names.includes('Label') && c.TotPkts === 'TotPkts'
        ? Object.entries(c).map(([k, v]) =>
            k === 'SrcBytes' ? ['DstBytes', 'DstBytes'] : k === 'SrcPkts' ? ['DstPkts', 'DstPkts'] : [k, v],
          )
        : Object.entries(c).map(([k, v]) =>
            k === 'SrcBytes'
              ? ['DstBytes', String(Number(c.TotBytes) - Number(v))]
              : k === 'SrcPkts'
                ? ['DstPkts', String(Number(c.TotPkts) - Number(v))]
                : [k, v],
          ),
    );
    const k = new Keep();
    await argusReader.read(f, k);
    expect(k.est).to.deep.equal({});
    expect(k.recs.map(({ line: _, ...r }) => r)).to.deep.equal(truth.recs.map(({ line: _, ...r }) => r));
  });

  it('serialize counts the estimated records in the manifest and says so', async () => {
    const f = join(tmp.dir, 'tot-only.binetflow');
    const m = await serialize({ inputs: [f], prefixes: ['10.8.0.0/24=lab'], out: join(tmp.dir, 'store') });
    expect(m.records.estimated).to.deep.equal({ forward_packets: 6751, forward_bytes: 6751 });
    const r = await execa('node', [
      CLI,
      'serialize',
      '-i',
      f,
      '--prefix',
      '10.8.0.0/24=lab',
      '-o',
      join(tmp.dir, 'store2'),
    ]);
    expect(r.stdout).to.contain('estimated: forward packets of 6751 records, forward bytes of 6751 records');
  });
});

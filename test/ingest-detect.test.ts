import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { detectFormat, expandInputs, readerFor, readFlows } from '../ts/ingest/index.js';
import { nfV9Reader } from '../ts/ingest/nf-v9.js';
import { INPUT_FORMATS, InputError } from '../ts/ingest/record.js';
import { addrOf, CollectSink, FIXTURES, readText, REAL, StrictSink } from './ingest-helpers.js';

const V3 = join(FIXTURES, 'nf-v3-sample.csv');
const V3GZ = join(FIXTURES, 'nf-v3-sample.csv.gz');

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('ingest/nf-v9: NetFlow v9 CSV of the NF-* datasets (fixture)', () => {
  it('reads IN_* forward, OUT_* reverse, client/server flags, epoch-ms times; rejects the bad port', async () => {
    const sink = new CollectSink();
    await nfV9Reader.read(V3, sink);
    const text = readText(V3).trim().split('\n');
    const cols = text[0].split(',');
    const c = (n: string): number => cols.indexOf(n);
    expect(sink.rejects.map((r) => [r.reason, r.line, r.field])).to.deep.equal([['bad_port', 10, 'L4_SRC_PORT']]);
    const good = text
      .slice(1)
      .map((l, i) => [i + 2, l.split(',')] as const)
      .filter(([line]) => line !== 10);
    expect(sink.records.map((k) => k.line)).to.deep.equal(good.map(([line]) => line));
    for (let i = 0; i < good.length; i++) {
      const f = good[i][1];
      const r = sink.records[i].rec;
      expect(r).to.deep.equal({
        startMs: Number(f[c('FLOW_START_MILLISECONDS')]),
        endMs: Number(f[c('FLOW_END_MILLISECONDS')]),
        src4: r.src4,
        src6: '',
        dst4: r.dst4,
        dst6: '',
        sp: Number(f[c('L4_SRC_PORT')]),
        dp: Number(f[c('L4_DST_PORT')]),
        proto: Number(f[c('PROTOCOL')]),
        flags: Number(f[c('CLIENT_TCP_FLAGS')]),
        pkts: Number(f[c('IN_PKTS')]),
        bytes: Number(f[c('IN_BYTES')]),
        rpkts: Number(f[c('OUT_PKTS')]),
        rbytes: Number(f[c('OUT_BYTES')]),
        rflags: Number(f[c('SERVER_TCP_FLAGS')]),
      });
      expect(addrOf(r.src4, r.src6)).to.equal(f[c('IPV4_SRC_ADDR')]);
      expect(addrOf(r.dst4, r.dst6)).to.equal(f[c('IPV4_DST_ADDR')]);
    }
  });

  it('reads the gzip copy to the same records', async () => {
    const a = new CollectSink();
    const b = new CollectSink();
    await nfV9Reader.read(V3, a);
    await nfV9Reader.read(V3GZ, b);
    expect(b.records).to.deep.equal(a.records.map((k) => ({ ...k, file: V3GZ })));
    expect(b.rejects.map((r) => r.line)).to.deep.equal([10]);
  });

  it('refuses a v1/v2 file (no timestamps) with a format error that says so', async () => {
    const err = await failure(nfV9Reader.read(join(FIXTURES, 'nf-v2-sample.csv'), new CollectSink()));
    expect(err).to.be.instanceOf(InputError);
    expect(err.message).to.match(
      /nf-v2-sample\.csv:1: format in field 'FLOW_START_MILLISECONDS': .*no timestamp column/,
    );
  });

  it('uses TCP_FLAGS when there are no client/server flag columns; strict mode names the bad line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfg-v9-'));
    try {
      const p = join(dir, 'min.csv');
      writeFileSync(
        p,
        'FLOW_START_MILLISECONDS,IPV4_SRC_ADDR,L4_SRC_PORT,IPV4_DST_ADDR,L4_DST_PORT,PROTOCOL,IN_BYTES,IN_PKTS,TCP_FLAGS,FLOW_DURATION_MILLISECONDS\n1424242193040,10.0.0.1,1234,10.0.0.2,80,6,120,2,18,250\n1424242193041,10.0.0.1,1234,10.0.0.2,80,6,120,x,18,250\n',
      );
      const sink = new CollectSink();
      await nfV9Reader.read(p, sink);
      expect(sink.records[0].rec).to.deep.include({
        flags: 18,
        rflags: -1,
        rpkts: 0,
        rbytes: 0,
        endMs: 1424242193040 + 250,
      });
      expect(sink.rejects.map((r) => [r.reason, r.line, r.field])).to.deep.equal([['bad_count', 3, 'IN_PKTS']]);
      const err = await failure(nfV9Reader.read(p, new StrictSink()));
      expect(err.message).to.match(/min\.csv:3: bad_count in field 'IN_PKTS'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ingest/detect and readFlows', function () {
  this.timeout(30000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nfg-detect-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('recognises every sample format, plain and gzip', async () => {
    const cases: [string, string][] = [
      [`${REAL}/stopddos/amp.dns.RRSIG.fragmented.pcap.flows.csv`, 'nfdump-csv'],
      [`${REAL}/stratosphere/test1-malicious.nfdump`, 'nfcapd'],
      [`${REAL}/stratosphere/test2-malicious.binetflow`, 'argus'],
      [`${REAL}/stratosphere/hist__Normal__CTU-Normal-7-2013-13-07.binetflow`, 'argus'],
      [`${REAL}/cicddos2019-csv/Syn.csv`, 'cicflowmeter'],
      [V3, 'nf-v9'],
      [V3GZ, 'nf-v9'],
      [join(FIXTURES, 'nf-v2-sample.csv'), 'nf-v9'],
    ];
    for (const [path, format] of cases) expect(await detectFormat(path), path).to.equal(format);
    const gz = join(dir, 'argus.binetflow.gz');
    writeFileSync(gz, gzipSync(readFileSync(`${REAL}/stratosphere/test2-malicious.binetflow`)));
    expect(await detectFormat(gz)).to.equal('argus');
    const headerless = join(dir, 'q.csv');
    writeFileSync(
      headerless,
      readText(`${REAL}/stopddos/amp.dns.RRSIG.fragmented.pcap.flows.csv`).split('\n').slice(1).join('\n'),
    );
    expect(await detectFormat(headerless)).to.equal('nfdump-csv');
  });

  it('names the file and lists the supported formats for anything else', async () => {
    for (const path of [
      `${REAL}/cesnet/103.csv`,
      `${REAL}/stratosphere/test9-mixed-zeek-dir__conn.log`,
      `${REAL}/stopddos/amp.dns.RRSIG.fragmented.pcap`,
    ]) {
      const err = await failure(detectFormat(path));
      expect(err).to.be.instanceOf(InputError);
      expect((err as InputError).reason).to.equal('format');
      expect(err.message).to.contain(path);
      for (const f of INPUT_FORMATS) expect(err.message).to.contain(f);
    }
    writeFileSync(join(dir, 'empty.csv'), '');
    expect((await failure(detectFormat(join(dir, 'empty.csv')))).message).to.match(
      /empty\.csv: format: the file is empty/,
    );
    expect((await failure(detectFormat(join(dir, 'missing.csv')))).message).to.match(/missing\.csv: io/);
  });

  it('expands directories (sorted, recursive, no dot files, no nfcapd.current.*) and reads each file in its format', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'b'), { recursive: true });
    copyFileSync(V3, join(tree, 'b', 'flows.csv'));
    copyFileSync(`${REAL}/stratosphere/test2-malicious.binetflow`, join(tree, 'a.binetflow'));
    writeFileSync(join(tree, '.hidden'), 'x');
    writeFileSync(join(tree, 'nfcapd.current.99'), 'x');
    expect(await expandInputs([tree, V3])).to.deep.equal([join(tree, 'a.binetflow'), join(tree, 'b', 'flows.csv'), V3]);
    expect((await failure(expandInputs([join(dir, 'nope')]))).message).to.match(/nope: io/);
    const sink = new CollectSink();
    const done = await readFlows(tree, sink);
    expect(done).to.deep.equal([
      { file: join(tree, 'a.binetflow'), format: 'argus' },
      { file: join(tree, 'b', 'flows.csv'), format: 'nf-v9' },
    ]);
    expect(sink.records.length).to.equal(6751 + 11);
    // an explicit format skips detection (and here fails on the header, naming the file)
    const err = await failure(readFlows(V3, new CollectSink(), { format: 'argus' }));
    expect(err.message).to.match(/nf-v3-sample\.csv:1: format in field 'StartTime'/);
    expect(readerFor('nfcapd').format).to.equal('nfcapd');
    expect(() => readerFor('pcap' as never)).to.throw(/unknown input format 'pcap'/);
  });
});

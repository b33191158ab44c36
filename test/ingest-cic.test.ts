import { assert, expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cicflowmeterReader, parseDayFirstTimestamp } from '../ts/ingest/cicflowmeter.js';
import { addrOf, CollectSink, REAL } from './ingest-helpers.js';

const DIR = `${REAL}/cicddos2019-csv`;
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.csv'))
  .sort();

describe('ingest/cicflowmeter: the CIC-DDoS2019 excerpts', function () {
  this.timeout(30000);

  it('has the 13 sample files', () => {
    expect(FILES.length).to.equal(13);
  });

  for (const name of FILES) {
    it(`${name}: complete lines are records with their fields; a cut last line is truncated_line`, async () => {
      const path = join(DIR, name);
      const text = readFileSync(path, 'latin1');
      const lines = text.split('\n');
      const header = lines[0].split(',').map((h) => h.trim());
      const col = (n: string): number => header.indexOf(n);
      const endsWithNewline = text.endsWith('\n');
      const body = lines.slice(1).filter((l) => l !== '');
      // the simple reading: a line is complete when it has all the columns
      const complete = body.filter((l) => l.split(',').length === header.length);
      const cut = body.length - complete.length;
      expect(cut).to.be.at.most(1);
      const sink = new CollectSink();
      await cicflowmeterReader.read(path, sink);
      expect(sink.records.length).to.equal(complete.length);
      if (cut === 1) {
        expect(endsWithNewline).to.equal(false);
        expect(sink.rejects.map((r) => [r.reason, r.line])).to.deep.equal([['truncated_line', body.length + 1]]);
      } else {
        expect(sink.rejects).to.deep.equal([]);
      }
      let fwdPkts = 0;
      let fwdBytes = 0;
      let bwdPkts = 0;
      let bwdBytes = 0;
      for (let i = 0; i < complete.length; i++) {
        const f = complete[i].split(',');
        const r = sink.records[i].rec;
        expect(addrOf(r.src4, r.src6)).to.equal(f[col('Source IP')]);
        expect(addrOf(r.dst4, r.dst6)).to.equal(f[col('Destination IP')]);
        expect([r.sp, r.dp, r.proto]).to.deep.equal([
          Number(f[col('Source Port')]),
          Number(f[col('Destination Port')]),
          Number(f[col('Protocol')]),
        ]);
        expect(r.startMs).to.equal(Date.parse(`${f[col('Timestamp')].slice(0, 23).replace(' ', 'T')}Z`));
        expect(r.endMs).to.equal(r.startMs + Math.round(Number(f[col('Flow Duration')]) / 1000));
        const flagNames: [string, number][] = [
          ['FIN', 1],
          ['SYN', 2],
          ['RST', 4],
          ['PSH', 8],
          ['ACK', 16],
          ['URG', 32],
          ['ECE', 64],
          ['CWE', 128],
        ];
        expect(r.flags).to.equal(
          flagNames.reduce((acc, [n, bit]) => acc | (Number(f[col(`${n} Flag Count`)]) > 0 ? bit : 0), 0),
        );
        expect(r.rflags).to.equal(-1);
        fwdPkts += Number(f[col('Total Fwd Packets')]);
        bwdPkts += Number(f[col('Total Backward Packets')]);
        fwdBytes += Number(f[col('Total Length of Fwd Packets')]);
        bwdBytes += Number(f[col('Total Length of Bwd Packets')]);
      }
      const recs = sink.recs();
      expect([
        recs.reduce((a, r) => a + r.pkts, 0),
        recs.reduce((a, r) => a + r.bytes, 0),
        recs.reduce((a, r) => a + r.rpkts, 0),
        recs.reduce((a, r) => a + r.rbytes, 0),
      ]).to.deep.equal([fwdPkts, fwdBytes, bwdPkts, bwdBytes]);
    });
  }

  it('12 of the 13 files end in a cut line; TFTP.csv was cut right after its last label, so that line is whole', async () => {
    let truncated = 0;
    for (const name of FILES) {
      const sink = new CollectSink();
      await cicflowmeterReader.read(join(DIR, name), sink);
      truncated += sink.rejects.filter((r) => r.reason === 'truncated_line').length;
      if (name === 'TFTP.csv') {
        expect(readFileSync(join(DIR, name), 'latin1').endsWith(',TFTP')).to.equal(true);
        expect(sink.rejects).to.deep.equal([]);
      }
    }
    expect(truncated).to.equal(12);
  });

  it('reads the first DrDoS_DNS flow as printed', async () => {
    const sink = new CollectSink();
    await cicflowmeterReader.read(join(DIR, 'DrDoS_DNS.csv'), sink);
    expect(sink.records[0].line).to.equal(2);
    expect(sink.records[0].rec).to.deep.equal({
      startMs: Date.UTC(2018, 11, 1, 10, 51, 39, 813),
      endMs: Date.UTC(2018, 11, 1, 10, 51, 39, 813) + 28,
      src4: ((172 * 256 + 16) * 256 + 0) * 256 + 5,
      src6: '',
      dst4: ((192 * 256 + 168) * 256 + 50) * 256 + 1,
      dst6: '',
      sp: 634,
      dp: 60495,
      proto: 17,
      flags: 0,
      pkts: 97,
      bytes: 42680,
      rpkts: 0,
      rbytes: 0,
      rflags: -1,
    });
  });

  it("reads CICFlowMeter's own day-first timestamps and the short column names", async () => {
    expect(parseDayFirstTimestamp('01/12/2018 10:51:39 AM')).to.equal(Date.UTC(2018, 11, 1, 10, 51, 39));
    expect(parseDayFirstTimestamp('01/12/2018 12:05:00 AM')).to.equal(Date.UTC(2018, 11, 1, 0, 5, 0));
    expect(parseDayFirstTimestamp('6/7/2017 3:30:00 PM')).to.equal(Date.UTC(2017, 6, 6, 15, 30, 0));
    expect(parseDayFirstTimestamp('3/7/2017 8:55')).to.equal(Date.UTC(2017, 6, 3, 8, 55));
    assert.isNaN(parseDayFirstTimestamp('31/02/2018 10:00'));
    assert.isNaN(parseDayFirstTimestamp('13:00 01/12/2018'));
    const dir = mkdtempSync(join(tmpdir(), 'nfg-cic-'));
    try {
      const p = join(dir, 'cic4.csv');
      writeFileSync(
        p,
        'Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,TotLen Fwd Pkts,TotLen Bwd Pkts,FIN Flag Cnt,SYN Flag Cnt,RST Flag Cnt,PSH Flag Cnt,ACK Flag Cnt,URG Flag Cnt,CWE Flag Count,ECE Flag Cnt,Label\n' +
          '1,192.168.10.5,443,2001:DB8::7,51000,6,14/02/2018 08:31:01 PM,2000000,5,4,1200,300,1,1,0,2,5,0,0,0,Benign\n',
      );
      const sink = new CollectSink();
      await cicflowmeterReader.read(p, sink, { utcOffsetHours: 4 });
      expect(sink.rejects).to.deep.equal([]);
      expect(sink.records[0].rec).to.deep.include({
        startMs: Date.UTC(2018, 1, 14, 20 + 4, 31, 1),
        dst6: '2001:db8::7',
        pkts: 5,
        rpkts: 4,
        bytes: 1200,
        rbytes: 300,
        flags: 1 | 2 | 8 | 16,
      });
      expect(sink.records[0].rec.endMs - sink.records[0].rec.startMs).to.equal(2000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

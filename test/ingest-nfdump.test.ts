import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { NfdumpCsvParser } from '../ts/ingest/nfdump-csv.js';
import { nfdumpCsvReader, nfdumpFmtParserFactory } from '../ts/ingest/nfdump-reader.js';
import { NFDUMP_CSV_COLUMNS, NFDUMP_FMT, NFDUMP_FMT_COLUMNS, NFDUMP_TIMES_FMT } from '../ts/ingest/nfdump-fields.js';
import { detectFormat } from '../ts/ingest/detect.js';
import { nfcapdReader } from '../ts/ingest/nfcapd.js';
import { InputError, type FlowRecord, type RecordSink } from '../ts/ingest/record.js';
import { readTextFile } from '../ts/ingest/text-records.js';
import { addrOf, CollectSink, FIXTURES, REAL, expectStrictStop, urlCanonicalIPv6 } from './ingest-helpers.js';

const NFDUMP_CSVS = [
  `${REAL}/stopddos/amp.dns.RRSIG.fragmented.pcap.flows.csv`,
  `${REAL}/stopddos/amp.UDP.snmp.src161.pcapng.flows.csv`,
  `${REAL}/stopddos/amp.TCP.reflection.SYNACK.pcap.flows.csv`,
  `${REAL}/stopddos/pkt.TCP.synflood.spoofed.pcap.flows.csv`,
  `${REAL}/cicddos2019-pcap/CIC-DDoS-2019-SynFlood.pcap.flows.csv`,
];
const NFCAPD = `${REAL}/stratosphere/test1-malicious.nfdump`;
const PCAPS = [
  `${REAL}/stopddos/amp.dns.RRSIG.fragmented.pcap`,
  `${REAL}/stopddos/amp.UDP.snmp.src161.pcapng`,
  `${REAL}/stopddos/amp.TCP.reflection.SYNACK.pcap`,
  `${REAL}/stopddos/pkt.TCP.synflood.spoofed.pcap`,
  `${REAL}/cicddos2019-pcap/CIC-DDoS-2019-SynFlood.pcap`,
];

/** Reads a saved nfdump NFDUMP_FMT output as the nfcapd reader reads nfdump's stdout. */
const fmtTextReader = {
  read: (path: string, sink: RecordSink): Promise<void> =>
    readTextFile(path, sink, undefined, nfdumpFmtParserFactory(sink, path, undefined)),
};

/**
 * Damages record lines at random (a byte replaced, deleted or inserted, mostly in the first 150
 * bytes) and feeds each to two parsers: one through line() (fast path, checked path on failure),
 * the other straight to the checked path. Both must give the same records and rejects.
 */
function expectFastAndCheckedAgree(seeds: string[], columns: readonly string[], fmt: boolean): void {
  const alphabet = ',.:-0123456789abcdefABCDEFSUP ';
  let s = 12345;
  const rand = (n: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  type Checked = { checked(buf: Buffer, start: number, end: number, terminated: boolean): void };
  const viaLine = new CollectSink();
  const viaChecked = new CollectSink();
  const p1 = new NfdumpCsvParser(columns, viaLine, 'x', 1, undefined, !fmt, fmt);
  const p2 = new NfdumpCsvParser(columns, viaChecked, 'x', 1, undefined, !fmt, fmt);
  // serialize's first pass (timesOnly): the times of every record the full read accepts
  const viaTimes = new CollectSink();
  const p3 = new NfdumpCsvParser(columns, viaTimes, 'x', 1, { timesOnly: true }, !fmt, fmt);
  // and with a UTC offset (applied to the CSV's naive times, not to fmt output): the same shift
  const shifted = new CollectSink();
  const p4 = new NfdumpCsvParser(columns, shifted, 'x', 1, { timesOnly: true, utcOffsetHours: 3 }, !fmt, fmt);
  for (let t = 0; t < 20000; t++) {
    let l = seeds[rand(seeds.length)];
    for (let k = rand(3); k >= 0; k--) {
      const at = rand(Math.min(l.length, 150));
      const op = rand(3);
      const ch = alphabet[rand(alphabet.length)];
      l =
        op === 0
          ? l.slice(0, at) + ch + l.slice(at + 1)
          : op === 1
            ? l.slice(0, at) + l.slice(at + 1)
            : l.slice(0, at) + ch + l.slice(at);
    }
    const buf = Buffer.from(`pad${l}pad`, 'latin1');
    p1.line(buf, 3, buf.length - 3, t, true);
    (p2 as unknown as Checked).checked(buf, 3, buf.length - 3, true);
    p3.line(buf, 3, buf.length - 3, t, true);
    p4.line(buf, 3, buf.length - 3, t, true);
  }
  const shift = fmt ? 0 : 3 * 3_600_000;
  expect(shifted.records.map((k) => [k.line, k.rec.startMs - shift, k.rec.endMs - shift])).to.deep.equal(
    viaTimes.records.map((k) => [k.line, k.rec.startMs, k.rec.endMs]),
  );
  const accepted = viaLine.records.length;
  // timesOnly: the same times for every line the full read accepts; it rejects only lines the full
  // read rejects, with the same words; a line it takes that the full read rejects has good times
  const timesAt = new Map(viaTimes.records.map((k) => [k.line, [k.rec.startMs, k.rec.endMs]]));
  for (const k of viaLine.records)
    expect(timesAt.get(k.line), `line ${k.line}`).to.deep.equal([k.rec.startMs, k.rec.endMs]);
  const fullRejects = new Map(viaLine.rejects.map((r) => [r.line, r]));
  for (const r of viaTimes.rejects) expect(fullRejects.get(r.line), `line ${r.line}`).to.deep.equal(r);
  let takenAndRejected = 0;
  for (const line of timesAt.keys()) {
    const r = fullRejects.get(line);
    if (r === undefined) continue;
    takenAndRejected++;
    expect(r.reason === 'bad_timestamp' && (r.field === 'ts' || r.field === 'te'), `line ${line}`).to.equal(false);
  }
  expect(viaTimes.rejects.length).to.be.greaterThan(100);
  expect(takenAndRejected).to.be.greaterThan(100);
  expect(viaLine.recs()).to.deep.equal(viaChecked.recs());
  expect(viaLine.rejects.map((r) => [r.reason, r.field, r.detail])).to.deep.equal(
    viaChecked.rejects.map((r) => [r.reason, r.field, r.detail]),
  );
  expect(accepted).to.be.greaterThan(1000); // both kinds of outcome were exercised
  expect(viaLine.rejects.length).to.be.greaterThan(1000);
}

/** What a record should be, from one CSV line split the simple way. */
function expectedFromLine(cols: string[], line: string, offsetMs = 0): Partial<FlowRecord> {
  const f = line.split(',');
  const v = (name: string): string => f[cols.indexOf(name)];
  const addr = (s: string): [number, string] =>
    s.includes(':') ? [-1, urlCanonicalIPv6(s)] : [s.split('.').reduce((a, x) => a * 256 + Number(x), 0), ''];
  const proto: Record<string, number> = { TCP: 6, UDP: 17, ICMP: 1, ICMP6: 58, GRE: 47, ESP: 50 };
  const flags = [...v('flg')].reduce((acc, ch, i) => acc + (ch === '.' ? 0 : 2 ** (7 - i)), 0);
  const [src4, src6] = addr(v('sa'));
  const [dst4, dst6] = addr(v('da'));
  return {
    startMs: Date.parse(`${v('ts').replace(' ', 'T')}Z`) + offsetMs,
    endMs: Date.parse(`${v('te').replace(' ', 'T')}Z`) + offsetMs,
    src4,
    src6,
    dst4,
    dst6,
    sp: Number(v('sp')),
    dp: Number(v('dp')),
    proto: proto[v('pr').trim()] ?? Number(v('pr')),
    flags,
    pkts: Number(v('ipkt')),
    bytes: Number(v('ibyt')),
    rpkts: Number(v('opkt')),
    rbytes: Number(v('obyt')),
    rflags: -1,
  };
}

function dataLines(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
}

/** The first record of the DNS amplification capture (45.179.193.111:53 -> 10.10.10.10:22), as nfdump prints it. */
const FIRST_DNS_RECORD = {
  startMs: Date.UTC(2021, 8, 21, 15, 45, 24),
  endMs: Date.UTC(2021, 8, 21, 15, 45, 24),
  src4: ((45 * 256 + 179) * 256 + 193) * 256 + 111,
  src6: '',
  dst4: 0x0a0a0a0a,
  dst6: '',
  sp: 53,
  dp: 22,
  proto: 17,
  flags: 0,
  pkts: 1,
  bytes: 3950,
  rpkts: 0,
  rbytes: 0,
  rflags: -1,
};

describe('ingest/nfdump-csv: the real nfdump 1.7 exports', function () {
  this.timeout(60000);

  for (const path of NFDUMP_CSVS) {
    it(`${basename(path)}: every line gives the record its fields say, in order`, async () => {
      const text = readFileSync(path, 'latin1');
      const cols = text.slice(0, text.indexOf('\n')).split(',');
      const lines = dataLines(text);
      const sink = new CollectSink();
      await nfdumpCsvReader.read(path, sink);
      expect(sink.rejects).to.deep.equal([]);
      expect(sink.records.length).to.equal(lines.length);
      for (let i = 0; i < lines.length; i++) {
        expect(sink.records[i].rec, `line ${i + 2}`).to.deep.equal(expectedFromLine(cols, lines[i]));
        expect(sink.records[i].line).to.equal(i + 2);
      }
      // and the packets and bytes per destination add up
      const want = new Map<string, number[]>();
      for (const l of lines) {
        const f = l.split(',');
        const da = f[4].includes(':') ? urlCanonicalIPv6(f[4]) : f[4];
        const s = want.get(da) ?? [0, 0];
        want.set(da, [s[0] + Number(f[11]), s[1] + Number(f[12])]);
      }
      const got = new Map<string, number[]>();
      for (const { rec } of sink.records) {
        const k = addrOf(rec.dst4, rec.dst6);
        const s = got.get(k) ?? [0, 0];
        got.set(k, [s[0] + rec.pkts, s[1] + rec.bytes]);
      }
      expect(got).to.deep.equal(want);
    });
  }

  it('reads the first record of the DNS amplification capture as printed', async () => {
    const sink = new CollectSink();
    await nfdumpCsvReader.read(NFDUMP_CSVS[0], sink);
    expect(sink.records[0]).to.deep.equal({
      file: NFDUMP_CSVS[0],
      line: 2,
      rec: FIRST_DNS_RECORD,
    });
    // its IPv6 flows come out canonical
    const v6 = sink.records.filter((k) => k.rec.src6 !== '');
    expect(v6.length).to.be.greaterThan(0);
    expect(v6.some((k) => k.rec.src6 === '2001:67c:1360:8001::30' && k.rec.flags === 16 + 8 + 2 + 1)).to.equal(true);
  });

  it('reads a gzip copy to the same records, and shifts naive times by utcOffsetHours', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfg-nfd-'));
    try {
      const gz = join(dir, 'dns.csv.gz');
      writeFileSync(gz, gzipSync(readFileSync(NFDUMP_CSVS[0])));
      const plain = new CollectSink();
      const zipped = new CollectSink();
      await nfdumpCsvReader.read(NFDUMP_CSVS[0], plain);
      await nfdumpCsvReader.read(gz, zipped);
      expect(zipped.recs()).to.deep.equal(plain.recs());
      expect(zipped.records.map((k) => k.line)).to.deep.equal(plain.records.map((k) => k.line));
      const shifted = new CollectSink();
      await nfdumpCsvReader.read(NFDUMP_CSVS[0], shifted, { utcOffsetHours: -3 });
      expect(shifted.records[5].rec.startMs).to.equal(plain.records[5].rec.startMs - 3 * 3600000);
      expect(shifted.records[5].rec.endMs).to.equal(plain.records[5].rec.endMs - 3 * 3600000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads header-less output (nfdump -q) with nfdump 1.7 columns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfg-nfd-'));
    try {
      const text = readFileSync(NFDUMP_CSVS[0], 'latin1');
      const noHeader = join(dir, 'q.csv');
      writeFileSync(noHeader, text.slice(text.indexOf('\n') + 1), 'latin1');
      const a = new CollectSink();
      const b = new CollectSink();
      await nfdumpCsvReader.read(NFDUMP_CSVS[0], a);
      await nfdumpCsvReader.read(noHeader, b);
      expect(b.recs()).to.deep.equal(a.recs());
      expect(b.records[0].line).to.equal(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ingest/nfdump-csv: bad input', () => {
  const mixed = join(FIXTURES, 'nfdump-mixed.csv');

  it('rejects each bad line with its reason, line number and field; stops at the Summary block', async () => {
    const sink = new CollectSink();
    await nfdumpCsvReader.read(mixed, sink);
    expect(sink.rejects.map((r) => [r.reason, r.line, r.field])).to.deep.equal([
      ['bad_address', 4, 'sa'],
      ['bad_count', 5, 'ibyt'],
      ['unknown_protocol', 6, 'pr'],
      ['malformed_line', 7, ''],
      ['bad_timestamp', 8, 'ts'],
      ['bad_port', 9, 'sp'],
    ]);
    expect(sink.rejects[0].detail).to.contain("'10.0.0.256'");
    expect(sink.rejects[3].detail).to.contain('expected 48 fields');
    expect(sink.records.map((k) => k.line)).to.deep.equal([2, 3, 11, 12, 13]);
    const [v4, v6, synack, icmp, other] = sink.recs();
    expect(v4.bytes).to.equal(3950);
    expect([v6.src6, v6.dst6]).to.deep.equal(['2001:67c:1360:8001::30', '2a01:4f8:221:17d3::2']);
    expect([v6.startMs, v6.endMs]).to.deep.equal([
      Date.UTC(2021, 8, 21, 15, 45, 37, 250),
      Date.UTC(2021, 8, 21, 15, 45, 37, 309),
    ]);
    expect(v6.flags).to.equal(0x10 | 0x08 | 0x02 | 0x01); // ...AP.SF
    expect([synack.flags, synack.rpkts, synack.rbytes]).to.deep.equal([18, 2, 120]); // ...A..S.
    expect([icmp.proto, icmp.sp, icmp.dp]).to.deep.equal([1, 0, 771]);
    expect(other.proto).to.equal(128); // nfdump prints unnamed protocols as padded numbers
  });

  it('counts a last line cut short as truncated_line', async () => {
    const sink = new CollectSink();
    await nfdumpCsvReader.read(join(FIXTURES, 'nfdump-truncated.csv'), sink);
    expect(sink.records.length).to.equal(1);
    expect(sink.rejects.map((r) => [r.reason, r.line])).to.deep.equal([['truncated_line', 3]]);
  });

  it('in strict mode stops at the first bad record with an InputError naming file:line and field', async () => {
    await expectStrictStop(nfdumpCsvReader, mixed, /nfdump-mixed\.csv:4: bad_address in field 'sa'/, 2);
  });

  it('refuses a header without the needed columns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfg-nfd-'));
    try {
      writeFileSync(join(dir, 'h.csv'), 'ts,te,td,da,sp,dp,pr,ipkt,ibyt\n');
      let err: unknown;
      try {
        await nfdumpCsvReader.read(join(dir, 'h.csv'), new CollectSink());
      } catch (e) {
        err = e;
      }
      expect((err as Error).message).to.match(/h\.csv:1: format in field 'sa'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the fast path and the checked path agree on thousands of damaged lines', () => {
    // every record line of the mixed fixture, damaged at random
    const text = readFileSync(mixed, 'latin1');
    const seeds = text
      .split('\n')
      .slice(1, 13)
      .filter((l) => l !== '');
    expectFastAndCheckedAgree(seeds, NFDUMP_CSV_COLUMNS, false);
  });
});

describe("ingest/nfdump-csv: the short output the nfcapd reader asks for (nfdump -N -6 -o 'fmt:...')", () => {
  const fixture = join(FIXTURES, 'nfdump-fmt.txt');

  it('asks for the 12 fields the features need', () => {
    expect(NFDUMP_FMT).to.equal('fmt:%ts,%te,%sa,%da,%sp,%dp,%pr,%flg,%ipkt,%ibyt,%opkt,%obyt');
  });

  it('reads padded fields, drops the milliseconds, ICMP type.code as the CSV number; rejects with line and field; stops at Summary:', async () => {
    const sink = new CollectSink();
    await fmtTextReader.read(fixture, sink);
    expect(sink.rejects.map((r) => [r.reason, r.line, r.field])).to.deep.equal([
      ['bad_address', 4, 'sa'],
      ['bad_port', 6, 'dp'],
      ['bad_count', 10, 'ibyt'], // what nfdump prints without -N
      ['malformed_line', 11, ''],
    ]);
    expect(sink.rejects[0].detail).to.contain("'10.0.0.256'");
    expect(sink.rejects[1].detail).to.contain("'3.300' is not a port number (0-65535) or an ICMP type.code");
    expect(sink.rejects[3].detail).to.contain('expected 12 fields');
    expect(sink.records.map((k) => k.line)).to.deep.equal([2, 3, 5, 7, 8, 9]);
    const [udp, v6, icmp, tcp, aggregated, reverse] = sink.recs();
    expect(udp).to.deep.equal(FIRST_DNS_RECORD); // .430 dropped, as nfdump's CSV prints it
    expect([v6.src4, v6.src6, v6.dst6, v6.dp]).to.deep.equal([
      -1,
      '2a01:4f8:0:1::add:9898',
      '2a01:4f8:221:17d3::2',
      22966,
    ]);
    expect([icmp.proto, icmp.sp, icmp.dp]).to.deep.equal([1, 0, 3 * 256 + 10]);
    expect([tcp.proto, tcp.flags, tcp.sp]).to.deep.equal([6, 18, 80]);
    expect([aggregated.pkts, aggregated.bytes, aggregated.endMs]).to.deep.equal([
      37841,
      1513640,
      Date.UTC(2021, 3, 28, 10, 30, 44),
    ]);
    expect([reverse.pkts, reverse.bytes, reverse.rpkts, reverse.rbytes]).to.deep.equal([0, 0, 1, 54]);
  });

  it('in strict mode stops at the first bad record with an InputError naming file:line and field', async () => {
    await expectStrictStop(fmtTextReader, fixture, /nfdump-fmt\.txt:4: bad_address in field 'sa'/, 2);
  });

  it('the fast path and the checked path agree on thousands of damaged lines', () => {
    const lines = readFileSync(fixture, 'latin1').split('\n');
    expectFastAndCheckedAgree(
      [2, 3, 5, 7, 8, 9].map((n) => lines[n - 1]),
      NFDUMP_FMT_COLUMNS,
      true,
    );
  });
});

describe('ingest/nfcapd: binary files through nfdump', function () {
  this.timeout(60000);
  let dir: string;
  before(async function () {
    try {
      await execa('nfdump', ['-V']);
    } catch {
      this.skip(); // nfdump not installed here: npm run setup installs it
    }
    dir = mkdtempSync(join(tmpdir(), 'nfg-nfcapd-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same records as an nfdump CSV export of the file, with the totals nfdump reports', async () => {
    const exported = await execa('nfdump', ['-r', NFCAPD, '-o', 'csv'], { env: { TZ: 'UTC' } });
    const csv = join(dir, 'export.csv');
    writeFileSync(csv, exported.stdout);
    const fromCsv = new CollectSink();
    const fromBinary = new CollectSink();
    await nfdumpCsvReader.read(csv, fromCsv);
    await nfcapdReader.read(NFCAPD, fromBinary);
    expect(fromBinary.rejects).to.deep.equal([]);
    expect(fromBinary.records.length).to.equal(4593);
    expect(fromBinary.recs()).to.deep.equal(fromCsv.recs());
    expect(fromBinary.records.map((k) => k.line)).to.deep.equal(fromCsv.records.map((k) => k.line));
    expect(fromBinary.records[0].file).to.equal(NFCAPD);
    // nfdump's own summary: flows, bytes, packets
    const lines = exported.stdout.trim().split('\n');
    const [flows, bytes, packets] = lines[lines.length - 1].split(',').map(Number);
    const recs = fromBinary.recs();
    expect([recs.length, recs.reduce((a, r) => a + r.bytes, 0), recs.reduce((a, r) => a + r.pkts, 0)]).to.deep.equal([
      flows,
      bytes,
      packets,
    ]);
    expect(recs[0]).to.include({
      startMs: Date.UTC(2018, 0, 12, 15, 37, 30),
      sp: 52324,
      dp: 902,
      proto: 6,
      flags: 2,
      pkts: 1,
      bytes: 60,
    });
  });

  it('reads the same records (and lines) through the short fmt output as through the full CSV, from every capture nfpcapd converts', async function () {
    const probe = await execa('nfpcapd', ['-h'], { reject: false });
    if ((probe as { code?: string }).code === 'ENOENT') this.skip(); // nfpcapd comes with Debian's nfdump
    const files = [NFCAPD];
    for (const pcap of PCAPS) {
      const out = join(dir, basename(pcap));
      mkdirSync(out);
      await execa('nfpcapd', ['-r', pcap, '-w', out]);
      files.push(...readdirSync(out).map((f) => join(out, f)));
    }
    // aggregated records: counts past 1,000,000, which nfdump's fmt output scales (1.5 M) without -N
    const aggregated = join(dir, 'aggregated');
    await execa('nfdump', ['-r', files[4], '-A', 'proto,dstip', '-w', aggregated]);
    files.push(aggregated);
    let tunnelled = 0;
    let compared = 0;
    for (const f of files) {
      const viaFmt = new CollectSink();
      const viaCsv = new CollectSink();
      await nfcapdReader.read(f, viaFmt);
      process.env.NETFLOWGEN_NFDUMP_OUTPUT = 'csv';
      try {
        await nfcapdReader.read(f, viaCsv);
      } finally {
        delete process.env.NETFLOWGEN_NFDUMP_OUTPUT;
      }
      expect(viaFmt.rejects, f).to.deep.equal([]);
      expect(viaCsv.rejects, f).to.deep.equal([]);
      expect(
        viaFmt.records.map((k) => k.line),
        f,
      ).to.deep.equal(viaCsv.records.map((k) => k.line));
      const a = viaFmt.recs();
      const b = viaCsv.recs();
      for (let i = 0; i < b.length; i++) {
        // A GRE-tunnelled record (nfpcapd's tunnel element): nfdump 1.7.1 prints it as protocol 47 with
        // no packets either way, with 0.0.0.0 addresses in its CSV and the tunnel's in fmt output.
        if (b[i].proto === 47 && b[i].src4 === 0 && b[i].dst4 === 0 && a[i].src4 !== 0) {
          expect({ ...a[i], src4: 0, dst4: 0 }).to.deep.equal(b[i]);
          tunnelled++;
        } else expect(a[i], `${f} record ${i}`).to.deep.equal(b[i]);
      }
      compared += b.length;
      // serialize's first pass (timesOnly: nfdump prints %ts,%te alone): the same times on the same lines
      const viaTimes = new CollectSink();
      const argsLog = join(dir, 'nfdump-args.log');
      const wrapper = join(dir, 'nfdump-wrapper.sh');
      writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argsLog}'\nexec nfdump "$@"\n`, { mode: 0o755 });
      rmSync(argsLog, { force: true });
      process.env.NETFLOWGEN_NFDUMP = wrapper;
      try {
        await nfcapdReader.read(f, viaTimes, { timesOnly: true });
      } finally {
        delete process.env.NETFLOWGEN_NFDUMP;
      }
      expect(readFileSync(argsLog, 'utf8').trim(), 'what nfdump was asked for').to.equal(
        `-N -6 -r ${f} -o ${NFDUMP_TIMES_FMT}`,
      );
      expect(viaTimes.rejects, f).to.deep.equal([]);
      expect(
        viaTimes.records.map((k) => [k.line, k.rec.startMs, k.rec.endMs]),
        `${f}, times only`,
      ).to.deep.equal(viaFmt.records.map((k) => [k.line, k.rec.startMs, k.rec.endMs]));
    }
    expect(compared).to.be.greaterThan(60000);
    expect(tunnelled).to.equal(1);
    const big = new CollectSink();
    await nfcapdReader.read(aggregated, big);
    expect(Math.max(...big.recs().map((r) => r.bytes))).to.be.greaterThan(1_000_000);
  });

  it('detects and reads a layout-2 file as nfdump 1.7 writes it (LZO compressed)', async () => {
    const v2 = join(dir, 'nfcapd.v2');
    await execa('nfdump', ['-r', NFCAPD, '-w', v2, '-z']);
    const head = readFileSync(v2).subarray(0, 4);
    expect([...head]).to.deep.equal([0x0c, 0xa5, 2, 0]);
    expect(await detectFormat(v2)).to.equal('nfcapd');
    const a = new CollectSink();
    const b = new CollectSink();
    await nfcapdReader.read(NFCAPD, a);
    await nfcapdReader.read(v2, b);
    expect(b.recs()).to.deep.equal(a.recs());
  });

  it('prints UTC whatever the time zone of the calling process', async () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const sink = new CollectSink();
      await nfcapdReader.read(NFCAPD, sink, { utcOffsetHours: 5 });
      expect(sink.records[0].rec.startMs).to.equal(Date.UTC(2018, 0, 12, 15, 37, 30));
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('reads a directory: its nfcapd files in name order, skipping nfcapd.current.* and other files', async () => {
    const d = join(dir, 'tree');
    mkdirSync(join(d, '2018', '01'), { recursive: true });
    copyFileSync(NFCAPD, join(d, '2018', '01', 'nfcapd.201801121538'));
    copyFileSync(NFCAPD, join(d, '2018', '01', 'nfcapd.201801121537'));
    copyFileSync(NFCAPD, join(d, '2018', '01', 'nfcapd.current.4711'));
    writeFileSync(join(d, 'README.txt'), 'not flows\n');
    const sink = new CollectSink();
    await nfcapdReader.read(d, sink);
    expect(sink.records.length).to.equal(2 * 4593);
    expect(sink.records[0].file).to.equal(join(d, '2018', '01', 'nfcapd.201801121537'));
    expect(sink.records[4593].file).to.equal(join(d, '2018', '01', 'nfcapd.201801121538'));
  });

  it('turns a file nfdump cannot read into an InputError naming it', async () => {
    const notNfcapd = join(dir, 'not-nfcapd');
    writeFileSync(notNfcapd, 'GNU GENERAL PUBLIC LICENSE\n');
    let err: unknown;
    try {
      await nfcapdReader.read(notNfcapd, new CollectSink());
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InputError);
    expect((err as Error).message).to.match(/not-nfcapd: format: nfdump could not read this nfcapd file: \S/);
  });

  it('says how to install nfdump when the binary is missing', async () => {
    const saved = process.env.NETFLOWGEN_NFDUMP;
    process.env.NETFLOWGEN_NFDUMP = join(dir, 'no-such-nfdump');
    let err: unknown;
    try {
      await nfcapdReader.read(NFCAPD, new CollectSink());
    } catch (e) {
      err = e;
    } finally {
      if (saved === undefined) delete process.env.NETFLOWGEN_NFDUMP;
      else process.env.NETFLOWGEN_NFDUMP = saved;
    }
    expect(err).to.be.instanceOf(InputError);
    expect((err as Error).message).to.match(/nfdump is not installed.*npm run setup.*apt-get install nfdump/);
  });

  it('stops (and ends nfdump) when the sink throws or the read is aborted', async () => {
    class Boom extends CollectSink {
      override record(): void {
        throw new Error('sink full');
      }
    }
    let err: unknown;
    try {
      await nfcapdReader.read(NFCAPD, new Boom());
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.equal('sink full');
    const ac = new AbortController();
    ac.abort();
    err = undefined;
    try {
      await nfcapdReader.read(NFCAPD, new CollectSink(), { signal: ac.signal });
    } catch (e) {
      err = e;
    }
    expect((err as Error).name).to.equal('AbortError');
  });
});

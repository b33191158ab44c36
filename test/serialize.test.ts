import { expect } from 'chai';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FEATURES, featureIndex } from '../ts/catalogue/features.js';
import { serialize, sha256File } from '../ts/serialize/serialize.js';
import { SeriesStore } from '../ts/serialize/store.js';
import { InputError } from '../ts/ingest/record.js';
import { REAL, useTempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const RRSIG = join(REAL, 'stopddos/amp.dns.RRSIG.fragmented.pcap.flows.csv');
const NFCAPD = join(REAL, 'stratosphere/test1-malicious.nfdump');
const PY = new URL('../../.venv/bin/python', import.meta.url).pathname;

/** Independent count: plain string splitting of the nfdump CSV, per minute, for flows to `victim`. */
function independentIncoming(path: string, victim: string) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const head = lines[0].split(',');
  const col = (n: string) => head.indexOf(n);
  const per = new Map<
    string,
    {
      pkt: number;
      byt: number;
      flow: number;
      udpByt: number;
      portwkFlow: number;
      portregFlow: number;
      port53Byt: number;
    }
  >();
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f.length !== head.length || f[col('da')] !== victim) continue;
    const minute = f[col('ts')].slice(0, 16).replace(' ', 'T') + ':00Z';
    const r = per.get(minute) ?? { pkt: 0, byt: 0, flow: 0, udpByt: 0, portwkFlow: 0, portregFlow: 0, port53Byt: 0 };
    const pkt = Number(f[col('ipkt')]);
    const byt = Number(f[col('ibyt')]);
    const dp = Number(f[col('dp')]);
    r.pkt += pkt;
    r.byt += byt;
    r.flow += 1;
    if (f[col('pr')] === 'UDP') r.udpByt += byt;
    if (['TCP', 'UDP'].includes(f[col('pr')])) {
      if (dp >= 1 && dp <= 1023 && ![53, 80, 123, 443].includes(dp)) r.portwkFlow += 1;
      if (dp >= 1024 && dp <= 49151) r.portregFlow += 1;
      if (dp === 53) r.port53Byt += byt;
    }
    per.set(minute, r);
  }
  return per;
}

/** Protocols and port classes each sum to the volume; flag flows never exceed outgoing TCP flows. */
function checkGroupSums(store: SeriesStore): number {
  const F = store.nFeatures;
  const idx = (n: string) => store.manifest.features.indexOf(n);
  let checked = 0;
  for (let node = 0; node < store.nNodes; node++) {
    const x = store.readNode(node);
    for (let t = 0; t < store.nMinutes; t++) {
      const o = t * F;
      for (const dir of ['in', 'out'])
        for (const m of ['pkt', 'byt', 'flow']) {
          const vol = x[o + idx(`${dir}.${m}`)];
          const proto = ['icmp', 'tcp', 'udp', 'other'].reduce((s, p) => s + x[o + idx(`${dir}.${p}.${m}`)], 0);
          const ports = FEATURES.filter((f) => f.group === 'port' && f.direction === dir && f.measure === m).reduce(
            (s, f) => s + x[o + idx(f.name)],
            0,
          );
          expect(proto).to.be.closeTo(vol, 1e-6 * Math.max(1, vol));
          expect(ports).to.be.closeTo(vol, 1e-6 * Math.max(1, vol));
        }
      const flags = FEATURES.filter((f) => f.group === 'flag').reduce((s, f) => s + x[o + idx(f.name)], 0);
      expect(flags).to.be.at.most(x[o + idx('out.tcp.flow')]);
      checked++;
    }
  }
  return checked;
}

describe('serialize (real samples)', function () {
  this.timeout(120_000);
  const tmp = useTempDir();

  it('per-minute totals of the DNS RRSIG victim equal an independent count', async () => {
    const out = join(tmp.dir, 'rrsig');
    const m = await serialize({ inputs: [RRSIG], prefixes: ['10.10.10.0/24=victim'], out });
    const store = SeriesStore.open(out);
    const node = store.nodeIndex('10.10.10.10');
    expect(node).to.be.at.least(0);
    const expected = independentIncoming(RRSIG, '10.10.10.10');
    expect(expected.size).to.be.greaterThan(0);
    const F = store.nFeatures;
    const x = store.readNode(node);
    let minutesWithData = 0;
    for (let t = 0; t < store.nMinutes; t++) {
      const iso = new Date((store.startMinute + t) * 60_000).toISOString().replace('.000Z', 'Z');
      const e = expected.get(iso) ?? {
        pkt: 0,
        byt: 0,
        flow: 0,
        udpByt: 0,
        portwkFlow: 0,
        portregFlow: 0,
        port53Byt: 0,
      };
      if (e.flow > 0) minutesWithData++;
      expect(x[t * F + featureIndex('in.pkt')], `in.pkt at ${iso}`).to.equal(e.pkt);
      expect(x[t * F + featureIndex('in.byt')], `in.byt at ${iso}`).to.equal(e.byt);
      expect(x[t * F + featureIndex('in.flow')], `in.flow at ${iso}`).to.equal(e.flow);
      expect(x[t * F + featureIndex('in.udp.byt')], `in.udp.byt at ${iso}`).to.equal(e.udpByt);
      expect(x[t * F + featureIndex('in.portwk.flow')]).to.equal(e.portwkFlow);
      expect(x[t * F + featureIndex('in.portreg.flow')]).to.equal(e.portregFlow);
      expect(x[t * F + featureIndex('in.port53.byt')]).to.equal(e.port53Byt);
    }
    expect(minutesWithData).to.equal(expected.size);
    expect(m.records.read).to.equal(
      m.records.used +
        m.records.unmatched +
        m.records.outsideRange +
        Object.values(m.records.rejected).reduce((a, b) => a + b, 0),
    );
    expect(m.inputs[0].format).to.equal('nfdump-csv');
    expect(m.inputs[0].sha256).to.equal(createHash('sha256').update(readFileSync(RRSIG)).digest('hex'));
  });

  it("sha256File hashes a file's own bytes across many reads (gzip as it is on disk), an empty one, and stops when aborted", async () => {
    const body = Buffer.alloc(3.5 * 1024 * 1024 + 17);
    for (let i = 0; i < body.length; i++) body[i] = (i * 2654435761) >>> 24;
    const files = { big: body, gz: gzipSync(body), empty: Buffer.alloc(0) };
    for (const [name, bytes] of Object.entries(files)) {
      const path = join(tmp.dir, `hash-${name}`);
      writeFileSync(path, bytes);
      expect(await sha256File(path), name).to.equal(createHash('sha256').update(bytes).digest('hex'));
    }
    const stop = new AbortController();
    stop.abort();
    let err: unknown = null;
    await sha256File(join(tmp.dir, 'hash-big'), stop.signal).catch((e: unknown) => (err = e));
    expect((err as Error | null)?.name).to.equal('AbortError');
  });

  it('group sums agree on every real capture (protocols and port classes sum to volume, flags <= outgoing TCP flows)', async () => {
    const files = readdirSync(join(REAL, 'stopddos'))
      .filter((f) => f.endsWith('.flows.csv'))
      .map((f) => join(REAL, 'stopddos', f));
    const out = join(tmp.dir, 'stopddos');
    // Each capture is from a different day: one store each (inputs in one store must be in time order).
    let checked = 0;
    for (const [i, f] of files.entries()) {
      await serialize({ inputs: [f], prefixes: ['10.10.10.0/24=victim'], out: `${out}-${i}` });
      checked += checkGroupSums(SeriesStore.open(`${out}-${i}`));
    }
    const nf = join(tmp.dir, 'nfcapd-sums');
    await serialize({ inputs: [NFCAPD], prefixes: ['147.32.0.0/16=ctu'], out: nf });
    checked += checkGroupSums(SeriesStore.open(nf));
    expect(checked).to.be.greaterThan(10);
  });

  it('the nfcapd binary sample gives the same series through nfdump as its CSV export', async () => {
    const csv = join(tmp.dir, 'test1.csv');
    const r = await execa('nfdump', ['-r', NFCAPD, '-o', 'csv']);
    // nfdump appends a summary block after a blank line; keep the flow table.
    writeFileSync(csv, r.stdout.split('\n\n')[0].split('\nSummary')[0] + '\n');
    const a = join(tmp.dir, 'via-nfcapd');
    const b = join(tmp.dir, 'via-csv');
    const ma = await serialize({ inputs: [NFCAPD], prefixes: ['147.32.0.0/16=ctu'], out: a });
    const mb = await serialize({ inputs: [csv], prefixes: ['147.32.0.0/16=ctu'], out: b });
    expect(ma.inputs[0].format).to.equal('nfcapd');
    expect(mb.inputs[0].format).to.equal('nfdump-csv');
    expect(ma.records.read).to.equal(4593);
    expect(ma.nodes).to.deep.equal(mb.nodes);
    expect(ma.startMinute).to.equal(mb.startMinute);
    expect(ma.minutes).to.equal(mb.minutes);
    expect(readFileSync(join(a, 'series.f32')).equals(readFileSync(join(b, 'series.f32')))).to.equal(true);
  });

  it('numpy alone reads the store as documented', async function () {
    if (!existsSync(PY)) this.skip();
    const out = join(tmp.dir, 'rrsig');
    const store = SeriesStore.open(out);
    const script = [
      'import json, sys, numpy as np',
      "m = json.load(open(sys.argv[1] + '/manifest.json'))",
      "x = np.memmap(sys.argv[1] + '/series.f32', dtype='<f4', mode='r', shape=(len(m['nodes']), m['minutes'], len(m['features'])))",
      "print(json.dumps({'sum_in_byt': float(x[:, :, m['features'].index('in.byt')].astype('f8').sum()), 'shape': list(x.shape)}))",
    ].join('\n');
    const r = await execa(PY, ['-c', script, out]);
    const got = JSON.parse(r.stdout) as { sum_in_byt: number; shape: number[] };
    expect(got.shape).to.deep.equal([store.nNodes, store.nMinutes, store.nFeatures]);
    let total = 0;
    for (let n = 0; n < store.nNodes; n++) for (const v of store.readFeature(n, featureIndex('in.byt'))) total += v;
    expect(got.sum_in_byt).to.equal(total);
  });
});

const HEADER = 'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt';
const line = (
  ts: string,
  sa: string,
  da: string,
  sp: number,
  dp: number,
  pr: string,
  flg: string,
  ipkt: number | string,
  ibyt: number | string,
) => `${ts},${ts},0.000,${sa},${da},${sp},${dp},${pr},${flg},0,0,${ipkt},${ibyt},0,0`;

describe('serialize (hand-made inputs)', function () {
  this.timeout(60_000);
  const tmp = useTempDir();

  it('counts both directions, classes ports and flags, scales by sampling, keeps zero-traffic inventory nodes', async () => {
    const f = join(tmp.dir, 'hand.csv');
    writeFileSync(
      f,
      [
        HEADER,
        line('2024-01-01 00:00:10', '198.51.100.7', '192.0.2.1', 40000, 443, 'TCP', '...AP...', 10, 1000), // in to .1, port443
        line('2024-01-01 00:00:20', '192.0.2.1', '198.51.100.7', 443, 40000, 'TCP', '...A..S.', 2, 120), // out of .1, flag18, port443
        line('2024-01-01 00:01:05', '203.0.113.9', '192.0.2.1', 123, 51000, 'UDP', '........', 1, 468), // in, portpriv
        line('2024-01-01 00:01:06', '203.0.113.9', '2001:db8::1', 0, 0, 'ICMP6', '........', 3, 300), // IPv6 in, icmp, port0
        line('2024-01-01 00:02:00', '192.0.2.1', '192.0.2.2', 5000, 53, 'UDP', '........', 4, 400), // out of .1 and in to .2
      ].join('\n') + '\n',
    );
    const inv = join(tmp.dir, 'nodes.csv');
    writeFileSync(inv, 'prefix,customer,role\n192.0.2.0/24,c1,web\n2001:db8::/32,c2\n192.0.2.200,c1,idle\n');
    const out = join(tmp.dir, 'hand');
    const m = await serialize({ inputs: [f], nodes: inv, out, sampling: 10 });
    expect(m.nodes.map((n) => n.address)).to.deep.equal(['192.0.2.1', '192.0.2.2', '192.0.2.200', '2001:db8::1']);
    expect(m.nodes[2]).to.deep.include({ customer: 'c1', role: 'idle' });
    expect(m.minutes).to.equal(3);
    expect(m.firstMinute).to.equal('2024-01-01T00:00:00Z');
    expect(m.records).to.deep.include({ read: 5, used: 5, unmatched: 0 });
    const s = SeriesStore.open(out);
    const v = (node: number, t: number, name: string) => s.readNode(node)[t * s.nFeatures + featureIndex(name)];
    expect(v(0, 0, 'in.byt')).to.equal(10_000);
    expect(v(0, 0, 'in.port443.pkt')).to.equal(100);
    expect(v(0, 0, 'out.byt')).to.equal(1200);
    expect(v(0, 0, 'out.flag18.flow')).to.equal(10);
    expect(v(0, 0, 'out.port443.flow')).to.equal(10);
    expect(v(0, 1, 'in.portpriv.byt')).to.equal(4680);
    expect(v(3, 1, 'in.icmp.pkt')).to.equal(30);
    expect(v(3, 1, 'in.port0.pkt')).to.equal(30);
    expect(v(0, 2, 'out.udp.flow')).to.equal(10);
    expect(v(0, 2, 'out.portreg.flow')).to.equal(10); // outgoing: classed by source port 5000
    expect(v(1, 2, 'in.port53.byt')).to.equal(4000); // incoming: classed by destination port 53
    expect(Array.from(s.readNode(2)).every((x) => x === 0)).to.equal(true);
  });

  it("--spread shares a long flow's packets and bytes over its minutes and counts the flow once", async () => {
    const f = join(tmp.dir, 'long.csv');
    // 00:00:30 .. 00:02:30 (120 s): 30 s in minute 0, 60 s in minute 1, 30 s in minute 2.
    writeFileSync(
      f,
      [
        HEADER,
        '2024-01-01 00:00:30,2024-01-01 00:02:30,120.000,198.51.100.7,192.0.2.1,1000,80,TCP,...A....,0,0,40,4000,0,0',
      ].join('\n') + '\n',
    );
    const spread = await serialize({
      inputs: [f],
      prefixes: ['192.0.2.0/24=c'],
      out: join(tmp.dir, 'spread'),
      spreadLongFlows: true,
    });
    const plain = await serialize({ inputs: [f], prefixes: ['192.0.2.0/24=c'], out: join(tmp.dir, 'nospread') });
    expect(spread.minutes).to.equal(3);
    expect(plain.minutes).to.equal(1);
    const s = SeriesStore.open(join(tmp.dir, 'spread'));
    const col = (name: string) => Array.from(s.readFeature(0, featureIndex(name)));
    expect(col('in.byt')).to.deep.equal([1000, 2000, 1000]);
    expect(col('in.pkt')).to.deep.equal([10, 20, 10]);
    expect(col('in.flow')).to.deep.equal([1, 0, 0]);
    expect(col('in.port80.byt')).to.deep.equal([1000, 2000, 1000]);
  });

  it('counts every kind of bad record by reason with file and line, and keeps going', async () => {
    const f = join(tmp.dir, 'bad.csv');
    const rows = [
      HEADER,
      line('2024-01-01 03:00:00', '198.51.100.7', '192.0.2.1', 1, 80, 'TCP', '...A....', 1, 100), // 2 ok
      'this,is,not,a,flow', // 3 malformed
      line('2024-01-01 03:00:01', '198.51.100.999', '192.0.2.1', 1, 80, 'TCP', '...A....', 1, 100), // 4 bad address
      line('2024-01-01 03:00:02', '198.51.100.7', '192.0.2.1', 1, 80, 'TCP', '...A....', -5, 100), // 5 negative count
      line('2024-01-01 03:00:03', '198.51.100.7', '192.0.2.1', 1, 80, 'TCP', '...A....', 'many', 100), // 6 non-numeric
      line('2024-01-01 03:00:04', '198.51.100.7', '192.0.2.1', 1, 80, 'XYZZY', '...A....', 1, 100), // 7 unknown protocol
      line('2024-01-01 05:00:00', '198.51.100.7', '192.0.2.1', 1, 80, 'TCP', '...A....', 1, 100), // 8 ok (2 h later)
      line('2024-01-01 03:30:00', '198.51.100.7', '192.0.2.1', 1, 80, 'TCP', '...A....', 1, 100), // 9 out of order (90 min back)
      '2024-01-01 05:00:09,2024-01-01 05:0', // 10 truncated last line (no newline)
    ];
    writeFileSync(f, rows.join('\n'));
    const out = join(tmp.dir, 'bad');
    // every reject counted (not over the default 1% share); late records are rejected once the buffer is full (0 here)
    const m = await serialize({ inputs: [f], prefixes: ['192.0.2.0/24=c'], out, maxRejectShare: 1, maxLateRecords: 0 });
    const r = m.records;
    expect(r.read).to.equal(9);
    expect(r.used).to.equal(2);
    expect(r.rejected).to.deep.include({
      malformed_line: 1,
      bad_address: 1,
      bad_count: 2,
      unknown_protocol: 1,
      out_of_order: 1,
      truncated_line: 1,
    });
    const byReason = Object.fromEntries(r.examples.map((e) => [e.reason + ':' + e.line, e]));
    expect(byReason['malformed_line:3'].file).to.equal(f);
    expect(byReason['bad_address:4'].field).to.equal('sa');
    expect(byReason['bad_count:5'].field).to.equal('ipkt');
    expect(byReason['bad_count:6'].field).to.equal('ipkt');
    expect(byReason['unknown_protocol:7'].field).to.equal('pr');
    expect(byReason['out_of_order:9'].field).to.equal('ts');
    expect(byReason).to.have.property('truncated_line:10');
  });

  it('--strict makes the first bad record fatal, naming file, line and field, and leaves no store', async () => {
    const f = join(tmp.dir, 'strict.csv');
    writeFileSync(
      f,
      [
        HEADER,
        line('2024-01-01 03:00:00', '198.51.100.7', '192.0.2.1', 1, 80, 'TCP', '...A....', 1, 100),
        line('2024-01-01 03:00:01', '198.51.100.7', '192.0.2.1', 1, 80, 'TCP', '...A....', -1, 100),
      ].join('\n') + '\n',
    );
    const out = join(tmp.dir, 'strict');
    let err: unknown;
    try {
      await serialize({ inputs: [f], prefixes: ['192.0.2.0/24=c'], out, strict: true });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InputError);
    expect((err as Error).message)
      .to.contain(`${f}:3`)
      .and.to.contain("'ipkt'");
    expect(existsSync(out)).to.equal(false);
    expect(readdirSync(tmp.dir).filter((n) => n.includes('strict') && n.includes('partial'))).to.deep.equal([]);
  });

  it('gzip input gives the same store; records a little out of order are accepted', async () => {
    const rows = [HEADER];
    for (let i = 0; i < 200; i++) {
      const minute = (i * 7) % 50; // jumps back and forth within 50 minutes
      rows.push(
        line(
          `2024-01-01 10:${String(minute).padStart(2, '0')}:00`,
          '198.51.100.7',
          `192.0.2.${1 + (i % 5)}`,
          1000 + i,
          80,
          'TCP',
          '...A....',
          1 + i,
          100 + i,
        ),
      );
    }
    const plain = join(tmp.dir, 'order.csv');
    writeFileSync(plain, rows.join('\n') + '\n');
    writeFileSync(plain + '.gz', gzipSync(readFileSync(plain)));
    const a = await serialize({
      inputs: [plain],
      prefixes: ['192.0.2.0/24=c'],
      out: join(tmp.dir, 'o1'),
      chunkMinutes: 7,
    });
    const b = await serialize({
      inputs: [plain + '.gz'],
      prefixes: ['192.0.2.0/24=c'],
      out: join(tmp.dir, 'o2'),
      chunkMinutes: 60,
    });
    expect(a.records.used).to.equal(200);
    expect(b.records.used).to.equal(200);
    expect(readFileSync(join(tmp.dir, 'o1/series.f32')).equals(readFileSync(join(tmp.dir, 'o2/series.f32')))).to.equal(
      true,
    );
  });

  it('an interrupted run leaves no store that looks complete', async () => {
    // 20,000 records over 40 minutes, and one malformed line among them: serialize reports it (onReject)
    // in the middle of its pass over the records, and that event, not a timer, aborts the run.
    const rows = [HEADER];
    for (let i = 0; i < 20_000; i++) {
      const t = `2024-01-01 00:${String(Math.floor(i / 500)).padStart(2, '0')}:00`;
      rows.push(line(t, '198.51.100.7', `192.0.2.${1 + (i % 50)}`, 1000, 80, 'TCP', '...A....', 1, 100));
      if (i === 5_000) rows.push('this,is,not,a,flow');
    }
    const f = join(tmp.dir, 'big.csv');
    writeFileSync(f, rows.join('\n') + '\n');
    const out = join(tmp.dir, 'interrupted');
    const partial = () => readdirSync(tmp.dir).some((n) => n.startsWith('.interrupted.partial-'));
    const ac = new AbortController();
    let partialAtAbort = false;
    const onReject = () => {
      partialAtAbort = partial();
      ac.abort();
    };
    const err = await serialize({ inputs: [f], prefixes: ['192.0.2.0/24=c'], out, signal: ac.signal, onReject }).catch(
      (e: Error) => e,
    );
    expect(partialAtAbort, 'aborted while the store was being written').to.equal(true);
    expect((err as Error).name).to.equal('AbortError');
    expect(existsSync(out)).to.equal(false);
    expect(readdirSync(tmp.dir).filter((n) => n.includes('interrupted'))).to.deep.equal([]);

    // A killed process (no chance to clean up) leaves only a hidden .partial folder, never the store.
    // Its second input is a named pipe that nobody writes: serialize reads the first file into the store,
    // then waits on the pipe for ever, so the kill lands mid-way whenever it comes (no race with a timer).
    const pipe = join(tmp.dir, 'nfcapd.202401020000'); // the name orders it after big.csv (no read needed)
    await execa('mkfifo', [pipe]);
    const cli = new URL('../ts/cli/main.js', import.meta.url).pathname;
    const args = ['serialize', '-i', f, pipe, '--format', 'nfdump-csv', '--prefix', '192.0.2.0/24=c', '-o', out];
    const range = ['--from', '2024-01-01T00:00:00Z', '--to', '2024-01-02T01:00:00Z', '--quiet'];
    const child = execa('node', [cli, ...args, ...range], { reject: false });
    await waitFor('the .partial folder', partial, child);
    child.kill('SIGKILL');
    await child;
    expect(partial(), 'the run was killed mid-way').to.equal(true);
    expect(existsSync(out)).to.equal(false);
    expect(existsSync(join(out, 'manifest.json'))).to.equal(false);
  });
});

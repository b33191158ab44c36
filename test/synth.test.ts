/**
 * `netflowgen synth` end to end on a small configuration (16 nodes, 2 days: about a second):
 * determinism, the files and their contracts, alerts against ground truth, each role's traffic mix
 * and the attacks' traffic as the project's own ingestion (serialize) sees them.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { synth, type SynthManifest, type SynthOptions } from '../ts/synth/synth.js';
import { synthReport, formatReport } from '../ts/synth/report.js';
import { validateWithSchema } from '../ts/common/schema.js';
import { serialize } from '../ts/serialize/serialize.js';
import { SeriesStore, isoToMinute } from '../ts/serialize/store.js';
import { synthCommand, synthReportCommand, parseAttackMix } from '../ts/cli/synth.js';
import type { Alert, GroundTruth } from '../ts/synth/alerts.js';
import { inProcess } from './helpers/cli.js';
import { REAL as HELPER_REAL, tempDir } from './helpers/tmp.js';

const REAL = existsSync(HELPER_REAL) ? HELPER_REAL : new URL('../../../shared/data/real', import.meta.url).pathname;
const RRSIG = join(REAL, 'stopddos/amp.dns.RRSIG.fragmented.pcap.flows.csv');

/** Small enough for seconds, large enough for every role, kind of alert and split. */
const SMALL: SynthOptions = {
  out: '',
  preset: 'tiny',
  seed: 11,
  customers: 4,
  nodes: 16,
  minutes: 2 * 1440,
  attacks: 12,
  falsePositiveShare: 0.2,
  underReportedShare: 0.2,
  missedShare: 0.15,
  progress: false,
};

function hashDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (name.isDirectory()) walk(join(d, name.name), `${rel}${name.name}/`);
      else
        out[rel + name.name] = createHash('sha256')
          .update(readFileSync(join(d, name.name)))
          .digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

const jsonLines = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);

interface Flow {
  minute: number;
  sa: string;
  da: string;
  sp: number;
  dp: number;
  pr: string;
  flg: string;
  pkts: number;
  bytes: number;
}

/** Independent reading of the flow files: plain string splitting. */
function readFlows(dir: string): { flows: Flow[]; headers: string[] } {
  const flows: Flow[] = [];
  const headers: string[] = [];
  for (const f of readdirSync(join(dir, 'flows')).sort()) {
    let buf = readFileSync(join(dir, 'flows', f));
    if (f.endsWith('.gz')) buf = gunzipSync(buf);
    const lines = buf.toString('utf8').split('\n');
    headers.push(lines[0]);
    for (const line of lines.slice(1)) {
      if (!line) continue;
      const c = line.split(',');
      if (c.length !== 48) throw new Error(`${f}: ${c.length} fields, not 48: ${line}`);
      flows.push({
        minute: isoToMinute(c[0]),
        sa: c[3],
        da: c[4],
        sp: Number(c[5]),
        dp: Number(c[6]),
        pr: c[7],
        flg: c[8],
        pkts: Number(c[11]),
        bytes: Number(c[12]),
      });
    }
  }
  return { flows, headers };
}

describe('synth: end to end', function () {
  this.timeout(120_000);
  const tmp = tempDir('netflowgen-synth-');
  const out = join(tmp.dir, 'a');
  let manifest: SynthManifest;
  let alerts: Alert[];
  let truth: GroundTruth[];
  let nodes: { address: string; customer: string; role: string }[];
  let flows: Flow[];
  let store: SeriesStore;

  before(async () => {
    manifest = await synth({ ...SMALL, out });
    alerts = jsonLines<Alert>(join(out, 'alerts.jsonl'));
    truth = jsonLines<GroundTruth>(join(out, 'ground-truth.jsonl'));
    nodes = readFileSync(join(out, 'nodes.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => {
        const [address, customer, role] = l.split(',');
        return { address, customer, role };
      });
    flows = readFlows(out).flows;
    await serialize({
      inputs: [join(out, 'flows')],
      nodes: join(out, 'nodes.csv'),
      out: join(tmp.dir, 'store'),
      strict: true,
    });
    store = SeriesStore.open(join(tmp.dir, 'store'));
  });
  after(() => tmp.cleanup());

  it('writes the layout, with counts that match the files', () => {
    expect(readdirSync(out).sort()).to.deep.equal([
      '.netflowgen-files.json',
      'alerts.jsonl',
      'flows',
      'ground-truth.jsonl',
      'nodes.csv',
      'synth.json',
    ]);
    expect(manifest.files.map((f) => f.path)).to.deep.equal([
      'flows/flows-20210906-0000.csv',
      'flows/flows-20210907-0000.csv',
    ]);
    expect(manifest.records.total).to.equal(flows.length);
    expect(manifest.files.reduce((s, f) => s + f.records, 0)).to.equal(flows.length);
    expect(manifest.records.attack).to.be.greaterThan(0);
    expect(JSON.parse(readFileSync(join(out, 'synth.json'), 'utf8')).config.seed).to.equal(11);
    expect(readFileSync(join(out, 'nodes.csv'), 'utf8').split('\n')[0]).to.equal('prefix,customer,role');
    expect(nodes).to.have.length(16);
    expect(new Set(nodes.map((n) => n.role)).size).to.equal(8);
    expect(nodes.some((n) => n.address.includes(':')) || flows.some((f) => f.sa.includes(':'))).to.equal(true);
  });

  it('same seed, same bytes; another seed, other flows', async () => {
    const again = join(tmp.dir, 'b');
    await synth({ ...SMALL, out: again });
    expect(hashDir(again)).to.deep.equal(hashDir(out));
    const other = join(tmp.dir, 'c');
    await synth({ ...SMALL, out: other, seed: 12 });
    expect(hashDir(other)['flows/flows-20210906-0000.csv']).to.not.equal(hashDir(out)['flows/flows-20210906-0000.csv']);
  });

  it('writes flows in time order, inside the span, that the ingestion accepts without a reject', () => {
    let last = -Infinity;
    let backwards = 0;
    for (const f of flows) {
      if (f.minute < last) backwards++;
      last = Math.max(last, f.minute);
    }
    expect(backwards).to.equal(0);
    const start = isoToMinute('2021-09-06T00:00:00Z');
    expect(flows[0].minute).to.equal(start);
    expect(last).to.equal(start + 2 * 1440 - 1);
    const rejected = Object.values(store.manifest.records.rejected).reduce((a, b) => a + b, 0);
    expect(rejected).to.equal(0);
    expect(store.manifest.records.used).to.equal(flows.length);
    expect(store.nNodes).to.equal(16);
    expect(store.nMinutes).to.equal(2 * 1440);
  });

  it('validates the alert feed and the ground truth against their schemas', () => {
    alerts.forEach((a, i) => validateWithSchema('alerts.schema.json', a, `alerts.jsonl:${i + 1}`));
    truth.forEach((g, i) => validateWithSchema('ground-truth.schema.json', g, `ground-truth.jsonl:${i + 1}`));
    expect(() => validateWithSchema('alerts.schema.json', { ...alerts[0], attack_type: 'HTTP' }, 'x')).to.throw(
      /attack_type/,
    );
    expect(() => validateWithSchema('ground-truth.schema.json', { ...truth[0], minutes: [] }, 'x')).to.throw(/minutes/);
  });

  it('has alerts of every kind: true, false positive, under-reported; and missed attacks', () => {
    expect(truth).to.have.length(manifest.attacks.total);
    expect(manifest.attacks.total).to.equal(12);
    expect(alerts.filter((a) => a.false_positive).length).to.be.greaterThan(0);
    expect(manifest.attacks.list.filter((a) => a.alert === 'under').length).to.be.greaterThan(0);
    expect(truth.filter((g) => g.alert_id === null).length).to.be.greaterThan(0);
    expect(new Set(alerts.map((a) => a.alert_id)).size).to.equal(alerts.length);
    // Every alert id of the ground truth is in the feed, and every non-false-positive alert has its attack.
    const ids = new Set(alerts.map((a) => a.alert_id));
    for (const g of truth) if (g.alert_id) expect(ids.has(g.alert_id)).to.equal(true);
    expect(truth.filter((g) => g.alert_id).length).to.equal(alerts.filter((a) => !a.false_positive).length);
  });

  it("every alert's victim is a node of the inventory, with its customer", () => {
    const byAddress = new Map(nodes.map((n) => [n.address, n] as const));
    for (const a of alerts) {
      expect(byAddress.has(a.victim), a.victim).to.equal(true);
      expect(byAddress.get(a.victim)!.customer).to.equal(a.customer);
    }
    for (const g of truth) expect(byAddress.has(g.victim)).to.equal(true);
  });

  it('the true onset precedes the alert start; the alert ends after the attack', () => {
    const byId = new Map(alerts.map((a) => [a.alert_id, a] as const));
    for (const g of truth.filter((t) => t.alert_id)) {
      const a = byId.get(g.alert_id!)!;
      expect(isoToMinute(g.onset)).to.be.lessThan(isoToMinute(a.start));
      expect(isoToMinute(a.start) - isoToMinute(g.onset)).to.be.at.most(14);
      expect(isoToMinute(a.end)).to.be.at.least(isoToMinute(g.end));
      expect(a.victim).to.equal(g.victim);
      expect(a.attack_type).to.equal(g.attack_type);
    }
  });

  it('attack minutes carry the attack traffic, as the ingestion sees it (serialize -> store)', () => {
    const F = store.manifest.features;
    const col = (n: string) => F.indexOf(n);
    for (const g of truth) {
      const node = store.nodeIndex(g.victim);
      expect(node).to.be.at.least(0);
      const x = store.readNode(node);
      const at = (m: number, f: string) => x[(m - store.startMinute) * F.length + col(f)];
      const proto = g.attack_type === 'SYN' ? 'tcp' : 'udp';
      expect(g.minutes.map((m) => m.minute)).to.deep.equal(
        Array.from({ length: isoToMinute(g.end) - isoToMinute(g.onset) + 1 }, (_, i) =>
          new Date((isoToMinute(g.onset) + i) * 60_000).toISOString().replace('.000Z', 'Z'),
        ),
      );
      for (const m of g.minutes) {
        const t = isoToMinute(m.minute);
        expect(m.bytes).to.be.greaterThan(0);
        // The attack's own packets, bytes and flows are inside the victim's series of that minute.
        expect(at(t, `in.${proto}.byt`)).to.be.at.least(m.bytes * (1 - 1e-6));
        expect(at(t, `in.${proto}.pkt`)).to.be.at.least(m.packets * (1 - 1e-6));
        expect(at(t, 'in.flow')).to.be.at.least(m.flows);
        if (g.attack_type === 'NTP') expect(at(t, 'in.udp.byt')).to.be.at.least(m.bytes * (1 - 1e-6));
      }
      // At its height the attack dwarfs the victim's normal traffic of the hours before.
      const onset = isoToMinute(g.onset);
      const before: number[] = [];
      for (let t = Math.max(store.startMinute, onset - 360); t < onset; t++) before.push(at(t, 'in.byt'));
      const normal = before.reduce((a, b) => a + b, 0) / Math.max(1, before.length);
      const peak = Math.max(...g.minutes.map((m) => m.bytes));
      expect(peak).to.be.greaterThan(3 * normal);
      // Ramp-up: the first minute is far below the peak.
      expect(g.minutes[0].bytes).to.be.lessThan(peak / 2);
    }
  });

  it('true alerts pass the SPEC §6 volume check, under-reported ones fail it', () => {
    const col = (n: string) => store.manifest.features.indexOf(n);
    const under = new Set(manifest.attacks.list.filter((a) => a.alert === 'under').map((a) => a.alert_id));
    let checked = 0;
    for (const a of alerts) {
      const node = store.nodeIndex(a.victim);
      const from = isoToMinute(a.start) - store.startMinute;
      const to = Math.min(store.nMinutes - 1, isoToMinute(a.end) - store.startMinute);
      const x = store.readNode(node, from, to + 1);
      let pkts = 0;
      let bytes = 0;
      for (let t = 0; t <= to - from; t++) {
        pkts += x[t * store.nFeatures + col('in.pkt')];
        bytes += x[t * store.nFeatures + col('in.byt')];
      }
      const passes = a.reported_packets >= 0.95 * pkts && a.reported_bytes >= 0.95 * bytes;
      expect(passes, a.alert_id).to.equal(!under.has(a.alert_id));
      checked++;
    }
    expect(checked).to.equal(alerts.length);
  });

  it("each role's ports and protocols show in its series", () => {
    const F = store.manifest.features;
    const sums = new Map<string, Float64Array>();
    // Sum every feature over the role's nodes, outside attack minutes.
    const attackMinutes = new Map<string, Set<number>>();
    for (const g of truth) {
      const s = attackMinutes.get(g.victim) ?? new Set<number>();
      for (const m of g.minutes) s.add(isoToMinute(m.minute) - store.startMinute);
      attackMinutes.set(g.victim, s);
    }
    for (const n of nodes) {
      const x = store.readNode(store.nodeIndex(n.address));
      const acc = sums.get(n.role) ?? new Float64Array(F.length);
      const skip = attackMinutes.get(n.address) ?? new Set<number>();
      for (let t = 0; t < store.nMinutes; t++) {
        if (skip.has(t)) continue;
        for (let f = 0; f < F.length; f++) acc[f] += x[t * F.length + f];
      }
      sums.set(n.role, acc);
    }
    const share = (role: string, part: string[], whole: string) =>
      part.reduce((s, p) => s + sums.get(role)![F.indexOf(p)], 0) / sums.get(role)![F.indexOf(whole)];
    // DNS resolver: queries on UDP/53 in, answers from port 53 out.
    expect(share('dns', ['in.port53.flow'], 'in.flow')).to.be.greaterThan(0.5);
    expect(share('dns', ['in.udp.flow'], 'in.flow')).to.be.greaterThan(0.6);
    expect(share('dns', ['out.port53.flow'], 'out.flow')).to.be.greaterThan(0.5);
    // Web server: TCP 443 and 80 in; large answers out of 443/80.
    expect(share('web', ['in.port443.flow', 'in.port80.flow'], 'in.flow')).to.be.greaterThan(0.55);
    expect(share('web', ['in.tcp.byt'], 'in.byt')).to.be.greaterThan(0.6);
    expect(share('web', ['out.port443.byt', 'out.port80.byt'], 'out.byt')).to.be.greaterThan(0.6);
    expect(sums.get('web')![F.indexOf('out.byt')]).to.be.greaterThan(2 * sums.get('web')![F.indexOf('in.byt')]);
    // NTP server: UDP/123 both ways, small packets.
    expect(share('ntp', ['in.port123.flow'], 'in.flow')).to.be.greaterThan(0.6);
    expect(sums.get('ntp')![F.indexOf('in.port123.byt')] / sums.get('ntp')![F.indexOf('in.port123.pkt')]).to.be.closeTo(
      76,
      8,
    );
    // Mail: well-known TCP ports (25, 465, 587, 993, 143) in.
    expect(share('mail', ['in.portwk.flow'], 'in.flow')).to.be.greaterThan(0.4);
    // Home gateway: answers come in on its ephemeral ports, it sends from them; DNS goes out to port 53.
    expect(share('residential', ['in.portreg.byt', 'in.portpriv.byt'], 'in.byt')).to.be.greaterThan(0.8);
    expect(share('residential', ['out.portreg.flow', 'out.portpriv.flow'], 'out.flow')).to.be.greaterThan(0.7);
    expect(sums.get('residential')![F.indexOf('in.byt')]).to.be.greaterThan(
      3 * sums.get('residential')![F.indexOf('out.byt')],
    );
    // Game server: UDP (or TCP 25565) sessions on a registered port.
    expect(share('game', ['in.portreg.flow'], 'in.flow')).to.be.greaterThan(0.4);
    // VPN gateway: ESP is 'other' protocol traffic, NAT-T is UDP/4500.
    expect(share('vpn', ['in.other.byt', 'in.portreg.byt'], 'in.byt')).to.be.greaterThan(0.5);
    // IoT: small, mostly outgoing-initiated TLS (8883/443) and DNS.
    expect(sums.get('iot')![F.indexOf('in.byt')] / Math.max(1, sums.get('iot')![F.indexOf('in.flow')])).to.be.lessThan(
      2000,
    );
    // Outgoing TCP flag classes exist (SYN-ACK answers to scans, ACK/PSH pieces of long flows).
    expect(
      share(
        'web',
        ['out.flag24.flow', 'out.flag16.flow', 'out.flag25.flow', 'out.flag18.flow', 'out.flag17.flow'],
        'out.tcp.flow',
      ),
    ).to.be.greaterThan(0.3);
  });

  it('an existing output needs --force; an interrupted run leaves nothing', async () => {
    let err: Error | null = null;
    await synth({ ...SMALL, out }).catch((e: Error) => (err = e));
    expect(err).to.match(/exists \(a previous synth output\); pass --force/);
    const ac = new AbortController();
    ac.abort();
    const gone = join(tmp.dir, 'interrupted');
    err = null;
    await synth({ ...SMALL, out: gone, signal: ac.signal }).catch((e: Error) => (err = e));
    expect(err).to.match(/interrupted/);
    expect(existsSync(gone)).to.equal(false);
    expect(readdirSync(tmp.dir).filter((n) => n.includes('partial'))).to.deep.equal([]);
  });

  it('gzip writes the same lines; sampling thins packets and keeps real units in the ground truth', async () => {
    const gz = join(tmp.dir, 'gz');
    const m = await synth({ ...SMALL, out: gz, gzip: true, fileMinutes: 720 });
    expect(m.files.map((f) => f.path)).to.have.length(4);
    const body = (dir: string) =>
      readdirSync(join(dir, 'flows'))
        .sort()
        .map((f) => {
          const b = readFileSync(join(dir, 'flows', f));
          return (f.endsWith('.gz') ? gunzipSync(b) : b).toString('utf8').replace(/^[^\n]*\n/, ''); // without the header
        })
        .join('');
    expect(body(gz)).to.equal(body(out));

    const sampled = join(tmp.dir, 'sampled');
    const ms = await synth({ ...SMALL, out: sampled, sampling: 10 });
    expect(ms.records.total).to.be.lessThan(manifest.records.total);
    const st = jsonLines<GroundTruth>(join(sampled, 'ground-truth.jsonl'));
    for (const g of st) for (const mm of g.minutes) expect(mm.packets % 10).to.equal(0);
    await serialize({
      inputs: [join(sampled, 'flows')],
      nodes: join(sampled, 'nodes.csv'),
      out: join(tmp.dir, 'sampled-store'),
      sampling: 10,
      strict: true,
    });
    const s2 = SeriesStore.open(join(tmp.dir, 'sampled-store'));
    const byt = s2.manifest.features.indexOf('in.byt');
    for (const g of st) {
      const x = s2.readFeature(s2.nodeIndex(g.victim), byt);
      for (const mm of g.minutes)
        expect(x[isoToMinute(mm.minute) - s2.startMinute]).to.be.at.least(mm.bytes * (1 - 1e-6));
    }
  });

  it('overlays a real capture: its reflectors and ports, re-timed and re-addressed onto the victim', async () => {
    const ov = join(tmp.dir, 'overlay');
    const m = await synth({ ...SMALL, out: ov, overlay: [RRSIG], attacks: 4 });
    expect(m.attacks.list.every((a) => a.type === 'DNS' && a.template === RRSIG)).to.equal(true);
    const cap = readFileSync(RRSIG, 'utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(','));
    const reflectors = new Set(cap.filter((c) => c[4] === '10.10.10.10').map((c) => c[3]));
    const victims = new Set(m.attacks.list.map((a) => a.victim));
    const got = readFlows(ov).flows.filter((f) => victims.has(f.da) && reflectors.has(f.sa));
    expect(got.length).to.be.greaterThan(50);
    expect(got.filter((f) => f.sp === 53 && f.pr === 'UDP').length / got.length).to.be.greaterThan(0.8);
    expect(got.some((f) => f.da === '10.10.10.10')).to.equal(false);
    for (const v of victims) expect(v.includes(':')).to.equal(false); // an IPv4 capture goes to IPv4 victims
  });

  it('synth-report prints per-role figures beside CESNET', async () => {
    const r = await synthReport(out, { compareCesnet: join(REAL, 'cesnet') });
    expect(r.roles.map((g) => g.role).sort()).to.deep.equal([
      'dns',
      'game',
      'iot',
      'mail',
      'ntp',
      'residential',
      'vpn',
      'web',
    ]);
    for (const g of r.roles) {
      expect(g.figures.zeroMinutes).to.be.within(0, 1);
      expect(g.figures.peakHour).to.be.within(0, 23);
    }
    expect(r.total.zeroMinutes).to.equal(0);
    expect(r.cesnet).to.have.length(1);
    expect(r.cesnet[0].hours).to.equal(6717);
    expect(r.cesnet[0].bytes.acf24h).to.be.within(0.5, 0.95);
    expect(r.cesnet[0].bytes.zeroHours).to.equal(0);
    const text = formatReport(r);
    for (const w of ['zero min', 'CV min', 'ACF 24h', 'residential', 'CESNET 103 bytes', 'all (sum)'])
      expect(text).to.contain(w);
    // With attacks the victims' figures change (the attack minutes are really in the series).
    const withAttacks = await synthReport(out, { includeAttacks: true });
    expect(withAttacks.total.cvMinutes).to.be.greaterThan(r.total.cvMinutes);
  });

  it('runs from the command line (synth and synth-report)', async () => {
    const cli = join(tmp.dir, 'cli');
    const commands = [synthCommand as never, synthReportCommand as never];
    const made = await inProcess(commands, [
      'synth',
      '-o',
      cli,
      '--customers',
      '2',
      '--nodes',
      '8',
      '--days',
      '1',
      '--attacks',
      '2',
      '--seed',
      '3',
      '--attack-mix',
      'DNS=1,UDP=1',
      '--victim-roles',
      'game',
      'web',
      '--alerts-format',
      'csv',
    ]);
    const report = await inProcess(commands, ['synth-report', cli]);
    expect([made.code, report.code], made.err + report.err).to.deep.equal([0, 0]);
    const printed = [made.out, report.out];
    expect(printed.join('')).to.match(/wrote .*cli: 8 nodes of 2 customers, 1440 minutes/);
    expect(printed.join('')).to.contain('ACF 24h');
    expect(readFileSync(join(cli, 'alerts.csv'), 'utf8').split('\n')[0]).to.equal(
      'alert_id,victim,customer,attack_type,start,end,reported_packets,reported_bytes,false_positive',
    );
    const m = JSON.parse(readFileSync(join(cli, 'synth.json'), 'utf8')) as SynthManifest;
    expect(m.attacks.list.every((a) => a.type === 'DNS' || a.type === 'UDP')).to.equal(true);
    const roleOf = new Map(
      readFileSync(join(cli, 'nodes.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => [l.split(',')[0], l.split(',')[2]] as const),
    );
    expect(m.attacks.list.every((a) => ['game', 'web'].includes(roleOf.get(a.victim)!))).to.equal(true);
    expect(parseAttackMix('dns=0.5, SYN:2')).to.deep.equal({ DNS: 0.5, SYN: 2 });
    expect(() => parseAttackMix('HTTP=1')).to.throw(/TYPE=WEIGHT/);
  });

  it('explains bad settings and bad overlay files', async () => {
    let err: Error | null = null;
    await synth({ ...SMALL, out: join(tmp.dir, 'bad'), nodes: 2 }).catch((e: Error) => (err = e));
    expect(err).to.match(/--nodes must be an integer in \[4,/);
    const bad = join(tmp.dir, 'bad.csv');
    writeFileSync(
      bad,
      'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt\n2021-09-21 15:45:24,2021-09-21 15:45:24,0.000,1.2.3.4,10.10.10.10,53,22,UDP,........,0,0,one,100\n',
    );
    err = null;
    await synth({ ...SMALL, out: join(tmp.dir, 'bad2'), overlay: [bad] }).catch((e: Error) => (err = e));
    expect(err).to.match(/bad\.csv:2: field 'ipkt'/);
    writeFileSync(bad, 'a,b,c\n1,2,3\n');
    err = null;
    await synth({ ...SMALL, out: join(tmp.dir, 'bad3'), overlay: [bad] }).catch((e: Error) => (err = e));
    expect(err).to.match(/bad\.csv:1: not an nfdump CSV header/);
  });
});

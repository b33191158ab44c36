/**
 * The generator's pure parts on hand-made cases: random numbers, addresses, nfdump formatting,
 * inventory, daily cycles, attack curves, alert planning, report statistics.
 */
import { assert, expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, hashKeys, zipfCumulative } from '../ts/common/rng.js';
import { formatIPv4, isPublicV4, randomPublicV4, randomPublicV6, customerV4, customerV6 } from '../ts/synth/address.js';
import { formatIPv6Groups as formatIPv6 } from '../ts/ingest/address.js';
import {
  NFDUMP_HEADER,
  NfdumpCsvEncoder,
  TimeFormatter,
  flagString,
  formatFlowLine,
  parseFlagString,
  protoName,
  protoNumber,
} from '../ts/synth/nfdump.js';
import { makeInventory, nodesPerCustomer } from '../ts/synth/inventory.js';
import { ROLE_NAMES, ROLES } from '../ts/synth/roles.js';
import { cycleLevel, dailyProfile } from '../ts/synth/activity.js';
import { allocate, attackCurve, planEvents } from '../ts/synth/attacks.js';
import { classifyAttack, parseNfdumpTime, templateFromFlows } from '../ts/synth/overlay.js';
import { resolveConfig } from '../ts/synth/config.js';
import { median } from '../ts/common/stats.js';
import { autocorrelation, coefVar, peakHour, weekendRatio, zeroShare } from '../ts/synth/report.js';
import { canonicalIPv6 } from '../ts/ingest/address.js';
import { isoToMinute } from '../ts/serialize/store.js';
import { REAL as HELPER_REAL } from './helpers/tmp.js';

/** The real samples: ../shared/data/real beside the checkout (the helper's path, or the one next to /work/main). */
const REAL = existsSync(HELPER_REAL) ? HELPER_REAL : new URL('../../../shared/data/real', import.meta.url).pathname;

describe('synth: random numbers', () => {
  it('are the same for the same seed and keys, different otherwise', () => {
    const a = Rng.derive(7, 'node', 3);
    const b = Rng.derive(7, 'node', 3);
    const c = Rng.derive(7, 'node', 4);
    const xs = Array.from({ length: 5 }, () => a.u32());
    expect(Array.from({ length: 5 }, () => b.u32())).to.deep.equal(xs);
    expect(Array.from({ length: 5 }, () => c.u32())).to.not.deep.equal(xs);
    expect(hashKeys(1, ['a', 2])).to.not.equal(hashKeys(1, ['a2']));
    expect(hashKeys(1, ['ab'])).to.not.equal(hashKeys(1, ['ba']));
  });

  it('follow their distributions', () => {
    const r = new Rng(42);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(s / n).to.be.closeTo(0, 0.03);
    expect(s2 / n).to.be.closeTo(1, 0.05);
    const mean = (f: () => number) => Array.from({ length: n }, f).reduce((a, b) => a + b, 0) / n;
    expect(mean(() => r.poisson(3))).to.be.closeTo(3, 0.08);
    expect(mean(() => r.poisson(80))).to.be.closeTo(80, 0.5);
    expect(mean(() => r.binomial(20, 0.25))).to.be.closeTo(5, 0.1);
    expect(mean(() => r.binomial(1000, 0.01))).to.be.closeTo(10, 0.2);
    expect(mean(() => r.exponential(2))).to.be.closeTo(2, 0.08);
    expect(mean(() => r.geometric(0.5))).to.be.closeTo(2, 0.05);
    // Log-normal: the median is the given one.
    const ln = Array.from({ length: n }, () => r.lognormal(10, 1)).sort((a, b) => a - b);
    expect(ln[n / 2]).to.be.closeTo(10, 0.5);
    // Pareto with alpha 2, xm 1: P(X > 2) = 1/4.
    expect(Array.from({ length: n }, () => r.pareto(1, 2)).filter((x) => x > 2).length / n).to.be.closeTo(0.25, 0.015);
    for (let i = 0; i < 1000; i++) {
      const k = r.intIn(3, 5);
      expect(k).to.be.within(3, 5);
      expect(r.float()).to.be.within(0, 1 - 1e-12);
    }
    expect(r.binomial(5, 0)).to.equal(0);
    expect(r.binomial(5, 1)).to.equal(5);
  });

  it('picks by weight and from a cumulative table', () => {
    const r = new Rng(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30000; i++) counts[r.weighted([1, 0, 3])]++;
    expect(counts[1]).to.equal(0);
    expect(counts[2] / counts[0]).to.be.closeTo(3, 0.2);
    const cum = zipfCumulative(4, 1);
    expect(cum[3]).to.be.closeTo(1 + 1 / 2 + 1 / 3 + 1 / 4, 1e-12);
    const z = [0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) z[r.fromCumulative(cum)]++;
    expect(z[0] / z[1]).to.be.closeTo(2, 0.15);
    expect(z[0] / z[3]).to.be.closeTo(4, 0.4);
  });
});

describe('synth: addresses', () => {
  it('formats IPv4 and IPv6 (RFC 5952) like the ingestion expects', () => {
    expect(formatIPv4(0xc6120001)).to.equal('198.18.0.1');
    expect(formatIPv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])).to.equal('2001:db8::1');
    expect(formatIPv6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1])).to.equal('2001:db8:0:1::1'); // longest run
    expect(formatIPv6([0x2001, 0, 0, 1, 0, 0, 0xa, 1])).to.equal('2001::1:0:0:a:1'); // leftmost on a tie
    expect(formatIPv6([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1])).to.equal('2001:db8:0:1:1:1:1:1'); // no :: for one zero
    expect(formatIPv6([0, 0, 0, 0, 0, 0, 0, 0])).to.equal('::');
    const r = new Rng(5);
    for (let i = 0; i < 300; i++) {
      const v6 = randomPublicV6(r);
      expect(canonicalIPv6(v6)).to.equal(v6);
      expect(v6.startsWith('2001:db8:')).to.equal(false);
    }
    expect(customerV6(4, 17)).to.equal('2001:db8:5::11');
    expect(customerV4(1, 10)).to.equal(0xc6120000 + 256 + 10);
  });

  it('keeps Internet peers out of private, reserved and customer space', () => {
    expect(isPublicV4(0x0a000001)).to.equal(false); // 10.0.0.1
    expect(isPublicV4(0xc6120101)).to.equal(false); // 198.18.1.1 (our customers)
    expect(isPublicV4(0xe0000001)).to.equal(false); // multicast
    expect(isPublicV4(0x08080808)).to.equal(true); // 8.8.8.8
    const r = new Rng(9);
    for (let i = 0; i < 2000; i++) expect(isPublicV4(randomPublicV4(r))).to.equal(true);
  });
});

describe('synth: nfdump CSV', () => {
  const realHeader = readFileSync(join(REAL, 'stopddos/amp.dns.RRSIG.fragmented.pcap.flows.csv'), 'utf8').split(
    '\n',
  )[0];

  it('writes the exact header of nfdump 1.7.1 and 48 fields per line', () => {
    expect(NFDUMP_HEADER).to.equal(realHeader);
    const tf = new TimeFormatter();
    const line = formatFlowLine(
      tf,
      {
        startMs: [Date.UTC(2021, 8, 21, 15, 45, 24, 123)],
        durMs: [1500],
        exportMs: [20_000],
        src: ['45.179.193.111'],
        dst: ['10.10.10.10'],
        sp: [53],
        dp: [22],
        proto: [17],
        flags: [0],
        pkts: [1],
        bytes: [3950],
      },
      0,
    );
    const f = line.split(',');
    expect(f).to.have.length(48);
    expect(f.slice(0, 13)).to.deep.equal([
      '2021-09-21 15:45:24',
      '2021-09-21 15:45:25',
      '1.500',
      '45.179.193.111',
      '10.10.10.10',
      '53',
      '22',
      'UDP',
      '........',
      '0',
      '0',
      '1',
      '3950',
    ]);
    expect(f[47]).to.equal('2021-09-21 15:45:45.623');
    // Columns 13..46 as nfdump writes an empty record (compare with a real line of the capture).
    const real = readFileSync(join(REAL, 'stopddos/amp.dns.RRSIG.fragmented.pcap.flows.csv'), 'utf8')
      .split('\n')[1]
      .split(',');
    expect(f.slice(13, 44)).to.deep.equal(real.slice(13, 44));
  });

  it('spells flags and protocols as nfdump does', () => {
    expect(flagString(18)).to.equal('...A..S.');
    expect(flagString(2)).to.equal('......S.');
    expect(flagString(27)).to.equal('...AP.SF');
    expect(flagString(255)).to.equal('CEUAPRSF');
    for (let f = 0; f < 256; f++) expect(parseFlagString(flagString(f))).to.equal(f);
    expect(parseFlagString('..x.....')).to.equal(-1);
    expect([1, 6, 17, 50, 58, 47].map(protoName)).to.deep.equal(['ICMP', 'TCP', 'UDP', 'ESP', 'ICMP6', 'GRE']);
    expect(protoNumber('ICMP6')).to.equal(58);
    expect(protoNumber(' tcp ')).to.equal(6);
    expect(protoNumber('132')).to.equal(132);
    expect(protoNumber('XYZ')).to.equal(-1);
  });

  it('encodes bytes identical to the string formatter', () => {
    const r = new Rng(11);
    const tf = new TimeFormatter();
    const enc = new NfdumpCsvEncoder(256); // small, so it grows
    const n = 500;
    const cols = {
      startMs: [] as number[],
      durMs: [] as number[],
      exportMs: [] as number[],
      src: [] as string[],
      dst: [] as string[],
      sp: [] as number[],
      dp: [] as number[],
      proto: [] as number[],
      flags: [] as number[],
      pkts: [] as number[],
      bytes: [] as number[],
    };
    for (let i = 0; i < n; i++) {
      cols.startMs.push(Date.UTC(2021, 8, 6) + r.int(3 * 86_400_000));
      cols.durMs.push(r.chance(0.3) ? 0 : r.int(60_000));
      cols.exportMs.push(1000 + r.int(29_000));
      cols.src.push(r.chance(0.5) ? formatIPv4(randomPublicV4(r)) : randomPublicV6(r));
      cols.dst.push('198.18.0.7');
      cols.sp.push(r.int(65536));
      cols.dp.push(r.int(65536));
      cols.proto.push(r.pick([1, 6, 17, 50, 58]));
      cols.flags.push(r.int(256));
      cols.pkts.push(1 + r.int(5000));
      cols.bytes.push(r.int(1e10));
    }
    let expected = 'header\n';
    enc.text('header\n');
    // Out of order, as FlowBuffer.encode visits its records.
    for (let k = 0; k < n; k++) {
      const i = (k * 7) % n;
      expected += formatFlowLine(tf, cols, i) + '\n';
      enc.line(cols, i);
    }
    expect(enc.take().toString('latin1')).to.equal(expected);
    expect(enc.length).to.equal(0);
  });

  it('parses nfdump times as UTC', () => {
    expect(parseNfdumpTime('2021-09-21 15:45:24')).to.equal(Date.UTC(2021, 8, 21, 15, 45, 24));
    expect(parseNfdumpTime('2021-09-21 15:45:24.5')).to.equal(Date.UTC(2021, 8, 21, 15, 45, 24, 500));
    assert.isNaN(parseNfdumpTime('21/09/2021'));
  });
});

describe('synth: inventory', () => {
  it('splits nodes over customers with a heavy tail and at least one each', () => {
    const counts = nodesPerCustomer(80, 520, new Rng(1));
    expect(counts.reduce((a, b) => a + b, 0)).to.equal(520);
    expect(Math.min(...counts)).to.be.at.least(1);
    expect(Math.max(...counts)).to.be.at.most(250);
    const sorted = [...counts].sort((a, b) => b - a);
    expect(sorted[0]).to.be.greaterThan(4 * sorted[40]); // a few big customers
    expect(() => nodesPerCustomer(5, 4, new Rng(1))).to.throw(/cannot cover/);
  });

  it('has every role, unique canonical addresses, heavy-tailed sizes', () => {
    const inv = makeInventory({ seed: 3, customers: 6, nodes: 36, ipv6Share: 0.3, trafficScale: 1 });
    expect(inv.nodes).to.have.length(36);
    expect(new Set(inv.nodes.map((n) => n.role))).to.have.property('size', ROLE_NAMES.length);
    expect(new Set(inv.nodes.map((n) => n.address)).size).to.equal(36);
    expect(new Set(inv.customers.map((c) => c.kind)).size).to.equal(4);
    for (const n of inv.nodes) {
      if (n.v6) expect(canonicalIPv6(n.address)).to.equal(n.address);
      else expect(n.address).to.match(/^198\.1[89]\.\d+\.\d+$/);
      expect(n.scale).to.be.at.least(1);
      expect(n.meanInPerMinute).to.be.greaterThan(0);
    }
    expect(inv.nodes.some((n) => n.v6)).to.equal(true);
    const big = makeInventory({ seed: 3, customers: 80, nodes: 520, ipv6Share: 0.15, trafficScale: 1 });
    const scales = big.nodes.map((n) => n.scale).sort((a, b) => a - b);
    expect(scales[scales.length - 1] / median(scales)).to.be.greaterThan(10);
    // Deterministic.
    expect(
      makeInventory({ seed: 3, customers: 6, nodes: 36, ipv6Share: 0.3, trafficScale: 1 }).nodes.map((n) => n.address),
    ).to.deep.equal(inv.nodes.map((n) => n.address));
  });
});

describe('synth: daily and weekly cycles', () => {
  it('peaks at the role hour with mean 1 over the day', () => {
    const p = dailyProfile(21, 0.9);
    expect(p.reduce((a, b) => a + b, 0) / 1440).to.be.closeTo(1, 1e-9);
    expect(p.indexOf(Math.max(...p))).to.equal(21 * 60);
    expect(Math.max(...p) / Math.min(...p)).to.be.closeTo(Math.exp(1.8), 1e-6);
  });

  it('uses local time and the weekend factor', () => {
    const monday = isoToMinute('2021-09-06T00:00:00Z');
    const saturday = isoToMinute('2021-09-11T00:00:00Z');
    // Residential peaks at 21:00 local; at UTC+2 that is 19:00 UTC.
    const at = (h: number, tz: number, base = monday) => cycleLevel('residential', base + h * 60, tz);
    expect(at(19, 2)).to.be.closeTo(at(21, 0), 1e-12);
    expect(at(12, 0, saturday) / at(12, 0)).to.be.closeTo(ROLES.residential.weekend, 1e-12);
    expect(cycleLevel('mail', saturday + 11 * 60, 0) / cycleLevel('mail', monday + 11 * 60, 0)).to.be.closeTo(
      ROLES.mail.weekend,
      1e-12,
    );
  });
});

describe('synth: attacks', () => {
  it('ramp up from the start level to the peak, then decay', () => {
    const a = { duration: 20, ramp: 4, decay: 2, startBytes: 100, peakBytes: 10_000, pulse: 0 };
    const c = Array.from({ length: 22 }, (_, i) => attackCurve(a, i));
    expect(c[0]).to.equal(100);
    for (let i = 1; i <= 4; i++) expect(c[i]).to.be.greaterThan(c[i - 1]);
    expect(c[4]).to.be.closeTo(10_000, 1e-6);
    expect(c[17]).to.equal(10_000);
    expect(c[18]).to.be.closeTo(10_000 * 0.6, 1e-6);
    expect(c[19]).to.be.closeTo(10_000 * 0.2, 1e-6);
    expect(c[20]).to.equal(0);
    const pulsed = Array.from({ length: 20 }, (_, i) => attackCurve({ ...a, pulse: 4, decay: 1 }, i));
    expect(pulsed.slice(4, 12)).to.deep.equal([10_000, 10_000, 500, 500, 10_000, 10_000, 500, 500]);
  });

  it('allocates events to the splits by share, one at least in each', () => {
    expect(allocate(10, [0.72, 0.08, 0.2])).to.deep.equal([7, 1, 2]);
    expect(allocate(3, [0.72, 0.08, 0.2])).to.deep.equal([1, 1, 1]);
    expect(allocate(0, [0.72, 0.08, 0.2])).to.deep.equal([0, 0, 0]);
    expect(allocate(100, [0.72, 0.08, 0.2]).reduce((a, b) => a + b, 0)).to.equal(100);
  });

  it('plans attacks that never overlap on a node, with the alert after the onset, in every split', () => {
    const cfg = resolveConfig('tiny', { seed: 5 });
    const inv = makeInventory(cfg);
    const plan = planEvents(cfg, inv, [], isoToMinute(cfg.start));
    expect(plan.attacks.length + plan.skipped).to.equal(cfg.attacks);
    expect(plan.skipped).to.equal(0);
    const bounds = [0.72 * cfg.minutes, 0.8 * cfg.minutes];
    expect(plan.attacks.filter((a) => a.onset < bounds[0]).length).to.be.greaterThan(0);
    expect(plan.attacks.filter((a) => a.onset >= bounds[0] && a.onset < bounds[1]).length).to.be.greaterThan(0);
    expect(plan.attacks.filter((a) => a.onset >= bounds[1]).length).to.be.greaterThan(0);
    const byNode = new Map<number, [number, number][]>();
    for (const a of plan.attacks) {
      expect(a.ramp).to.be.within(2, 10);
      expect(a.duration).to.be.greaterThan(a.ramp + a.decay);
      expect(a.onset + a.duration).to.be.at.most(cfg.minutes);
      expect(a.peakBytes).to.be.greaterThan(a.startBytes);
      if (a.alert !== 'missed') {
        expect(a.alertStart - a.onset).to.be.within(a.ramp, a.ramp + 4);
        expect(a.alertEnd).to.be.at.least(a.onset + a.duration - 1);
      }
      byNode.set(a.victim, [
        ...(byNode.get(a.victim) ?? []),
        [a.onset, a.alertEnd < 0 ? a.onset + a.duration : a.alertEnd],
      ]);
    }
    for (const c of plan.crowds) byNode.set(c.victim, [...(byNode.get(c.victim) ?? []), [c.start, c.alertEnd]]);
    for (const list of byNode.values()) {
      list.sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < list.length; i++) expect(list[i][0]).to.be.greaterThan(list[i - 1][1]);
    }
  });

  it('every alert starts no later than it ends, the false-positive ones too (a dense configuration that once gave end < start)', () => {
    const cfg = resolveConfig('tiny', {
      seed: 1,
      customers: 10,
      nodes: 60,
      minutes: 16 * 1440,
      attackRate: 1.55,
      history: 160,
      splits: [0.62, 0.14, 0.24],
    });
    const plan = planEvents(cfg, makeInventory(cfg), [], isoToMinute(cfg.start));
    expect(plan.crowds.length).to.be.greaterThan(50);
    for (const c of plan.crowds) expect(c.alertStart, `crowd at ${c.start}`).to.be.within(c.start, c.alertEnd);
    for (const a of plan.attacks) if (a.alert !== 'missed') expect(a.alertStart).to.be.at.most(a.alertEnd);
  });

  it('reads the attack type off a capture', () => {
    expect(
      classifyAttack(
        [
          { sp: 53, proto: 17, flags: 0, bytes: 900 },
          { sp: 0, proto: 1, flags: 0, bytes: 100 },
        ],
        1000,
      ),
    ).to.equal('DNS');
    expect(classifyAttack([{ sp: 123, proto: 17, flags: 0, bytes: 900 }], 900)).to.equal('NTP');
    expect(classifyAttack([{ sp: 4444, proto: 6, flags: 2, bytes: 900 }], 900)).to.equal('SYN');
    expect(classifyAttack([{ sp: 80, proto: 6, flags: 18, bytes: 900 }], 900)).to.equal('other'); // SYN-ACK reflection
    expect(classifyAttack([{ sp: 161, proto: 17, flags: 0, bytes: 900 }], 900)).to.equal('UDP');
    const t = templateFromFlows(
      [
        { t: 1000, src: '1.2.3.4', dst: '10.0.0.1', sp: 53, dp: 999, proto: 17, flags: 0, pkts: 2, bytes: 3000 },
        { t: 3000, src: '1.2.3.5', dst: '10.0.0.1', sp: 53, dp: 999, proto: 17, flags: 0, pkts: 1, bytes: 1500 },
        { t: 2000, src: '9.9.9.9', dst: '10.0.0.2', sp: 1, dp: 2, proto: 6, flags: 2, pkts: 1, bytes: 40 },
      ],
      'x.csv',
    );
    expect(t.victim).to.equal('10.0.0.1');
    expect(t.type).to.equal('DNS');
    expect(t.sources).to.equal(2);
    expect(t.seconds).to.equal(2);
    expect(Array.from(t.offset)).to.deep.equal([0, 2]);
    expect(t.bytesPerPacket).to.equal(1500);
  });
});

describe('synth-report: statistics', () => {
  it('zero share, coefficient of variation, median', () => {
    expect(zeroShare([0, 1, 0, 3])).to.equal(0.5);
    expect(zeroShare([0, NaN, 2])).to.equal(0.5);
    expect(coefVar([1, 1, 1])).to.equal(0);
    expect(coefVar([0, 2])).to.equal(1);
    assert.isNaN(coefVar([0, 0]));
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([4, 1, NaN, 2, 3])).to.equal(2.5);
  });

  it('autocorrelation: ~1 at the period of a periodic series, -1 on an alternating one', () => {
    const days = 30;
    const x = Array.from({ length: 24 * days }, (_, t) => 10 + Math.sin((2 * Math.PI * t) / 24));
    expect(autocorrelation(x, 24)).to.be.closeTo((24 * days - 24) / (24 * days), 1e-9);
    expect(autocorrelation(x, 12)).to.be.closeTo(-(24 * days - 12) / (24 * days), 1e-9);
    const alt = [1, -1, 1, -1, 1, -1];
    expect(autocorrelation(alt, 1)).to.be.closeTo(-5 / 6, 1e-12);
    assert.isNaN(autocorrelation([5, 5, 5], 1));
  });

  it('peak hour and weekend ratio on calendar time', () => {
    const start = isoToMinute('2021-09-06T00:00:00Z') / 60; // a Monday, 00:00 UTC
    const week = Array.from({ length: 24 * 7 }, (_, t) => (t % 24 === 19 ? 5 : 1) * (t >= 24 * 5 ? 2 : 1));
    expect(peakHour(week, start)).to.equal(19);
    expect(peakHour(week, start + 3)).to.equal(22); // the same values, three hours later
    // Saturday and Sunday (t >= 120 hours from a Monday) carry twice the weekday traffic.
    expect(weekendRatio(week, start)).to.be.closeTo(2, 1e-12);
    assert.isNaN(weekendRatio(week.slice(0, 24 * 5), start)); // no weekend
  });
});

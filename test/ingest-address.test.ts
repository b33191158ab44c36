import { expect } from 'chai';
import { isIPv4, isIPv6 } from 'node:net';
import {
  bigIntToIPv6,
  canonicalIPv6,
  cidrContains4,
  cidrContains6,
  formatIPv4,
  ipv6ToBigInt,
  mask4,
  parseCidr,
  parseIPv4,
  parseIPv4Bytes,
  parseIPv6Groups,
} from '../ts/ingest/address.js';
import { urlCanonicalIPv6 } from './ingest-helpers.js';
import { randomStream } from '../ts/common/rng.js';

describe('ingest/address: IPv4', () => {
  it('parses dotted quads to unsigned 32-bit numbers', () => {
    expect(parseIPv4('0.0.0.0')).to.equal(0);
    expect(parseIPv4('255.255.255.255')).to.equal(4294967295);
    expect(parseIPv4('10.10.10.10')).to.equal(168430090);
    expect(parseIPv4('192.168.1.2')).to.equal(((192 * 256 + 168) * 256 + 1) * 256 + 2);
    expect(parseIPv4('1.2.3.4')).to.equal(0x01020304);
  });

  it('rejects what is not a dotted quad', () => {
    for (const bad of [
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '1..2.3',
      '.1.2.3',
      '1.2.3.',
      '01.2.3.4',
      '1.2.3.04',
      '1.2.3.4 ',
      ' 1.2.3.4',
      '1.2.3.a',
      '1234.1.1.1',
      '',
      '::1',
      '1.2.3.-4',
      '1,2,3,4',
      '999.999.999.999',
    ]) {
      expect(parseIPv4(bad), bad).to.equal(-1);
    }
  });

  it('agrees with node:net isIPv4 and round-trips through formatIPv4 (random and edge values)', () => {
    const r = randomStream(7);
    for (let i = 0; i < 2000; i++) {
      const parts = [0, 1, 2, 3].map(() => Math.floor(r() * 256));
      const text = parts.join('.');
      const v = parseIPv4(text);
      expect(v).to.equal(((parts[0] * 256 + parts[1]) * 256 + parts[2]) * 256 + parts[3]);
      expect(formatIPv4(v)).to.equal(text);
    }
    for (const s of ['0.0.0.0', '255.255.255.255', '1.1.1.1', '300.1.1.1', '1.1.1', '00.1.1.1', '0.0.0.00']) {
      expect(parseIPv4(s) >= 0, s).to.equal(isIPv4(s));
    }
  });

  it('reads bytes in place, bounded by [start, end)', () => {
    const buf = Buffer.from('x,10.0.0.1,y');
    expect(parseIPv4Bytes(buf, 2, 10)).to.equal(0x0a000001);
    expect(parseIPv4Bytes(buf, 2, 9)).to.equal(-1); // "10.0.0." is not an address
  });
});

describe('ingest/address: IPv6', () => {
  it('gives the RFC 5952 form: lower case, no leading zeros, longest zero run compressed', () => {
    const cases: [string, string][] = [
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8::0:1', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longer run wins
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['FE80::0001', 'fe80::1'],
      ['2a01:04f8:0221:17d3:0000:0000:0000:0002', '2a01:4f8:221:17d3::2'],
      ['::ffff:192.0.2.128', '::ffff:192.0.2.128'],
      ['::FFFF:C000:0280', '::ffff:192.0.2.128'], // IPv4-mapped: dotted quad at the end
      ['0:0:0:0:0:ffff:10.1.2.3', '::ffff:10.1.2.3'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['1:0:0:4:5:0:0:8', '1::4:5:0:0:8'],
    ];
    for (const [input, want] of cases) expect(canonicalIPv6(input), input).to.equal(want);
  });

  it('rejects malformed text', () => {
    for (const bad of [
      '',
      ':',
      ':::',
      '1:::2',
      '1::2::3',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8::',
      '12345::1',
      'g::1',
      '1:2:3:4:5:6:7:',
      ':1:2:3:4:5:6:7',
      '::1.2.3',
      '::1.2.3.256',
      '1.2.3.4',
      '::1.2.3.4:5',
      '[::1]',
      'fe80::1%eth0',
      ' ::1',
    ]) {
      expect(canonicalIPv6(bad), JSON.stringify(bad)).to.equal(null);
      expect(parseIPv6Groups(bad) === null, bad).to.equal(!isIPv6(bad) || bad.includes('%') || bad.startsWith('['));
    }
  });

  it('agrees with the WHATWG URL serializer on random addresses with zero runs', () => {
    const r = randomStream(11);
    for (let i = 0; i < 3000; i++) {
      const groups = Array.from({ length: 8 }, () => (r() < 0.45 ? 0 : Math.floor(r() * 65536)));
      if (groups.slice(0, 6).every((g, k) => (k < 5 ? g === 0 : g === 0xffff))) continue; // mapped: URL prints hex
      // write it in a random verbose form: leading zeros, upper case
      const text = groups
        .map((g) => (r() < 0.5 ? g.toString(16).padStart(4, '0').toUpperCase() : g.toString(16)))
        .join(':');
      expect(canonicalIPv6(text), text).to.equal(urlCanonicalIPv6(text));
      // the canonical text is a fixed point
      expect(canonicalIPv6(canonicalIPv6(text)!)).to.equal(canonicalIPv6(text));
    }
  });

  it('converts to and from 128-bit integers', () => {
    expect(ipv6ToBigInt('::1')).to.equal(1n);
    expect(ipv6ToBigInt('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).to.equal((1n << 128n) - 1n);
    expect(ipv6ToBigInt('2001:db8::')).to.equal(0x20010db8n << 96n);
    expect(bigIntToIPv6(0x20010db8n << 96n)).to.equal('2001:db8::');
    expect(ipv6ToBigInt('nope')).to.equal(null);
  });
});

describe('ingest/address: CIDR prefixes', () => {
  it('parses IPv4 prefixes and bare addresses', () => {
    expect(parseCidr('10.0.0.0/8')).to.deep.equal({
      family: 4,
      network: 0x0a000000,
      prefixLength: 8,
      text: '10.0.0.0/8',
    });
    expect(parseCidr(' 192.168.1.7 ')).to.deep.equal({
      family: 4,
      network: parseIPv4('192.168.1.7'),
      prefixLength: 32,
      text: '192.168.1.7/32',
    });
    expect(parseCidr('0.0.0.0/0').network).to.equal(0);
    expect(parseCidr('10.0.0.1/8', false).text).to.equal('10.0.0.0/8');
  });

  it('parses IPv6 prefixes into canonical text', () => {
    const c = parseCidr('2001:DB8:0::/32');
    expect(c.family).to.equal(6);
    expect(c.text).to.equal('2001:db8::/32');
    expect(parseCidr('2001:db8::1').text).to.equal('2001:db8::1/128');
    expect(parseCidr('::/0').text).to.equal('::/0');
  });

  it('says what is wrong with a bad prefix', () => {
    expect(() => parseCidr('10.0.0.1/8')).to.throw(/host bits set.*10\.0\.0\.0\/8/);
    expect(() => parseCidr('2001:db8::1/32')).to.throw(/host bits set.*2001:db8::\/32/);
    expect(() => parseCidr('10.0.0.0/33')).to.throw(/bad prefix length/);
    expect(() => parseCidr('2001:db8::/129')).to.throw(/bad prefix length/);
    expect(() => parseCidr('10.0.0.0/')).to.throw(/bad prefix length/);
    expect(() => parseCidr('10.0.0.0/8/8')).to.throw(/bad prefix length/);
    expect(() => parseCidr('10.0.0/8')).to.throw(/not an IPv4 or IPv6 address/);
    expect(() => parseCidr('2001:db8:::/48')).to.throw(/not an IPv6 address/);
  });

  it('tests membership exactly at the prefix boundaries', () => {
    const c4 = parseCidr('192.168.0.0/23');
    expect(cidrContains4(c4, parseIPv4('192.168.0.0'))).to.equal(true);
    expect(cidrContains4(c4, parseIPv4('192.168.1.255'))).to.equal(true);
    expect(cidrContains4(c4, parseIPv4('192.168.2.0'))).to.equal(false);
    expect(cidrContains4(c4, parseIPv4('192.167.255.255'))).to.equal(false);
    expect(cidrContains4(parseCidr('0.0.0.0/0'), parseIPv4('255.255.255.255'))).to.equal(true);
    expect(cidrContains4(parseCidr('10.1.2.3'), parseIPv4('10.1.2.3'))).to.equal(true);
    expect(cidrContains4(parseCidr('10.1.2.3'), parseIPv4('10.1.2.4'))).to.equal(false);
    const c6 = parseCidr('2001:db8:8000::/33');
    expect(cidrContains6(c6, '2001:db8:8000::1')).to.equal(true);
    expect(cidrContains6(c6, '2001:db8:ffff:ffff::')).to.equal(true);
    expect(cidrContains6(c6, '2001:db8:7fff::')).to.equal(false);
    expect(cidrContains6(c6, 'bogus')).to.equal(false);
    expect(cidrContains4(c6, 0)).to.equal(false);
    expect(mask4(0)).to.equal(0);
    expect(mask4(24) >>> 0).to.equal(0xffffff00);
    expect(mask4(32) >>> 0).to.equal(0xffffffff);
  });
});

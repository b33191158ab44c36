import { assert, expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  countCommas,
  daysFromCivil,
  fieldText,
  headerNames,
  parseCount,
  parseDecimal,
  parsePort,
  parseTimestamp,
  parseUint,
  splitFields,
  splitFieldsQuoted,
  TimestampParser,
} from '../ts/ingest/fields.js';
import { CHUNK_BYTES, readLines, splitLines } from '../ts/ingest/lines.js';
import { protocolNumber, ProtocolLookup } from '../ts/ingest/protocols.js';
import { InputError } from '../ts/ingest/record.js';
import { randomStream } from '../ts/common/rng.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Lines as the splitter hands them out, as strings, with their numbers and newline flags. */
async function collect(chunks: Buffer[]): Promise<[string, number, boolean][]> {
  const out: [string, number, boolean][] = [];
  await splitLines(
    (async function* () {
      yield* chunks;
    })(),
    (buf, start, end, lineNo, terminated) => out.push([buf.toString('latin1', start, end), lineNo, terminated]),
    { file: 'mem' },
  );
  return out;
}

describe('ingest/fields: splitting and numbers', () => {
  it('splits on commas into field offsets', () => {
    const buf = b('xx,a,,bc,d\n');
    const pos = new Int32Array(16);
    const n = splitFields(buf, 3, 10, pos);
    expect(n).to.equal(4);
    const fields = Array.from({ length: n }, (_, k) => buf.toString('latin1', pos[k], pos[k + 1] - 1));
    expect(fields).to.deep.equal(['a', '', 'bc', 'd']);
    expect(splitFields(buf, 3, 3, pos)).to.equal(1); // an empty line is one empty field
  });

  it('keeps commas inside double quotes', () => {
    const buf = b('1,"a,b",x,"say ""hi"", ok",');
    const pos = new Int32Array(16);
    const n = splitFieldsQuoted(buf, 0, buf.length, pos);
    const fields = Array.from({ length: n }, (_, k) => fieldText(buf, pos[k], pos[k + 1] - 1));
    expect(fields).to.deep.equal(['1', 'a,b', 'x', 'say "hi", ok', '']);
  });

  it('counts commas four bytes at a time exactly as a byte loop does, at every alignment', () => {
    const r = randomStream(3);
    const big = Buffer.alloc(4096);
    for (let i = 0; i < big.length; i++) big[i] = r() < 0.2 ? 44 : 32 + Math.floor(r() * 90);
    for (let t = 0; t < 3000; t++) {
      const start = Math.floor(r() * 200);
      const end = start + Math.floor(r() * 3000);
      let want = 0;
      for (let i = start; i < end; i++) if (big[i] === 44) want++;
      expect(countCommas(big, start, end), `${start}..${end}`).to.equal(want);
    }
    // a view starting at an odd offset of its ArrayBuffer, and a long run of commas (lane overflow)
    const view = big.subarray(3);
    let want = 0;
    for (let i = 5; i < 2000; i++) if (view[i] === 44) want++;
    expect(countCommas(view, 5, 2000)).to.equal(want);
    const commas = Buffer.alloc(5000, 44);
    expect(countCommas(commas, 1, 4999)).to.equal(4998);
  });

  it('reads counts, ports and decimals', () => {
    expect(parseUint(b('12345'), 0, 5)).to.equal(12345);
    expect(parseUint(b('12a'), 0, 3)).to.equal(-1);
    expect(parseUint(b(''), 0, 0)).to.equal(-1);
    expect(parseCount(b('42680.0'), 0, 7)).to.equal(42680);
    expect(parseCount(b(' 7 '), 0, 3)).to.equal(7);
    expect(parseCount(b('1.5e3'), 0, 5)).to.equal(1500);
    expect(parseCount(b('-5'), 0, 2)).to.equal(-1);
    expect(parseCount(b('abc'), 0, 3)).to.equal(-1);
    expect(parseCount(b(''), 0, 0)).to.equal(-1);
    expect(parseCount(b('1e400'), 0, 5)).to.equal(-1);
    expect(parsePort(b('65535'), 0, 5)).to.equal(65535);
    expect(parsePort(b('65536'), 0, 5)).to.equal(-1);
    expect(parsePort(b('0x0303'), 0, 6)).to.equal(0x303);
    expect(parsePort(b('0xZZ'), 0, 4)).to.equal(-1);
    expect(parseDecimal(b('129.927856'), 0, 10)).to.be.closeTo(129.927856, 1e-9);
    assert.isNaN(parseDecimal(b('x'), 0, 1));
  });

  it('names header columns without spaces, quotes or a byte-order mark', () => {
    const h = b('\xEF\xBB\xBFUnnamed: 0,Flow ID, Source IP,"Label"');
    expect(headerNames(h, 0, h.length)).to.deep.equal(['Unnamed: 0', 'Flow ID', 'Source IP', 'Label']);
  });
});

describe('ingest/fields: timestamps', () => {
  it('agrees with Date.UTC on random instants, with and without fractions', () => {
    const r = randomStream(5);
    const tp = new TimestampParser();
    for (let i = 0; i < 5000; i++) {
      const ms = Math.floor(r() * 4102444800000); // 1970..2100
      const d = new Date(ms);
      const iso = d.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
      const plain = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
      const withFrac = `${plain}.${iso.slice(20, 23)}${r() < 0.5 ? '456' : ''}`;
      const slash = withFrac.replace(/-/g, '/');
      expect(parseTimestamp(b(plain), 0, 19)).to.equal(Math.floor(ms / 1000) * 1000);
      expect(parseTimestamp(b(withFrac), 0, withFrac.length)).to.equal(ms);
      expect(parseTimestamp(b(slash), 0, slash.length)).to.equal(ms);
      expect(parseTimestamp(b(iso), 0, iso.length)).to.equal(ms);
      expect(tp.parse(b(withFrac), 0, withFrac.length)).to.equal(ms);
    }
    expect(daysFromCivil(1970, 1, 1)).to.equal(0);
    expect(daysFromCivil(2000, 3, 1)).to.equal(Date.UTC(2000, 2, 1) / 86400000);
  });

  it('refuses impossible or malformed timestamps (and the memo does not hide them)', () => {
    const tp = new TimestampParser();
    tp.parse(b('2021-02-28 10:00:00'), 0, 19); // fill the memo with that date
    for (const bad of [
      '2021-02-29 10:00:00',
      '2020-02-30 00:00:00',
      '2021-13-01 00:00:00',
      '2021-00-10 00:00:00',
      '2021-02-28 24:00:00',
      '2021-02-28 10:60:00',
      '2021-02-28 10:00:61',
      '2021-02-28 1a:00:00',
      '2021-02-28 10:00',
      '2021-02-28 10:00:00.',
      '2021-02-28 10:00:00x',
      '2021-02-28+10:00:00',
      '2021-02/28 10:00:00',
      'yesterday at noon',
    ]) {
      assert.isNaN(parseTimestamp(b(bad), 0, bad.length), bad);
      assert.isNaN(tp.parse(b(bad), 0, bad.length), bad);
    }
    expect(parseTimestamp(b('2020-02-29 23:59:60'), 0, 19)).to.equal(Date.UTC(2020, 1, 29, 23, 59, 60)); // leap day, leap second
  });
});

describe('ingest/protocols', () => {
  it('maps nfdump and IANA names and numbers, case-insensitively', () => {
    expect(protocolNumber('TCP', 'nfdump')).to.equal(6);
    expect(protocolNumber('ICMP6', 'nfdump')).to.equal(58);
    expect(protocolNumber('IPIP', 'nfdump')).to.equal(4); // nfdump's name for IP-in-IP
    expect(protocolNumber('ipip', 'iana')).to.equal(94); // IANA's keyword IPIP
    expect(protocolNumber('128  ', 'nfdump')).to.equal(128);
    expect(protocolNumber('ipv6-icmp')).to.equal(58);
    expect(protocolNumber('gre')).to.equal(47);
    expect(protocolNumber('esp')).to.equal(50);
    expect(protocolNumber('rtp')).to.equal(17);
    expect(protocolNumber('arp')).to.equal(-1);
    expect(protocolNumber('256')).to.equal(-1);
    expect(protocolNumber('')).to.equal(-1);
    const look = new ProtocolLookup('nfdump');
    for (let i = 0; i < 3; i++) {
      expect(look.lookup(b('x,UDP,y'), 2, 5)).to.equal(17);
      expect(look.lookup(b('FOO'), 0, 3)).to.equal(-1);
      expect(look.lookup(b('Frag6'), 0, 5)).to.equal(44);
      expect(look.lookup(b('MOBILITY-HEADER'), 0, 15)).to.equal(135);
    }
  });
});

describe('ingest/lines: streaming line splitter', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nfg-lines-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('splits LF and CRLF lines, keeps blank lines, flags a last line without newline', async () => {
    expect(await collect([b('a,b\r\nc\n\nd')])).to.deep.equal([
      ['a,b', 1, true],
      ['c', 2, true],
      ['', 3, true],
      ['d', 4, false],
    ]);
    expect(await collect([b('x\r\n')])).to.deep.equal([['x', 1, true]]);
    expect(await collect([])).to.deep.equal([]);
  });

  it('joins lines that span chunks, whatever the cut points', async () => {
    const text = 'first line,1\r\nsecond,2\n\nthird line is longer than the others,3\nlast';
    const want = await collect([b(text)]);
    const r = randomStream(9);
    for (let t = 0; t < 300; t++) {
      const chunks: Buffer[] = [];
      let p = 0;
      while (p < text.length) {
        const n = 1 + Math.floor(r() * 12);
        chunks.push(b(text.slice(p, p + n)));
        p += n;
      }
      expect(await collect(chunks)).to.deep.equal(want);
    }
    // a CR at the end of one chunk and the LF at the start of the next
    expect(await collect([b('ab\r'), b('\ncd\r'), b('\n')])).to.deep.equal([
      ['ab', 1, true],
      ['cd', 2, true],
    ]);
  });

  it('reads a gzip file exactly as the plain one, and reports compressed bytes as progress', async () => {
    const lines = Array.from({ length: 30000 }, (_, i) => `line ${i},${'x'.repeat(i % 50)}`);
    const text = `${lines.join('\n')}\n`;
    writeFileSync(join(dir, 'p.txt'), text);
    writeFileSync(join(dir, 'p.txt.gz'), gzipSync(text));
    const read = async (name: string): Promise<{ got: string[]; progress: number[] }> => {
      const got: string[] = [];
      const progress: number[] = [];
      await readLines(join(dir, name), (buf, s, e) => got.push(buf.toString('latin1', s, e)), {
        file: name,
        progress: (n) => progress.push(n),
      });
      return { got, progress };
    };
    const plain = await read('p.txt');
    const gz = await read('p.txt.gz');
    expect(plain.got).to.deep.equal(lines);
    expect(gz.got).to.deep.equal(lines);
    expect(plain.progress[plain.progress.length - 1]).to.equal(Buffer.byteLength(text));
    expect(gz.progress[gz.progress.length - 1]).to.equal(gzipSync(text).length);
    expect(plain.progress.length).to.be.greaterThan(Math.floor(Buffer.byteLength(text) / CHUNK_BYTES) - 1);
  });

  it('stops between chunks when aborted, with the signal reason', async () => {
    writeFileSync(join(dir, 'big.txt'), 'y\n'.repeat(3 * CHUNK_BYTES));
    const ac = new AbortController();
    let n = 0;
    let err: unknown;
    try {
      await readLines(
        join(dir, 'big.txt'),
        () => {
          if (++n === 10) ac.abort();
        },
        { file: 'big.txt', signal: ac.signal },
      );
    } catch (e) {
      err = e;
    }
    expect((err as Error).name).to.equal('AbortError');
    expect(n).to.be.lessThan((3 * CHUNK_BYTES) / 2);
  });

  it('turns unreadable files and corrupt gzip into InputError io naming the file', async () => {
    let err: unknown;
    try {
      await readLines(join(dir, 'missing.txt'), () => {}, { file: 'missing.txt' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InputError);
    expect((err as InputError).reason).to.equal('io');
    expect((err as Error).message).to.match(/^missing\.txt: io/);

    const gz = gzipSync('a\nb\nc\n'.repeat(10000));
    writeFileSync(join(dir, 'cut.gz'), gz.subarray(0, gz.length - 100));
    err = undefined;
    try {
      await readLines(join(dir, 'cut.gz'), () => {}, { file: 'cut.gz' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InputError);
    expect((err as Error).message).to.match(/cut\.gz: io: corrupt or truncated gzip/);
  });

  it('lets an error thrown by the line handler through unchanged', async () => {
    writeFileSync(join(dir, 'h.txt'), 'a\nb\n');
    const boom = new RangeError('handler failed');
    let err: unknown;
    try {
      await readLines(
        join(dir, 'h.txt'),
        () => {
          throw boom;
        },
        { file: 'h.txt' },
      );
    } catch (e) {
      err = e;
    }
    expect(err).to.equal(boom);
  });
});

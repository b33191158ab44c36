/**
 * Issue 11: your own data, end to end (docs/own-data.md). The real CIC-DDoS2019 excerpts laid out as
 * an operator's tree (two routers, a README), an alert export made from the captures' known victim
 * and times, converted with alerts-convert, and the example preset run on them.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attackTypeOf, convertAlerts, exportMinute } from '../ts/earlydetect/convert.js';
import { packageRoot } from '../ts/common/paths.js';
import { REAL, useTempDir } from './helpers/tmp.js';

const CIC = join(REAL, 'cicddos2019-csv');
const CLI = new URL('../ts/cli/main.js', import.meta.url).pathname;
const VICTIM = '192.168.50.1';

interface Capture {
  name: string;
  label: string;
  start: string;
  end: string;
  packets: number;
  bytes: number;
}

/** The tree (each capture's rows dealt to edge1/ and edge2/) and, per capture, its attack on the victim. */
function buildTree(root: string): Capture[] {
  mkdirSync(join(root, 'tree/edge1'), { recursive: true });
  mkdirSync(join(root, 'tree/edge2'), { recursive: true });
  writeFileSync(join(root, 'tree/README.md'), 'edge1 and edge2: CICFlowMeter exports of two routers\n');
  const out: Capture[] = [];
  for (const name of readdirSync(CIC)
    .filter((f) => f.endsWith('.csv'))
    .sort()) {
    const [head, ...rows] = readFileSync(join(CIC, name), 'utf8').split('\n');
    writeFileSync(join(root, 'tree/edge1', name), [head, ...rows.filter((_, i) => i % 2 === 0)].join('\n'));
    writeFileSync(join(root, 'tree/edge2', name), [head, ...rows.filter((_, i) => i % 2 === 1)].join('\n'));
    const h = head.split(',').map((x) => x.trim());
    const c = (n: string) => h.indexOf(n);
    const recs = rows.map((r) => r.split(',')).filter((f) => f.length === h.length);
    const attack = recs.filter((f) => f[c('Label')] !== 'BENIGN' && f[c('Destination IP')] === VICTIM);
    if (!attack.length) continue;
    const minutes = attack.map((f) => f[c('Timestamp')].slice(0, 16)).sort();
    const [start, end] = [minutes[0], minutes[minutes.length - 1]];
    // the defense's report: everything to and from the victim over the alert's minutes (>= what the flows show)
    const inAlert = recs.filter(
      (f) =>
        (f[c('Source IP')] === VICTIM || f[c('Destination IP')] === VICTIM) &&
        f[c('Timestamp')].slice(0, 16) >= start &&
        f[c('Timestamp')].slice(0, 16) <= end,
    );
    const sum = (a: string, b: string) => inAlert.reduce((s, f) => s + Number(f[c(a)]) + Number(f[c(b)]), 0);
    out.push({
      name: name.replace(/\.csv$/, ''),
      label: attack[0][c('Label')],
      start,
      end,
      packets: sum('Total Fwd Packets', 'Total Backward Packets'),
      bytes: sum('Total Length of Fwd Packets', 'Total Length of Bwd Packets'),
    });
  }
  return out;
}

describe('your own data, end to end (issue 11, docs/own-data.md)', function () {
  this.timeout(300_000);
  const tmp = useTempDir('netflowgen-own-');
  let captures: Capture[];
  before(() => {
    captures = buildTree(tmp.dir);
    writeFileSync(
      join(tmp.dir, 'nodes.csv'),
      'address,customer,role\n192.168.50.0/24,cic-lab\n192.168.50.1,web-server,web\n',
    );
    writeFileSync(
      join(tmp.dir, 'export.csv'),
      [
        'id,target,vector,begin,finish,pkts,bytes',
        ...captures.map((x) => [x.name, VICTIM, x.label, x.start, x.end, x.packets, x.bytes].join(',')),
      ].join('\n') + '\n',
    );
  });

  it('alerts-convert makes the feed from a CSV export: columns by name, types by their words, customers from the inventory', async () => {
    expect(captures).to.have.length(11); // the 11 attacks of 2018-12-01 on the victim (UDP.csv of 2018-11-03 hit another host)
    const r = await execa(
      'node',
      [CLI, 'alerts-convert', '-i', 'export.csv', '-n', 'nodes.csv', '-o', 'alerts.jsonl'],
      { cwd: tmp.dir },
    );
    expect(r.stdout).to.contain(
      'wrote alerts.jsonl: 11 alerts (DNS 1, NTP 1, UDP 1, SYN 1, other 7) from columns alert_id=id, victim=target, attack_type=vector, start=begin, end=finish',
    );
    const feed = readFileSync(join(tmp.dir, 'alerts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(feed.find((a) => a.alert_id === 'DrDoS_DNS')).to.deep.equal({
      alert_id: 'DrDoS_DNS',
      victim: VICTIM,
      customer: 'web-server',
      attack_type: 'DNS',
      start: '2018-12-01T10:51:00Z',
      end: '2018-12-01T10:51:00Z',
      reported_packets: captures.find((x) => x.name === 'DrDoS_DNS')!.packets,
      reported_bytes: captures.find((x) => x.name === 'DrDoS_DNS')!.bytes,
      false_positive: false,
    });
    expect(
      ['DrDoS_DNS', 'DrDoS_NTP', 'DrDoS_UDP', 'Syn', 'UDP-lag', 'tcp-syn', 'UDP flood', 'dns amplification'].map(
        attackTypeOf,
      ),
    ).to.deep.equal(['DNS', 'NTP', 'UDP', 'SYN', 'other', 'SYN', 'UDP', 'DNS']);
    expect(exportMinute('1543661499')).to.equal(Math.floor(1543661499 / 60));
    expect(exportMinute('2018-12-01 10:51', -1)).to.equal(Math.floor(Date.UTC(2018, 11, 1, 11, 51) / 60_000));
    expect(feed).to.have.length(11);
  });

  it('a bad export names file, line and column; a missing column says how to map it', async () => {
    const bad = join(tmp.dir, 'bad.csv');
    writeFileSync(
      bad,
      'id,target,begin,pkts,bytes\na1,192.168.50.1,2018-12-01 10:51,10,1000\na2,192.168.50.300,2018-12-01 10:52,10,1000\n',
    );
    const e1 = await convertAlerts({ input: bad, output: join(tmp.dir, 'bad.jsonl') }).catch((e: Error) => e);
    expect((e1 as Error).message).to.equal(
      `${bad}:3: format in field 'target': '192.168.50.300' is not an IPv4 or IPv6 address`,
    );
    const nocol = join(tmp.dir, 'nocol.csv');
    writeFileSync(nocol, 'id,protected,begin,pkts,bytes\na1,192.168.50.1,2018-12-01 10:51,10,1000\n');
    const e2 = await convertAlerts({ input: nocol, output: join(tmp.dir, 'nocol.jsonl') }).catch((e: Error) => e);
    expect((e2 as Error).message)
      .to.contain('no column for victim')
      .and.to.contain('--map victim=');
    const ok = await convertAlerts({
      input: nocol,
      output: join(tmp.dir, 'nocol.jsonl'),
      map: { victim: 'protected' },
    });
    expect(ok.alerts).to.equal(1);
    expect(existsSync(join(tmp.dir, 'bad.jsonl'))).to.equal(false);
    // a preset of one's own data without the feed names the key in full
    const preset = join(tmp.dir, 'mine.json');
    writeFileSync(
      preset,
      JSON.stringify({
        extends: join(packageRoot(), 'experiments/presets/micro.json'),
        data: { source: 'flows', flows: { inputs: [join(tmp.dir, 'tree')], nodes: join(tmp.dir, 'nodes.csv') } },
      }),
    );
    const r = await execa('node', [CLI, 'reproduce', '--preset', preset, '--dry-run'], { reject: false });
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain("missing key 'data.flows.alerts'");
  });

  it('the example preset runs on the tree: serialize, bin, detect-dataset, pre-training, Tables 1, 2 and 4, the report', async () => {
    const out = join(tmp.dir, 'out');
    const r = await execa(
      'node',
      [
        CLI,
        'reproduce',
        '--preset',
        'own-data-example',
        '--set',
        `data.flows.inputs=${JSON.stringify([join(tmp.dir, 'tree')])}`,
        '--set',
        `data.flows.nodes=${join(tmp.dir, 'nodes.csv')}`,
        '--set',
        `data.flows.alerts=${join(tmp.dir, 'alerts.jsonl')}`,
        '-o',
        out,
        '--only',
        'table1,table2,table4',
      ],
      { reject: false, env: { NETFLOWGEN_PROGRESS: '0' } },
    );
    expect(r.exitCode, r.stderr + r.stdout).to.equal(0);
    expect(existsSync(join(out, 'report/report.md'))).to.equal(true);
    const stage = (kind: string) =>
      join(
        out,
        'stages',
        readdirSync(join(out, 'stages')).find((d) => d.startsWith(`${kind}-`) && !d.endsWith('.partial'))!,
      );
    const store = JSON.parse(readFileSync(join(stage('serialize'), 'manifest.json'), 'utf8'));
    expect(store.firstMinute).to.equal('2018-12-01T00:00:00Z');
    expect(store.minutes).to.equal(1440);
    expect(
      store.skipped.map((s: { path: string; reason: string }) => [s.path.split('/').pop(), s.reason]),
    ).to.deep.equal([['README.md', 'not_flow_data']]);
    expect(store.records.rejected).to.deep.include({ out_of_order: 0, time_outlier: 0, truncated_line: 12 });
    expect(store.records.outsideRange).to.be.greaterThan(0); // the 2018-11-03 captures
    expect(store.options.inventory).to.deep.include({ overlapping: 1, nodesInOverlaps: 1 });
    expect(store.nodes.find((n: { address: string }) => n.address === VICTIM)).to.deep.include({
      customer: 'web-server',
      role: 'web',
    });
    const ed = JSON.parse(readFileSync(join(stage('detect-dataset'), 'manifest.json'), 'utf8'));
    expect(ed.alertsRead).to.equal(11);
    expect(ed.alerts.map((a: { alert_id: string; split: string }) => `${a.split}:${a.alert_id}`)).to.deep.equal([
      'train:DrDoS_NTP',
      'train:DrDoS_DNS',
      'train:DrDoS_LDAP',
      'train:DrDoS_MSSQL',
      'test:DrDoS_SSDP',
      'test:DrDoS_UDP',
      'test:UDPLag',
      'test:Syn',
      'test:TFTP',
    ]);
    expect(ed.dropped).to.deep.include({ no_free_window: 2, mismatch: 0, unknown_victim: 0 });
    const report = readFileSync(join(out, 'report/report.md'), 'utf8');
    expect(report).to.contain('Table 2').and.to.contain('9 of 11 alerts kept');
    expect(report).to.contain('Table 4');
  });
});

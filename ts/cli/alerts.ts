import type { CommandModule } from 'yargs';
import { ALERT_COLUMN_NAMES, convertAlerts } from '../earlydetect/convert.js';
import { QUIET_OPTION, runCommand } from './util.js';

interface Args {
  input: string;
  out: string;
  nodes?: string;
  map?: string[];
  'utc-offset': number;
  quiet: boolean;
}

export const alertsConvertCommand: CommandModule<object, Args> = {
  command: 'alerts-convert',
  describe: "Make the alert feed (alerts.jsonl) from a DDoS defense's CSV export of its alerts",
  builder: (y) =>
    y
      .option('input', {
        alias: 'i',
        type: 'string',
        demandOption: true,
        describe: 'CSV export of the alerts, with a header line',
      })
      .option('out', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'alert feed to write (JSON lines, schemas/alerts.schema.json)',
      })
      .option('nodes', {
        alias: 'n',
        type: 'string',
        describe: "node inventory CSV: fills each victim's customer and counts victims that are no node",
      })
      .option('map', {
        type: 'string',
        array: true,
        describe: `field=column for a column the names below miss, e.g. victim=dst_ip start=alarm_time (fields: ${Object.keys(ALERT_COLUMN_NAMES).join(', ')})`,
      })
      .option('utc-offset', {
        type: 'number',
        default: 0,
        describe: 'hours to add to times without a zone to reach UTC',
      })
      .option('quiet', QUIET_OPTION)
      .example(
        '$0 alerts-convert -i defense-export.csv -n nodes.csv -o alerts.jsonl',
        'columns found by name (victim/target/dst_ip, start/begin, end/stop, packets, bytes, type ...)',
      )
      .example(
        '$0 alerts-convert -i export.csv -o alerts.jsonl --map victim=protected_ip --map reported_packets=pps_total',
        'name the columns the export calls otherwise',
      ),
  handler: runCommand(async (a) => {
    const map: Record<string, string> = {};
    for (const m of a.map ?? []) {
      const eq = m.indexOf('=');
      if (eq <= 0) throw new Error(`--map ${m}: expected field=column`);
      map[m.slice(0, eq).trim()] = m.slice(eq + 1).trim();
    }
    const r = await convertAlerts({
      input: a.input,
      output: a.out,
      nodes: a.nodes,
      map,
      utcOffsetHours: a['utc-offset'],
    });
    if (a.quiet) return;
    const types = Object.entries(r.byType)
      .filter(([, n]) => n > 0)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ');
    const other = Object.entries(r.otherNames)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ');
    process.stdout.write(
      `wrote ${a.out}: ${r.alerts} alerts (${types || 'none'}) from columns ${Object.entries(r.columns)
        .map(([f, c]) => `${f}=${c}`)
        .join(', ')}\n`,
    );
    if (other) process.stdout.write(`  as 'other': ${other}\n`);
    if (r.notInInventory)
      process.stderr.write(
        `warning: ${r.notInInventory} alerts name a victim that is not a node of ${a.nodes}: detect-dataset will drop them (unknown_victim)\n`,
      );
  }),
};

/**
 * An alert feed (alerts.jsonl, schemas/alerts.schema.json) from a CSV export of a DDoS defense.
 *
 * - Columns are found by name (case-insensitive), each field under the names exports use
 *   (ALERT_COLUMN_NAMES), or as `--map field=column` says.
 * - Required: the victim, the start and the packet and byte totals; the end defaults to the start
 *   (a one-minute alert), the id to `L<line>`, false_positive to false, the customer to the
 *   inventory's (longest prefix) or ''.
 * - Times: ISO 8601 (with a zone, or UTC without), `YYYY-MM-DD hh:mm[:ss]` (UTC plus
 *   `utcOffsetHours` hours to reach UTC), or epoch seconds; floored to the minute. The end is inclusive,
 *   as the feed's is.
 * - Attack types: DNS, NTP, UDP, SYN by the words in the export's type (`dns amplification`,
 *   `DrDoS_NTP`, `tcp-syn`, `UDP flood`), anything else `other` (counted).
 * - A bad line is an error naming file, line and column; the feed is written atomically and checked
 *   against the schema line by line.
 */
import { readFileSync } from 'node:fs';
import { ATTACK_TYPES, type AlertLine, type AttackType } from '../catalogue/alerts.js';
import { writeFileAtomic } from '../common/atomic.js';
import { validateWithSchema } from '../common/schema.js';
import { canonicalAddress, loadInventory, NodeRegistry } from '../serialize/inventory.js';
import { minuteToIso } from '../serialize/store.js';
import { InputError } from '../ingest/record.js';
import { parseIPv4 } from '../ingest/address.js';

export type AlertField = keyof AlertLine;

/** Column names exports use, per field (matched case-insensitively, spaces and dashes as underscores). */
export const ALERT_COLUMN_NAMES: Record<AlertField, string[]> = {
  alert_id: ['alert_id', 'id', 'alert', 'incident', 'incident_id', 'uuid'],
  victim: [
    'victim',
    'victim_ip',
    'target',
    'target_ip',
    'destination',
    'destination_ip',
    'dst',
    'dst_ip',
    'dst_addr',
    'ip',
    'host',
    'address',
  ],
  customer: ['customer', 'customer_id', 'tenant', 'client'],
  attack_type: ['attack_type', 'type', 'attack', 'vector', 'attack_vector', 'label', 'category'],
  start: ['start', 'start_time', 'begin', 'begin_time', 'started', 'first_seen', 'from', 'time', 'timestamp'],
  end: ['end', 'end_time', 'stop', 'stop_time', 'finish', 'ended', 'last_seen', 'to'],
  reported_packets: ['reported_packets', 'packets', 'pkts', 'total_packets', 'packet_count'],
  reported_bytes: ['reported_bytes', 'bytes', 'octets', 'total_bytes', 'byte_count'],
  false_positive: ['false_positive', 'fp', 'is_false_positive'],
};

const REQUIRED: AlertField[] = ['victim', 'start', 'reported_packets', 'reported_bytes'];

export interface ConvertAlertsOptions {
  input: string;
  output: string;
  /** field=column pairs that override the names found by ALERT_COLUMN_NAMES. */
  map?: Record<string, string>;
  /** Node inventory: the customer of each victim (longest prefix), and a check that victims are nodes. */
  nodes?: string;
  /** Hours to add to naive times to reach UTC. */
  utcOffsetHours?: number;
}

export interface ConvertAlertsResult {
  alerts: number;
  /** Alerts per attack type; `other` counts types the export names but the feed has no class for. */
  byType: Record<AttackType, number>;
  /** The export's type names that became `other`, with counts. */
  otherNames: Record<string, number>;
  /** Victims the inventory does not hold (with --nodes): detect-dataset would drop them as unknown_victim. */
  notInInventory: number;
  columns: Partial<Record<AlertField, string>>;
}

/** Splits one CSV line (RFC 4180 quotes). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const norm = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** The feed's attack type of an export's type name. */
export function attackTypeOf(name: string): AttackType {
  const n = name.toLowerCase();
  if (/\bdns\b|_dns\b|dns_|^dns/.test(n)) return 'DNS';
  if (/ntp/.test(n)) return 'NTP';
  if (/syn/.test(n)) return 'SYN';
  if (/^(drdos_)?udp([ _-]?(flood|attack|ddos))?$/.test(n)) return 'UDP';
  const exact = ATTACK_TYPES.find((t) => t.toLowerCase() === n);
  return exact ?? 'other';
}

/** A time of the export as epoch minutes (UTC), or NaN. */
export function exportMinute(text: string, utcOffsetHours = 0): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) {
    const x = Number(t);
    return Math.floor((x > 1e11 ? x / 1000 : x) / 60);
  }
  const zoned = /[zZ]$|[+-]\d\d:?\d\d$/.test(t);
  if (!/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(t)) return NaN;
  const ms = Date.parse(t.replace(' ', 'T') + (zoned ? '' : 'Z'));
  if (!Number.isFinite(ms)) return NaN;
  return Math.floor((ms - (zoned ? 0 : utcOffsetHours * 3_600_000)) / 60_000);
}

export async function convertAlerts(opts: ConvertAlertsOptions): Promise<ConvertAlertsResult> {
  let text: string;
  try {
    text = readFileSync(opts.input, 'utf8');
  } catch (e) {
    throw new InputError(
      'io',
      { file: opts.input },
      '',
      `cannot read the alert export (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const lines = text.split(/\r?\n/);
  let h = 0;
  while (h < lines.length && (lines[h].trim() === '' || lines[h].startsWith('#'))) h++;
  if (h >= lines.length)
    throw new InputError('format', { file: opts.input }, '', 'empty file: expected a header line naming the columns');
  const header = splitCsvLine(lines[h]).map((x) => x.trim());
  const byName = new Map(header.map((n, i) => [norm(n), i]));
  const col: Partial<Record<AlertField, number>> = {};
  const fields = Object.keys(ALERT_COLUMN_NAMES) as AlertField[];
  for (const [field, column] of Object.entries(opts.map ?? {})) {
    if (!fields.includes(field as AlertField))
      throw new Error(`--map ${field}=${column}: '${field}' is not a field of the alert feed (${fields.join(', ')})`);
    const i = byName.get(norm(column));
    if (i === undefined)
      throw new InputError(
        'format',
        { file: opts.input, line: h + 1 },
        column,
        `--map ${field}=${column}: no such column (the header has ${header.join(', ')})`,
      );
    col[field as AlertField] = i;
  }
  for (const f of fields) {
    if (col[f] !== undefined) continue;
    for (const name of ALERT_COLUMN_NAMES[f]) {
      const i = byName.get(name);
      if (i !== undefined && !Object.values(col).includes(i)) {
        col[f] = i;
        break;
      }
    }
  }
  const missing = REQUIRED.filter((f) => col[f] === undefined);
  if (missing.length)
    throw new InputError(
      'format',
      { file: opts.input, line: h + 1 },
      '',
      `no column for ${missing.join(', ')} (the header has ${header.join(', ')}); name it with --map, e.g. --map ${missing[0]}=${header[0] ?? 'COLUMN'} (accepted names: ${missing.map((f) => `${f}: ${ALERT_COLUMN_NAMES[f].join('/')}`).join('; ')})`,
    );

  const registry = opts.nodes ? new NodeRegistry() : null;
  if (registry) await loadInventory(opts.nodes!, registry);
  const customerOf = (addr: string): string | null => {
    if (!registry) return null;
    const v4 = parseIPv4(addr);
    const id = v4 >= 0 ? registry.node4(v4) : registry.node6(addr);
    return id < 0 ? null : registry.customerOf(id);
  };

  const out: AlertLine[] = [];
  const ids = new Set<string>();
  const byType = Object.fromEntries(ATTACK_TYPES.map((t) => [t, 0])) as Record<AttackType, number>;
  const otherNames: Record<string, number> = {};
  let notInInventory = 0;
  for (let i = h + 1; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const f = splitCsvLine(raw);
    const lineNo = i + 1;
    const fail = (field: AlertField, detail: string): never => {
      throw new InputError(
        'format',
        { file: opts.input, line: lineNo },
        col[field] !== undefined ? header[col[field]!] : field,
        detail,
      );
    };
    if (f.length < header.length)
      fail(
        REQUIRED.find((r) => col[r]! >= f.length) ?? 'victim',
        `expected ${header.length} fields as in the header, found ${f.length}`,
      );
    const get = (field: AlertField) => (col[field] !== undefined ? (f[col[field]!] ?? '').trim() : '');
    const victim = canonicalAddress(get('victim'));
    if (victim === null) fail('victim', `'${get('victim')}' is not an IPv4 or IPv6 address`);
    const start = exportMinute(get('start'), opts.utcOffsetHours);
    if (!Number.isFinite(start))
      fail('start', `'${get('start')}' is not a time (ISO 8601, 'YYYY-MM-DD hh:mm[:ss]' or epoch seconds)`);
    const endText = get('end');
    const end = endText === '' ? start : exportMinute(endText, opts.utcOffsetHours);
    if (!Number.isFinite(end)) fail('end', `'${endText}' is not a time`);
    if (end < start) fail('end', `the alert ends (${minuteToIso(end)}) before it starts (${minuteToIso(start)})`);
    const count = (field: AlertField): number => {
      const v = Number(get(field));
      if (get(field) === '' || !Number.isFinite(v) || v < 0) fail(field, `'${get(field)}' is not a count >= 0`);
      return v;
    };
    const typeName = get('attack_type');
    const type = col.attack_type !== undefined ? attackTypeOf(typeName) : 'other';
    if (type === 'other') otherNames[typeName || '(none)'] = (otherNames[typeName || '(none)'] ?? 0) + 1;
    const fp = get('false_positive').toLowerCase();
    if (fp !== '' && !['true', 'false', '1', '0', 'yes', 'no'].includes(fp))
      fail('false_positive', `'${get('false_positive')}' is not true/false`);
    const id = get('alert_id') || `L${lineNo}`;
    if (ids.has(id)) fail('alert_id', `duplicate alert id '${id}'`);
    ids.add(id);
    const known = customerOf(victim!);
    if (registry && known === null) notInInventory++;
    const alert: AlertLine = {
      alert_id: id,
      victim: victim!,
      customer: get('customer') || known || '',
      attack_type: type,
      start: minuteToIso(start),
      end: minuteToIso(end),
      reported_packets: count('reported_packets'),
      reported_bytes: count('reported_bytes'),
      false_positive: fp === 'true' || fp === '1' || fp === 'yes',
    };
    validateWithSchema('alerts.schema.json', alert, `${opts.input}:${lineNo}`);
    byType[type]++;
    out.push(alert);
  }
  await writeFileAtomic(opts.output, out.map((a) => JSON.stringify(a)).join('\n') + (out.length ? '\n' : ''));
  const columns = Object.fromEntries(Object.entries(col).map(([k, i]) => [k, header[i!]])) as Partial<
    Record<AlertField, string>
  >;
  return { alerts: out.length, byType, otherNames, notInInventory, columns };
}

/**
 * Readers of the alert feed and of the synthetic ground truth (JSON lines; the shared data contract,
 * schemas/alerts.schema.json and schemas/ground-truth.schema.json). Every line is checked here, so a
 * bad line fails with its file, line number and field.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../ingest/record.js';
import { isoToMinute } from '../serialize/store.js';
import { validateWithSchema } from '../common/schema.js';
import { ATTACK_TYPES, type AlertLine, type AttackType } from '../catalogue/alerts.js';

export { ATTACK_TYPES, type AttackType };

/** A line of the feed (start and end inclusive, ISO minutes as in the feed), checked and parsed. */
export interface Alert extends AlertLine {
  /** Parsed: epoch minutes of start and end (inclusive). */
  startMinute: number;
  endMinute: number;
  /** 1-based line in the feed. */
  line: number;
}

export interface TruthMinute {
  /** Epoch minute. */
  minute: number;
  packets: number;
  bytes: number;
  flows: number;
}

export interface TruthAttack {
  alert_id: string | null;
  victim: string;
  attack_type: AttackType;
  /** Epoch minutes of the true onset and the last attack minute (inclusive). */
  onsetMinute: number;
  endMinute: number;
  /** The attack flows' own incoming totals per minute (the spoof list). */
  minutes: TruthMinute[];
  line: number;
}

function readLines(path: string): string[] {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError('io', { file: path }, '', (e as Error).message);
  }
  if (path.endsWith('.gz')) buf = gunzipSync(buf);
  return buf.toString('utf8').split(/\r?\n/);
}

class LineChecker {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly obj: Record<string, unknown>,
  ) {}
  fail(field: string, detail: string): never {
    throw new InputError('format', { file: this.file, line: this.line }, field, detail);
  }
  string(field: string): string {
    const v = this.obj[field];
    if (typeof v !== 'string' || v === '') this.fail(field, `expected a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }
  number(field: string, v: unknown = this.obj[field]): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      this.fail(field, `expected a number >= 0, got ${JSON.stringify(v)}`);
    return v;
  }
  minute(field: string, v: unknown = this.obj[field]): number {
    if (typeof v !== 'string')
      this.fail(field, `expected an ISO minute such as 2021-09-21T15:45:00Z, got ${JSON.stringify(v)}`);
    try {
      return isoToMinute(v);
    } catch (e) {
      this.fail(field, (e as Error).message);
    }
  }
  attackType(field: string): AttackType {
    const v = this.obj[field];
    if (!ATTACK_TYPES.includes(v as AttackType))
      this.fail(field, `expected one of ${ATTACK_TYPES.join(', ')}, got ${JSON.stringify(v)}`);
    return v as AttackType;
  }
}

/**
 * Parses JSON lines: `each` checks the fields it uses (errors name the field), then the whole line
 * is checked against the contract's schema (extra keys, minute format).
 */
function parseLines<T>(path: string, schema: string, each: (c: LineChecker) => T): T[] {
  const out: T[] = [];
  readLines(path).forEach((text, i) => {
    if (!text.trim()) return;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new InputError('format', { file: path, line: i + 1 }, '', `not JSON: ${(e as Error).message}`);
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj))
      throw new InputError('format', { file: path, line: i + 1 }, '', 'expected one JSON object per line');
    out.push(each(new LineChecker(path, i + 1, obj as Record<string, unknown>)));
    validateWithSchema(schema, obj, `${path}:${i + 1}`);
  });
  return out;
}

/** Reads an alert feed (JSON lines, optionally .gz). Alert ids must be unique. */
export function readAlerts(path: string): Alert[] {
  const seen = new Set<string>();
  return parseLines(path, 'alerts.schema.json', (c) => {
    const a: Alert = {
      alert_id: c.string('alert_id'),
      victim: c.string('victim'),
      customer:
        typeof c.obj.customer === 'string'
          ? c.obj.customer
          : c.fail('customer', `expected a string, got ${JSON.stringify(c.obj.customer)}`),
      attack_type: c.attackType('attack_type'),
      start: c.obj.start as string,
      end: c.obj.end as string,
      startMinute: c.minute('start'),
      endMinute: c.minute('end'),
      reported_packets: c.number('reported_packets'),
      reported_bytes: c.number('reported_bytes'),
      false_positive:
        typeof c.obj.false_positive === 'boolean'
          ? c.obj.false_positive
          : c.fail('false_positive', `expected true or false, got ${JSON.stringify(c.obj.false_positive)}`),
      line: c.line,
    };
    if (a.endMinute < a.startMinute) c.fail('end', `alert ends (${a.end}) before it starts (${a.start})`);
    if (seen.has(a.alert_id)) c.fail('alert_id', `duplicate alert id '${a.alert_id}'`);
    seen.add(a.alert_id);
    return a;
  });
}

/** Reads the synthetic ground truth (JSON lines, optionally .gz). */
export function readGroundTruth(path: string): TruthAttack[] {
  return parseLines(path, 'ground-truth.schema.json', (c) => {
    const id = c.obj.alert_id;
    if (id !== null && (typeof id !== 'string' || id === ''))
      c.fail('alert_id', `expected a string or null, got ${JSON.stringify(id)}`);
    const mins = c.obj.minutes as unknown[];
    if (!Array.isArray(mins))
      c.fail('minutes', `expected an array of {minute, packets, bytes, flows}, got ${JSON.stringify(mins)}`);
    const g: TruthAttack = {
      alert_id: id as string | null,
      victim: c.string('victim'),
      attack_type: c.attackType('attack_type'),
      onsetMinute: c.minute('onset'),
      endMinute: c.minute('end'),
      minutes: mins.map((m: unknown, k: number) => {
        const o = (m ?? {}) as Record<string, unknown>;
        return {
          minute: c.minute(`minutes[${k}].minute`, o.minute),
          packets: c.number(`minutes[${k}].packets`, o.packets),
          bytes: c.number(`minutes[${k}].bytes`, o.bytes),
          flows: c.number(`minutes[${k}].flows`, o.flows),
        };
      }),
      line: c.line,
    };
    if (g.endMinute < g.onsetMinute) c.fail('end', 'attack ends before its onset');
    return g;
  });
}

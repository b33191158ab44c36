/**
 * What makes a restarted watch neither repeat nor lose alerts, and where alerts go.
 *
 * Order of writes at each closed minute: its alerts are appended to the alerts file (one JSON line each,
 * then fsync), the notify script is called, then the state file is replaced atomically (ts/common/atomic.ts)
 * with the minute as `lastMinute` and every node's alert state. A restart reads the state, re-reads the
 * flow files that hold the W minutes before `lastMinute` + 1 to rebuild the windows (not scored again),
 * and scores from `lastMinute` + 1 on. A crash between the append and the state write would score that
 * minute again: its alerts are then recognised by their id in the alerts file (the ids of the minutes after
 * `lastMinute` are read back at start) and neither written nor notified twice.
 *
 * The notify script is FastNetMon's interface: `SCRIPT IP incoming|outgoing PPS ban|unban`, the alert as
 * JSON on stdin; a failure or a timeout (30 s) is reported and the watch goes on.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { execa } from 'execa';
import { writeFileAtomic } from '../common/atomic.js';
import type { AlertState, WatchAlert } from './alerts.js';

export const STATE_KIND = 'netflowgen.watch-state';

export interface WatchState {
  kind: typeof STATE_KIND;
  version: 1;
  run: string;
  flowDir: string;
  /** The last closed minute whose alerts were written (epoch minutes). */
  lastMinute: number;
  /** Alert state per detector, per node address. */
  alerts: Record<string, Record<string, AlertState>>;
  updated: string;
}

export function readState(path: string, run: string, flowDir: string): WatchState | null {
  if (!existsSync(path)) return null;
  let s: WatchState;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as WatchState;
  } catch (e) {
    throw new Error(`${path}: not a readable watch state file (${(e as Error).message}); move it away to start afresh`);
  }
  if (s.kind !== STATE_KIND) throw new Error(`${path}: kind ${JSON.stringify(s.kind)} is not ${STATE_KIND}`);
  if (s.run !== run)
    throw new Error(
      `${path}: the state of a watch of ${s.run}, not ${run}; give another --state file or move this one away`,
    );
  if (s.flowDir !== flowDir)
    throw new Error(`${path}: the state of a watch of ${s.flowDir}, not ${flowDir}; give another --state file`);
  return s;
}

export async function writeState(path: string, s: WatchState): Promise<void> {
  await writeFileAtomic(path, JSON.stringify({ ...s, updated: new Date().toISOString() }) + '\n');
}

/** Alerts as JSON lines: to a file (appended, synced) or to stdout. */
export class AlertLog {
  private readonly known = new Set<string>();
  private fd: number | null = null;

  constructor(private readonly path: string | null) {}

  /** Reads back the ids of the alerts after `minute` (a restart: module docstring). */
  recall(afterMinute: number): void {
    if (!this.path || !existsSync(this.path)) return;
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const a = JSON.parse(line) as WatchAlert;
        if (a.epochMinute > afterMinute) this.known.add(a.id);
      } catch {
        // a torn last line from a crash: ignored
      }
    }
  }

  has(id: string): boolean {
    return this.known.has(id);
  }

  write(alerts: readonly WatchAlert[]): void {
    if (!alerts.length) return;
    const text = alerts.map((a) => JSON.stringify(a) + '\n').join('');
    for (const a of alerts) this.known.add(a.id);
    if (!this.path) {
      process.stdout.write(text);
      return;
    }
    this.fd ??= openSync(this.path, 'a');
    writeSync(this.fd, text);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Calls the FastNetMon-style notify script for one alert; resolves to an error message or null. */
export async function notify(script: string, a: WatchAlert, timeoutMs = 30_000): Promise<string | null> {
  const pps = Math.round(a.direction === 'incoming' ? a.traffic.in.pps : a.traffic.out.pps);
  const action = a.event === 'attack' ? 'ban' : 'unban';
  const r = await execa(script, [a.node, a.direction, String(pps), action], {
    input: JSON.stringify(a) + '\n',
    reject: false,
    timeout: timeoutMs,
    all: true,
  });
  if (r.exitCode === 0 && !r.timedOut) return null;
  const why = r.timedOut ? `timed out after ${timeoutMs / 1000} s` : `exit code ${r.exitCode ?? r.signal}`;
  return `notify script ${script} ${a.node} ${a.direction} ${pps} ${action}: ${why}${r.all ? `: ${String(r.all).trim().slice(-300)}` : ''}`;
}

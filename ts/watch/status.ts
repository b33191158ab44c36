/**
 * The watch's status line: on a terminal only (common/progress.ts's rule: stderr is a TTY and CI is not
 * set, NETFLOWGEN_PROGRESS=0/1 forces it), one line redrawn at most twice a second: the last closed
 * minute, how far it is behind the newest record and behind the wall clock, nodes, alerts. Nothing in a
 * pipe or a log file.
 */
import { progressEnabled } from '../common/progress.js';
import { minuteToIso } from '../serialize/store.js';

export class StatusLine {
  private readonly on = progressEnabled();
  private last = 0;
  private drawn = false;

  show(minute: number, newest: number, nodes: number, alerts: number): void {
    if (!this.on) return;
    const now = Date.now();
    if (now - this.last < 500) return;
    this.last = now;
    const live = Math.floor(now / 60_000) - minute;
    const behind = Number.isFinite(newest) ? newest - minute : 0;
    const text = `watch ${minuteToIso(minute)} | ${behind} min behind the newest record, ${live} behind the clock | ${nodes} nodes | ${alerts} alerts`;
    process.stderr.write(`\r${text}\u001b[K`);
    this.drawn = true;
  }

  stop(): void {
    if (this.drawn) process.stderr.write('\n');
    this.drawn = false;
  }
}

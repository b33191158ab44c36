/**
 * One progress view over the whole chain. On a terminal (stderr a TTY, CI unset; NETFLOWGEN_PROGRESS
 * forces it): one bar of the chain's stages, the running stage's own detail beside it (epoch, loss,
 * ...), finished stages listed above it. Elsewhere: one line per stage as it starts and ends. The
 * stages' own bars stay off while the view is up (they would fight over the terminal).
 */
import cliProgress from 'cli-progress';
import { progressEnabled } from '../common/progress.js';
import type { StageEvent } from './graph.js';

export interface ChainView {
  onEvent(e: StageEvent): void;
  /** Removes the bar (the view prints nothing more). */
  stop(): void;
}

export function formatSeconds(s: number): string {
  if (s < 59.95) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  const m = Math.floor(whole / 60);
  return m < 60 ? `${m} min ${whole % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The text of a finished (or cached) stage's line: `[ 4/14] bin: dataset ... 2.1 s`. */
export function stageLine(e: Extract<StageEvent, { type: 'done' }>): string {
  const n = String(e.total).length;
  return `[${String(e.index + 1).padStart(n)}/${e.total}] ${e.label} ${e.cached ? '(cached)' : formatSeconds(e.seconds)}`;
}

/** A view writing to `write` (default stderr); `tty` decides bar or lines (default: progressEnabled()). */
export function createChainView(opts: { tty?: boolean; write?: (s: string) => void } = {}): ChainView {
  const write = opts.write ?? ((s: string) => process.stderr.write(s));
  const tty = opts.tty ?? progressEnabled();
  if (!tty) {
    return {
      onEvent(e) {
        if (e.type === 'plan') {
          const cached = e.stages.filter((s) => s.cached).length;
          write(`reproduce: ${e.stages.length} stages, ${cached} already done\n`);
        } else if (e.type === 'start') {
          const n = String(e.total).length;
          write(`[${String(e.index + 1).padStart(n)}/${e.total}] ${e.label}${e.resumed ? ' (resuming)' : ''} ...\n`);
        } else if (e.type === 'done' && !e.cached) write(`${stageLine(e)}\n`);
        else if (e.type === 'failed') write(`failed: ${e.label}\n`);
        else if (e.type === 'log') write(`    ${e.message}\n`);
      },
      stop() {},
    };
  }
  // The stages' own bars write to the same terminal: keep them quiet while this view is up.
  const before = process.env.NETFLOWGEN_PROGRESS;
  process.env.NETFLOWGEN_PROGRESS = '0';
  const multi = new cliProgress.MultiBar(
    {
      format: 'reproduce {bar} {value}/{total} stages | {elapsed} | {stage} {detail}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let done = 0;
  let current = '';
  let detail = '';
  const t0 = Date.now();
  const payload = () => ({ stage: current, detail, elapsed: formatSeconds((Date.now() - t0) / 1000) });
  const timer = setInterval(() => bar?.update(payload()), 1000);
  timer.unref();
  return {
    onEvent(e) {
      if (e.type === 'plan') {
        bar = multi.create(e.stages.length, 0, payload());
        const cached = e.stages.filter((s) => s.cached).length;
        if (cached) multi.log(`reproduce: ${cached} of ${e.stages.length} stages already done\n`);
      } else if (e.type === 'start') {
        current = e.label + (e.resumed ? ' (resuming)' : '');
        detail = '';
        bar?.update(done, payload());
      } else if (e.type === 'progress') {
        detail = e.detail;
        bar?.update(done + Math.min(0.99, Math.max(0, e.fraction ?? 0)), payload());
      } else if (e.type === 'log') {
        multi.log(`    ${e.message}\n`);
      } else if (e.type === 'done') {
        done++;
        if (!e.cached) multi.log(`${stageLine(e)}\n`);
        detail = '';
        bar?.update(done, payload());
      } else if (e.type === 'failed') {
        multi.log(`failed: ${e.label}\n`);
      }
    },
    stop() {
      clearInterval(timer);
      multi.stop();
      if (before === undefined) delete process.env.NETFLOWGEN_PROGRESS;
      else process.env.NETFLOWGEN_PROGRESS = before;
    },
  };
}

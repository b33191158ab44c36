/**
 * Progress on a terminal, silence elsewhere. A bar is drawn only when stderr is a TTY and CI is not
 * set (NETFLOWGEN_PROGRESS=0/1 forces it off/on). Updates are cheap to call often: cli-progress
 * throttles redraws.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the position (in the bar's unit) and optional payload fields shown in the format. */
  update(value: number, payload?: Record<string, string | number>): void;
  setTotal(total: number): void;
  stop(): void;
}

export function progressEnabled(stream: NodeJS.WriteStream = process.stderr): boolean {
  const forced = process.env.NETFLOWGEN_PROGRESS;
  if (forced === '0') return false;
  if (forced === '1') return true;
  return Boolean(stream.isTTY) && !process.env.CI;
}

const silent: Progress = { update() {}, setTotal() {}, stop() {} };

/**
 * A progress bar. `format` uses cli-progress tokens ({bar} {percentage} {value} {total} {eta_formatted})
 * and payload names, e.g. '{bar} {percentage}% | {rate} rec/s | {mb} MB | ETA {eta_formatted}'.
 */
export function createProgress(
  label: string,
  total: number,
  format = '{bar} {percentage}% | ETA {eta_formatted}',
): Progress {
  if (!progressEnabled()) return silent;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} ${format}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  // Payload tokens start empty, so the first frame never shows a raw {token}.
  const builtin = new Set([
    'bar',
    'percentage',
    'value',
    'total',
    'eta',
    'eta_formatted',
    'duration',
    'duration_formatted',
  ]);
  const initial = Object.fromEntries(
    [...format.matchAll(/\{(\w+)\}/g)]
      .map((m) => m[1])
      .filter((t) => !builtin.has(t))
      .map((t) => [t, '']),
  );
  bar.start(Math.max(1, total), 0, initial);
  return {
    update: (v, payload) => bar.update(v, payload),
    setTotal: (t) => bar.setTotal(Math.max(1, t)),
    stop: () => bar.stop(),
  };
}

/**
 * The onEvent of a Python script whose progress lines count `unit` (schemas/python-events.schema.json):
 * `{"event": "progress", <unit>: total, <unit>_done: done}` sets the bar's total and position; its done line
 * leaves it alone. Typed so that a script whose progress line lacks those two numbers does not compile.
 */
export function progressEvents<U extends string>(
  bar: Progress,
  unit: U,
): (e: ({ event: 'progress' } & Record<U | `${U}_done`, number>) | { event: 'done' }) => void {
  return (e) => {
    if (e.event !== 'progress') return;
    const p = e as Record<U | `${U}_done`, number>;
    if (p[unit] > 0) {
      bar.setTotal(p[unit]);
      bar.update(p[`${unit}_done`]);
    }
  };
}

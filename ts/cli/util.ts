/** Shared plumbing of the CLI commands: Ctrl-C handling and error reporting. */

/**
 * An AbortSignal that fires on SIGINT/SIGTERM; a second Ctrl-C exits at once. The handlers stay
 * installed (process.on, not once): execa re-raises a signal when it believes it is the last
 * listener, which would kill node before a child process is stopped and the run log written.
 */
export function interruptSignal(message = 'stopping; nothing half-written is kept'): AbortSignal {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig}: ${message}\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return ac.signal;
}

/** Runs a command body; prints a one-line error (the stack with NETFLOWGEN_DEBUG=1) and sets the exit code. */
export async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    const err = e as Error;
    if (err.name === 'AbortError') {
      process.stderr.write(`netflowgen: ${err.message}\n`);
      process.exitCode = 130;
      return;
    }
    process.stderr.write(`netflowgen: ${process.env.NETFLOWGEN_DEBUG ? err.stack : err.message}\n`);
    process.exitCode = 1;
  }
}

/** A yargs handler that runs `body` through run() (one-line errors; exit code 1, or 130 when interrupted). */
export function runCommand<A>(body: (a: A) => Promise<void>): (a: A) => Promise<void> {
  return (a) => run(() => body(a));
}

/** --force of a command that writes a folder of its own (checkOutputDir's rule). */
export const FORCE_OPTION: { type: 'boolean'; default: boolean; describe: string } = {
  type: 'boolean',
  default: false,
  describe:
    'replace a previous netflowgen output (its manifest says so); a folder holding an input, or anything else, is never replaced',
};

/** --quiet (-q): print only errors. */
export const QUIET_OPTION: { alias: string; type: 'boolean'; default: boolean; describe: string } = {
  alias: 'q',
  type: 'boolean',
  default: false,
  describe: 'print only errors',
};

/** --dataset (-d): the binned dataset a command reads. */
export const DATASET_OPTION: { alias: string; type: 'string'; demandOption: true; describe: string } = {
  alias: 'd',
  type: 'string',
  demandOption: true,
  describe: 'binned dataset folder (netflowgen bin)',
};

/** Number options that need only a description, in the order given: `.options(numberOptions({ name: describe }))`. */
export function numberOptions<K extends string>(
  describe: Record<K, string>,
): Record<K, { type: 'number'; describe: string }> {
  return Object.fromEntries(
    Object.entries<string>(describe).map(([k, d]) => [k, { type: 'number' as const, describe: d }]),
  ) as Record<K, { type: 'number'; describe: string }>;
}

/** --device, --bf16 and --fp16 of the training commands (bf16 and fp16 exclude each other: `.conflicts('bf16', 'fp16')`). */
export const PRECISION_OPTIONS = {
  device: { type: 'string', choices: ['cpu', 'cuda'], describe: 'device (default: the spec\u2019s, cpu)' },
  bf16: { type: 'boolean', describe: 'train in bfloat16 (cuda, or the cpu with --device cpu)' },
  fp16: { type: 'boolean', describe: 'train in float16 (cuda)' },
} as const;

/**
 * --resume, --force and --check of a resumable run folder (OUT/<spec name>); `checked` says what --check
 * does before training.
 */
export function runFolderOptions(checked: string) {
  return {
    resume: {
      type: 'boolean',
      default: true,
      describe: 'resume from checkpoint_last.pt when the run folder holds the same spec (--no-resume starts over)',
    },
    force: {
      type: 'boolean',
      default: false,
      describe: 'start over even when the run folder holds a run of a different spec',
    },
    check: { type: 'boolean', default: true, describe: `${checked} first (--no-check skips)` },
  } as const;
}

/**
 * Running netflowgen's command line in tests, one way each:
 *  - `netflowgen(args)`: the built CLI (dist/ts/cli/main.js) as a child process, never rejecting, with
 *    progress bars off; the result carries exitCode, stdout and stderr.
 *  - `inProcess(commands, args)`: the given yargs command modules in this process, as `netflowgen ...`
 *    would run them, with stdout, stderr and process.exitCode captured and restored afterwards.
 */
import { execa } from 'execa';
import yargs, { type CommandModule } from 'yargs';

/** The built CLI's entry point. */
export const CLI = new URL('../../ts/cli/main.js', import.meta.url).pathname;

/** `node dist/ts/cli/main.js ...args` in `cwd` (default: this process's), progress bars off. */
export function netflowgen(args: string[], cwd?: string, env: Record<string, string> = {}) {
  return execa('node', [CLI, ...args], { cwd, reject: false, env: { NETFLOWGEN_PROGRESS: '0', ...env } });
}

export interface Captured {
  out: string;
  err: string;
  code: number;
}

/** What `run` writes to stdout and stderr and the exit code it leaves; both streams and the code restored after. */
export async function capture(run: () => Promise<unknown>): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const [w, we, code0] = [
    process.stdout.write.bind(process.stdout),
    process.stderr.write.bind(process.stderr),
    process.exitCode,
  ];
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    await run();
    return { out: out.join(''), err: err.join(''), code: Number(process.exitCode ?? 0) };
  } finally {
    process.stdout.write = w;
    process.stderr.write = we;
    process.exitCode = code0;
  }
}

/** Command modules run in-process (as `netflowgen ...args`, strict, without exiting). */
export function inProcess(commands: CommandModule<object, never>[], args: string[]): Promise<Captured> {
  return capture(async () => {
    let y = yargs(args).strict().exitProcess(false);
    for (const c of commands) y = y.command(c);
    await y.parseAsync();
  });
}

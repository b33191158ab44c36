/**
 * Where the project's Python lives: the interpreter of the venv that scripts/setup.sh builds
 * (.venv/bin/python beside package.json), or NETFLOWGEN_PYTHON when set. fairseq-train is the
 * console script beside that interpreter.
 */
import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import { dirname, join } from 'node:path';
import { packageRoot } from '../common/paths.js';
import { checkedEventLine, eventValidators, scriptName, type PythonEvents, type PythonScriptName } from './events.js';

export function pythonBin(): string {
  return process.env.NETFLOWGEN_PYTHON || join(packageRoot(), '.venv', 'bin', 'python');
}

export function fairseqTrainBin(): string {
  return join(dirname(pythonBin()), 'fairseq-train');
}

/** The Fairseq plugin folder (--user-dir). */
export function pluginDir(): string {
  return join(packageRoot(), 'fairseq_plugins');
}

/** A Python script of the package's python/ folder. */
export function pythonScript(name: string): string {
  return join(packageRoot(), 'python', name);
}

/**
 * Environment of a Python child: unbuffered output (JSON lines arrive live) and an explicit thread
 * count (torch would otherwise take every core of a shared machine).
 */
export function pythonEnv(threads = defaultThreads()): Record<string, string> {
  return { PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
}

/** OMP_NUM_THREADS when set, else the number of cores. */
export function defaultThreads(): number {
  const env = Number(process.env.OMP_NUM_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

export interface PythonRun {
  exitCode: number | undefined;
  /** Stopped through the signal. */
  canceled: boolean;
  /** The last 40 lines of its output (stdout and stderr together), for the error message. */
  tail: string[];
}

/** A fork server (python/forkserver.py, run by forkserver.ts): its socket, and whether it is ready (the first call starts it). */
interface ActiveForkServer {
  readonly socket: string;
  ready(): Promise<boolean>;
}

let forkServer: ActiveForkServer | undefined;

/** Sets (or, with undefined, clears) the fork server that jobArgv routes Python jobs through. */
export function setForkServer(server: ActiveForkServer | undefined): void {
  forkServer = server;
}

/**
 * The argv that runs a Python job (`python SCRIPT.py ...` or `fairseq-train ...`): through the fork server
 * when one is ready (python/forkrun.py SOCKET ARGV..., which takes the job's place: same output, exit
 * status, signals), else argv itself.
 */
export async function jobArgv(argv: readonly string[]): Promise<string[]> {
  const server = forkServer;
  if (!server || !(await server.ready())) return [...argv];
  return [pythonBin(), pythonScript('forkrun.py'), server.socket, ...argv];
}

/**
 * Runs a script of python/ with the project's interpreter and thread count, handing each event line it
 * prints (a JSON object with an "event" key) to onEvent as it arrives, after checking it against the script's
 * definition in schemas/python-events.schema.json. A line that does not match stops the script and rejects,
 * naming the script, the line and the field: the script and its reader disagree about the contract.
 * Otherwise resolves when the process ends, whatever its exit code: the caller turns a failure or a
 * cancellation into its own error with `tail`.
 */
export async function runPythonScript<S extends PythonScriptName>(
  script: `${S}.py`,
  args: readonly string[],
  opts: { threads?: number; signal?: AbortSignal; onEvent?: (e: PythonEvents[S]) => void } = {},
): Promise<PythonRun> {
  const name = scriptName(script);
  eventValidators(name); // a script without a definition fails before it starts
  const [bin, ...argv] = await jobArgv([pythonBin(), pythonScript(script), ...args]);
  const child = execa(bin, argv, {
    env: pythonEnv(opts.threads),
    all: true,
    buffer: false,
    reject: false,
    stdin: 'ignore',
    cancelSignal: opts.signal,
  });
  const tail: string[] = [];
  let broken: string | undefined;
  let lineNo = 0;
  try {
    for await (const line of child.iterable({ from: 'all' })) {
      lineNo++;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      let event: PythonEvents[S] | undefined;
      try {
        event = checkedEventLine(name, lineNo, line);
      } catch (e) {
        broken = (e as Error).message;
        child.kill();
        break;
      }
      if (event !== undefined) opts.onEvent?.(event);
    }
  } catch {
    // cancelled: the result says so
  }
  const res = await child;
  if (broken) throw new Error(broken);
  return { exitCode: res.exitCode, canceled: Boolean(opts.signal?.aborted || res.isCanceled), tail };
}

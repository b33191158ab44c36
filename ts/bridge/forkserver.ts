/**
 * A fork server for the Python jobs of a long run (python/forkserver.py): one Python process imports
 * torch, fairseq and the plugin once, and every fairseq-train launch and python/ script started while it
 * is open runs in a fork of it (through python/forkrun.py, which takes the job's place as the execa child:
 * same output lines, exit status and signals). A fresh Python pays that start-up, seconds of CPU, for each
 * of the dozens of training and scoring runs of a preset (docs/reproduce.md, "Where the time goes"); the
 * numbers the jobs compute do not change (each is seeded by its own code, and takes its own thread count).
 *
 * The first job that asks starts the server, and the jobs wait until it is ready; if it fails to start,
 * they start Python themselves, as they do without a server. NETFLOWGEN_FORK_SERVER=0 turns it off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { pythonBin, pythonScript, setForkServer } from './python.js';
import { checkedEventLine } from './events.js';

export interface ForkServerOptions {
  /** Warnings (the server failed to start, and the jobs start Python themselves). Default: stderr. */
  log?: (msg: string) => void;
  /** Limit for importing torch and fairseq, ms (default 300 s: a busy machine is slow at it). */
  readyTimeoutMs?: number;
}

/** Whether reproduce uses a fork server: yes unless NETFLOWGEN_FORK_SERVER is 0 (or false, off). */
export function forkServerEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !['0', 'false', 'off', 'no'].includes((env.NETFLOWGEN_FORK_SERVER ?? '').trim().toLowerCase());
}

/**
 * Routes the Python jobs through a fork server (jobArgv) until `fn` settles, then ends it. The server is
 * started by the first job that asks for it (a run whose stages are all done starts none), and that job
 * waits for its imports.
 */
export async function withForkServer<T>(fn: () => Promise<T>, opts: ForkServerOptions = {}): Promise<T> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const limitMs = opts.readyTimeoutMs ?? 300_000;
  let dir: string | undefined;
  let server: ResultPromise | undefined;
  let exited: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let ready: Promise<boolean> | undefined;
  const start = (socket: string): Promise<boolean> => {
    const child = execa(pythonBin(), [pythonScript('forkserver.py'), socket], {
      env: { PYTHONUNBUFFERED: '1' },
      all: true,
      buffer: false,
      reject: false,
      stdin: 'ignore',
    });
    server = child;
    const tail: string[] = [];
    exited = child.then((r) => {
      if (!r.isTerminated && r.exitCode !== 0)
        log(
          `warning: python/forkserver.py ended (exit code ${r.exitCode}); each Python job starts Python itself:\n  ${tail.slice(-5).join('\n  ')}`,
        );
    });
    return new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        log(
          `warning: python/forkserver.py did not start within ${(limitMs / 1000).toFixed(0)} s; each Python job starts Python itself`,
        );
        resolve(false);
      }, limitMs);
      void (async () => {
        try {
          let lineNo = 0;
          for await (const line of child.iterable({ from: 'all' })) {
            tail.push(line);
            if (tail.length > 20) tail.shift();
            let e;
            try {
              e = checkedEventLine('forkserver', ++lineNo, line);
            } catch (err) {
              log(`warning: ${(err as Error).message}\neach Python job starts Python itself`);
              child.kill();
              resolve(false);
              continue;
            }
            if (e?.event === 'ready') resolve(true);
          }
        } catch {
          // the server was stopped
        }
        resolve(false);
      })();
    }).then((ok) => {
      clearTimeout(timer);
      return ok;
    });
  };
  setForkServer({
    get socket() {
      dir ??= mkdtempSync(join(tmpdir(), 'netflowgen-fork-'));
      return join(dir, 'socket');
    },
    ready() {
      ready ??= start(this.socket);
      return ready;
    },
  });
  try {
    return await fn();
  } finally {
    setForkServer(undefined);
    clearTimeout(timer);
    server?.kill('SIGTERM');
    await exited;
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

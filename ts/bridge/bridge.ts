/**
 * Short in-process calls into Python (python/bridge.py) through pythonia: count a model's parameters,
 * check a rendered fairseq-train argv with Fairseq's own parser, run one forward pass.
 *
 * pythonia facts this wrapper handles (docs/pretrain.md, shared STACK-NOTES):
 *  - the interpreter is PYTHON_BIN, read when pythonia starts its child: it is set here and pythonia
 *    is loaded with a dynamic import() afterwards (a static import would be hoisted above it);
 *  - every call has an explicit timeout (pythonia's default is 100 s), and a call also fails at once
 *    when the Python process dies, instead of waiting for the timeout;
 *  - Node does not exit while the bridge is open: `withBridge` always closes it (mocha: an after hook);
 *  - a Python exception arrives with an empty message and the traceback in .stack: it is rethrown as
 *    a BridgeError whose message is the Python error line;
 *  - data travels by file path, never as big arrays.
 * Only one bridge is open per Node process (pythonia has one Python child).
 */
import type { ChildProcess } from 'node:child_process';
import { pythonBin, pythonScript } from './python.js';

export interface BridgeOptions {
  /** Interpreter (default .venv/bin/python or NETFLOWGEN_PYTHON). */
  python?: string;
  /** The Python module (default python/bridge.py). */
  script?: string;
  /** Limit for starting Python and importing the module, ms (default 120 s: torch and fairseq load). */
  openTimeoutMs?: number;
  /** Default limit of each call, ms (default 60 s). */
  callTimeoutMs?: number;
}

/** Shape and vocabulary sizes a model is built for. */
export interface ModelDims {
  nNodeIds: number;
  nCustomers: number;
  nFeatures: number;
  nBins: number;
  window: number;
}

/** Architecture size overrides, as fairseq's argument names (decoder_layers ...). */
export type ArchOverrides = Partial<
  Record<
    'decoder_layers' | 'decoder_attention_heads' | 'decoder_embed_dim' | 'decoder_ffn_embed_dim' | 'dropout',
    number
  >
>;

export interface ParameterCount {
  total: number;
  by_part: { input: number; node_emb: number; customer_emb: number; positions: number; layers: number; output: number };
}

export interface TrainArgsCheck {
  ok: boolean;
  errors: string[];
}

export interface ForwardSmoke {
  loss: number;
  shape: number[];
}

/** An error raised in Python (or the bridge failing), with Python's error line as the message. */
export class BridgeError extends Error {
  constructor(
    message: string,
    readonly pythonTrace?: string,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}

// pythonia's module, loosely typed: its .d.ts does not describe `com` or the `$` call form.
interface PythoniaModule {
  python: ((file: string) => Promise<PyModule>) & { exit(): void };
  com: { proc: ChildProcess | null };
}
type PyFn = (...args: unknown[]) => Promise<PyValue>;
type PyModule = Record<string, PyFn>;
interface PyValue {
  valueOf(): Promise<unknown>;
}

let active: PythonBridge | undefined;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The Python error line of a pythonia exception ('ValueError: ...'), else the error's message. */
export function pythonErrorLine(e: unknown): string {
  const err = e as Error;
  const stack = (err?.stack ?? '').replace(ANSI, '');
  const m = /(?:\*\*\* JS \*\*\*|🌉)\s*(.+)\s*$/.exec(stack);
  if (m) return m[1].trim();
  return err?.message || String(e);
}

export class PythonBridge {
  private closed = false;
  private exitInfo: string | undefined;
  private readonly onExit: (code: number | null, signal: string | null) => void;

  private constructor(
    private readonly py: PythoniaModule,
    private readonly mod: PyModule,
    private readonly proc: ChildProcess,
    private readonly callTimeoutMs: number,
  ) {
    this.onExit = (code, signal) => {
      this.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
    };
    proc.once('exit', this.onExit);
  }

  /** Starts Python and imports the bridge module. Close it with close() (or use withBridge). */
  static async open(opts: BridgeOptions = {}): Promise<PythonBridge> {
    if (active) throw new BridgeError('a Python bridge is already open in this process; close it first');
    process.env.PYTHON_BIN = opts.python ?? pythonBin();
    // pythonia reads REQ_TIMEOUT when it loads; 0 = no timer of its own. Every wait here is raced with
    // our own timer and with the process's exit, and pythonia's timers would otherwise keep Node alive
    // after a failed call until they expire.
    process.env.REQ_TIMEOUT ??= '0';
    const loaded = (await import('pythonia')) as unknown as { default?: PythoniaModule } & PythoniaModule;
    const py = loaded.default ?? loaded;
    const script = opts.script ?? pythonScript('bridge.py');
    const openMs = opts.openTimeoutMs ?? 120_000;
    let mod: PyModule;
    try {
      const importing = py.python(script);
      const proc = py.com.proc;
      if (!proc) throw new BridgeError('pythonia did not start a Python process');
      mod = await race(importing, openMs, proc, `importing ${script} with ${process.env.PYTHON_BIN}`);
      const bridge = new PythonBridge(py, mod, proc, opts.callTimeoutMs ?? 60_000);
      active = bridge;
      return bridge;
    } catch (e) {
      py.python.exit();
      throw e instanceof BridgeError
        ? e
        : new BridgeError(`cannot import ${script}: ${pythonErrorLine(e)}`, (e as Error).stack);
    }
  }

  /** Calls a function of the module with positional arguments; returns its value as plain JSON data. */
  async call<T>(name: string, args: unknown[], timeoutMs = this.callTimeoutMs): Promise<T> {
    if (this.closed) throw new BridgeError(`bridge is closed (calling ${name})`);
    if (this.exitInfo) throw new BridgeError(`Python has exited (${this.exitInfo}); calling ${name}`);
    const fn = this.mod[`${name}$`];
    try {
      // `name$(...args, {$timeout})`: Infinity = no pythonia timer (see open); the race times the call.
      const value = await race(fn(...args, { $timeout: Infinity }), timeoutMs, this.proc, `${name}()`);
      return (await race(value.valueOf(), timeoutMs, this.proc, `${name}() result`)) as T;
    } catch (e) {
      if (e instanceof BridgeError) throw e;
      throw new BridgeError(`python/bridge.py ${name}: ${pythonErrorLine(e)}`, (e as Error).stack);
    }
  }

  /** Parameters of a model built from an architecture name and size overrides. */
  countParameters(
    arch: string,
    overrides: ArchOverrides,
    dims: ModelDims,
    timeoutMs?: number,
  ): Promise<ParameterCount> {
    return this.call<ParameterCount>(
      'count_parameters',
      [arch, overrides, dims.nNodeIds, dims.nCustomers, dims.nFeatures, dims.nBins, dims.window],
      timeoutMs,
    );
  }

  /** Parses a fairseq-train argv (without the program name) with Fairseq's own options, without training. */
  checkTrainArgs(argv: string[], timeoutMs?: number): Promise<TrainArgsCheck> {
    return this.call<TrainArgsCheck>('check_train_args', [argv], timeoutMs);
  }

  /** One batch of a dataset through a freshly built model. */
  forwardSmoke(
    datasetDir: string,
    arch: string,
    overrides: ArchOverrides = {},
    timeoutMs = 120_000,
  ): Promise<ForwardSmoke> {
    return this.call<ForwardSmoke>('forward_smoke', [datasetDir, arch, overrides], timeoutMs);
  }

  /** Ends the Python process (idempotent); waits up to 5 s for it to go. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (active === this) active = undefined;
    const gone = this.exitInfo ? Promise.resolve() : new Promise<void>((res) => this.proc.once('exit', () => res()));
    this.py.python.exit();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise<void>((res) => (timer = setTimeout(res, 5000)))]);
    clearTimeout(timer);
    this.proc.off('exit', this.onExit);
  }
}

/** Opens a bridge, runs `fn`, and closes the bridge whatever happens. */
export async function withBridge<T>(fn: (b: PythonBridge) => Promise<T>, opts: BridgeOptions = {}): Promise<T> {
  const b = await PythonBridge.open(opts);
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

/** `p`, or a BridgeError when `ms` pass or the Python process exits first. */
function race<T>(p: Promise<T>, ms: number, proc: ChildProcess, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onExit: ((code: number | null, signal: string | null) => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BridgeError(`Python did not answer within ${(ms / 1000).toFixed(0)} s (${what})`)),
      ms,
    );
    onExit = (code, signal) =>
      reject(new BridgeError(`Python exited (${signal ? `signal ${signal}` : `exit code ${code}`}) during ${what}`));
    if (proc.exitCode !== null || proc.signalCode !== null) onExit(proc.exitCode, proc.signalCode);
    else proc.once('exit', onExit);
  });
  p.catch(() => {}); // a late rejection after the race is lost must not be unhandled
  return Promise.race([p, stop]).finally(() => {
    clearTimeout(timer);
    if (onExit) proc.off('exit', onExit);
  });
}

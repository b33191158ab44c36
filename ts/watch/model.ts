/**
 * The fine-tuned model held in one long-lived Python process (python/watch_model.py) through the pythonia
 * bridge (ts/bridge/bridge.ts): loaded once, then one call per closed minute with a file path (nodes x W x F
 * bins, written here), answered with a file of hazards and survival curves (float32 [2, n, D]).
 *
 * Failures, as the watch needs them:
 *  - a Python exception in a call (a bad file, a CUDA hiccup): a `ModelCallError` with Python's error line and
 *    its traceback; the process is still alive and the watch reports it and goes on (the minute is not scored);
 *  - the process dies (killed, out of memory) or a call takes longer than `callTimeoutMs`: a `ModelDeadError`
 *    naming python/watch_model.py, its pid and the exit signal or the timeout, within the bridge's race (at
 *    once for a death); the bridge is closed (a hung process is ended) and the watch stops with that error;
 *  - a missing or wrong checkpoint: `load` fails with Python's message (FileNotFoundError: ...).
 */
import { promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BridgeError, PythonBridge } from '../bridge/bridge.js';
import { pythonScript } from '../bridge/python.js';

export const WATCH_SCRIPT = 'watch_model.py';

export interface ModelInfo {
  window: number;
  detect: number;
  features: string[];
  featureColumns: number[];
  nBins: number;
  nNodeIds: number;
  nCustomers: number;
  arch: string;
  pid: number;
  device: string;
}

export interface ModelInput {
  n: number;
  node: Int32Array;
  customer: Int32Array;
  /** [W, 3] */
  time: Uint8Array;
  /** [n, W, F] */
  bins: Uint8Array;
}

export interface ModelScores {
  n: number;
  D: number;
  /** [n, D] each */
  hazard: Float32Array;
  survival: Float32Array;
  seconds: number;
}

export class ModelCallError extends Error {
  constructor(
    message: string,
    readonly traceback?: string,
  ) {
    super(message);
    this.name = 'ModelCallError';
  }
}

export class ModelDeadError extends Error {
  constructor(
    message: string,
    readonly traceback?: string,
  ) {
    super(message);
    this.name = 'ModelDeadError';
  }
}

const rename = (msg: string) => msg.replace('python/bridge.py', `python/${WATCH_SCRIPT}`);

/** The input file of python/watch_model.py (its docstring): node, customer, time, bins. */
export function encodeInput(x: ModelInput): Uint8Array {
  const out = new Uint8Array(x.n * 8 + x.time.length + x.bins.length);
  out.set(new Uint8Array(x.node.buffer, x.node.byteOffset, x.n * 4), 0);
  out.set(new Uint8Array(x.customer.buffer, x.customer.byteOffset, x.n * 4), x.n * 4);
  out.set(x.time, x.n * 8);
  out.set(x.bins, x.n * 8 + x.time.length);
  return out;
}

export class WatchModel {
  private seq = 0;

  private constructor(
    private readonly bridge: PythonBridge,
    readonly info: ModelInfo,
    private readonly workDir: string,
    private readonly callTimeoutMs: number,
  ) {}

  /** Starts Python, loads the checkpoint on the run's EarlyDetect folder. */
  static async open(opts: {
    checkpoint: string;
    earlyDetect: string;
    workDir: string;
    device?: string;
    threads?: number;
    callTimeoutMs?: number;
    openTimeoutMs?: number;
  }): Promise<WatchModel> {
    const bridge = await PythonBridge.open({
      script: pythonScript(WATCH_SCRIPT),
      openTimeoutMs: opts.openTimeoutMs ?? 120_000,
      callTimeoutMs: opts.callTimeoutMs ?? 30_000,
    }).catch((e: unknown) => {
      throw new ModelDeadError(rename((e as Error).message), (e as BridgeError).pythonTrace);
    });
    try {
      const info = await bridge.call<ModelInfo>(
        'load',
        [opts.checkpoint, opts.earlyDetect, opts.device ?? 'cpu', opts.threads ?? 0],
        opts.openTimeoutMs ?? 120_000,
      );
      await fsp.mkdir(opts.workDir, { recursive: true });
      return new WatchModel(bridge, info, opts.workDir, opts.callTimeoutMs ?? 30_000);
    } catch (e) {
      await bridge.close();
      const err = e as BridgeError;
      throw new ModelDeadError(
        `cannot load the model ${opts.checkpoint}: ${rename(err.message)}`,
        err.pythonTrace ?? err.stack,
      );
    }
  }

  /** Scores one minute's windows (one call). */
  async score(x: ModelInput, batchSize = 256): Promise<ModelScores> {
    const k = this.seq++ % 2;
    const inPath = join(this.workDir, `input-${k}.bin`);
    const outPath = join(this.workDir, `scores-${k}.f32`);
    await fsp.writeFile(inPath, encodeInput(x));
    let r: { n: number; D: number; seconds: number };
    try {
      r = await this.bridge.call('score', [inPath, outPath, x.n, batchSize], this.callTimeoutMs);
    } catch (e) {
      const err = e as BridgeError;
      const msg = rename(err.message);
      if (/Python (exited|has exited|did not answer)|bridge is closed/.test(msg)) {
        await this.bridge.close();
        throw new ModelDeadError(`the model process (python/${WATCH_SCRIPT}, pid ${this.info.pid}): ${msg}`);
      }
      throw new ModelCallError(msg, err.pythonTrace);
    }
    const buf = readFileSync(outPath);
    const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const size = r.n * r.D;
    if (all.length !== 2 * size) throw new ModelCallError(`${outPath}: ${all.length} values, expected 2 x ${size}`);
    return {
      n: r.n,
      D: r.D,
      hazard: all.subarray(0, size),
      survival: all.subarray(size),
      seconds: r.seconds,
    };
  }

  async close(): Promise<void> {
    await this.bridge.close();
  }
}

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { BridgeError, PythonBridge, withBridge, type ModelDims } from '../ts/bridge/bridge.js';
import { renderCommand } from '../ts/train/render.js';
import { ARCHS, ARCH_SIZES, loadSpec } from '../ts/train/spec.js';
import { useTempDir } from './helpers/tmp.js';
import { makePatternDataset } from './train-fixture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TIME_ONE_HOT = 60 + 24 + 7; // minute of hour, hour of day, day of week

/**
 * Parameters of the model computed from its layer shapes (SPEC §5), independently of Python:
 * one-hot input Linear, node/customer/position tables, pre-norm decoder layers (4 attention
 * projections with bias, 2 LayerNorms, a 2-layer FFN), a final LayerNorm, the output Linear.
 */
function expectedParams(s: { layers: number; width: number; ffn: number }, dims: ModelDims) {
  const d = s.width;
  const FK = dims.nFeatures * dims.nBins;
  const layerNorm = 2 * d;
  const layer = 4 * (d * d + d) + layerNorm + (d * s.ffn + s.ffn) + (s.ffn * d + d) + layerNorm;
  const parts = {
    input: (FK + TIME_ONE_HOT) * d + d,
    node_emb: dims.nNodeIds * d,
    customer_emb: dims.nCustomers * d,
    positions: dims.window * d,
    layers: s.layers * layer + layerNorm,
    output: d * FK + FK,
  };
  return { total: Object.values(parts).reduce((a, b) => a + b, 0), by_part: parts };
}

describe('bridge: short calls into python/bridge.py through pythonia', function () {
  this.timeout(300_000); // a safety net, not a bound: Python imports torch and fairseq, slowly on busy cores
  const tmp = useTempDir('netflowgen-bridge-');
  let bridge: PythonBridge;
  let dataset: string;

  before(async () => {
    dataset = await makePatternDataset(tmp.dir, { nodes: 2, minutes: 600 });
    bridge = await PythonBridge.open({ callTimeoutMs: 45_000 });
  });
  after(() => bridge?.close()); // or node (and mocha) would never exit

  it('counts the parameters of every architecture as the layer shapes say', async () => {
    // the paper's shape: 86 features x 10 bins, 512-minute windows; a node table of 300, 12 customers
    const dims: ModelDims = { nNodeIds: 300, nCustomers: 12, nFeatures: 86, nBins: 10, window: 512 };
    for (const arch of ARCHS) {
      const got = await bridge.countParameters(arch, {}, dims);
      expect(got, arch).to.deep.equal(expectedParams(ARCH_SIZES[arch], dims));
    }
    // the numbers themselves, for the record (Table 10's "# of Params." at this shape)
    expect((await bridge.countParameters('netflowgen_4_4_128_512', {}, dims)).total).to.equal(1_131_612);
    expect((await bridge.countParameters('netflowgen_4_4_512_2048', {}, dims)).total).to.equal(13_961_052);
  });

  it('applies size overrides and the light feature count', async () => {
    const dims: ModelDims = { nNodeIds: 7, nCustomers: 3, nFeatures: 6, nBins: 10, window: 64 };
    const got = await bridge.countParameters(
      'netflowgen_tiny',
      { decoder_layers: 3, decoder_embed_dim: 48, decoder_attention_heads: 4, decoder_ffn_embed_dim: 80, dropout: 0.3 },
      dims,
    );
    expect(got).to.deep.equal(expectedParams({ layers: 3, width: 48, ffn: 80 }, dims));
  });

  it("accepts the rendered command and rejects a broken one with fairseq's message", async () => {
    const { spec } = loadSpec(join(root, 'experiments/pretrain/tiny.json'), [{ source: 'test', values: { dataset } }]);
    const argv = renderCommand(spec, { saveDir: join(tmp.dir, 'run') }).argv.slice(1);
    expect(await bridge.checkTrainArgs(argv)).to.deep.equal({ ok: true, errors: [] });
    const typo = argv.map((a) => (a === '--lr' ? '--lrr' : a));
    const bad = await bridge.checkTrainArgs(typo);
    expect(bad.ok).to.equal(false);
    expect(bad.errors.join('\n')).to.include('unrecognized arguments: --lrr');
    const arch = await bridge.checkTrainArgs(argv.map((a) => (a === 'netflowgen_tiny' ? 'netflowgen_huge' : a)));
    expect(arch.errors.join('\n')).to.match(/invalid choice: 'netflowgen_huge'.*netflowgen_tiny/);
    const data = await bridge.checkTrainArgs(argv.map((a) => (a === dataset ? join(tmp.dir, 'nowhere') : a)));
    expect(data.ok).to.equal(false);
    expect(data.errors.join('\n')).to.include('nowhere');
  });

  it('runs one batch forward on a dataset', async () => {
    const r = await bridge.forwardSmoke(dataset, 'netflowgen_tiny', {});
    expect(r.shape.slice(1)).to.deep.equal([31, 6, 10]); // 32-minute windows: 31 predicted steps of 6 features x 10 bins
    expect(r.loss).to.be.a('number').and.be.above(0).and.be.below(10);
  });

  it("turns a Python exception into a BridgeError with Python's error line", async () => {
    try {
      await bridge.countParameters(
        'netflowgen_nope',
        {},
        { nNodeIds: 1, nCustomers: 1, nFeatures: 1, nBins: 2, window: 2 },
      );
      expect.fail('no error');
    } catch (e) {
      expect(e).to.be.instanceOf(BridgeError);
      expect((e as Error).message).to.match(
        /^python\/bridge\.py count_parameters: ValueError: unknown architecture 'netflowgen_nope'/,
      );
    }
  });

  it('allows one bridge at a time', async () => {
    try {
      await PythonBridge.open();
      expect.fail('a second bridge opened');
    } catch (e) {
      expect((e as Error).message).to.match(/already open/);
    }
  });

  it('fails at once when Python dies during a call, and a closed bridge can be reopened', async () => {
    await bridge.close();
    const script = join(tmp.dir, 'dying.py');
    writeFileSync(
      script,
      'import os, time\ndef die():\n    os._exit(3)\ndef slow():\n    time.sleep(30)\n    return 1\ndef ok():\n    return {"fine": True}\n',
    );
    // the call fails because Python exited, not because its 30 s timeout ran out (no clock needed:
    // the two failures have different messages)
    const err = await withBridge((b) => b.call('die', [], 30_000), { script }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(BridgeError);
    expect((err as Error).message)
      .to.match(/Python exited \(exit code 3\)/)
      .and.not.match(/did not answer/);
    const timedOut = await withBridge((b) => b.call('slow', [], 500), { script }).catch((e: Error) => e);
    expect((timedOut as Error).message).to.match(/did not answer within 1 s \(slow\(\)\)/);
    expect(await withBridge((b) => b.call('ok', []), { script })).to.deep.equal({ fine: true });
    bridge = await PythonBridge.open(); // for after()
  });
});

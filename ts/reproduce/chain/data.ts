/**
 * The data stages of the chain: source (synth | ingest) -> serialize -> bin, and detect-dataset when a
 * table needs the EarlyDetect examples. The functions called are the library's own (the CLI's).
 */
import { buildBinnedDataset } from '../../datasets/build.js';
import { buildEarlyDetect } from '../../earlydetect/build.js';
import { serialize } from '../../serialize/serialize.js';
import type { AttackType } from '../../splits/alerts.js';
import { resolveConfig, type SynthOverrides } from '../../synth/config.js';
import { synth } from '../../synth/synth.js';
import { SpecError } from '../../config/compose.js';
import { ingestConfig, sourceFiles, writeIngest } from '../source.js';
import type { ChainBuilder } from './builder.js';

export function addDataStages(b: ChainBuilder, needDetect: boolean): void {
  const { preset, V } = b;
  const data = preset.data;
  if (data.source === 'flows') {
    if (!data.flows) throw new SpecError([`${preset.name}: data.source is flows but data.flows is not set`]);
    const flows = data.flows;
    b.add({
      id: 'source',
      kind: 'ingest',
      label: `ingest: ${flows.inputs.length} flow input(s)`,
      version: V.source,
      config: ingestConfig(flows),
      inputs: {},
      run: (ctx) => writeIngest(ctx.dir, flows),
    });
  } else {
    const { preset: synthPreset = 'tiny', days, ...rest } = data.synth ?? {};
    const overrides: SynthOverrides = {
      ...(rest as SynthOverrides),
      ...(days !== undefined ? { minutes: Math.round(days * 1440) } : {}),
    };
    const cfg = resolveConfig(synthPreset, overrides);
    b.add({
      id: 'source',
      kind: 'synth',
      label: `synth: ${cfg.nodes} nodes, ${Math.round(cfg.minutes / 1440)} days, ${cfg.attacks} attacks (preset ${synthPreset}, seed ${cfg.seed})`,
      version: V.source,
      config: { preset: synthPreset, ...cfg },
      inputs: {},
      run: async (ctx) => {
        ctx.progress('writing flow records');
        await synth({ ...cfg, out: ctx.dir, preset: synthPreset, force: true, progress: false, signal: ctx.signal });
      },
    });
  }
  b.add({
    id: 'serialize',
    kind: 'serialize',
    label: 'serialize: flow records to per-node minute series',
    version: V.serialize,
    config: {},
    inputs: { source: 'source' },
    run: async (ctx) => {
      const f = sourceFiles(ctx.input('source'));
      await serialize({
        inputs: f.inputs,
        nodes: f.nodes,
        prefixes: f.prefixes,
        sampling: f.sampling,
        from: f.from,
        to: f.to,
        out: ctx.dir,
        force: true,
        signal: ctx.signal,
      });
    },
  });
  const bin = data.bin;
  b.add({
    id: 'bin',
    kind: 'bin',
    label: `bin: discretize, split, ${bin.window}-minute windows${bin.unseen ? ', unseen nodes' : ''}`,
    version: V.bin,
    config: { features: 'full', ...bin },
    inputs: { store: 'serialize', source: 'source' },
    run: async (ctx) => {
      const f = sourceFiles(ctx.input('source'));
      await buildBinnedDataset({
        store: ctx.input('store'),
        out: ctx.dir,
        features: 'full',
        nBins: bin.bins,
        split: bin.split,
        windowLength: bin.window,
        minActive: bin.minActive,
        excludeCustomers: bin.excludeCustomers,
        topK: bin.topK,
        unseen: bin.unseen,
        alerts: f.alerts,
        force: true,
        signal: ctx.signal,
      });
    },
  });
  const det = data.detect;
  if (needDetect)
    b.add({
      id: 'detect',
      kind: 'detect-dataset',
      label: `detect-dataset: EarlyDetect examples (${det.attackTypes.join(', ')})`,
      version: V.detect,
      config: det,
      inputs: { dataset: 'bin', source: 'source' },
      run: async (ctx) => {
        const f = sourceFiles(ctx.input('source'));
        await buildEarlyDetect({
          dataset: ctx.input('dataset'),
          alerts: f.alerts,
          groundTruth: f.groundTruth,
          out: ctx.dir,
          detectLength: det.detect,
          attackTypes: det.attackTypes as AttackType[],
          unseenExamples: det.unseenExamples,
          onset: det.onset,
          negatives: det.negatives,
          seed: det.seed,
          force: true,
          signal: ctx.signal,
        });
      },
    });
}

/**
 * The chain of `netflowgen reproduce`, as stages of the graph (graph.ts), from a preset and the table
 * specs it lists:
 *
 *   source (synth | ingest) -> serialize -> bin -> detect-dataset
 *                                          bin -> baseline
 *                                          bin -> pretrain:<name> -> evaluate-pretrain:<name>   (Table 4)
 *                                          bin -> size:<point>                                   (Table 10)
 *        detect-dataset (+ pretrain:<name>) -> finetune:<model> -> evaluate-detect:<model>     (Tables 5, 6, 8, 9, Figure 5)
 *                                     everything a table reads -> report
 *
 * Only the stages the chosen tables need are made. Each stage's config is what decides its output:
 * the resolved spec without its name, description and paths (inputs come in through their hashes).
 * The functions called are the library's own (the same the CLI commands call); nothing is shelled out
 * but the Python training and scoring those functions run.
 */
import { promises as fsp } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { runBigram, windowsFileOf } from '../baseline/run.js';
import { buildBinnedDataset } from '../datasets/build.js';
import { buildEarlyDetect } from '../earlydetect/build.js';
import type { AttackType } from '../splits/alerts.js';
import { runSimpleDetector } from '../baseline/detector-run.js';
import { evaluateRun, DEFAULT_BOUNDS, DEFAULT_BUDGETS, EVALUATION_FILE } from '../evaluate/evaluate.js';
import { writeDetectSummary, writePretrainSummary } from '../evaluate/summary.js';
import { serialize } from '../serialize/serialize.js';
import { resolveConfig, type SynthOverrides } from '../synth/config.js';
import { synth } from '../synth/synth.js';
import { evaluatePretrain } from '../train/evaluate.js';
import { loadFinetuneSpec, runFinetune, type FinetuneSpec } from '../train/finetune.js';
import type { RunRecord } from '../train/log.js';
import { archSizes, BEST_CHECKPOINT, runPretrain, SPEC_FILE } from '../train/run.js';
import {
  composeSpec,
  expandSweep,
  loadSpec,
  SpecError,
  type ExperimentSpec,
  type OverrideLayer,
} from '../train/spec.js';
import { writeReport } from '../report/write.js';
import type { PlannedModel, PlannedTable, ReportPlan } from '../report/plan.js';
import { tableModels, type Preset, type PretrainRef, type TableModel, type TableSpec } from './config.js';
import type { StageContext, StageSpec } from './graph.js';
import { ingestConfig, sourceFiles, writeIngest } from './source.js';

export interface ChainOptions {
  preset: Preset;
  /** The tables to make (selectTables). */
  tables: TableSpec[];
  /** Every table of the preset: the detection bounds are their union, so --only does not change them. */
  allTables: TableSpec[];
  /** OMP threads of the Python children (default: theirs). */
  threads?: number;
  /** Check each training command with fairseq's parser first (slower; default false). */
  check?: boolean;
  /** Layers laid over every pre-training and fine-tuning spec (--device, --bf16 ...). */
  trainOverrides?: OverrideLayer[];
}

/** Stage versions: raise one when its code changes what the stage writes. */
const V = {
  source: 1,
  serialize: 1,
  bin: 1,
  detect: 2,
  baseline: 2,
  pretrain: 1,
  evaluatePretrain: 1,
  finetune: 2,
  evaluateDetect: 4,
  detector: 1,
  summary: 4,
  report: 5,
};

const DETECTION_KINDS = new Set(['table5', 'table6', 'table8', 'table9', 'figure5']);
export { SUMMARY_FILE } from '../evaluate/summary.js';

/** The resolved spec without what does not decide the result (names, text) or comes in as an input (paths). */
function specConfig(spec: object, drop: string[]): Record<string, unknown> {
  const out = { ...(spec as Record<string, unknown>) };
  for (const k of ['name', 'description', 'label', ...drop]) delete out[k];
  return out;
}

/** Progress of a training stage from its run records: epoch, updates, loss. */
function trainingProgress(ctx: StageContext, maxEpoch: number): (r: RunRecord) => void {
  let perEpoch = 0;
  return (r) => {
    // The refit (a second fairseq-train on the whole training split, docs/finetune.md) has its own count.
    if (r.phase === 'refit') {
      const total = Number(r.refit_updates) || 0;
      const updates = Number(r.num_updates) || 0;
      if (r.event === 'train_inner')
        ctx.progress(`refit on the whole split | update ${updates}/${total}`, total ? updates / total : undefined);
      return;
    }
    if (r.event === 'epoch_size') perEpoch = Number(r.updates) || perEpoch;
    if (r.event !== 'train_inner' && r.event !== 'valid') return;
    const updates = Number(r.num_updates ?? r.valid_num_updates) || 0;
    const loss = Number(r.loss ?? r.valid_loss);
    const total = perEpoch * maxEpoch;
    ctx.progress(
      `epoch ${r.epoch}/${maxEpoch} | ${r.event === 'valid' ? 'valid ' : ''}loss ${Number.isFinite(loss) ? loss.toFixed(3) : '-'}`,
      total ? updates / total : undefined,
    );
  };
}

function sizeLabel(s: { layers: number; heads: number; width: number; ffn: number }): string {
  return `${s.layers}-${s.heads}-${s.width}-${s.ffn}`;
}

export function buildChain(opts: ChainOptions): { stages: StageSpec[]; report: ReportPlan } {
  const { preset, tables } = opts;
  const stages = new Map<string, StageSpec>();
  const add = (s: StageSpec) => {
    if (!stages.has(s.id)) stages.set(s.id, s);
    return s.id;
  };
  const presetLayer = (values: Record<string, unknown> | undefined, what: string): OverrideLayer[] =>
    values && Object.keys(values).length ? [{ source: `${preset.name} preset: ${what}`, values }] : [];
  const train = opts.trainOverrides ?? [];

  // ---- data
  const needDetect = tables.some((t) => DETECTION_KINDS.has(t.kind) || t.kind === 'table2');
  const data = preset.data;
  let sourceLabel: string;
  if (data.source === 'flows') {
    if (!data.flows) throw new SpecError([`${preset.name}: data.source is flows but data.flows is not set`]);
    const flows = data.flows;
    sourceLabel = `ingest: ${flows.inputs.length} flow input(s)`;
    add({
      id: 'source',
      kind: 'ingest',
      label: sourceLabel,
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
    sourceLabel = `synth: ${cfg.nodes} nodes, ${Math.round(cfg.minutes / 1440)} days, ${cfg.attacks} attacks (preset ${synthPreset}, seed ${cfg.seed})`;
    add({
      id: 'source',
      kind: 'synth',
      label: sourceLabel,
      version: V.source,
      config: { preset: synthPreset, ...cfg },
      inputs: {},
      run: async (ctx) => {
        ctx.progress('writing flow records');
        await synth({ ...cfg, out: ctx.dir, preset: synthPreset, force: true, progress: false, signal: ctx.signal });
      },
    });
  }
  add({
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
  add({
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
    add({
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

  // ---- pre-training (one stage per pre-training seed; the first seed keeps the plain id)
  const seeds = {
    finetune: preset.seeds?.finetune ?? [1],
    pretrain: preset.seeds?.pretrain ?? [1],
    bootstrap: preset.seeds?.bootstrap ?? 2000,
  };
  const mainLayers = [...presetLayer(preset.pretrain.set, 'pretrain.set')];
  const pretrainRefs = new Map<string, string>();
  const pretrainSpec = (ref: PretrainRef, seed?: number): ExperimentSpec =>
    loadSpec(preset.pretrain.spec, [
      ...mainLayers,
      ...presetLayer(ref.set, `pretrain ${ref.name}`),
      ...(seed !== undefined ? [{ source: `${preset.name} preset: seeds.pretrain`, values: { seed } }] : []),
      ...train,
    ]).spec;
  const mainSpec = pretrainSpec({ name: 'main' });
  const pretrainStage = (ref: PretrainRef, seed: number = seeds.pretrain[0]): string => {
    const key = JSON.stringify(ref.set ?? {});
    const known = pretrainRefs.get(ref.name);
    if (known !== undefined && known !== key)
      throw new SpecError([
        `two tables name the pre-trained model '${ref.name}' with different settings (${known} and ${key}): give them different names`,
      ]);
    pretrainRefs.set(ref.name, key);
    const spec = pretrainSpec(ref, seed);
    const id = seed === seeds.pretrain[0] ? `pretrain:${ref.name}` : `pretrain:${ref.name}@s${seed}`;
    return add(
      pretrainStageSpec(
        id,
        `pretrain ${ref.name}${seed === seeds.pretrain[0] ? '' : ` (seed ${seed})`}: ${basename(preset.pretrain.spec)} (${sizeLabel(archSizes(spec))}${spec.feature_set === 'light' ? ', light' : ''})`,
        spec,
        opts,
      ),
    );
  };

  // ---- fine-tuning and evaluation of the detection tables
  const bounds = [
    ...new Set([
      ...DEFAULT_BOUNDS,
      ...opts.allTables.flatMap((t) => [...(t.bounds ?? []), ...(t.bound !== undefined ? [t.bound] : [])]),
    ]),
  ].sort((a, b) => a - b);
  const tableBound = opts.allTables.find((t) => t.bound !== undefined)?.bound ?? 0.8;
  const evaluateStage = (
    id: string,
    label: string,
    run: string,
    evalSplit: 'valid' | 'test',
    attackTypes?: string[],
  ): string =>
    add({
      id,
      kind: 'evaluate-detect',
      label,
      version: V.evaluateDetect,
      // tau on each run's calibration split (never test), the oracle beside it, operating-point curves
      config: {
        bounds,
        tableBound,
        split: evalSplit,
        select: 'calibration',
        budgets: DEFAULT_BUDGETS,
        ...(attackTypes ? { attackTypes } : {}),
      },
      inputs: { run },
      run: async (ctx) => {
        const { evaluation, figure } = await evaluateRun(ctx.input('run'), {
          out: ctx.dir,
          bounds,
          tableBound,
          split: evalSplit,
          score: false,
          attackTypes,
          threads: opts.threads,
          signal: ctx.signal,
          log: ctx.log,
        });
        await fsp.writeFile(join(ctx.dir, EVALUATION_FILE), JSON.stringify({ evaluation, figure }, null, 2) + '\n');
      },
    });
  const detectorStage = (
    m: TableModel,
    typesAsked: string[] | undefined,
    evalSplit: 'valid' | 'test',
  ): PlannedModel => {
    const kind = m.detector!;
    const runId = add({
      id: `detector:${kind}`,
      kind: 'simple-detect',
      label: `simple-detect ${m.name} (not in the paper)`,
      version: V.detector,
      config: { detector: kind },
      inputs: { earlydetect: 'detect' },
      run: async (ctx) => {
        await runSimpleDetector({
          earlyDetect: ctx.input('earlydetect'),
          detector: kind,
          out: ctx.dir,
          force: true,
          signal: ctx.signal,
        });
      },
    });
    const key = `detector-${kind}${typesAsked ? `:${typesAsked.join('+')}` : ''}`;
    const evaluation = evaluateStage(
      `evaluate-detect:${key}`,
      `evaluate-detect ${m.name}${typesAsked ? ` (${typesAsked.join(', ')})` : ''}`,
      runId,
      evalSplit,
      typesAsked,
    );
    return {
      name: m.name,
      group: m.group,
      evaluation,
      run: runId,
      detector: true,
      replicates: [{ seed: 0, evaluation, run: runId }],
      ...(typesAsked ? { attackType: typesAsked.join('+') } : {}),
    };
  };
  const finetuneStage = (
    m: TableModel,
    typesAsked: string[] | undefined,
    evalSplit: 'valid' | 'test',
  ): PlannedModel => {
    if (m.detector) return detectorStage(m, typesAsked, evalSplit);
    const file = m.finetune!;
    // Fine-tuning on the one attack type the data holds is fine-tuning on all of it: the same run.
    const attackTypes =
      typesAsked &&
      !(det.attackTypes.length === typesAsked.length && det.attackTypes.every((x) => typesAsked.includes(x)))
        ? typesAsked
        : undefined;
    const probe = loadFinetuneSpec(file, [], process.cwd()).spec;
    const replicates = seeds.finetune.map((seed, k) => {
      const pretrainSeed = m.pretrain ? seeds.pretrain[k % seeds.pretrain.length] : undefined;
      const pre = m.pretrain ? pretrainStage(m.pretrain, pretrainSeed) : undefined;
      const layers: OverrideLayer[] = [];
      // The paper's TF is "the same architecture as our model": the pre-trained model's sizes.
      if (probe.arch === 'netflowgen_tf')
        layers.push({
          source: 'the pre-trained model (TF = the same architecture)',
          values: { model: archSizes(mainSpec) },
        });
      layers.push(
        ...presetLayer(preset.finetune.set, 'finetune.set'),
        ...presetLayer(preset.finetune.arch?.[probe.arch], `finetune.arch.${probe.arch}`),
      );
      if (attackTypes) layers.push({ source: 'table attack type', values: { attack_types: attackTypes } });
      layers.push({ source: `${preset.name} preset: seeds.finetune`, values: { seed } });
      layers.push(...train);
      const spec = loadFinetuneSpec(file, layers, process.cwd()).spec;
      if (spec.arch === 'netflowgen_safe' && !pre)
        throw new SpecError([
          `${file}: arch netflowgen_safe needs a pre-trained model: give the table's model a "pretrain": { "name": "main" }`,
        ]);
      const seedTag = k === 0 ? '' : `#s${seed}`;
      const key = `${basename(file, '.json')}${pre ? `@${pre.slice('pretrain:'.length)}` : ''}${attackTypes ? `:${attackTypes.join('+')}` : ''}${seedTag}`;
      const what = `${m.name}${attackTypes ? ` (${attackTypes.join(', ')})` : ''}${k === 0 ? '' : ` seed ${seed}`}`;
      const ftId = add({
        id: `finetune:${key}`,
        kind: 'finetune',
        label: `finetune ${what}: ${spec.arch}, ${spec.train_split} split`,
        version: V.finetune,
        config: specConfig(spec, ['dataset', 'pretrained']),
        inputs: pre ? { earlydetect: 'detect', pretrained: pre } : { earlydetect: 'detect' },
        resumable: true,
        run: async (ctx) => {
          const s: FinetuneSpec = {
            ...spec,
            name: key.replace(/[^A-Za-z0-9._-]/g, '_'),
            dataset: ctx.input('earlydetect'),
            ...(pre ? { pretrained: ctx.input('pretrained') } : {}),
          };
          await runFinetune(s, {
            runDir: ctx.dir,
            check: opts.check ?? false,
            threads: opts.threads,
            signal: ctx.signal,
            log: ctx.log,
            onRecord: trainingProgress(ctx, s.max_epoch),
          });
        },
      });
      const evId = evaluateStage(`evaluate-detect:${key}`, `evaluate-detect ${what}`, ftId, evalSplit);
      return { seed, ...(pretrainSeed !== undefined ? { pretrainSeed } : {}), evaluation: evId, run: ftId };
    });
    return {
      name: m.name,
      group: m.group,
      evaluation: replicates[0].evaluation,
      run: replicates[0].run,
      replicates,
      ...(typesAsked ? { attackType: typesAsked.join('+') } : {}),
    };
  };
  /** The summary stage of a detection table: every model over its seeds, intervals, paired differences, claims. */
  const summaryStage = (t: TableSpec, models: PlannedModel[], bound: number): string => {
    const inputs: Record<string, string> = {};
    const plan = models.map((m) => ({
      model: m.name,
      ...(m.attackType ? { attackType: m.attackType } : {}),
      seeds: (m.replicates ?? [{ seed: 0, evaluation: m.evaluation, run: m.run }]).map((r) => {
        inputs[r.evaluation] = r.evaluation;
        return {
          seed: r.seed,
          ...(r.pretrainSeed !== undefined ? { pretrainSeed: r.pretrainSeed } : {}),
          role: r.evaluation,
        };
      }),
    }));
    const detectors = models.filter((m) => m.detector).map((m) => m.name);
    return add({
      id: `summary:${t.id}`,
      kind: 'detect-summary',
      label: `summary ${t.id}: mean, sd and 95% intervals over seeds and test examples; the paper's claims`,
      version: V.summary,
      config: { table: t.kind, bound, replicates: seeds.bootstrap, detectors, models: plan },
      inputs,
      run: async (ctx) => {
        await writeDetectSummary(
          plan.map((m) => ({
            ...m,
            seeds: m.seeds.map((s) => ({
              seed: s.seed,
              pretrainSeed: s.pretrainSeed,
              file: join(ctx.input(s.role), EVALUATION_FILE),
            })),
          })),
          ctx.dir,
          { table: t.kind, bound, replicates: seeds.bootstrap, detectors },
        );
      },
    });
  };

  const planned: PlannedTable[] = [];
  for (const t of tables) {
    const base: PlannedTable = {
      id: t.id,
      kind: t.kind,
      caption: t.caption,
      ...(t.description ? { description: t.description } : {}),
    };
    switch (t.kind) {
      case 'table1':
      case 'table7':
      case 'table2':
        planned.push(base);
        break;
      case 'table4': {
        const ref = t.pretrain ?? { name: 'main' };
        const baseline = add({
          id: 'baseline',
          kind: 'baseline',
          label: 'baseline: bigram on the validation and test windows',
          version: V.baseline,
          config: { splits: ['valid', 'test'], perNode: false },
          inputs: { dataset: 'bin' },
          run: async (ctx) => {
            for (const split of ['valid', 'test'] as const) {
              ctx.progress(split);
              await runBigram({
                dataset: ctx.input('dataset'),
                split,
                out: join(ctx.dir, `bigram.${split}.json`),
                signal: ctx.signal,
              });
            }
          },
        });
        const splits = t.splits ?? ['valid', 'test'];
        // One evaluation per pre-training seed; the table's rows are the first seed's, the summary has them all.
        const evaluations = seeds.pretrain.map((seed, k) => {
          const run = pretrainStage(ref, seed);
          return {
            seed,
            evaluation: add({
              id: `evaluate-pretrain:${ref.name}${k === 0 ? '' : `@s${seed}`}`,
              kind: 'evaluate-pretrain',
              label: `evaluate-pretrain ${ref.name}${k === 0 ? '' : ` (seed ${seed})`}: against the bigram (${splits.join(', ')})`,
              version: V.evaluatePretrain,
              config: { splits },
              inputs: { run, baseline },
              run: async (ctx) => {
                // evaluatePretrain reads a run folder and writes into it: give it a folder of its own
                // whose spec and checkpoint link to the (finished, untouched) pre-training stage.
                for (const f of [SPEC_FILE, BEST_CHECKPOINT])
                  await fsp.symlink(relative(ctx.dir, join(ctx.input('run'), f)), join(ctx.dir, f));
                const b = ctx.input('baseline');
                await evaluatePretrain(ctx.dir, {
                  baselines: splits.map((s) => join(b, `bigram.${s}.json`)),
                  splits,
                  threads: opts.threads,
                  signal: ctx.signal,
                  log: ctx.log,
                });
              },
            }),
          };
        });
        const claimSplit = splits.includes('valid') ? 'valid' : splits[0];
        const light = pretrainSpec(ref).feature_set === 'light';
        const summary = light
          ? undefined
          : add({
              id: 'summary:table4',
              kind: 'pretrain-summary',
              label: `summary table4: pre-trained against the bigram on the same ${claimSplit} windows, over ${evaluations.length} pre-training seed(s)`,
              version: V.summary,
              config: { split: claimSplit, replicates: seeds.bootstrap, seeds: evaluations.map((e) => e.seed) },
              inputs: { baseline, ...Object.fromEntries(evaluations.map((e) => [e.evaluation, e.evaluation])) },
              run: async (ctx) => {
                await writePretrainSummary(
                  evaluations.map((e) => ({
                    seed: e.seed,
                    scoreDir: join(ctx.input(e.evaluation), 'eval', claimSplit),
                  })),
                  windowsFileOf(join(ctx.input('baseline'), `bigram.${claimSplit}.json`)),
                  ctx.dir,
                  { split: claimSplit, replicates: seeds.bootstrap },
                );
              },
            });
        planned.push({ ...base, evaluation: evaluations[0].evaluation, splits, ...(summary ? { summary } : {}) });
        break;
      }
      case 'table10': {
        const composed = composeSpec(preset.sizes.sweep, [...presetLayer(preset.sizes.set, 'sizes.set'), ...train]);
        const { points } = expandSweep(composed);
        planned.push({
          ...base,
          points: points.map((p) => ({
            label: p.label,
            run: add(pretrainStageSpec(`size:${p.label}`, `pretrain size ${p.label} (Table 10)`, p.spec, opts)),
            arch: p.spec.arch,
            sizes: archSizes(p.spec),
            learning_rate: p.spec.learning_rate,
            dropout: p.spec.dropout,
          })),
        });
        break;
      }
      case 'table6': {
        // Types the data does not have (data.detect.attackTypes) are left out; the report says so.
        const wanted = t.attackTypes ?? ['DNS', 'UDP', 'NTP'];
        const types = wanted.filter((x) => det.attackTypes.includes(x));
        const models = types.flatMap((type) => tableModels(t).map((m) => finetuneStage(m, [type], t.split ?? 'test')));
        const bound = t.bound ?? tableBound;
        planned.push({
          ...base,
          models,
          bound,
          split: t.split ?? 'test',
          summary: summaryStage(t, models, bound),
          ...(types.length < wanted.length ? { leftOut: wanted.filter((x) => !types.includes(x)) } : {}),
        });
        break;
      }
      case 'table5':
      case 'table8':
      case 'table9':
      case 'figure5': {
        const shown = tableModels(t);
        if (!shown.length) throw new SpecError([`${t.sources[t.sources.length - 1]}: ${t.kind} needs 'models'`]);
        const models = shown.map((m) => finetuneStage(m, undefined, t.split ?? 'test'));
        const bound = t.bound ?? tableBound;
        const summary = t.kind === 'table8' ? undefined : summaryStage(t, models, bound);
        planned.push({
          ...base,
          models,
          bound,
          bounds: t.bounds ?? bounds,
          split: t.split ?? 'test',
          ...(summary ? { summary } : {}),
          ...(t.unseenSplits ? { unseenSplits: t.unseenSplits } : {}),
        });
        break;
      }
    }
  }

  // ---- training curves: every training stage the tables use, grouped
  const label = (id: string) => id.replace(/^[a-z-]+:/, '');
  const ids = [...stages.keys()];
  const curves = [
    {
      title: 'Pre-training',
      runs: ids.filter((i) => i.startsWith('pretrain:')).map((i) => ({ label: label(i), run: i })),
    },
    {
      title: 'Model sizes (Table 10)',
      runs: ids.filter((i) => i.startsWith('size:')).map((i) => ({ label: label(i), run: i })),
    },
    // first seed of each fine-tuning (the others train the same way)
    {
      title: 'Fine-tuning (SAFE loss, first seed)',
      runs: ids.filter((i) => i.startsWith('finetune:') && !i.includes('#s')).map((i) => ({ label: label(i), run: i })),
    },
  ].filter((g) => g.runs.length);

  const report: ReportPlan = {
    preset: {
      name: preset.name,
      ...(preset.description ? { description: preset.description } : {}),
      ...(preset.expected ? { expected: preset.expected } : {}),
    },
    data: { source: 'source', store: 'serialize', bin: 'bin', ...(stages.has('detect') ? { detect: 'detect' } : {}) },
    tables: planned,
    curves,
  };
  const reportInputs = Object.fromEntries(ids.map((id) => [id, id]));
  add({
    id: 'report',
    kind: 'report',
    label: 'report: Markdown and HTML',
    version: V.report,
    config: report,
    inputs: reportInputs,
    run: async (ctx) => {
      const dirs = Object.fromEntries(ids.map((id) => [id, ctx.input(id)]));
      await writeReport(report, dirs, ctx.dir);
    },
  });
  return { stages: [...stages.values()], report };
}

export { EVALUATION_FILE };

/** A pre-training stage: runPretrain in the stage folder, on the bin stage's dataset. */
function pretrainStageSpec(id: string, label: string, spec: ExperimentSpec, opts: ChainOptions): StageSpec {
  return {
    id,
    kind: 'pretrain',
    label,
    version: V.pretrain,
    config: specConfig(spec, ['dataset']),
    inputs: { dataset: 'bin' },
    resumable: true,
    run: async (ctx) => {
      const s: ExperimentSpec = { ...spec, name: id.replace(/[^A-Za-z0-9._-]/g, '_'), dataset: ctx.input('dataset') };
      await runPretrain(s, {
        runDir: ctx.dir,
        check: opts.check ?? false,
        threads: opts.threads,
        signal: ctx.signal,
        log: ctx.log,
        onRecord: trainingProgress(ctx, s.max_epoch),
      });
    },
  };
}

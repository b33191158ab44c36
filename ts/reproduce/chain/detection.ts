/**
 * The detection recipes of the chain (Tables 5, 6, 8, 9 and Figure 5):
 *
 *   detect-dataset (+ pretrain:<name>) -> finetune:<model> -> evaluate-detect:<model>   one per fine-tuning seed
 *   detect-dataset -> detector:<kind> -> evaluate-detect:detector-<kind>                 the simple detectors
 *   every evaluate-detect of a table -> summary:<table>                                  mean, sd, intervals, claims
 *
 * Per attack type (Table 6) each model is fine-tuned on one type's examples; types the data does not
 * have are left out. Thresholds are chosen on each run's calibration split, never on test.
 */
import { promises as fsp } from 'node:fs';
import { basename, join } from 'node:path';
import { runSimpleDetector } from '../../baseline/detector-run.js';
import { DEFAULT_BOUNDS, DEFAULT_BUDGETS, EVALUATION_FILE, evaluateRun } from '../../evaluate/evaluate.js';
import { writeDetectSummary } from '../../evaluate/summary.js';
import { runFinetune } from '../../train/finetune.js';
import { loadFinetuneSpec, type FinetuneSpec } from '../../train/finetune-spec.js';
import { archSizes } from '../../train/run.js';
import { SpecError, type OverrideLayer } from '../../config/compose.js';
import type { PlannedModel, PlannedTable } from '../../report/plan.js';
import { tableModels, type TableModel, type TableSpec } from '../config.js';
import { runName, specConfig, stageJobOptions, type ChainBuilder } from './builder.js';

/** The stages of detection tables, with the bounds of every table of the preset (so --only does not change them). */
export function detectionRecipes(b: ChainBuilder) {
  const { opts, preset, seeds, V } = b;
  const det = preset.data.detect;
  const bounds = [
    ...new Set([
      ...DEFAULT_BOUNDS,
      ...opts.allTables.flatMap((t) => [...(t.bounds ?? []), ...(t.bound !== undefined ? [t.bound] : [])]),
    ]),
  ].sort((x, y) => x - y);
  const tableBound = opts.allTables.find((t) => t.bound !== undefined)?.bound ?? 0.8;

  const evaluateStage = (
    id: string,
    label: string,
    run: string,
    evalSplit: 'valid' | 'test',
    attackTypes?: string[],
  ): string =>
    b.add({
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
    const runId = b.add({
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
      const pre = m.pretrain ? b.pretrainStage(m.pretrain, pretrainSeed) : undefined;
      const layers: OverrideLayer[] = [];
      // The paper's TF is "the same architecture as our model": the pre-trained model's sizes.
      if (probe.arch === 'netflowgen_tf')
        layers.push({
          source: 'the pre-trained model (TF = the same architecture)',
          values: { model: archSizes(b.mainSpec) },
        });
      layers.push(
        ...b.presetLayer(preset.finetune.set, 'finetune.set'),
        ...b.presetLayer(preset.finetune.arch?.[probe.arch], `finetune.arch.${probe.arch}`),
      );
      if (attackTypes) layers.push({ source: 'table attack type', values: { attack_types: attackTypes } });
      layers.push({ source: `${preset.name} preset: seeds.finetune`, values: { seed } });
      layers.push(...b.train);
      const spec = loadFinetuneSpec(file, layers, process.cwd()).spec;
      if (spec.arch === 'netflowgen_safe' && !pre)
        throw new SpecError([
          `${file}: arch netflowgen_safe needs a pre-trained model: give the table's model a "pretrain": { "name": "main" }`,
        ]);
      const seedTag = k === 0 ? '' : `#s${seed}`;
      const key = `${basename(file, '.json')}${pre ? `@${pre.slice('pretrain:'.length)}` : ''}${attackTypes ? `:${attackTypes.join('+')}` : ''}${seedTag}`;
      const what = `${m.name}${attackTypes ? ` (${attackTypes.join(', ')})` : ''}${k === 0 ? '' : ` seed ${seed}`}`;
      const ftId = b.add({
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
            name: runName(key),
            dataset: ctx.input('earlydetect'),
            ...(pre ? { pretrained: ctx.input('pretrained') } : {}),
          };
          await runFinetune(s, stageJobOptions(b, ctx, s.max_epoch));
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
    return b.add({
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

  return {
    /** detection-per-type (Table 6): each shown model per attack type of the data. */
    perType(t: TableSpec, base: PlannedTable): PlannedTable {
      // Types the data does not have (data.detect.attackTypes) are left out; the report says so.
      const wanted = t.attackTypes ?? ['DNS', 'UDP', 'NTP'];
      const types = wanted.filter((x) => det.attackTypes.includes(x));
      const models = types.flatMap((type) => tableModels(t).map((m) => finetuneStage(m, [type], t.split ?? 'test')));
      const bound = t.bound ?? tableBound;
      return {
        ...base,
        models,
        bound,
        split: t.split ?? 'test',
        summary: summaryStage(t, models, bound),
        ...(types.length < wanted.length ? { leftOut: wanted.filter((x) => !types.includes(x)) } : {}),
      };
    },
    /** detection (Tables 5, 8, 9, Figure 5): each shown model on all attack types; Table 8 reads no summary. */
    allTypes(t: TableSpec, base: PlannedTable, withSummary: boolean): PlannedTable {
      const shown = tableModels(t);
      if (!shown.length) throw new SpecError([`${t.sources[t.sources.length - 1]}: ${t.kind} needs 'models'`]);
      const models = shown.map((m) => finetuneStage(m, undefined, t.split ?? 'test'));
      const bound = t.bound ?? tableBound;
      const summary = withSummary ? summaryStage(t, models, bound) : undefined;
      return {
        ...base,
        models,
        bound,
        bounds: t.bounds ?? bounds,
        split: t.split ?? 'test',
        ...(summary ? { summary } : {}),
        ...(t.unseenSplits ? { unseenSplits: t.unseenSplits } : {}),
      };
    },
  };
}

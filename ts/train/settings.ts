/**
 * The settings every training spec has, pre-training (spec.ts) and fine-tuning (finetune-spec.ts)
 * alike: the TypeScript face of schemas/training.schema.json, whose definitions both spec schemas take
 * by $ref, and whose arguments experiments/templates/optimiser.njk renders for both commands.
 */

/** Overrides of a Transformer's sizes (--decoder-*). */
export interface ModelOverrides {
  layers?: number;
  heads?: number;
  width?: number;
  ffn?: number;
}

/** A resolved spec's shared settings (defaults filled). */
export interface TrainingSettings {
  name: string;
  description?: string;
  model?: ModelOverrides;
  feature_set?: 'full' | 'light';
  learning_rate: number;
  lr_scheduler: 'fixed' | 'inverse_sqrt';
  warmup_updates: number;
  adam_betas: [number, number];
  weight_decay: number;
  clip_norm: number;
  dropout?: number;
  batch_size: number;
  max_epoch: number;
  /** 0 = no limit. */
  max_update: number;
  /** -1 = off. */
  patience: number;
  seed: number;
  log_interval: number;
  device: 'cpu' | 'cuda';
  precision: 'fp32' | 'bf16' | 'fp16';
  fairseq_args: string[];
}

/**
 * The contract of an EarlyDetect dataset folder (docs/earlydetect.md): what `netflowgen
 * detect-dataset` takes (DetectDatasetOptions) and the manifest it writes (EarlyDetectManifest,
 * schemas/earlydetect.schema.json), with the defaults both name.
 */
import type { SplitName } from '../splits/splits.js';
import type { AttackType } from '../splits/alerts.js';
import type { CusumParams } from './cusum.js';
import type { OnsetError, Table2 } from './summary.js';

export const EARLYDETECT_SCHEMA = 'earlydetect.schema.json';
/** The manifest of an EarlyDetect dataset folder (EarlyDetectManifest). */
export const EARLYDETECT_MANIFEST = 'manifest.json';

/** Matching traffic feature per attack type (our reading of SPEC §6: incoming bytes of its protocol). */
export const DEFAULT_MATCH_FEATURES: Record<AttackType, string> = {
  DNS: 'in.udp.byt',
  NTP: 'in.udp.byt',
  UDP: 'in.udp.byt',
  SYN: 'in.tcp.byt',
  other: 'in.byt',
};

/**
 * What a non-attack example must avoid (besides a margin): 'alerts' (default), every alert of the node
 * in the feed, as the paper's data allows, so an attack the defense never alerted on may land in a
 * non-attack example; 'ground-truth', also every true attack of the ground truth (needs the file).
 */
export type NegativesMode = 'alerts' | 'ground-truth';
export const NEGATIVES_MODES: readonly NegativesMode[] = ['alerts', 'ground-truth'];

export interface CusumConfig extends CusumParams {
  /** Baseline length in minutes, ending where the scan starts (default 240). */
  baseline: number;
  /** The scan starts this many minutes before the alert start (default 29: D - 1, so an onset found there still fits in the detection window with the alert start). */
  lookback: number;
}

export interface DetectDatasetOptions {
  /** Binned dataset folder (netflowgen bin). */
  dataset: string;
  /** Series store; default: the store the dataset was made from. */
  store?: string;
  /** Alert feed (JSON lines). */
  alerts: string;
  /** Synthetic ground truth (JSON lines), when there is one. */
  groundTruth?: string;
  out: string;
  /** Example length W (default: the dataset's window length). */
  windowLength?: number;
  /** Detection window D (default 30). */
  detectLength?: number;
  /** Attack types kept (default all). */
  attackTypes?: readonly AttackType[];
  matchFeatures?: Partial<Record<AttackType, string>>;
  cusum?: Partial<CusumConfig>;
  /** Alerts whose reported packets or bytes are below ratio x observed are dropped (default 0.95). */
  ratio?: number;
  /** Minutes kept clear around what non-attack examples avoid (alerts; true attacks too with negatives 'ground-truth'). Default 30. */
  margin?: number;
  /** What non-attack examples avoid: alerts only (default, as the paper) or alerts and true attacks ('ground-truth', needs groundTruth). */
  negatives?: NegativesMode;
  /** 'random' (default): the window end is drawn among the valid ones; a number: the onset's fixed step. */
  placement?: 'random' | number;
  /** Where the onset comes from: CUSUM (default) or the ground truth's true onset. */
  onset?: 'cusum' | 'truth';
  /** Non-attack examples from unseen rows per validation and test split (paper §7.1). Default 0. */
  unseenExamples?: number;
  seed?: number;
  force?: boolean;
  signal?: AbortSignal;
}

export interface KeptAlert {
  index: number;
  alert_id: string;
  victim: string;
  row: number;
  split: SplitName;
  attack_type: AttackType;
  /** Store minute indices. */
  start: number;
  end: number;
  onset: number;
  onsetSource: 'cusum' | 'alert_start' | 'truth';
  /** CUSUM's own onset (-1: no alarm). */
  cusumOnset: number;
  truthOnset?: number;
  /** Start minutes of the attack and the non-attack example. */
  attackStart: number;
  normalStart: number;
}

export interface EarlyDetectManifest {
  kind: 'netflowgen.earlydetect';
  schemaVersion: 1;
  createdBy: string;
  dataset: string;
  store: string;
  alertsFile: string;
  groundTruthFile: string | null;
  windowLength: number;
  detectLength: number;
  columns: string[];
  attackTypes: string[];
  selectedAttackTypes: string[];
  matchFeatures: Record<string, string>;
  cusum: CusumConfig;
  ratio: number;
  margin: number;
  /** What the non-attack examples avoid. Always written by detect-dataset; absent in manifests from before this field. */
  negatives?: NegativesMode;
  /**
   * With ground truth: per split, non-attack examples (unseen-node ones included) whose W-minute
   * example overlaps a true attack of their node (onset to end, no margin), and those whose detection
   * window does. Always 0 with negatives 'ground-truth'. Null without ground truth.
   */
  negativesOverlappingTrueAttacks?: Record<SplitName, number> | null;
  negativesTrueAttackInDetectionWindow?: Record<SplitName, number> | null;
  placement: 'random' | number;
  onsetSource: 'cusum' | 'truth';
  seed: number;
  splits: Record<SplitName, { count: number; examples: string; mask: string; traffic: string }>;
  alerts: KeptAlert[];
  alertsRead: number;
  dropped: Record<string, number>;
  table2: Table2;
  onsetError: OnsetError | null;
}

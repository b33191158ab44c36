/** netflowgen's synthetic ISP traffic: the generator (pure, seeded) and its file writer. */
export { synth, FLOWS_DIR, type SynthOptions, type SynthManifest, type SynthFile } from './synth.js';
export {
  resolveConfig,
  checkConfig,
  PRESETS,
  PRESET_NAMES,
  ATTACK_TYPES,
  type SynthConfig,
  type PresetName,
  type AttackType,
  type SynthOverrides,
} from './config.js';
export { Generator } from './generate.js';
export { makeInventory, inventoryCsv, type Inventory, type SynthNode, type SynthCustomer } from './inventory.js';
export { ROLES, ROLE_NAMES, BACKGROUND, type RoleName, type RoleSpec, type TrafficClass } from './roles.js';
export { planEvents, attackCurve, type AttackPlan, type CrowdPlan, type EventPlan } from './attacks.js';
export { type Alert, type GroundTruth, ALERT_CSV_COLUMNS } from './alerts.js';
export { loadTemplate, classifyAttack, type AttackTemplate } from './overlay.js';
export {
  NFDUMP_COLUMNS,
  NFDUMP_HEADER,
  formatFlowLine,
  flagString,
  parseFlagString,
  protoName,
  protoNumber,
} from './nfdump.js';
export { Rng } from '../common/rng.js';

/**
 * The data a reproduction starts from: the synthetic generator's output folder, or the user's own
 * flow files. Either way the later stages ask for the same things: flow inputs, a node inventory or
 * prefixes, an alert feed, optionally a ground truth, and the sampling rate.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { SYNTH_MANIFEST, type SynthManifest } from '../synth/synth.js';
import type { FlowsSettings } from './config.js';

export const INGEST_FILE = 'ingest.json';

export interface SourceFiles {
  kind: 'synth' | 'flows';
  inputs: string[];
  nodes?: string;
  prefixes?: string[];
  alerts: string;
  groundTruth?: string;
  sampling: number;
  from?: string;
  to?: string;
}

/** A file's identity for the hash of the ingest stage: path, size and modification time. */
export interface FileFingerprint {
  path: string;
  bytes: number;
  mtimeMs: number;
}

/** Every file under the given paths (folders walked, sorted), fingerprinted; a missing path is an error naming it. */
export function fingerprint(paths: readonly string[], what: string): FileFingerprint[] {
  const out: FileFingerprint[] = [];
  const walk = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new Error(`${what}: ${p} does not exist`);
    }
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
    else out.push({ path: p, bytes: st.size, mtimeMs: Math.round(st.mtimeMs) });
  };
  for (const p of paths) walk(p);
  return out;
}

/** The ingest stage's config: the user's files with fingerprints, so that a changed file is read again. */
export function ingestConfig(f: FlowsSettings): Record<string, unknown> {
  return {
    inputs: f.inputs,
    files: fingerprint(f.inputs, 'data.flows.inputs'),
    nodes: f.nodes ?? null,
    prefixes: f.prefixes ?? [],
    alerts: fingerprint([f.alerts], 'data.flows.alerts')[0],
    groundTruth: f.groundTruth ? fingerprint([f.groundTruth], 'data.flows.groundTruth')[0] : null,
    nodesFile: f.nodes ? fingerprint([f.nodes], 'data.flows.nodes')[0] : null,
    sampling: f.sampling ?? 1,
    from: f.from ?? null,
    to: f.to ?? null,
  };
}

/** Writes ingest.json: where the user's files are (nothing is copied). */
export async function writeIngest(dir: string, f: FlowsSettings): Promise<void> {
  const files: SourceFiles = {
    kind: 'flows',
    inputs: f.inputs,
    nodes: f.nodes,
    prefixes: f.prefixes,
    alerts: f.alerts,
    groundTruth: f.groundTruth,
    sampling: f.sampling ?? 1,
    from: f.from,
    to: f.to,
  };
  await writeFileAtomic(join(dir, INGEST_FILE), JSON.stringify(files, null, 2) + '\n');
}

/** The files of a source stage's folder: a synth output (synth.json) or an ingest stage (ingest.json). */
export function sourceFiles(dir: string): SourceFiles {
  try {
    return JSON.parse(readFileSync(join(dir, INGEST_FILE), 'utf8')) as SourceFiles;
  } catch {
    // not an ingest stage: a synth folder
  }
  const synth = JSON.parse(readFileSync(join(dir, SYNTH_MANIFEST), 'utf8')) as SynthManifest;
  if (synth.config.alertsFormat !== 'jsonl')
    throw new Error(
      `${dir}: the alert feed is ${synth.config.alertsFormat}; detect-dataset reads JSON lines (set data.synth without alertsFormat)`,
    );
  // The generator's span is known: serialize it as is (no first pass over the times, no size confirmation).
  const from = synth.firstMinute;
  const to = new Date(Date.parse(from) + synth.minutes * 60_000).toISOString().replace(/\.000Z$/, 'Z');
  return {
    kind: 'synth',
    inputs: [join(dir, 'flows')],
    nodes: join(dir, 'nodes.csv'),
    alerts: join(dir, 'alerts.jsonl'),
    groundTruth: join(dir, 'ground-truth.jsonl'),
    sampling: synth.config.sampling,
    from,
    to,
  };
}

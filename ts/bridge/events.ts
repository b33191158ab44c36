/**
 * The JSON lines the scripts of python/ write on stdout, as schemas/python-events.schema.json defines them
 * (one definition per script: its progress lines and its done line). Python checks each line it writes
 * against the same definition (python/script_main.py emit, fairseq_plugins/contracts.py event_problems);
 * runPythonScript (and the fork server's reader) checks each line it reads here, so a script and its reader
 * cannot drift apart silently.
 * The types below are checked against the schema by test/schema-types.test.ts.
 */
import type { ValidateFunction } from 'ajv';
import { formatAjvErrors, schemaDefinition, schemaJson } from '../common/schema.js';

export const EVENTS_SCHEMA = 'python-events.schema.json';

/** A non-finite number (a loss that overflowed) is written as null. */
type Metric = number | null;

export type ScoreEvent =
  | { event: 'progress'; windows_done: number; windows: number; seconds: number }
  | { event: 'done'; out: string; windows: number; steps: number; loss: Metric; ppl: Metric; acc: Metric };

export type ScoreDetectEvent =
  | { event: 'progress'; split: string; examples_done: number; examples: number; seconds: number }
  | { event: 'done'; split: string; out: string; n: number; D: number; mean_loss: Metric; seconds: number };

export type GenerateEvent =
  | { event: 'progress'; node_minutes_done: number; node_minutes: number; seconds: number }
  | {
      event: 'done';
      out: string;
      rows: number;
      minutes: number;
      node_minutes_per_s: Metric;
      sample_seconds: number;
    };

/** python/forkserver.py (ts/bridge/forkserver.ts): ready once it listens; a connection it could not read. */
export type ForkServerEvent =
  { event: 'ready'; pid: number; seconds: number } | { event: 'bad-request'; error: string };

/** Each script of python/ whose JSON lines TypeScript reads, by file name without .py, and the lines it writes. */
export interface PythonEvents {
  score: ScoreEvent;
  score_detect: ScoreDetectEvent;
  generate: GenerateEvent;
  forkserver: ForkServerEvent;
}

export type PythonScriptName = keyof PythonEvents;

interface Alternative {
  properties: { event: { const: string } };
}

const checkers = new Map<string, Map<string, ValidateFunction>>();

/** The validators of a script's lines, by the value of their "event" key; throws for a script without a definition. */
export function eventValidators(script: string): Map<string, ValidateFunction> {
  let byEvent = checkers.get(script);
  if (byEvent) return byEvent;
  const schema = schemaJson<{ definitions: Record<string, { oneOf?: Alternative[] }> }>(EVENTS_SCHEMA);
  const alts = schema.definitions[script]?.oneOf;
  if (!alts) throw new Error(`schemas/${EVENTS_SCHEMA}: no definition of the events of python/${script}.py`);
  byEvent = new Map(
    alts.map((a, i) => [
      a.properties.event.const,
      schemaDefinition(EVENTS_SCHEMA, `/definitions/${script}/oneOf/${i}`),
    ]),
  );
  checkers.set(script, byEvent);
  return byEvent;
}

/**
 * What is wrong with one line of python/SCRIPT.py against its definition: the alternative its "event" names
 * is the one checked, so the message names the field. Empty when the line is valid.
 */
export function eventProblems(script: PythonScriptName, record: unknown): string[] {
  const byEvent = eventValidators(script);
  const event = record && typeof record === 'object' ? (record as { event?: unknown }).event : undefined;
  const validate = typeof event === 'string' ? byEvent.get(event) : undefined;
  if (!validate) return [`  - /event: ${JSON.stringify(event)} is not one of ${[...byEvent.keys()].join(', ')}`];
  return validate(record) ? [] : formatAjvErrors(validate.errors ?? []).split('\n');
}

/** The script name runPythonScript's checks use: 'score_detect.py' -> 'score_detect'. */
export function scriptName<S extends PythonScriptName>(file: `${S}.py`): S {
  return file.slice(0, -3) as S;
}

/**
 * A line of a script's output that is an event (a JSON object with an "event" key), or undefined for any
 * other line (warnings, fairseq's log lines, stderr: the readers see stdout and stderr merged).
 */
export function eventLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const r = JSON.parse(line) as unknown;
    return r && typeof r === 'object' && !Array.isArray(r) && 'event' in r ? (r as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not a JSON line
  }
}

/** The error of a line that does not match its script's definition: the script, the line and the field. */
export function brokenLineMessage(script: PythonScriptName, lineNo: number, line: string, problems: string[]): string {
  return `python/${script}.py, output line ${lineNo}: ${line}\ndoes not match schemas/${EVENTS_SCHEMA} (definitions/${script}):\n${problems.join('\n')}`;
}

/**
 * One output line of a script: its event, checked against the script's definition (undefined for a
 * line that is not JSON); throws brokenLineMessage's error when it does not match.
 */
export function checkedEventLine<S extends PythonScriptName>(
  script: S,
  lineNo: number,
  line: string,
): PythonEvents[S] | undefined {
  const r = eventLine(line);
  if (!r) return undefined;
  const problems = eventProblems(script, r);
  if (problems.length) throw new Error(brokenLineMessage(script, lineNo, line, problems));
  return r as PythonEvents[S];
}

/** The event lines of a script's whole output (for callers that run it themselves, as the benches do), each checked. */
export function checkedEventLines<S extends PythonScriptName>(script: S, output: string): PythonEvents[S][] {
  return output.split('\n').flatMap((line, i) => {
    const e = checkedEventLine(script, i + 1, line);
    return e === undefined ? [] : [e];
  });
}

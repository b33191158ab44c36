/**
 * How the report reads the stages' files: each file once, typed by its writer's own interface, and
 * every number of ours with the file and JSON pointer it was read from (report.json keeps them, so a
 * reader or a test can check any cell against the file).
 *
 * The pointer is not typed by hand: a cell is read with an accessor over the writer's type,
 * `r.value<DetectSummary>(file, (d) => d.models[i].loss.mean, 'f4')`, and the pointer
 * (`/models/3/loss/mean`) is recorded from the property path the accessor walks (pointerOf). So a
 * renamed field in a writer's interface breaks the build here, not the report at run time.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Fmt, Source, Value } from './model.js';

/** RFC 6901 JSON pointer; undefined when a step is missing. */
export function getPointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * The JSON pointer of the property path an accessor walks: `(d) => d.rows[2].loss` gives
 * `/rows/2/loss`. The accessor must be a plain chain of property reads (no arithmetic, no calls).
 */
export function pointerOf<T>(pick: (d: T) => unknown): string {
  const path: string[] = [];
  const proxy: object = new Proxy(
    {},
    {
      get: (_, key) => {
        if (typeof key === 'symbol') throw new Error('report: an accessor must read properties only');
        path.push(key);
        return proxy;
      },
    },
  );
  pick(proxy as T);
  return path.map((k) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** A pointer's value as a report Value: numbers (times scale) and strings as they are, anything else as text or null. */
function asValue(raw: unknown, scale?: number): Value['v'] {
  if (typeof raw === 'number') return scale === undefined ? raw : raw * scale;
  if (typeof raw === 'string') return raw;
  return raw === null || raw === undefined ? null : String(raw);
}

/** Reads JSON files once each, and turns typed accessors into Values with their source. */
export class SourceReader {
  private cache = new Map<string, unknown>();
  constructor(readonly root: string) {}

  /** The parsed file, as its writer's type T. */
  json<T = unknown>(file: string): T {
    if (!this.cache.has(file)) {
      let data: unknown;
      try {
        data = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new Error(
          `report: cannot read ${file} (${(e as Error).message}); the stage that writes it has not finished?`,
        );
      }
      this.cache.set(file, data);
    }
    return this.cache.get(file) as T;
  }

  /** The file's path relative to the stages folder, as the report names it. */
  rel(file: string): string {
    return relative(this.root, file);
  }

  /** What `pick` reads in `file` (undefined where a step is missing). */
  get<T, R>(file: string, pick: (d: T) => R): R | undefined {
    return getPointer(this.json(file), pointerOf(pick)) as R | undefined;
  }

  /** The Source of what `pick` reads in `file`. */
  source<T>(file: string, pick: (d: T) => unknown, scale?: number): Source {
    return { file: this.rel(file), pointer: pointerOf(pick), ...(scale !== undefined ? { scale } : {}) };
  }

  /** What `pick` reads in `file` (times scale), as a Value with its source. */
  value<T>(file: string, pick: (d: T) => unknown, fmt: Fmt, scale?: number): Value {
    const src = this.source(file, pick, scale);
    return { v: asValue(getPointer(this.json(file), src.pointer), scale), fmt, src };
  }
}

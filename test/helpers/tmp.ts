import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'netflowgen-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The shared folder beside the checkout (CI has it): real flow samples, the spec, the paper. */
export const SHARED = new URL('../../../../shared/', import.meta.url).pathname;
export const REAL = join(SHARED, 'data/real');

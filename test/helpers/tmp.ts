import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'netflowgen-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A temporary folder for the enclosing mocha `describe`: made in a before() hook (a filtered or aborted
 * run that never reaches the block leaves no folder behind) and removed in an after() hook. Read `.dir`
 * inside hooks and tests only.
 */
export function useTempDir(prefix?: string): { readonly dir: string } {
  let t: ReturnType<typeof tempDir> | undefined;
  before(() => {
    t = tempDir(prefix);
  });
  after(() => t?.cleanup());
  return {
    get dir(): string {
      if (!t) throw new Error('useTempDir: .dir read outside a hook or test');
      return t.dir;
    },
  };
}

/** The shared folder beside the checkout (CI has it): real flow samples, the spec, the paper. */
export const SHARED = new URL('../../../../shared/', import.meta.url).pathname;
export const REAL = join(SHARED, 'data/real');

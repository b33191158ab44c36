import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Atomic output: work happens under a temporary name beside the target (`.NAME.partial-PID`), and
 * only a finished result is renamed into place. An interrupted run leaves at most a `.partial`
 * folder that nothing mistakes for a complete one (and the next run of the same target removes it).
 */
export async function withAtomicDir<T>(target: string, fill: (tmpDir: string) => Promise<T>, opts: { overwrite?: boolean } = {}): Promise<T> {
  const tmp = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  await removeStalePartials(target);
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  try {
    const result = await fill(tmp);
    if (await exists(target)) {
      if (!opts.overwrite) throw new Error(`${target} exists; pass --force to replace it`);
      const old = `${tmp}.old`;
      await fsp.rename(target, old);
      await fsp.rename(tmp, target);
      await fsp.rm(old, { recursive: true, force: true });
    } else {
      await fsp.rename(tmp, target);
    }
    return result;
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Writes a file atomically (temporary name, then rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.partial-${process.pid}`);
  await fsp.writeFile(tmp, data);
  await fsp.rename(tmp, path);
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

async function removeStalePartials(target: string): Promise<void> {
  const dir = dirname(target);
  const prefix = `.${basename(target)}.partial-`;
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length).split('.')[0]);
    if (Number.isFinite(pid) && pid !== process.pid && !isAlive(pid)) await fsp.rm(join(dir, n), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

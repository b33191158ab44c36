import { promises as fsp } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

/**
 * Atomic output: work happens under a temporary name beside the target (`.NAME.partial-PID`), and
 * only a finished result is renamed into place. An interrupted run leaves at most a `.partial`
 * folder that nothing mistakes for a complete one (and the next run of the same target removes it).
 *
 * What may be replaced (checked before any work, and again before the rename): an absent target,
 * an empty folder, or, with `overwrite` (`--force`), a previous netflowgen output (a manifest of
 * netflowgen's says so, see `outputKind`) that holds none of the command's inputs. Anything else is
 * refused with an `OutputError` naming what is in the way. Errors name the target as the user gave it.
 */
export interface AtomicDirOptions {
  /** `--force`: replace the target when it is a previous netflowgen output holding none of `inputs`. */
  overwrite?: boolean;
  /** Files and folders the command reads: a target holding one of them is never replaced. */
  inputs?: readonly (string | null | undefined)[];
}

/** The output path cannot be written, or holds something that must not be replaced. */
export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputError';
  }
}

export async function withAtomicDir<T>(
  target: string,
  fill: (tmpDir: string) => Promise<T>,
  opts: AtomicDirOptions = {},
): Promise<T> {
  await checkOutputDir(target, opts);
  // The temporary folder lies beside the resolved target: `-o .` or `-o dir/.` must not put it inside.
  const abs = resolve(target);
  const tmp = join(dirname(abs), `.${basename(abs)}.partial-${process.pid}`);
  await makeParents(abs, target);
  await removeStalePartials(abs);
  await fsp.rm(tmp, { recursive: true, force: true });
  try {
    await fsp.mkdir(tmp);
  } catch (e) {
    throw new OutputError(`cannot write ${target}: cannot create a folder in ${dirname(target)} (${errText(e)})`);
  }
  try {
    const result = await fill(tmp);
    await writeFileList(tmp);
    if (await exists(abs)) {
      await checkOutputDir(target, opts);
      if (holdsCwd(abs)) {
        // The target is (or holds) the working folder: it is emptied and refilled in place, not renamed
        // away. First make sure a file can move in (not across filesystems): nothing is deleted before.
        const probe = join(tmp, `.netflowgen-probe-${process.pid}`);
        await fsp.writeFile(probe, '');
        await movable(() => fsp.rename(probe, join(abs, basename(probe))), target);
        await fsp.rm(join(abs, basename(probe)), { force: true });
        for (const n of await fsp.readdir(abs)) await fsp.rm(join(abs, n), { recursive: true, force: true });
        for (const n of await fsp.readdir(tmp)) await fsp.rename(join(tmp, n), join(abs, n));
        await fsp.rm(tmp, { recursive: true, force: true });
      } else {
        const old = `${tmp}.old`;
        await movable(() => fsp.rename(abs, old), target);
        try {
          await fsp.rename(tmp, abs);
        } catch (e) {
          await fsp.rename(old, abs); // put the previous output back
          throw e;
        }
        await fsp.rm(old, { recursive: true, force: true });
      }
    } else {
      await movable(() => fsp.rename(tmp, abs), target);
    }
    return result;
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * A rename that cannot happen because the target is a mount point or on another filesystem (EBUSY,
 * EXDEV) becomes an error naming the path the user gave, never the hidden temporary folder.
 */
async function movable(rename: () => Promise<void>, target: string): Promise<void> {
  try {
    await rename();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EBUSY' || code === 'EXDEV')
      throw new OutputError(
        `cannot write ${target}: it is a mount point or on another filesystem than the folder above it (${code}), so it cannot be replaced in one step; give a folder inside it (e.g. ${join(target, 'out')})`,
      );
    throw e;
  }
}

function holdsCwd(abs: string): boolean {
  const rel = relative(abs, process.cwd());
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The hidden file in which an output lists what netflowgen wrote there (relative paths, folders too). */
export const FILE_LIST = '.netflowgen-files.json';

async function writeFileList(dir: string): Promise<void> {
  const entries = (await walk(dir, '')).filter((e) => e !== FILE_LIST).sort();
  await fsp.writeFile(join(dir, FILE_LIST), JSON.stringify({ kind: 'netflowgen.file-list', entries }) + '\n');
}

async function walk(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await fsp.readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${d.name}` : d.name;
    out.push(p);
    if (d.isDirectory()) out.push(...(await walk(root, p)));
  }
  return out;
}

/** What lies in a previous output that netflowgen did not write there (topmost paths), or null without a list. */
async function extraFiles(dir: string): Promise<string[] | null> {
  let listed: Set<string>;
  try {
    const j = JSON.parse(await fsp.readFile(join(dir, FILE_LIST), 'utf8')) as { entries?: unknown };
    if (!Array.isArray(j.entries)) return null;
    listed = new Set(j.entries.map(String));
  } catch {
    return null;
  }
  const extra: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const d of await fsp.readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (p === FILE_LIST) continue;
      if (!listed.has(p)) extra.push(p);
      else if (d.isDirectory()) await visit(p);
    }
  };
  await visit('');
  return extra;
}

/** Manifest files that make a folder a netflowgen output when their `kind` starts with `netflowgen.`. */
export const OUTPUT_MANIFESTS = [
  'manifest.json',
  'synth.json',
  'result.json',
  'reproduce.json',
  'report.json',
  'stage.json',
  'results.json',
  'summary.json',
] as const;

/** The `kind` of a folder's netflowgen manifest (e.g. `netflowgen.series-store`), or null when it has none. */
export async function outputKind(dir: string): Promise<string | null> {
  for (const name of OUTPUT_MANIFESTS) {
    let text: string;
    try {
      text = await fsp.readFile(join(dir, name), 'utf8');
    } catch {
      continue;
    }
    try {
      const kind = (JSON.parse(text) as { kind?: unknown }).kind;
      if (typeof kind === 'string' && kind.startsWith('netflowgen.')) return kind;
    } catch {
      /* not JSON: not ours */
    }
  }
  return null;
}

/**
 * Checks that an output folder may be written (module docstring): throws an OutputError naming the
 * target as given, and what is in the way, when it may not. Call it before long work to fail fast.
 */
export async function checkOutputDir(target: string, opts: AtomicDirOptions = {}): Promise<void> {
  let st;
  try {
    st = await fsp.stat(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return checkWritableParent(target);
    throw new OutputError(`cannot write ${target}: ${errText(e)}`);
  }
  if (!st.isDirectory())
    throw new OutputError(`${target} exists and is not a folder; it is never replaced: choose another output path`);
  await refuseInputsInside(target, opts.inputs ?? []);
  let entries: string[];
  try {
    entries = await fsp.readdir(target);
  } catch (e) {
    throw new OutputError(`cannot write ${target}: ${errText(e)}`);
  }
  if (entries.length === 0) return;
  const kind = await outputKind(target);
  if (!opts.overwrite) {
    throw new OutputError(
      kind
        ? `${target} exists (a previous ${kind.slice('netflowgen.'.length)} output); pass --force to replace it, or choose another output folder`
        : `${target} exists and is not empty (${listed(entries)}); choose another output folder`,
    );
  }
  if (!kind)
    throw new OutputError(
      `${target} is not a previous netflowgen output (no netflowgen manifest: ${OUTPUT_MANIFESTS.slice(0, 3).join(', ')}, ...) and holds ${listed(entries)}: --force replaces only netflowgen's own outputs; choose another output folder, or move those files yourself`,
    );
  let extra: string[] | null;
  try {
    extra = await extraFiles(target);
  } catch (e) {
    throw new OutputError(`cannot write ${target}: ${errText(e)}`);
  }
  // Without the list of what netflowgen wrote (an output of an older version, or the list removed),
  // --force cannot tell the user's files from its own: never delete then.
  if (extra === null)
    throw new OutputError(
      `${target} is a previous ${kind.slice('netflowgen.'.length)} output without ${FILE_LIST} (the list of what netflowgen wrote there: made by an older version, or removed), so --force cannot tell your files from its own and replaces nothing; move the folder aside yourself, or choose another output folder`,
    );
  if (extra && extra.length)
    throw new OutputError(
      `${target} is a previous ${kind.slice('netflowgen.'.length)} output but also holds ${listed(extra)}, which netflowgen did not write: --force replaces only what netflowgen wrote; move those files out, or choose another output folder`,
    );
}

/** Throws an OutputError when the folder `target` is, or holds, one of the command's inputs. */
export async function refuseInputsInside(
  target: string,
  inputs: readonly (string | null | undefined)[],
): Promise<void> {
  const inside = await inputsInside(target, inputs);
  if (inside.length)
    throw new OutputError(
      `${target} holds ${inside.map((p) => `'${p}'`).join(', ')}, ${inside.length > 1 ? 'inputs' : 'an input'} of this command: it is never replaced; choose another output folder`,
    );
}

function listed(entries: string[]): string {
  const sorted = [...entries].sort();
  return sorted.length <= 5 ? sorted.join(', ') : `${sorted.slice(0, 5).join(', ')} and ${sorted.length - 5} more`;
}

/** The given inputs that are the target or lie below it (symbolic links resolved). */
async function inputsInside(target: string, inputs: readonly (string | null | undefined)[]): Promise<string[]> {
  const root = await real(target);
  const out: string[] = [];
  for (const p of inputs) {
    if (!p) continue;
    const rel = relative(root, await real(p));
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) out.push(p);
  }
  return out;
}

async function real(p: string): Promise<string> {
  try {
    return await fsp.realpath(p);
  } catch {
    return resolve(p);
  }
}

/** The nearest existing folder above a path that does not exist: it must be a writable folder. */
async function checkWritableParent(target: string): Promise<void> {
  let p = dirname(resolve(target));
  for (;;) {
    try {
      const st = await fsp.stat(p);
      if (!st.isDirectory()) throw new OutputError(`cannot write ${target}: ${p} is not a folder`);
      break;
    } catch (e) {
      if (e instanceof OutputError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new OutputError(`cannot write ${target}: ${errText(e)}`);
      const up = dirname(p);
      if (up === p) break;
      p = up;
    }
  }
  try {
    await fsp.access(p, 2 /* W_OK */);
  } catch (e) {
    throw new OutputError(`cannot write ${target}: ${p} is not writable (${errText(e)})`);
  }
}

/**
 * Creates the missing folders above the target one level at a time (not `mkdir -p`: Node's recursive
 * mkdir loops forever on some special file systems, e.g. under /proc). Errors name the target.
 */
async function makeParents(target: string, shown: string = target): Promise<void> {
  const missing: string[] = [];
  let p = dirname(resolve(target));
  for (;;) {
    try {
      if (!(await fsp.stat(p)).isDirectory()) throw new OutputError(`cannot write ${shown}: ${p} is not a folder`);
      break;
    } catch (e) {
      if (e instanceof OutputError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputError(`cannot write ${shown}: ${errText(e)}`);
      missing.push(p);
      const up = dirname(p);
      if (up === p) break;
      p = up;
    }
  }
  for (const m of missing.reverse()) {
    try {
      await fsp.mkdir(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new OutputError(`cannot write ${shown}: cannot create ${m} (${errText(e)})`);
    }
  }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  // The system's words without the path it names (which may be our hidden temporary folder).
  const why = String(err.message ?? e)
    .replace(/^[A-Z]+: /, '')
    .replace(/, [a-z]+ '[^']*'( -> '[^']*')?$/, '');
  return err.code ? `${err.code}: ${why}` : why;
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
    if (Number.isFinite(pid) && pid !== process.pid && !isAlive(pid))
      await fsp.rm(join(dir, n), { recursive: true, force: true });
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

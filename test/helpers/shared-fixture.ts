/**
 * Fixtures built once and shared: by every test file of a mocha run (memoised in this process) and by
 * later runs of the same code (kept under os.tmpdir()/netflowgen-test-fixtures/NAME-KEY/).
 *
 * KEY is a hash of everything that can change what a fixture holds: the compiled code (dist/ts, and the
 * test helpers that build fixtures), the Python code (python/, fairseq_plugins/), experiments/ and schemas/. A change to any
 * of them gives a new key, so a stale fixture is never used; older keys of the same name are removed.
 * A fixture is built in its final folder (its files may hold their own absolute paths) under a lock
 * folder, and marked complete by a file written last: an interrupted build is never used (the next
 * builder starts it over), and a second process asking for a fixture being built waits for it.
 *
 * Fixtures are read-only to the tests: a test that writes copies what it writes to.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { packageRoot } from '../../ts/common/paths.js';

const CACHE = join(tmpdir(), 'netflowgen-test-fixtures');
const HASHED = [
  ...['dist/ts', 'python', 'fairseq_plugins', 'experiments', 'schemas'],
  // the test code that builds fixtures
  ...['dist/test/train-fixture.js', 'dist/test/helpers/trained.js', 'dist/test/helpers/detect-chain.js'],
  ...['dist/test/helpers/shared-fixture.js', 'dist/test/helpers/cli.js'],
];

function filesUnder(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  if (statSync(dir).isFile()) return void out.push(dir);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === '__pycache__' || e.name === 'results') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, out);
    else if (e.isFile() && !e.name.endsWith('.map') && !e.name.endsWith('.d.ts')) out.push(p);
  }
}

let codeKey: string | undefined;
/** A short hash of the code and configs (computed once per process). */
export function codeVersion(): string {
  if (codeKey) return codeKey;
  const root = packageRoot();
  const files: string[] = [];
  for (const d of HASHED) filesUnder(join(root, d), files);
  files.sort();
  const h = createHash('sha256');
  for (const f of files) h.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  return (codeKey = h.digest('hex').slice(0, 16));
}

const COMPLETE = '.complete';
const memo = new Map<string, Promise<string>>();

/**
 * The folder of fixture `name`, built by `build(dir)` into an empty folder when this code version has
 * none yet. `name` must say everything the build depends on besides the code (e.g. its options).
 */
export function sharedFixture(name: string, build: (dir: string) => Promise<void>): Promise<string> {
  let p = memo.get(name);
  if (!p) {
    p = buildOnce(name, build);
    memo.set(name, p);
    p.catch(() => memo.delete(name)); // a failed build is retried by the next test that asks
  }
  return p;
}

async function buildOnce(name: string, build: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(CACHE, `${name}-${codeVersion()}`);
  const complete = join(dir, COMPLETE);
  mkdirSync(CACHE, { recursive: true });
  const lock = `${dir}.lock`;
  for (;;) {
    if (existsSync(complete)) return dir;
    try {
      mkdirSync(lock); // atomic: one builder at a time
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(readFileSafe(join(lock, 'pid')));
      if (holder && !processAlive(holder)) rmSync(lock, { recursive: true, force: true }); // its builder is gone
      await new Promise((r) => setTimeout(r, 200)); // another process is building it: wait for its marker
    }
  }
  try {
    if (existsSync(complete)) return dir;
    rmSync(dir, { recursive: true, force: true }); // what an interrupted build left
    mkdirSync(dir);
    await build(dir);
    writeFileSync(complete, new Date().toISOString() + '\n');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  removeOlderVersions(name, dir);
  return dir;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Other code versions' folders of this fixture, unless a process may still be using them. */
function removeOlderVersions(name: string, keep: string): void {
  for (const n of readdirSync(CACHE)) {
    const p = join(CACHE, n);
    if (p === keep || !n.startsWith(`${name}-`) || n.endsWith('.lock') || existsSync(`${p}.lock`)) continue;
    // a folder a process of older code may still be reading is left for an hour
    if (Date.now() - statSync(p).mtimeMs < 3_600_000) continue;
    rmSync(p, { recursive: true, force: true });
  }
}

/** Whether process `pid` exists (signal 0 checks without signalling). */
const processAlive = (pid: number): boolean => {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
};

// Writes a set of files into a directory so that a reader sees either the whole old set or the
// whole new one, as the kubelet's AtomicWriter does for configMap, secret and downwardAPI volumes:
//
//   <dir>/..2026_12_02_12_17_35.Ab12Cd/   the files of one version (a new directory per version)
//   <dir>/..data -> ..2026_12_02_...      swapped by rename(2) of a fresh symlink: atomic
//   <dir>/<name> -> ..data/<name>         the user-visible names, one per top-level path
//
// A reader that resolves ..data once reads one consistent version; one that opens <dir>/<name>
// always gets a complete file. The old version's directory is removed after the swap.

import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface FileToWrite {
  data: Buffer;
  /** Permission bits, 0 to 0o777. */
  mode: number;
}

/** Relative path (may hold '/') -> content. */
export type Payload = Map<string, FileToWrite>;

const DATA_LINK = '..data';
const DATA_TMP_LINK = '..data_tmp';

/** Why a payload path is refused, or undefined when it is fine. */
export function invalidPayloadPath(path: string): string | undefined {
  if (path === '') return 'must not be empty';
  if (path.startsWith('/')) return 'must be a relative path';
  if (path.length > 4096) return 'must be at most 4096 characters';
  const parts = path.split('/');
  if (parts.includes('..')) return "must not contain '..'";
  if (parts.some((p) => p === '' || p === '.')) return 'must not contain empty or "." components';
  if (path.startsWith('..')) return "must not start with '..'";
  return undefined;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** "..2026_12_02_12_17_35." in UTC, the prefix of a version directory (mkdtemp adds a unique suffix). */
function versionPrefix(nowMs: number): string {
  const d = new Date(nowMs);
  return `..${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}_${pad(d.getUTCDate())}_${pad(d.getUTCHours())}_${pad(d.getUTCMinutes())}_${pad(d.getUTCSeconds())}.`;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Every regular file under `root`, as relative path -> content and mode. */
async function readTree(root: string, prefix = '', out: Payload = new Map()): Promise<Payload> {
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) await readTree(root, rel, out);
    else {
      const full = join(root, rel);
      out.set(rel, { data: await readFile(full), mode: (await stat(full)).mode & 0o777 });
    }
  }
  return out;
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [path, f] of a) {
    const g = b.get(path);
    if (!g || g.mode !== f.mode || !g.data.equals(f.data)) return false;
  }
  return true;
}

/** The version directory and those below it: group fsGroup, setgid, readable and searchable by the group. */
async function groupDirs(dir: string, gid: number): Promise<void> {
  await chown(dir, -1, gid);
  await chmod(dir, 0o2755);
  for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isDirectory()) await groupDirs(join(dir, entry.name), gid);
}

const topLevel = (payload: Payload): Set<string> => new Set([...payload.keys()].map((p) => p.split('/')[0]));

/**
 * Makes `dir` hold exactly `payload`. Returns false when it already did (nothing is written).
 * Not safe for two concurrent calls on the same directory: the caller serialises them.
 */
export async function writeAtomically(dir: string, payload: Payload, nowMs: number, o: { fsGroup?: number } = {}): Promise<boolean> {
  for (const path of payload.keys()) {
    const why = invalidPayloadPath(path);
    if (why) throw new RangeError(`Cannot write file ${JSON.stringify(path)}: the path ${why}`);
  }
  if (o.fsGroup !== undefined) {
    // The pod's fsGroup may read every file, as the kubelet's SetVolumeOwnership makes it.
    payload = new Map([...payload].map(([p, f]) => [p, { data: f.data, mode: f.mode | 0o440 }]));
  }
  await mkdir(dir, { recursive: true });
  const dataLink = join(dir, DATA_LINK);
  let oldVersion: string | undefined;
  try {
    oldVersion = await readlink(dataLink);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  let oldPayload: Payload = new Map();
  if (oldVersion !== undefined) {
    try {
      oldPayload = await readTree(join(dir, oldVersion));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      oldVersion = undefined;
    }
  }
  const changed = oldVersion === undefined || !samePayload(oldPayload, payload);
  if (changed) {
    const version = await mkdtemp(join(dir, versionPrefix(nowMs)));
    await chmod(version, 0o755);
    for (const [path, f] of payload) {
      const full = join(version, path);
      await mkdir(dirname(full), { recursive: true, mode: 0o755 });
      await writeFile(full, f.data, { mode: f.mode });
      await chmod(full, f.mode); // writeFile's mode is masked by the umask
      if (o.fsGroup !== undefined) await chown(full, -1, o.fsGroup);
    }
    if (o.fsGroup !== undefined) await groupDirs(version, o.fsGroup);
    const tmpLink = join(dir, DATA_TMP_LINK);
    await rm(tmpLink, { force: true });
    await symlink(basename(version), tmpLink);
    await rename(tmpLink, dataLink);
    oldVersion = basename(version);
  }
  // User-visible names: add the new ones, drop the ones the payload no longer has.
  const wanted = topLevel(payload);
  for (const name of wanted) {
    const link = join(dir, name);
    try {
      await lstat(link);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await symlink(join(DATA_LINK, name), link);
    }
  }
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..')) {
      // Older versions, and any left by a crash between mkdtemp and the swap.
      if (entry !== DATA_LINK && entry !== oldVersion) await rm(join(dir, entry), { recursive: true, force: true });
    } else if (!wanted.has(entry)) {
      await rm(join(dir, entry), { recursive: true, force: true });
    }
  }
  return changed;
}

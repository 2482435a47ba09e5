// Restores a snapshot file (navctl snapshot save) into a new member data dir,
// like `etcdutl snapshot restore`: the member's Raft storage starts from one
// snapshot holding the saved store and a fresh membership (--peers), so that
// `navarch master --data-dir D` on every member boots a new cluster whose
// store is exactly the saved one, at the saved revision.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Member } from '../../raft/node/raft_node.js';
import { encodeSnapshotEnvelope } from '../../raft/node/snapshot_envelope.js';
import { RocksDbStorage } from '../../raft/storage/rocksdb_storage.js';
import { decodeSnapshotFile, verifyStoreSnapshot, type SnapshotMeta } from '../etcdserver/snapshot_file.js';

/** Where startMasterMember keeps the Raft storage inside a data dir. */
const RAFT_DIR = 'raft';
/**
 * The new log starts at this index and term: one snapshot, committed, no
 * entries. Every restored member writes the same, so they agree on the log
 * prefix, and the first election moves to term 2.
 */
const RESTORED_INDEX = 1;
const RESTORED_TERM = 1;

export interface RestoreOptions {
  /** The snapshot file. */
  file: string;
  /** A new (missing or empty) directory for the member. */
  dataDir: string;
  /** This member's id; must be in peers. */
  id: number;
  /** The new cluster's members with their Raft peer addresses. */
  peers: Member[];
}

export interface RestoreResult {
  dataDir: string;
  meta: SnapshotMeta;
}

function isEmptyDir(dir: string): boolean {
  return readdirSync(dir).length === 0;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks the file completely, then writes the data dir aside and renames it
 * into place, so a failure never leaves a half-restored dir that `navarch
 * master` would take for a new empty member. Throws naming the problem.
 */
export async function restoreSnapshot(o: RestoreOptions): Promise<RestoreResult> {
  if (o.peers.length === 0) throw new Error('Cannot restore: --peers is empty; name every member of the new cluster as id=host:port');
  if (!o.peers.some((p) => p.id === o.id)) throw new Error(`Cannot restore: --peers has no entry for --id ${o.id}`);
  if (new Set(o.peers.map((p) => p.id)).size !== o.peers.length) throw new Error('Cannot restore: --peers names a member id twice');
  const dataDir = resolve(o.dataDir);
  if (existsSync(dataDir) && !isEmptyDir(dataDir)) {
    throw new Error(`Cannot restore into "${o.dataDir}": the directory is not empty; give --data-dir a new or empty directory`);
  }
  let data: Buffer;
  try {
    data = await readFile(o.file);
  } catch (e) {
    throw new Error(`Cannot read snapshot "${o.file}": ${(e as Error).message}`, { cause: e });
  }
  const name = `snapshot "${o.file}"`;
  const { meta, store } = decodeSnapshotFile(data, name);
  verifyStoreSnapshot(meta, store, name);

  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dataDir)}.restoring-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    const storage = await RocksDbStorage.open(join(tmp, RAFT_DIR));
    try {
      const members = new Map(o.peers.map((p) => [p.id, p.address]));
      const voters = o.peers.map((p) => p.id).sort((a, b) => a - b);
      await storage.save({
        snapshot: {
          metadata: { index: RESTORED_INDEX, term: RESTORED_TERM, confState: { voters, learners: [] } },
          data: encodeSnapshotEnvelope(members, store),
        },
        hardState: { term: RESTORED_TERM, vote: 0, commit: RESTORED_INDEX },
        entries: [],
      });
    } finally {
      await storage.close();
    }
    // rename(2) replaces an empty directory, so an empty --data-dir made beforehand is fine.
    renameSync(tmp, dataDir);
    fsyncDir(parent);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dataDir, meta };
}

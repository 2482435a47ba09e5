// Downloads one member's snapshot (Maintenance.Snapshot) to a file, as
// `etcdctl snapshot save` does: into "<file>.part", checked (stream length,
// SHA-256 trailer, then the whole format), synced, then renamed into place,
// so a broken download never leaves a file that looks like a backup.

import { createHash } from 'node:crypto';
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Client, credentials, type MethodDefinition } from '@grpc/grpc-js';
import type { Msg } from './convert.js';
import { syncDirectory } from '../../raft/storage/sync_directory.js';
import { loadEtcdApi } from './proto.js';
import { SNAPSHOT_CHECKSUM_BYTES, SnapshotFileError, decodeSnapshotFile, verifyStoreSnapshot, type SnapshotMeta } from './snapshot_file.js';

export interface DownloadOptions {
  /** The whole download gives up after this long. @default 300000 */
  timeoutMs?: number;
}

export interface SavedSnapshot {
  file: string;
  /** File size, checksum included. */
  bytes: number;
  meta: SnapshotMeta;
  /** False when the member could not confirm with a quorum that it had every acknowledged write (it sent what it had). */
  linearized: boolean;
}

export async function downloadSnapshot(address: string, file: string, options: DownloadOptions = {}): Promise<SavedSnapshot> {
  const part = `${file}.part`;
  const def = loadEtcdApi().services.Maintenance.Snapshot as unknown as MethodDefinition<Msg, Msg>;
  let fh: FileHandle;
  try {
    fh = await open(part, 'w', 0o600);
  } catch (e) {
    throw new Error(`Cannot write snapshot to "${file}": ${(e as Error).message}`, { cause: e });
  }
  const client = new Client(address, credentials.createInsecure());
  let closed = false;
  try {
    const call = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, {}, { deadline: Date.now() + (options.timeoutMs ?? 300_000) });
    let linearized = true;
    call.on('metadata', (md) => {
      if (md.get('navarch-snapshot-linearized')[0] === 'false') linearized = false;
    });
    const hash = createHash('sha256');
    let total = -1;
    let received = 0;
    const checksum: Buffer[] = [];
    let checksumBytes = 0;
    try {
      for await (const msg of call as AsyncIterable<Msg>) {
        const blob: Buffer = msg.blob ?? Buffer.alloc(0);
        if (total < 0) total = blob.length + Number(msg.remaining_bytes ?? 0);
        if (received < total) {
          if (received + blob.length > total) throw new SnapshotFileError(`Snapshot stream from ${address} sent more than the ${total} bytes it announced`);
          hash.update(blob);
          received += blob.length;
        } else {
          checksumBytes += blob.length;
          if (checksumBytes > SNAPSHOT_CHECKSUM_BYTES) throw new SnapshotFileError(`Snapshot stream from ${address} sent data after its ${SNAPSHOT_CHECKSUM_BYTES}-byte checksum`);
          checksum.push(blob);
        }
        await fh.write(blob);
      }
    } catch (e) {
      if (e instanceof SnapshotFileError) throw e;
      const got = total < 0 ? 'before any data' : `after ${received} of ${total} bytes`;
      const msg = (e as { details?: string }).details || (e as Error).message;
      // grpc-js: "No connection established. Last error: Error: connect ECONNREFUSED …. Resolution note: …": keep the cause.
      const cause = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note.*)?$/.exec(msg)?.[1] || msg;
      throw new Error(`Snapshot stream from ${address} failed ${got}: ${cause}`, { cause: e });
    }
    if (total < 0) throw new SnapshotFileError(`Snapshot stream from ${address} ended without sending anything`);
    if (received < total || checksumBytes !== SNAPSHOT_CHECKSUM_BYTES) {
      throw new SnapshotFileError(`Snapshot stream from ${address} ended early: ${received} of ${total} bytes and ${checksumBytes} of ${SNAPSHOT_CHECKSUM_BYTES} checksum bytes`);
    }
    if (!Buffer.concat(checksum).equals(hash.digest())) throw new SnapshotFileError(`Snapshot from ${address} fails its SHA-256 checksum: damaged in transit`);
    await fh.sync();
    await fh.close();
    closed = true;
    // The stream's checksum covers transport; this checks the content is a snapshot we can restore.
    const { meta, store } = decodeSnapshotFile(await readFile(part), `the snapshot from ${address}`);
    verifyStoreSnapshot(meta, store, `the snapshot from ${address}`);
    await rename(part, file);
    await syncDirectory(dirname(file));
    return { file, bytes: total + SNAPSHOT_CHECKSUM_BYTES, meta, linearized };
  } catch (e) {
    if (!closed) await fh.close().catch(() => {});
    await rm(part, { force: true });
    throw e;
  } finally {
    client.close();
  }
}

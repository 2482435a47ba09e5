// Layers into overlayfs snapshots the way containerd's own unpacker does: one snapshot per layer,
// named by its chain id, each prepared on its parent, filled by the diff service, then committed.

import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { ContainerdError, isAlreadyExists, isNotFound, type CallContext, type ContainerdClient } from './client.js';
import { chainIds, type Descriptor } from './oci.js';

export const SNAPSHOTTER = 'overlayfs';

export async function snapshotExists(client: ContainerdClient, key: string, ctx: CallContext = {}): Promise<boolean> {
  try {
    const s = client.snapshots;
    await client.unary('Snapshots.Stat', s.stat.bind(s), { snapshotter: SNAPSHOTTER, key }, ctx);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/** Unpacks every layer not yet unpacked; returns the chain ids (the last is the image's rootfs). */
export async function unpackLayers(client: ContainerdClient, layers: readonly Descriptor[], diffIds: readonly string[], ctx: CallContext): Promise<string[]> {
  const chain = chainIds(diffIds);
  const s = client.snapshots;
  for (let i = 0; i < layers.length; i++) {
    const chainId = chain[i]!;
    if (await snapshotExists(client, chainId, ctx)) continue;
    const key = `extract-${randomBytes(6).toString('hex')}-${chainId}`;
    const parent = i === 0 ? '' : chain[i - 1]!;
    const prepared = await client.unary('Snapshots.Prepare', s.prepare.bind(s), { snapshotter: SNAPSHOTTER, key, parent, labels: {} }, ctx);
    try {
      const layer = layers[i]!;
      const d = client.diff;
      const applied = await client.unary(
        'Diff.Apply',
        d.apply.bind(d),
        { diff: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size, annotations: {} }, mounts: prepared.mounts, payloads: {} },
        ctx,
      );
      if (applied.applied?.digest !== diffIds[i]) {
        throw new ContainerdError(`Cannot unpack layer ${layer.digest}: its content is ${applied.applied?.digest}, the image config says ${diffIds[i]}`, status.DATA_LOSS);
      }
      await client.unary('Snapshots.Commit', s.commit.bind(s), { snapshotter: SNAPSHOTTER, name: chainId, key, labels: {} }, ctx);
    } catch (e) {
      await client.unary('Snapshots.Remove', s.remove.bind(s), { snapshotter: SNAPSHOTTER, key }, ctx).catch(() => undefined);
      // Unpacked meanwhile by a concurrent pull of an image sharing this layer.
      if (isAlreadyExists(e)) continue;
      throw e;
    }
  }
  return chain;
}

// Puts one image into containerd from any source of blobs (an OCI archive, a registry): layers,
// config and manifest into the content store with the labels containerd's garbage collector follows,
// layers unpacked into snapshots, then the image record. All under a lease until the record exists.

import { randomBytes } from 'node:crypto';
import { isAlreadyExists, type CallContext, type ContainerdClient } from './client.js';
import { writeBlob } from './content.js';
import { parseConfig, type Descriptor, type ImageConfig, type Manifest } from './oci.js';
import { SNAPSHOTTER, unpackLayers } from './unpack.js';

/** Upper bound for manifests, indexes and configs read into memory. */
export const MAX_METADATA_BYTES = 4 << 20;

export interface BlobSource {
  /** A small blob (manifest, index, config) in full. */
  read(desc: Descriptor): Promise<Buffer>;
  /** A blob's bytes as a stream (layers). */
  stream(desc: Descriptor): AsyncIterable<Buffer | Uint8Array>;
}

export interface StoredImage {
  name: string;
  target: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

/** Runs `fn` under a fresh containerd lease that expires by itself if this process dies midway. */
export async function withLease<T>(client: ContainerdClient, fn: (ctx: CallContext) => Promise<T>): Promise<T> {
  const l = client.leases;
  const id = `navarch-${randomBytes(8).toString('hex')}`;
  const expire = new Date(Date.now() + 3600_000).toISOString();
  await client.unary('Leases.Create', l.create.bind(l), { id, labels: { 'containerd.io/gc.expire': expire } });
  try {
    return await fn({ lease: id });
  } finally {
    await client.unary('Leases.Delete', l.delete.bind(l), { id, sync: false }).catch(() => undefined);
  }
}

function toProto(d: Descriptor) {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: {} };
}

/**
 * Writes the manifest `target` (already parsed as `manifest`, bytes `manifestBytes`) and everything it
 * names, unpacks it and registers it as `name`. `parent` is the index it came from, if any.
 */
export async function storeImage(
  client: ContainerdClient,
  source: BlobSource,
  image: { name: string; target: Descriptor; manifest: Manifest; manifestBytes: Buffer; parent?: { desc: Descriptor; bytes: Buffer } },
  ctx: CallContext,
): Promise<StoredImage> {
  const { manifest } = image;
  const configBytes = await source.read(manifest.config);
  const config = parseConfig(configBytes, manifest.config.digest, manifest.layers.length);
  const diffIds = config.rootfs.diff_ids;
  for (let i = 0; i < manifest.layers.length; i++) {
    const layer = manifest.layers[i]!;
    await writeBlob(client, { digest: layer.digest, sizeBytes: layer.size }, () => source.stream(layer), { 'containerd.io/uncompressed': diffIds[i]! }, ctx);
  }
  const chain = await unpackLayers(client, manifest.layers, diffIds, ctx);
  const top = chain[chain.length - 1];
  const configLabels: Record<string, string> = top ? { [`containerd.io/gc.ref.snapshot.${SNAPSHOTTER}`]: top } : {};
  await writeBlob(client, { digest: manifest.config.digest, sizeBytes: manifest.config.size }, async function* () { yield configBytes; }, configLabels, ctx);
  const manifestLabels: Record<string, string> = { 'containerd.io/gc.ref.content.config': manifest.config.digest };
  manifest.layers.forEach((l, i) => (manifestLabels[`containerd.io/gc.ref.content.l.${i}`] = l.digest));
  await writeBlob(client, { digest: image.target.digest, sizeBytes: image.target.size }, async function* () { yield image.manifestBytes; }, manifestLabels, ctx);
  let target = image.target;
  if (image.parent) {
    const p = image.parent;
    await writeBlob(client, { digest: p.desc.digest, sizeBytes: p.desc.size }, async function* () { yield p.bytes; }, { 'containerd.io/gc.ref.content.m.0': image.target.digest }, ctx);
    target = p.desc;
  }
  await registerImage(client, image.name, target, ctx);
  return { name: image.name, target, manifest, config };
}

/** Creates the image record, or points an existing one at the new target. */
export async function registerImage(client: ContainerdClient, name: string, target: Descriptor, ctx: CallContext = {}): Promise<void> {
  const im = client.images;
  const record = { name, labels: {}, target: toProto(target) };
  try {
    await client.unary('Images.Create', im.create.bind(im), { image: record }, ctx);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    await client.unary('Images.Update', im.update.bind(im), { image: record, updateMask: ['target'] }, ctx);
  }
}

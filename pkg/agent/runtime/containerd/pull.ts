// Pulls an image from an OCI distribution registry into containerd: the registry client resolves the
// reference to this platform's manifest, blobs stream from the registry into the content store
// (those already there are not fetched), and the layers are unpacked as for an import.

import { RegistryClient, parseReference } from '../../../registry/mod.js';
import type { ImageInfo, RegistryCredential } from '../runtime.js';
import type { ContainerdClient } from './client.js';
import { MAX_METADATA_BYTES, storeImage, withLease, type BlobSource } from './image_store.js';
import { toImageInfo } from './images.js';
import { isManifest, parseManifest } from './oci.js';

export async function pullImage(client: ContainerdClient, ref: string, credentials: readonly RegistryCredential[]): Promise<ImageInfo> {
  const reference = parseReference(ref);
  const registry = new RegistryClient({ credentials });
  const resolved = await registry.resolve(reference);
  if (!isManifest(resolved.mediaType)) throw new Error(`Cannot pull ${reference.full}: unsupported manifest media type "${resolved.mediaType}"`);
  const manifest = parseManifest(resolved.manifest, resolved.digest);
  const source: BlobSource = {
    async read(desc) {
      if (desc.size > MAX_METADATA_BYTES) throw new Error(`Cannot pull ${reference.full}: ${desc.mediaType} ${desc.digest} is larger than ${MAX_METADATA_BYTES} bytes`);
      const parts: Buffer[] = [];
      for await (const chunk of await registry.fetchBlob(resolved.reference, desc.digest, { sizeBytes: desc.size })) parts.push(chunk as Buffer);
      return Buffer.concat(parts);
    },
    async *stream(desc) {
      yield* await registry.fetchBlob(resolved.reference, desc.digest, { sizeBytes: desc.size });
    },
  };
  const target = { mediaType: resolved.mediaType, digest: resolved.digest, size: resolved.manifest.length };
  const stored = await withLease(client, (ctx) => storeImage(client, source, { name: reference.full, target, manifest, manifestBytes: resolved.manifest }, ctx));
  return toImageInfo(stored, resolved.digest);
}

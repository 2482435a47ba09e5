// Images as the agent sees them: what containerd has under a name, resolved to this platform.

import type { ImageInfo } from '../runtime.js';
import { isNotFound, type ContainerdClient } from './client.js';
import { readBlob } from './content.js';
import { MAX_METADATA_BYTES, type StoredImage } from './image_store.js';
import { choosePlatform, isIndex, parseConfig, parseIndex, parseManifest, type Descriptor, type ImageConfig, type Manifest } from './oci.js';
import { parseReference } from '../../../registry/mod.js';

export function toImageInfo(img: StoredImage, manifestDigest: string): ImageInfo {
  const c = img.config.config ?? {};
  const sizeBytes = img.manifest.config.size + img.manifest.layers.reduce((n, l) => n + l.size, 0);
  return {
    ref: img.name,
    digest: manifestDigest,
    configDigest: img.manifest.config.digest,
    sizeBytes,
    config: { entrypoint: c.Entrypoint ?? [], cmd: c.Cmd ?? [], env: c.Env ?? [], workingDir: c.WorkingDir ?? '', user: c.User ?? '' },
  };
}

/** Parsed manifests and configs by manifest digest: content under a digest never changes. */
const parsedByClient = new WeakMap<ContainerdClient, Map<string, { manifest: Manifest; config: ImageConfig }>>();
const MAX_PARSED_IMAGES = 64;

async function manifestAndConfig(client: ContainerdClient, digest: string): Promise<{ manifest: Manifest; config: ImageConfig }> {
  let cache = parsedByClient.get(client);
  if (!cache) parsedByClient.set(client, (cache = new Map()));
  const hit = cache.get(digest);
  if (hit) return hit;
  const manifest = parseManifest(await readBlob(client, digest, MAX_METADATA_BYTES), digest);
  const config = parseConfig(await readBlob(client, manifest.config.digest, MAX_METADATA_BYTES), manifest.config.digest, manifest.layers.length);
  // Oldest first out: Map keeps insertion order.
  if (cache.size >= MAX_PARSED_IMAGES) cache.delete(cache.keys().next().value!);
  cache.set(digest, { manifest, config });
  return { manifest, config };
}

/** The stored image named `ref` with its manifest and config, or undefined when there is none. */
export async function getImage(client: ContainerdClient, ref: string): Promise<{ image: StoredImage; manifestDigest: string } | undefined> {
  const name = parseReference(ref).full;
  const im = client.images;
  let target: Descriptor;
  try {
    const res = await client.unary('Images.Get', im.get.bind(im), { name });
    const t = res.image?.target;
    if (!t) return undefined;
    target = { mediaType: t.mediaType, digest: t.digest, size: t.size };
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  let manifestDesc = target;
  if (isIndex(target.mediaType)) {
    manifestDesc = choosePlatform(parseIndex(await readBlob(client, target.digest, MAX_METADATA_BYTES), `index ${target.digest}`), `image ${name}`);
  }
  const { manifest, config } = await manifestAndConfig(client, manifestDesc.digest);
  return { image: { name, target, manifest, config }, manifestDigest: manifestDesc.digest };
}

export async function imageStatus(client: ContainerdClient, ref: string): Promise<ImageInfo | undefined> {
  const got = await getImage(client, ref);
  return got && toImageInfo(got.image, got.manifestDigest);
}

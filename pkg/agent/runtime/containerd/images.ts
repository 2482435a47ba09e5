// Images as the agent sees them: what containerd has under a name, resolved to this platform.

import type { ImageInfo } from '../runtime.js';
import { isNotFound, type ContainerdClient } from './client.js';
import { readBlob } from './content.js';
import { MAX_METADATA_BYTES, type StoredImage } from './image_store.js';
import { choosePlatform, isIndex, parseConfig, parseIndex, parseManifest, type Descriptor } from './oci.js';
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
  const manifest = parseManifest(await readBlob(client, manifestDesc.digest, MAX_METADATA_BYTES), manifestDesc.digest);
  const config = parseConfig(await readBlob(client, manifest.config.digest, MAX_METADATA_BYTES), manifest.config.digest, manifest.layers.length);
  return { image: { name, target, manifest, config }, manifestDigest: manifestDesc.digest };
}

export async function imageStatus(client: ContainerdClient, ref: string): Promise<ImageInfo | undefined> {
  const got = await getImage(client, ref);
  return got && toImageInfo(got.image, got.manifestDigest);
}

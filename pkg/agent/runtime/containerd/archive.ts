// Imports the images of an OCI archive: a tar of an OCI image layout (oci-layout, index.json,
// blobs/sha256/*). Each index.json entry becomes an image named by its annotation.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { CallContext, ContainerdClient } from './client.js';
import { MAX_METADATA_BYTES, storeImage, withLease, type BlobSource, type StoredImage } from './image_store.js';
import { choosePlatform, isIndex, isManifest, parseIndex, parseJson, parseManifest, type Descriptor } from './oci.js';
import { parseReference } from '../../../registry/mod.js';
import { indexTar, type TarEntry } from './tar_index.js';

const NAME_ANNOTATIONS = ['io.containerd.image.name', 'org.opencontainers.image.ref.name'];

async function readRange(path: string, e: TarEntry): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(e.sizeBytes);
    await fh.read(buf, 0, e.sizeBytes, e.offset);
    return buf;
  } finally {
    await fh.close();
  }
}

function archiveSource(path: string, entries: Map<string, TarEntry>): BlobSource {
  const find = (desc: Descriptor): TarEntry => {
    const [alg, hex] = desc.digest.split(':');
    const e = entries.get(`blobs/${alg}/${hex}`);
    if (!e) throw new Error(`Cannot import ${path}: blob ${desc.digest} is missing from the archive`);
    if (e.sizeBytes !== desc.size) throw new Error(`Cannot import ${path}: blob ${desc.digest} has ${e.sizeBytes} bytes, its descriptor says ${desc.size}`);
    return e;
  };
  return {
    async read(desc) {
      if (desc.size > MAX_METADATA_BYTES) throw new Error(`Cannot import ${path}: ${desc.mediaType} ${desc.digest} is larger than ${MAX_METADATA_BYTES} bytes`);
      const data = await readRange(path, find(desc));
      const got = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      if (got !== desc.digest) throw new Error(`Cannot import ${path}: blob ${desc.digest} has digest ${got}`);
      return data;
    },
    stream(desc) {
      const e = find(desc);
      if (e.sizeBytes === 0) return (async function* () {})();
      return createReadStream(path, { start: e.offset, end: e.offset + e.sizeBytes - 1, highWaterMark: 1 << 20 });
    },
  };
}

/** Imports every image of the archive at `path`; the error names the archive and what is wrong. */
export async function importArchive(client: ContainerdClient, path: string): Promise<StoredImage[]> {
  const entries = await indexTar(path);
  for (const required of ['oci-layout', 'index.json']) {
    if (!entries.has(required)) throw new Error(`Cannot import ${path}: not an OCI archive (no ${required})`);
  }
  const layout = parseJson<{ imageLayoutVersion?: string }>(await readRange(path, entries.get('oci-layout')!), `${path} oci-layout`);
  if (layout.imageLayoutVersion !== '1.0.0') throw new Error(`Cannot import ${path}: oci-layout version "${layout.imageLayoutVersion}" is not 1.0.0`);
  const index = parseIndex(await readRange(path, entries.get('index.json')!), `${path} index.json`);
  const source = archiveSource(path, entries);
  const out: StoredImage[] = [];
  for (const [i, entry] of index.manifests.entries()) {
    const annotated = NAME_ANNOTATIONS.map((k) => entry.annotations?.[k]).find((v) => v);
    if (!annotated) throw new Error(`Cannot import ${path}: index.json manifests[${i}] has no org.opencontainers.image.ref.name annotation`);
    const name = parseReference(annotated).full;
    out.push(await withLease(client, (ctx) => importEntry(client, source, name, entry, ctx)));
  }
  return out;
}

async function importEntry(client: ContainerdClient, source: BlobSource, name: string, entry: Descriptor, ctx: CallContext): Promise<StoredImage> {
  let target = entry;
  let parent: { desc: Descriptor; bytes: Buffer } | undefined;
  if (isIndex(entry.mediaType)) {
    const bytes = await source.read(entry);
    target = choosePlatform(parseIndex(bytes, `index ${entry.digest}`), `image ${name}`);
    parent = { desc: entry, bytes };
  }
  if (!isManifest(target.mediaType)) throw new Error(`Cannot import ${name}: unsupported media type "${target.mediaType}"`);
  const manifestBytes = await source.read(target);
  const manifest = parseManifest(manifestBytes, target.digest);
  return storeImage(client, source, { name, target, manifest, manifestBytes, ...(parent ? { parent } : {}) }, ctx);
}

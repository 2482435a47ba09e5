// An OCI layout as one tar (an "OCI archive"), the form `ctr images import` and containerd's
// Images/Transfer importers read: oci-layout, index.json and blobs/sha256/* at the archive's root.

import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { blobPath, readLayoutIndex } from './layout.js';
import { isIndexMediaType, isManifestMediaType } from './media_types.js';
import { tarChunks, type TarEntry } from './tar_writer.js';
import type { Descriptor, ImageIndex, ImageManifest } from './types.js';

async function* layoutEntries(layoutDir: string): AsyncGenerator<TarEntry> {
  const file = async (path: string): Promise<TarEntry> => {
    const sourcePath = join(layoutDir, path);
    return { type: 'file', path, mode: 0o644, sourcePath, sizeBytes: (await stat(sourcePath)).size };
  };
  yield await file('oci-layout');
  yield await file('index.json');
  yield { type: 'dir', path: 'blobs', mode: 0o755 };
  yield { type: 'dir', path: 'blobs/sha256', mode: 0o755 };
  for (const digest of [...(await reachableBlobs(layoutDir))].sort()) yield await file(`blobs/sha256/${digest.slice('sha256:'.length)}`);
}

/** Every blob index.json leads to (manifests, nested indexes, configs, layers): stale blobs stay out. */
async function reachableBlobs(layoutDir: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const visit = async (d: Descriptor): Promise<void> => {
    if (seen.has(d.digest)) return;
    blobPath(layoutDir, d.digest); // refuses digests that are not sha256
    seen.add(d.digest);
    if (!isIndexMediaType(d.mediaType) && !isManifestMediaType(d.mediaType)) return;
    const doc = JSON.parse(await readFile(blobPath(layoutDir, d.digest), 'utf8')) as Partial<ImageIndex & ImageManifest>;
    for (const child of [...(doc.manifests ?? []), ...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) await visit(child);
  };
  for (const d of (await readLayoutIndex(layoutDir)).manifests) await visit(d);
  return seen;
}

/** Writes the layout at layoutDir as an uncompressed tar at tarPath (replacing it once complete). */
export async function writeOciArchive(layoutDir: string, tarPath: string): Promise<void> {
  await readLayoutIndex(layoutDir); // a clear error for a directory that is not a layout
  const tmp = `${tarPath}.tmp`;
  try {
    await pipeline(tarChunks(layoutEntries(layoutDir)), createWriteStream(tmp));
    await rename(tmp, tarPath);
  } finally {
    await rm(tmp, { force: true });
  }
}

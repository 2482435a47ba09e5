// An OCI layout as one tar (an "OCI archive"), the form `ctr images import` and containerd's
// Images/Transfer importers read: oci-layout, index.json and blobs/sha256/* at the archive's root.

import { createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readLayoutIndex } from './layout.js';
import { tarChunks, type TarEntry } from './tar_writer.js';

async function* layoutEntries(layoutDir: string): AsyncGenerator<TarEntry> {
  const file = async (path: string): Promise<TarEntry> => {
    const sourcePath = join(layoutDir, path);
    return { type: 'file', path, mode: 0o644, sourcePath, sizeBytes: (await stat(sourcePath)).size };
  };
  yield await file('oci-layout');
  yield await file('index.json');
  yield { type: 'dir', path: 'blobs', mode: 0o755 };
  yield { type: 'dir', path: 'blobs/sha256', mode: 0o755 };
  const names = (await readdir(join(layoutDir, 'blobs', 'sha256'))).filter((n) => /^[a-f0-9]{64}$/.test(n)).sort();
  for (const n of names) yield await file(`blobs/sha256/${n}`);
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

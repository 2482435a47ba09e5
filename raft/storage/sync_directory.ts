// A directory's entries (a file created or renamed into it) are durable only once the directory
// itself is synced.

import { open } from 'node:fs/promises';

export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// The image tests and the demo run: Debian's static busybox with a symlink per applet, a passwd and
// group with root and nobody, /tmp and a /var/www/index.html for httpd. Built from files on this
// machine (nothing is downloaded); the same busybox binary always gives the same digests.

import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { writeImageLayout } from './layout.js';
import { hostPlatform } from './platform.js';
import type { TarEntry } from './tar_writer.js';

export const DEFAULT_BUSYBOX_REF = '127.0.0.1:5000/navarch/busybox:latest';
export const DEFAULT_BUSYBOX_PATH = '/bin/busybox';

export interface BusyboxImage {
  layoutDir: string;
  ref: string;
  manifestDigest: string;
  configDigest: string;
}

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n';
const INDEX_HTML = '<!doctype html>\n<title>navarch busybox</title>\n<p>Hello from a navarch pod.</p>\n';

/** The applets' install paths ("bin/sh", "usr/bin/wget", ...) as the binary itself lists them. */
async function appletPaths(busyboxPath: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(busyboxPath, ['--list-full'], { maxBuffer: 1 << 20 }));
  } catch (e) {
    throw new Error(`Cannot list busybox applets with ${busyboxPath} --list-full (is busybox-static installed?): ${(e as Error).message}`);
  }
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((p) => p.includes('/') && p !== 'bin/busybox')
    .sort();
}

/** The root filesystem's entries in a fixed order. */
async function rootfsEntries(busyboxPath: string): Promise<TarEntry[]> {
  const st = await stat(busyboxPath).catch((e: Error) => {
    throw new Error(`Cannot build the busybox image: ${busyboxPath} is missing (install busybox-static): ${e.message}`);
  });
  const applets = await appletPaths(busyboxPath);
  const dirs = ['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sbin', 'sys', 'tmp', 'usr', 'usr/bin', 'usr/sbin', 'var', 'var/www'];
  const entries: TarEntry[] = dirs.map((path) => ({ type: 'dir', path, mode: path === 'tmp' ? 0o1777 : path === 'root' ? 0o700 : 0o755 }));
  entries.push({ type: 'file', path: 'bin/busybox', mode: 0o755, sourcePath: busyboxPath, sizeBytes: st.size });
  for (const path of applets) entries.push({ type: 'symlink', path, target: '/bin/busybox' });
  entries.push(
    { type: 'file', path: 'etc/passwd', mode: 0o644, data: Buffer.from(PASSWD) },
    { type: 'file', path: 'etc/group', mode: 0o644, data: Buffer.from(GROUP) },
    { type: 'file', path: 'var/www/index.html', mode: 0o644, data: Buffer.from(INDEX_HTML) },
  );
  return entries;
}

/**
 * Builds the busybox image as an OCI layout in outDir (created if missing) for this machine's
 * architecture, named ref in index.json.
 */
export async function buildBusyboxImage(outDir: string, opts: { ref?: string; busyboxPath?: string } = {}): Promise<BusyboxImage> {
  const ref = opts.ref ?? DEFAULT_BUSYBOX_REF;
  const platform = hostPlatform();
  const written = await writeImageLayout(outDir, {
    ref,
    layers: [await rootfsEntries(opts.busyboxPath ?? DEFAULT_BUSYBOX_PATH)],
    os: platform.os,
    architecture: platform.architecture,
    variant: platform.variant,
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
      WorkingDir: '/',
    },
  });
  return { layoutDir: written.layoutDir, ref, manifestDigest: written.manifestDigest, configDigest: written.configDigest };
}

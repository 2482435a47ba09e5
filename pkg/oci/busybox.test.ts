import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { writeOciArchive } from './archive.js';
import { buildBusyboxImage, DEFAULT_BUSYBOX_REF } from './busybox.js';
import { blobPath, readLayoutIndex } from './layout.js';
import { ANNOTATION_REF_NAME, OCI_LAYER_GZIP, OCI_MANIFEST } from './media_types.js';
import { hostPlatform } from './platform.js';
import type { ImageConfig, ImageManifest } from './types.js';

const run = promisify(execFile);
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function withTmp(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'navarch-oci-'));
  try {
    await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads a blob and checks it against its descriptor's digest and size. */
async function verifiedBlob(layoutDir: string, d: { digest: string; size: number }): Promise<Buffer> {
  const b = await readFile(blobPath(layoutDir, d.digest));
  assert.equal(sha(b), d.digest, `blob ${d.digest} has the bytes its name says`);
  assert.equal(b.length, d.size);
  return b;
}

describe('buildBusyboxImage', () => {
  it('writes an OCI layout whose index, manifest, config and layer agree on every digest', async () => {
    await withTmp(async (dir) => {
      const img = await buildBusyboxImage(join(dir, 'layout'));
      assert.equal(img.ref, DEFAULT_BUSYBOX_REF);
      assert.deepEqual(JSON.parse(await readFile(join(img.layoutDir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
      const index = await readLayoutIndex(img.layoutDir);
      assert.equal(index.manifests.length, 1);
      const m = index.manifests[0]!;
      assert.equal(m.mediaType, OCI_MANIFEST);
      assert.equal(m.digest, img.manifestDigest);
      assert.equal(m.annotations?.[ANNOTATION_REF_NAME], DEFAULT_BUSYBOX_REF);

      const manifest = JSON.parse((await verifiedBlob(img.layoutDir, m)).toString()) as ImageManifest;
      assert.equal(manifest.config.digest, img.configDigest);
      const config = JSON.parse((await verifiedBlob(img.layoutDir, manifest.config)).toString()) as ImageConfig;
      assert.equal(config.os, 'linux');
      assert.equal(config.architecture, hostPlatform().architecture);
      assert.deepEqual(config.config?.Cmd, ['sh']);
      assert.match(config.config?.Env?.[0] ?? '', /^PATH=.*\/bin/);
      assert.equal(manifest.layers.length, 1);
      assert.equal(manifest.layers[0]!.mediaType, OCI_LAYER_GZIP);
      const tar = gunzipSync(await verifiedBlob(img.layoutDir, manifest.layers[0]!));
      assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [sha(tar)] });

      // Only the blobs the image refers to are stored: no temporary files left behind.
      const blobs = (await readdir(join(img.layoutDir, 'blobs', 'sha256'))).sort();
      assert.deepEqual(blobs, [m.digest, manifest.config.digest, manifest.layers[0]!.digest].map((d) => d.slice(7)).sort());

      // The root filesystem unpacks with the busybox binary, applets, users and the web root.
      const rootfs = join(dir, 'rootfs');
      await mkdir(rootfs);
      const layerFile = blobPath(img.layoutDir, manifest.layers[0]!.digest);
      await run('tar', ['-xzf', layerFile, '-C', rootfs]);
      assert.deepEqual(await readFile(join(rootfs, 'bin/busybox')), await readFile('/bin/busybox'));
      const { stdout: echoed } = await run(join(rootfs, 'bin/busybox'), ['sh', '-c', 'echo hi from sh']);
      assert.equal(echoed, 'hi from sh\n');
      const { stdout: listing } = await run('tar', ['-tzvf', layerFile]);
      for (const applet of ['bin/sh -> /bin/busybox', 'bin/sleep -> /bin/busybox', 'usr/sbin/httpd -> /bin/busybox', 'usr/bin/wget -> /bin/busybox', 'sbin/ip -> /bin/busybox']) {
        assert.ok(listing.includes(applet), `layer has ${applet}`);
      }
      assert.match(listing, /drwxrwxrwt .* tmp\//);
      assert.match(await readFile(join(rootfs, 'etc/passwd'), 'utf8'), /^root:x:0:0:.*\nnobody:x:65534:65534:/);
      assert.match(await readFile(join(rootfs, 'etc/group'), 'utf8'), /^root:x:0:/);
      assert.match(await readFile(join(rootfs, 'var/www/index.html'), 'utf8'), /Hello/);
    });
  });

  it('gives the same digests when built twice, and a different manifest for another ref only in index.json', async () => {
    await withTmp(async (dir) => {
      const a = await buildBusyboxImage(join(dir, 'a'));
      const b = await buildBusyboxImage(join(dir, 'b'));
      assert.equal(a.manifestDigest, b.manifestDigest);
      assert.equal(a.configDigest, b.configDigest);
      const c = await buildBusyboxImage(join(dir, 'c'), { ref: 'example.test/other:v1' });
      assert.equal(c.manifestDigest, a.manifestDigest);
      assert.equal((await readLayoutIndex(c.layoutDir)).manifests[0]!.annotations?.[ANNOTATION_REF_NAME], 'example.test/other:v1');
    });
  });

  it('names the missing binary when busybox is not there', async () => {
    await withTmp(async (dir) => {
      await assert.rejects(buildBusyboxImage(join(dir, 'l'), { busyboxPath: join(dir, 'nope') }), /nope is missing \(install busybox-static\)/);
    });
  });
});

describe('writeOciArchive', () => {
  it('writes the layout as one tar with oci-layout, index.json and every blob, the same bytes each time', async () => {
    await withTmp(async (dir) => {
      const img = await buildBusyboxImage(join(dir, 'layout'));
      await writeOciArchive(img.layoutDir, join(dir, 'one.tar'));
      await writeOciArchive(img.layoutDir, join(dir, 'two.tar'));
      assert.deepEqual(await readFile(join(dir, 'one.tar')), await readFile(join(dir, 'two.tar')));
      const { stdout } = await run('tar', ['-tf', join(dir, 'one.tar')]);
      const names = stdout.trim().split('\n');
      const blobs = (await readdir(join(img.layoutDir, 'blobs', 'sha256'))).sort().map((n) => `blobs/sha256/${n}`);
      assert.deepEqual(names, ['oci-layout', 'index.json', 'blobs/', 'blobs/sha256/', ...blobs]);
      const out = join(dir, 'x');
      await mkdir(out);
      await run('tar', ['-xf', join(dir, 'one.tar'), '-C', out]);
      assert.deepEqual(await readFile(join(out, 'index.json')), await readFile(join(img.layoutDir, 'index.json')));
      assert.deepEqual(await readFile(join(out, 'blobs/sha256', img.manifestDigest.slice(7))), await readFile(blobPath(img.layoutDir, img.manifestDigest)));
    });
  });

  it('leaves out blobs that index.json no longer leads to', async () => {
    await withTmp(async (dir) => {
      const img = await buildBusyboxImage(join(dir, 'layout'));
      await writeFile(join(img.layoutDir, 'blobs', 'sha256', 'f'.repeat(64)), 'a stale blob from an older build');
      await writeOciArchive(img.layoutDir, join(dir, 'a.tar'));
      const { stdout } = await run('tar', ['-tf', join(dir, 'a.tar')]);
      assert.equal(stdout.includes('f'.repeat(64)), false);
      assert.equal(stdout.trim().split('\n').length, 4 + 3);
    });
  });

  it('refuses a directory that is not an OCI layout', async () => {
    await withTmp(async (dir) => {
      await assert.rejects(writeOciArchive(dir, join(dir, 'x.tar')), /Cannot read OCI layout .*oci-layout is missing/);
    });
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../raft/transport/free_port.js';
import { blobPath, buildBusyboxImage, DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, hostPlatform, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, type BusyboxImage, type ImageManifest } from '../oci/mod.js';
import { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import { startLocalRegistry, type LocalRegistry } from './local_registry.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('RegistryClient against a real docker-registry', () => {
  let dir: string;
  let registry: LocalRegistry;
  let image: BusyboxImage;
  let host: string;
  const client = new RegistryClient();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'navarch-registry-'));
    registry = await startLocalRegistry({ dataDir: join(dir, 'registry'), address: `127.0.0.1:${await freePort()}` });
    host = registry.address;
    image = await buildBusyboxImage(join(dir, 'layout'));
  });
  after(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pushes the busybox layout, resolves it by tag and fetches every blob back with its digest checked', async () => {
    const ref = `${host}/navarch/busybox:latest`;
    const pushed = await client.pushLayout(image.layoutDir, ref);
    assert.deepEqual(pushed, { digest: image.manifestDigest, mediaType: OCI_MANIFEST, pushedBlobs: 2, skippedBlobs: 0 });

    const resolved = await client.resolve(ref);
    assert.equal(resolved.digest, image.manifestDigest);
    assert.equal(resolved.mediaType, OCI_MANIFEST);
    assert.equal(resolved.reference.full, `${ref}@${image.manifestDigest}`);
    assert.equal(sha(resolved.manifest), image.manifestDigest);
    assert.equal(resolved.indexDigest, undefined);

    const manifest = JSON.parse(resolved.manifest.toString()) as ImageManifest;
    assert.equal(manifest.config.digest, image.configDigest);
    for (const d of [manifest.config, ...manifest.layers]) {
      const bytes = await readAll(await client.fetchBlob(resolved.reference, d.digest, { sizeBytes: d.size }));
      assert.deepEqual(bytes, await readFile(blobPath(image.layoutDir, d.digest)));
    }

    // By digest too, and a second push finds every blob already there.
    assert.equal((await client.resolve(`${host}/navarch/busybox@${image.manifestDigest}`)).digest, image.manifestDigest);
    assert.deepEqual(await client.pushLayout(image.layoutDir, ref), { digest: image.manifestDigest, mediaType: OCI_MANIFEST, pushedBlobs: 0, skippedBlobs: 2 });
  });

  it('resolves a manifest list with two platforms to the manifest for this machine', async () => {
    const ref = `${host}/navarch/multi:v1`;
    await client.pushLayout(image.layoutDir, ref);
    const ours = JSON.parse((await readFile(blobPath(image.layoutDir, image.manifestDigest))).toString()) as ImageManifest;
    const otherArch = hostPlatform().architecture === 'amd64' ? 'arm64' : 'amd64';
    const otherConfig = Buffer.from(JSON.stringify({ architecture: otherArch, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    await client.pushBlob(ref, otherConfig);
    const other = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha(otherConfig), size: otherConfig.length }, layers: ours.layers }));
    assert.equal(await client.pushManifest(ref, other, OCI_MANIFEST, { tagOrDigest: sha(other) }), sha(other));
    const oursBytes = await readFile(blobPath(image.layoutDir, image.manifestDigest));
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: sha(other), size: other.length, platform: { os: 'linux', architecture: otherArch } },
          { mediaType: OCI_MANIFEST, digest: image.manifestDigest, size: oursBytes.length, platform: hostPlatform() },
        ],
      }),
    );
    await client.pushManifest(ref, index, OCI_INDEX);

    const resolved = await client.resolve(ref);
    assert.equal(resolved.digest, image.manifestDigest);
    assert.equal(resolved.indexDigest, sha(index));
    assert.equal(resolved.platform?.architecture, hostPlatform().architecture);

    const elsewhere = new RegistryClient({ platform: { os: 'linux', architecture: 's390x' } });
    await assert.rejects(elsewhere.resolve(ref), (e: RegistryError) => e.code === 'NO_MATCHING_PLATFORM' && /no image for linux\/s390x in its index \(it has: linux\/\w+, linux\/\w+\)/.test(e.message));
  });

  it('resolves a Docker v2 schema 2 manifest', async () => {
    const ref = `${host}/navarch/docker:v2`;
    const ours = JSON.parse((await readFile(blobPath(image.layoutDir, image.manifestDigest))).toString()) as ImageManifest;
    await client.pushLayout(image.layoutDir, ref);
    const docker = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: { ...ours.config, mediaType: DOCKER_CONFIG },
        layers: ours.layers.map((l) => ({ ...l, mediaType: DOCKER_LAYER_GZIP })),
      }),
    );
    await client.pushManifest(ref, docker, DOCKER_MANIFEST);
    const resolved = await client.resolve(ref);
    assert.equal(resolved.mediaType, DOCKER_MANIFEST);
    assert.equal(resolved.digest, sha(docker));
  });

  it('uploads in chunks when a blob is over the monolithic limit, from memory and from a file', async () => {
    const chunked = new RegistryClient({ monolithicMaxBytes: 0, chunkSizeBytes: 1000 });
    const ref = `${host}/navarch/chunks:x`;
    const data = Buffer.alloc(2500);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const r = await chunked.pushBlob(ref, data);
    assert.deepEqual(r, { digest: sha(data), sizeBytes: 2500, skipped: false });
    assert.deepEqual(await readAll(await client.fetchBlob(ref, r.digest)), data);

    const file = join(dir, 'blob.bin');
    const fileData = Buffer.concat([data, Buffer.from('file')]);
    await writeFile(file, fileData);
    const f = await chunked.pushBlob(ref, { path: file });
    assert.equal(f.digest, sha(fileData));
    assert.deepEqual(await readAll(await client.fetchBlob(ref, f.digest)), fileData);
    assert.equal((await chunked.pushBlob(ref, { path: file })).skipped, true);
  });

  it('refuses a blob whose bytes in the registry were corrupted', async () => {
    const ref = `${host}/navarch/corrupt:x`;
    const data = Buffer.from('the right bytes, which the registry will lose');
    const { digest } = await client.pushBlob(ref, data);
    const stored = join(dir, 'registry', 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7), 'data');
    assert.deepEqual(await readFile(stored), data);
    await writeFile(stored, Buffer.from(data.toString().replace('right', 'wrong')));
    await assert.rejects(readAll(await client.fetchBlob(ref, digest)), (e: RegistryError) => e.code === 'DIGEST_MISMATCH' && e.message.includes(digest) && e.message.includes(host) && /hashes to sha256:[a-f0-9]{64}: refused/.test(e.message));
    await assert.rejects(readAll(await client.fetchBlob(ref, digest, { sizeBytes: data.length + 1 })), (e: RegistryError) => e.code === 'SIZE_MISMATCH');
  });

  it('gives a clear 404 error naming the registry and reference for a missing tag, repository or blob', async () => {
    await assert.rejects(client.resolve(`${host}/navarch/busybox:nope`), (e: RegistryError) => {
      assert.equal(e.status, 404);
      assert.equal(e.code, 'MANIFEST_UNKNOWN');
      assert.match(e.message, new RegExp(`^Cannot resolve ${host}/navarch/busybox:nope: registry ${host} answered HTTP 404 MANIFEST_UNKNOWN`));
      return true;
    });
    await assert.rejects(client.resolve(`${host}/navarch/never-pushed`), (e: RegistryError) => e.status === 404 && e.message.includes(`${host}/navarch/never-pushed:latest`));
    await assert.rejects(client.fetchBlob(`${host}/navarch/busybox`, `sha256:${'0'.repeat(64)}`), (e: RegistryError) => e.status === 404 && e.code === 'BLOB_UNKNOWN');
  });

  it('names the registry when nothing listens there', async () => {
    const nowhere = `127.0.0.1:${await freePort()}`;
    await assert.rejects(client.resolve(`${nowhere}/a/b:c`), (e: RegistryError) => e.code === 'UNREACHABLE' && e.message.startsWith(`Cannot reach registry ${nowhere} (http://${nowhere}) for ${nowhere}/a/b:c`) && /ECONNREFUSED/.test(e.message));
  });
});

describe('RegistryClient.pushLayout without a registry', () => {
  it('names the image it cannot find in a layout that holds several', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'navarch-pushlayout-'));
    try {
      const img = await buildBusyboxImage(join(dir, 'layout'));
      const index = JSON.parse(await readFile(join(img.layoutDir, 'index.json'), 'utf8'));
      index.manifests.push({ ...index.manifests[0], annotations: { 'org.opencontainers.image.ref.name': 'other:v2' } });
      await writeFile(join(img.layoutDir, 'index.json'), JSON.stringify(index));
      await assert.rejects(new RegistryClient().pushLayout(img.layoutDir, '127.0.0.1:1/navarch/busybox:v9'), /index\.json names no image 127\.0\.0\.1:1\/navarch\/busybox:v9 and holds 2 images/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

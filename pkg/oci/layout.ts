// Writing an OCI image layout: the "oci-layout" marker, blobs/sha256/<hex> and index.json naming each
// image. Blobs are written to a temporary name and renamed once complete, so a reader never sees half a
// blob under its digest.

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST } from './media_types.js';
import { tarChunks, type TarEntry } from './tar_writer.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './types.js';

let tmpCounter = 0;
const DIGEST_RE = /^sha256:([a-f0-9]{64})$/;

export function blobPath(layoutDir: string, digest: string): string {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw new TypeError(`Cannot locate blob "${digest}": only sha256 digests of 64 lowercase hex digits are supported`);
  return join(layoutDir, 'blobs', 'sha256', m[1]!);
}

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function initLayout(layoutDir: string): Promise<void> {
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

/** Stores bytes as a blob and returns their descriptor. */
export async function writeBlob(layoutDir: string, data: Buffer, mediaType: string): Promise<Descriptor> {
  const digest = sha256Digest(data);
  const path = blobPath(layoutDir, digest);
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
  return { mediaType, digest, size: data.length };
}

function hashing(hash: ReturnType<typeof createHash>, count: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      count.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/**
 * Writes one gzip'd layer from tar entries, streaming (files on disk are never held whole). Returns its
 * descriptor and its diff id (the digest of the uncompressed tar, which the config's rootfs lists).
 */
export async function writeLayer(layoutDir: string, entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Promise<{ descriptor: Descriptor; diffId: string }> {
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  const tarCount = { bytes: 0 };
  const gzCount = { bytes: 0 };
  const tmp = join(layoutDir, 'blobs', 'sha256', `layer-${process.pid}-${++tmpCounter}.tmp`);
  try {
    await pipeline(
      tarChunks(entries),
      hashing(tarHash, tarCount),
      // A fixed level; node's gzip header carries no name and mtime 0, so the bytes are reproducible.
      createGzip({ level: zlibConstants.Z_BEST_COMPRESSION }),
      hashing(gzHash, gzCount),
      createWriteStream(tmp),
    );
    const digest = `sha256:${gzHash.digest('hex')}`;
    await rename(tmp, blobPath(layoutDir, digest));
    return { descriptor: { mediaType: OCI_LAYER_GZIP, digest, size: gzCount.bytes }, diffId: `sha256:${tarHash.digest('hex')}` };
  } finally {
    await rm(tmp, { force: true });
  }
}

export interface ImageSpec {
  /** The full reference recorded in index.json, e.g. "127.0.0.1:5000/navarch/busybox:latest". */
  ref: string;
  layers: (Iterable<TarEntry> | AsyncIterable<TarEntry>)[];
  architecture: string;
  os: string;
  variant?: string;
  config: NonNullable<ImageConfig['config']>;
  /** RFC 3339; the epoch unless set, for reproducible digests. */
  created?: string;
}

export interface WrittenImage {
  layoutDir: string;
  ref: string;
  manifestDigest: string;
  configDigest: string;
  manifest: Descriptor;
}

/**
 * Writes an image (layers, config, manifest) into an OCI layout at layoutDir and names it in index.json.
 * The index then lists only this image: one layout per image keeps `ctr images import` unambiguous.
 */
export async function writeImageLayout(layoutDir: string, spec: ImageSpec): Promise<WrittenImage> {
  if (!spec.ref) throw new TypeError('Cannot write an image layout: ref is empty');
  await initLayout(layoutDir);
  const created = spec.created ?? '1970-01-01T00:00:00Z';
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const entries of spec.layers) {
    const l = await writeLayer(layoutDir, entries);
    layers.push(l.descriptor);
    diffIds.push(l.diffId);
  }
  const config: ImageConfig = {
    created,
    architecture: spec.architecture,
    os: spec.os,
    ...(spec.variant ? { variant: spec.variant } : {}),
    config: spec.config,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created, created_by: 'navarch images' })),
  };
  const configDesc = await writeBlob(layoutDir, Buffer.from(JSON.stringify(config)), OCI_CONFIG);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers };
  const manifestDesc = await writeBlob(layoutDir, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST);
  const named: Descriptor = { ...manifestDesc, annotations: { [ANNOTATION_CONTAINERD_NAME]: spec.ref, [ANNOTATION_REF_NAME]: spec.ref } };
  const index: ImageIndex = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [named] };
  await writeFile(join(layoutDir, 'index.json.tmp'), JSON.stringify(index));
  await rename(join(layoutDir, 'index.json.tmp'), join(layoutDir, 'index.json'));
  return { layoutDir, ref: spec.ref, manifestDigest: manifestDesc.digest, configDigest: configDesc.digest, manifest: named };
}

/** Reads a layout's index.json, checking the oci-layout marker first. */
export async function readLayoutIndex(layoutDir: string): Promise<ImageIndex> {
  let marker: unknown;
  try {
    marker = JSON.parse(await readFile(join(layoutDir, 'oci-layout'), 'utf8'));
  } catch (e) {
    throw new Error(`Cannot read OCI layout ${layoutDir}: oci-layout is missing or not JSON (${(e as Error).message})`);
  }
  if ((marker as { imageLayoutVersion?: unknown }).imageLayoutVersion !== '1.0.0') {
    throw new Error(`Cannot read OCI layout ${layoutDir}: oci-layout.imageLayoutVersion is not "1.0.0"`);
  }
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as ImageIndex;
  if (!Array.isArray(index.manifests)) throw new Error(`Cannot read OCI layout ${layoutDir}: index.json.manifests is not a list`);
  return index;
}

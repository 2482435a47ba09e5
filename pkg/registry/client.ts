// An OCI distribution client: resolve a reference to this platform's manifest (through a manifest
// list or index), stream blobs with their digest checked, and push blobs, manifests and whole OCI
// layouts. Manifests are read whole but bounded; blobs are only ever streamed or sent in bounded chunks.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { RegistryCredential } from '../agent/runtime/runtime.js';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../oci/mod.js';
import { blobPath, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, hostPlatform, isIndexMediaType, isManifestMediaType, OCI_INDEX, OCI_MANIFEST, readLayoutIndex } from '../oci/mod.js';
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME } from '../oci/media_types.js';
import { readLimited } from './auth.js';
import { RegistryError } from './errors.js';
import { RegistryHttp, type RegistryHttpOptions } from './http.js';
import { formatPlatform, selectPlatform } from './platform_match.js';
import { toReference, withDigest, type ImageReference } from './reference.js';

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');
const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export interface RegistryClientOptions extends RegistryHttpOptions {
  /** The platform chosen from manifest lists. @default this machine's */
  platform?: Platform;
  /** Blobs up to this size go in one PUT; larger ones in PATCH chunks. @default 32 MiB */
  monolithicMaxBytes?: number;
  /** Size of each PATCH of a chunked upload (each is held in memory once). @default 8 MiB */
  chunkSizeBytes?: number;
}

export interface ResolvedImage {
  /** The reference pinned to the chosen manifest's digest. */
  reference: ImageReference;
  /** Digest of the platform's image manifest. */
  digest: string;
  mediaType: string;
  /** The manifest's exact bytes (its sha256 is `digest`). */
  manifest: Buffer;
  /** The manifest list or index it was chosen from, when there was one. */
  indexDigest?: string;
  platform?: Platform;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export type BlobSource = Buffer | { path: string };

export interface PullOptions {
  /** Credentials for this call (a pod's imagePullSecrets) in place of the client's. */
  credentials?: readonly RegistryCredential[];
}

export interface PushResult {
  digest: string;
  mediaType: string;
  pushedBlobs: number;
  skippedBlobs: number;
}

function digestOf(algorithm: string, data: Buffer): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

function checkDigest(digest: string, what: string): void {
  if (!DIGEST_RE.test(digest)) throw new TypeError(`Cannot ${what}: "${digest}" is not a sha256 or sha512 digest`);
}

function mediaTypeOf(header: string | null, bytes: Buffer): string {
  const fromHeader = (header ?? '').split(';')[0]!.trim();
  if (fromHeader && fromHeader !== 'application/json' && fromHeader !== 'text/plain' && fromHeader !== 'application/octet-stream') return fromHeader;
  try {
    const body = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown; manifests?: unknown; layers?: unknown; schemaVersion?: unknown };
    if (typeof body.mediaType === 'string') return body.mediaType;
    if (body.schemaVersion === 1) return 'application/vnd.docker.distribution.manifest.v1+json';
    if (Array.isArray(body.manifests)) return OCI_INDEX;
    if (Array.isArray(body.layers)) return OCI_MANIFEST;
  } catch {
    // Falls through to the header's type, refused below as unsupported.
  }
  return fromHeader || 'unknown';
}

export class RegistryClient {
  private readonly http: RegistryHttp;
  private readonly platform: Platform;
  private readonly monolithicMaxBytes: number;
  private readonly chunkSizeBytes: number;

  constructor(opts: RegistryClientOptions = {}) {
    this.http = new RegistryHttp(opts);
    this.platform = opts.platform ?? hostPlatform();
    this.monolithicMaxBytes = opts.monolithicMaxBytes ?? 32 * 1024 * 1024;
    this.chunkSizeBytes = opts.chunkSizeBytes ?? 8 * 1024 * 1024;
    if (!(this.chunkSizeBytes > 0)) throw new RangeError(`RegistryClient: chunkSizeBytes must be positive, got ${this.chunkSizeBytes}`);
  }

  /** The manifest (or index) a tag or digest names, its digest checked. */
  async getManifest(refIn: string | ImageReference, tagOrDigest?: string, opts: PullOptions = {}): Promise<FetchedManifest> {
    const ref = toReference(refIn);
    const target = tagOrDigest ?? ref.digest ?? ref.tag!;
    const res = await this.http.send(ref, { method: 'GET', path: `/v2/${ref.repository}/manifests/${target}`, headers: { accept: MANIFEST_ACCEPT }, actions: 'pull', ...(opts.credentials ? { credentials: opts.credentials } : {}) });
    if (res.status !== 200) throw await this.http.errorFrom(res, ref, target === ref.tag || target === ref.digest ? 'resolve' : `get manifest ${target} of`);
    let bytes: Buffer;
    try {
      bytes = await readLimited(res, MAX_MANIFEST_BYTES);
    } catch (e) {
      throw new RegistryError(`Cannot resolve ${ref.full}: registry ${ref.registry} sent a manifest that is too large: ${(e as Error).message}`, { registry: ref.registry, reference: ref.full, status: 200, code: 'TOO_LARGE' });
    }
    const algorithm = DIGEST_RE.test(target) ? target.split(':')[0]! : 'sha256';
    const digest = digestOf(algorithm, bytes);
    const claimed = res.headers.get('docker-content-digest');
    const expected = DIGEST_RE.test(target) ? target : claimed?.startsWith(`${algorithm}:`) ? claimed : undefined;
    if (expected && expected !== digest) {
      throw new RegistryError(`Cannot resolve ${ref.full}: registry ${ref.registry} sent a manifest whose digest is ${digest}, not ${expected}`, { registry: ref.registry, reference: ref.full, status: 200, code: 'DIGEST_MISMATCH' });
    }
    return { digest, mediaType: mediaTypeOf(res.headers.get('content-type'), bytes), bytes };
  }

  /** Resolves a reference to the image manifest for this platform (OCI or Docker schema 2, through any list). */
  async resolve(refIn: string | ImageReference, opts: PullOptions = {}): Promise<ResolvedImage> {
    const ref = toReference(refIn);
    const top = await this.getManifest(ref, undefined, opts);
    if (isManifestMediaType(top.mediaType)) return { reference: withDigest(ref, top.digest), digest: top.digest, mediaType: top.mediaType, manifest: top.bytes };
    if (!isIndexMediaType(top.mediaType)) throw this.unsupported(ref, top.mediaType);
    const index = JSON.parse(top.bytes.toString('utf8')) as ImageIndex;
    const manifests = Array.isArray(index.manifests) ? index.manifests : [];
    const chosen = selectPlatform(manifests, this.platform);
    if (!chosen) {
      const offered = manifests.map((m) => formatPlatform(m.platform)).join(', ') || 'none';
      throw new RegistryError(`Cannot resolve ${ref.full}: no image for ${formatPlatform(this.platform)} in its ${top.mediaType === OCI_INDEX ? 'index' : 'manifest list'} (it has: ${offered})`, {
        registry: ref.registry,
        reference: ref.full,
        code: 'NO_MATCHING_PLATFORM',
      });
    }
    checkDigest(chosen.digest, `resolve ${ref.full}`);
    const child = await this.getManifest(ref, chosen.digest, opts);
    if (!isManifestMediaType(child.mediaType)) throw this.unsupported(ref, child.mediaType);
    return { reference: withDigest(ref, child.digest), digest: child.digest, mediaType: child.mediaType, manifest: child.bytes, indexDigest: top.digest, ...(chosen.platform ? { platform: chosen.platform } : {}) };
  }

  private unsupported(ref: ImageReference, mediaType: string): RegistryError {
    const hint = mediaType.includes('manifest.v1') ? ' (Docker schema 1 is not supported; push the image again with a current client)' : '';
    return new RegistryError(`Cannot resolve ${ref.full}: unsupported manifest media type "${mediaType}"${hint}`, { registry: ref.registry, reference: ref.full, code: 'UNSUPPORTED' });
  }

  /**
   * A blob's bytes as a stream that fails (instead of ending) if they do not hash to `digest`, or
   * exceed `sizeBytes` when given. HTTP errors reject before any byte is read.
   */
  async fetchBlob(refIn: string | ImageReference, digest: string, opts: PullOptions & { sizeBytes?: number } = {}): Promise<Readable> {
    const ref = toReference(refIn);
    checkDigest(digest, `fetch a blob of ${ref.full}`);
    const res = await this.http.send(ref, { method: 'GET', path: `/v2/${ref.repository}/blobs/${digest}`, actions: 'pull', noTimeout: true, ...(opts.credentials ? { credentials: opts.credentials } : {}) });
    if (res.status !== 200 || !res.body) throw await this.http.errorFrom(res, ref, `fetch blob ${digest} of`);
    const algorithm = digest.split(':')[0]!;
    const hash = createHash(algorithm);
    let seen = 0;
    const fail = (message: string, code: string) => new RegistryError(`Cannot fetch blob ${digest} of ${ref.full} from registry ${ref.registry}: ${message}`, { registry: ref.registry, reference: ref.full, status: 200, code });
    const verify = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        if (opts.sizeBytes !== undefined && seen > opts.sizeBytes) return done(fail(`more than the ${opts.sizeBytes} bytes its descriptor says`, 'SIZE_MISMATCH'));
        hash.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        if (opts.sizeBytes !== undefined && seen !== opts.sizeBytes) return done(fail(`${seen} bytes, not the ${opts.sizeBytes} its descriptor says`, 'SIZE_MISMATCH'));
        const got = `${algorithm}:${hash.digest('hex')}`;
        if (got !== digest) return done(fail(`its content hashes to ${got}: refused`, 'DIGEST_MISMATCH'));
        done();
      },
    });
    const source = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    source.on('error', (e) => verify.destroy(fail(`the transfer failed: ${e.message}`, 'UNREACHABLE')));
    verify.on('close', () => source.destroy());
    source.pipe(verify);
    return verify;
  }

  async blobExists(refIn: string | ImageReference, digest: string): Promise<boolean> {
    const ref = toReference(refIn);
    checkDigest(digest, `check a blob of ${ref.full}`);
    const res = await this.http.send(ref, { method: 'HEAD', path: `/v2/${ref.repository}/blobs/${digest}`, actions: 'pull' });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await this.http.errorFrom(res, ref, `check blob ${digest} of`);
  }

  /**
   * Uploads a blob unless the repository has it: one PUT up to monolithicMaxBytes, PATCH chunks
   * beyond. A file source is streamed (its digest computed first if not given).
   */
  async pushBlob(refIn: string | ImageReference, source: BlobSource, opts: { digest?: string } = {}): Promise<{ digest: string; sizeBytes: number; skipped: boolean }> {
    const ref = toReference(refIn);
    const sizeBytes = Buffer.isBuffer(source) ? source.length : (await stat(source.path)).size;
    const digest = opts.digest ?? (Buffer.isBuffer(source) ? digestOf('sha256', source) : await fileDigest(source.path));
    checkDigest(digest, `push a blob to ${ref.full}`);
    if (await this.blobExists(ref, digest)) return { digest, sizeBytes, skipped: true };
    const started = await this.http.send(ref, { method: 'POST', path: `/v2/${ref.repository}/blobs/uploads/`, headers: { 'content-length': '0' }, actions: 'pull,push' });
    await started.body?.cancel();
    if (started.status !== 202) throw await this.http.errorFrom(started, ref, `start a blob upload to`);
    let location = this.location(started, ref);
    if (sizeBytes <= this.monolithicMaxBytes) {
      const body = Buffer.isBuffer(source) ? () => source : () => Readable.toWeb(createReadStream(source.path)) as unknown as ReadableStream;
      await this.finishUpload(ref, location, digest, sizeBytes, body);
      return { digest, sizeBytes, skipped: false };
    }
    const file = Buffer.isBuffer(source) ? undefined : await open(source.path, 'r');
    try {
      for (let offset = 0; offset < sizeBytes; ) {
        const length = Math.min(this.chunkSizeBytes, sizeBytes - offset);
        let chunk: Buffer;
        if (Buffer.isBuffer(source)) chunk = source.subarray(offset, offset + length);
        else {
          chunk = Buffer.alloc(length);
          const { bytesRead } = await file!.read(chunk, 0, length, offset);
          if (bytesRead !== length) throw new Error(`Cannot push ${source.path} to ${ref.full}: the file shrank while being uploaded`);
        }
        const res = await this.http.send(ref, {
          method: 'PATCH',
          path: location,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(length), 'content-range': `${offset}-${offset + length - 1}` },
          body: () => chunk,
          actions: 'pull,push',
          noTimeout: true,
        });
        await res.body?.cancel();
        if (res.status !== 202) throw await this.http.errorFrom(res, ref, `upload a chunk of blob ${digest} to`);
        location = this.location(res, ref);
        offset += length;
      }
    } finally {
      await file?.close();
    }
    await this.finishUpload(ref, location, digest, 0, undefined);
    return { digest, sizeBytes, skipped: false };
  }

  private location(res: Response, ref: ImageReference): string {
    const loc = res.headers.get('location');
    if (!loc) throw new RegistryError(`Cannot push to ${ref.full}: registry ${ref.registry} answered an upload without a Location`, { registry: ref.registry, reference: ref.full, status: res.status });
    return new URL(loc, this.http.baseUrl(ref.registry)).toString();
  }

  private async finishUpload(ref: ImageReference, location: string, digest: string, sizeBytes: number, body: (() => NonNullable<RequestInit['body']>) | undefined): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await this.http.send(ref, {
      method: 'PUT',
      path: url.toString(),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(sizeBytes) },
      ...(body ? { body } : {}),
      actions: 'pull,push',
      noTimeout: true,
    });
    await res.body?.cancel();
    if (res.status !== 201) throw await this.http.errorFrom(res, ref, `finish uploading blob ${digest} to`);
  }

  /** Puts a manifest or index under the reference's tag (or digest); returns its digest. */
  async pushManifest(refIn: string | ImageReference, manifest: Buffer, mediaType: string, opts: { tagOrDigest?: string } = {}): Promise<string> {
    const ref = toReference(refIn);
    if (manifest.length > MAX_MANIFEST_BYTES) throw new RangeError(`Cannot push a manifest to ${ref.full}: ${manifest.length} bytes is over the ${MAX_MANIFEST_BYTES}-byte limit`);
    const digest = digestOf('sha256', manifest);
    const target = opts.tagOrDigest ?? ref.tag ?? ref.digest!;
    const res = await this.http.send(ref, {
      method: 'PUT',
      path: `/v2/${ref.repository}/manifests/${target}`,
      headers: { 'content-type': mediaType, 'content-length': String(manifest.length) },
      body: () => manifest,
      actions: 'pull,push',
    });
    await res.body?.cancel();
    if (res.status !== 201) throw await this.http.errorFrom(res, ref, `push manifest ${target} to`);
    return digest;
  }

  /**
   * Pushes the image an OCI layout names `ref` (or its only image) to ref: blobs first (those the
   * repository has are skipped), then child manifests by digest, then the top one under the tag.
   */
  async pushLayout(layoutDir: string, refIn: string | ImageReference): Promise<PushResult> {
    const ref = toReference(refIn);
    const index = await readLayoutIndex(layoutDir);
    const names = (d: Descriptor) => [d.annotations?.[ANNOTATION_REF_NAME], d.annotations?.[ANNOTATION_CONTAINERD_NAME]];
    const wanted = typeof refIn === 'string' ? [refIn, ref.full, ref.tag] : [ref.full, ref.tag];
    const top = index.manifests.find((d) => names(d).some((n) => n !== undefined && wanted.includes(n))) ?? (index.manifests.length === 1 ? index.manifests[0] : undefined);
    if (!top) throw new Error(`Cannot push ${layoutDir} to ${ref.full}: its index.json names no image ${ref.full} and holds ${index.manifests.length} images`);
    const counts = { pushedBlobs: 0, skippedBlobs: 0 };
    const digest = await this.pushTree(layoutDir, ref, top, counts, true);
    return { digest, mediaType: top.mediaType, ...counts };
  }

  private async pushTree(layoutDir: string, ref: ImageReference, desc: Descriptor, counts: { pushedBlobs: number; skippedBlobs: number }, isTop: boolean): Promise<string> {
    const bytes = await readFile(blobPath(layoutDir, desc.digest));
    if (digestOf('sha256', bytes) !== desc.digest) throw new Error(`Cannot push ${layoutDir} to ${ref.full}: blob ${desc.digest} is corrupt (its content has another digest)`);
    const blob = async (d: Descriptor) => {
      const r = await this.pushBlob(ref, { path: blobPath(layoutDir, d.digest) }, { digest: d.digest });
      counts[r.skipped ? 'skippedBlobs' : 'pushedBlobs']++;
    };
    if (isIndexMediaType(desc.mediaType)) {
      for (const child of (JSON.parse(bytes.toString('utf8')) as ImageIndex).manifests) await this.pushTree(layoutDir, ref, child, counts, false);
    } else if (isManifestMediaType(desc.mediaType)) {
      const m = JSON.parse(bytes.toString('utf8')) as ImageManifest;
      await blob(m.config);
      for (const layer of m.layers) await blob(layer);
    } else {
      throw new Error(`Cannot push ${layoutDir} to ${ref.full}: ${desc.digest} has unsupported media type "${desc.mediaType}"`);
    }
    return this.pushManifest(ref, bytes, desc.mediaType, isTop ? {} : { tagOrDigest: desc.digest });
  }
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

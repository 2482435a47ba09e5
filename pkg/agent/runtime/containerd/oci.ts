// The parts of the OCI image spec (and Docker's v2 schema 2 twins) the runtime reads: media types,
// descriptors, manifests, configs, platform choice and chain ids.

import { createHash } from 'node:crypto';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface Manifest {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface Index {
  mediaType?: string;
  manifests: Descriptor[];
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: { Entrypoint?: string[] | null; Cmd?: string[] | null; Env?: string[] | null; WorkingDir?: string; User?: string };
  rootfs: { type: string; diff_ids: string[] };
}

export function isIndex(mediaType: string): boolean {
  return mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList;
}

export function isManifest(mediaType: string): boolean {
  return mediaType === MEDIA.ociManifest || mediaType === MEDIA.dockerManifest;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Checks a descriptor read from JSON; `where` names it in the error. */
export function checkDescriptor(d: unknown, where: string): Descriptor {
  const o = d as Partial<Descriptor> | null;
  if (!o || typeof o !== 'object') throw new Error(`Invalid image: ${where} is not a descriptor`);
  if (typeof o.digest !== 'string' || !DIGEST.test(o.digest)) throw new Error(`Invalid image: ${where}.digest: "${String(o.digest)}" is not a sha256 digest`);
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) throw new Error(`Invalid image: ${where}.size: ${String(o.size)} is not a size`);
  if (typeof o.mediaType !== 'string') throw new Error(`Invalid image: ${where}.mediaType is missing`);
  return o as Descriptor;
}

export function parseJson<T>(data: Buffer, what: string): T {
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch (e) {
    throw new Error(`Invalid image: ${what} is not JSON: ${(e as Error).message}`, { cause: e });
  }
}

export function parseManifest(data: Buffer, digest: string): Manifest {
  const m = parseJson<Manifest>(data, `manifest ${digest}`);
  checkDescriptor(m.config, `manifest ${digest} config`);
  if (!Array.isArray(m.layers)) throw new Error(`Invalid image: manifest ${digest} has no layers array`);
  m.layers.forEach((l, i) => checkDescriptor(l, `manifest ${digest} layers[${i}]`));
  return m;
}

export function parseIndex(data: Buffer, what: string): Index {
  const ix = parseJson<Index>(data, what);
  if (!Array.isArray(ix.manifests)) throw new Error(`Invalid image: ${what} has no manifests array`);
  ix.manifests.forEach((m, i) => checkDescriptor(m, `${what} manifests[${i}]`));
  return ix;
}

export function parseConfig(data: Buffer, digest: string, layerCount: number): ImageConfig {
  const c = parseJson<ImageConfig>(data, `image config ${digest}`);
  const ids = c.rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.length !== layerCount) {
    throw new Error(`Invalid image: config ${digest} lists ${Array.isArray(ids) ? ids.length : 'no'} diff_ids for ${layerCount} layers`);
  }
  return c;
}

/** This machine's platform in OCI terms (Node's "x64" is "amd64"). */
export function hostPlatform(): { os: string; architecture: string } {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

/** The manifest of an index that runs here, or an error listing what the index offers. */
export function choosePlatform(index: Index, what: string): Descriptor {
  const want = hostPlatform();
  const found = index.manifests.find((m) => isManifest(m.mediaType) && m.platform?.os === want.os && m.platform?.architecture === want.architecture);
  if (found) return found;
  // An index without platforms (an OCI layout's index.json often has none) with a single image.
  const plain = index.manifests.filter((m) => isManifest(m.mediaType) && !m.platform);
  if (plain.length === 1) return plain[0]!;
  const offered = index.manifests.map((m) => `${m.platform?.os ?? '?'}/${m.platform?.architecture ?? '?'}`).join(', ');
  throw new Error(`No image for ${want.os}/${want.architecture} in ${what} (it has: ${offered || 'nothing'})`);
}

/** containerd's snapshot names: chain[0] = diff[0], chain[i] = sha256(chain[i-1] + " " + diff[i]). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

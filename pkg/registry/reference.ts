// Image references with Docker's normalisation: "busybox" is docker.io/library/busybox:latest, the
// first component is a registry only when it has a "." or ":" or is "localhost", and a reference
// with a digest keeps any tag it names but is pulled by the digest.

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const MAX_NAME_BYTES = 255;

const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_RE = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RES: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };

export interface ImageReference {
  /** Registry host[:port], "docker.io" for Docker Hub. */
  registry: string;
  /** Repository path inside the registry, e.g. "library/busybox" or "navarch/busybox". */
  repository: string;
  tag?: string;
  digest?: string;
  /** The normalised form: registry/repository[:tag][@digest]. */
  full: string;
}

export class ReferenceError extends TypeError {
  override name = 'ReferenceError';
}

function fail(input: string, why: string): never {
  throw new ReferenceError(`Cannot parse image reference "${input}": ${why}`);
}

/** The registry a credential or host name means, normalised like references ("docker.io" for Hub's aliases). */
export function normalizeRegistryHost(host: string): string {
  let h = host.trim().replace(/^[a-z]+:\/\//i, '');
  h = h.split('/')[0]!.toLowerCase();
  return DOCKER_HUB_ALIASES.has(h) ? DOCKER_HUB : h;
}

/** Parses and normalises an image reference, with errors naming the part that is wrong. */
export function parseReference(input: string): ImageReference {
  if (typeof input !== 'string' || input.trim() === '') fail(String(input), 'it is empty');
  if (input !== input.trim()) fail(input, 'it has leading or trailing spaces');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const colon = digest.indexOf(':');
    const algorithm = digest.slice(0, colon);
    const hex = digest.slice(colon + 1);
    if (colon <= 0) fail(input, `digest "${digest}" is not algorithm:hex`);
    const re = DIGEST_RES[algorithm];
    if (!re) fail(input, `digest algorithm "${algorithm}" is not supported (sha256 or sha512)`);
    if (!re.test(hex)) fail(input, `digest "${digest}" does not have ${algorithm === 'sha256' ? 64 : 128} lowercase hex digits`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) fail(input, `tag "${tag}" must be 1 to 128 of letters, digits, "_", "." and "-", not starting with "." or "-"`);
  }
  if (rest === '') fail(input, 'the repository name is empty');
  let registry = DOCKER_HUB;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      if (!DOMAIN_RE.test(first)) fail(input, `registry "${first}" is not a valid host[:port]`);
      registry = normalizeRegistryHost(first);
      path = rest.slice(slash + 1);
    }
  }
  if (path !== path.toLowerCase()) fail(input, `repository "${path}" must be lowercase`);
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  for (const component of path.split('/')) {
    if (component === '') fail(input, `repository "${path}" has an empty path component`);
    if (!COMPONENT_RE.test(component)) fail(input, `repository component "${component}" must be lowercase letters and digits separated by ".", "_", "__" or "-"`);
  }
  const name = `${registry}/${path}`;
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) fail(input, `the name "${name}" is longer than ${MAX_NAME_BYTES} bytes`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  const full = `${name}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  return { registry, repository: path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}), full };
}

/** A reference given as a string or already parsed. */
export function toReference(ref: string | ImageReference): ImageReference {
  return typeof ref === 'string' ? parseReference(ref) : ref;
}

/** The same repository pinned to a digest (the tag kept for display). */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  return parseReference(`${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}@${digest}`);
}

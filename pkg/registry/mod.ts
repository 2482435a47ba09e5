// pkg/registry: an OCI distribution client and the local docker-registry that tests and `navarch up` use.

export { RegistryClient, MAX_MANIFEST_BYTES, type BlobSource, type FetchedManifest, type PullOptions, type PushResult, type RegistryClientOptions, type ResolvedImage } from './client.js';
export { RegistryError, isNotFoundError } from './errors.js';
export { selectPlatform } from './platform_match.js';
export { DOCKER_HUB, parseReference, ReferenceError, toReference, withDigest, type ImageReference } from './reference.js';
export { DEFAULT_REGISTRY_ADDRESS, ensureLocalRegistry, registryAnswers, startLocalRegistry, stopLocalRegistry, type LocalRegistry, type LocalRegistryOptions } from './local_registry.js';

// Registry credentials from a pod's imagePullSecrets, read through the API client: secrets of type
// kubernetes.io/dockerconfigjson (".dockerconfigjson": {"auths": {host: {...}}}) and the older
// kubernetes.io/dockercfg (".dockercfg": {host: {...}}). A secret that is missing or malformed is
// skipped with a warning, as the kubelet does: the pull goes on without it.

import type { Pod, Secret } from '../../../gen/navarch/api/v1/core.js';
import type { ObjectClient } from '../../controllers/client.js';
import type { RegistryCredential } from '../runtime/runtime.js';

export type SecretReader = Pick<ObjectClient, 'get'>;

export async function pullCredentials(client: SecretReader, pod: Pod, warn: (message: string) => void): Promise<RegistryCredential[]> {
  const out: RegistryCredential[] = [];
  const namespace = pod.metadata?.namespace ?? '';
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    const name = ref.name ?? '';
    if (name === '') continue;
    let secret: Secret;
    try {
      secret = await client.get<Secret>('secrets', namespace, name);
    } catch (err) {
      warn(`Unable to retrieve pull secret ${namespace}/${name} for ${namespace}/${pod.metadata?.name}: ${(err as Error).message}`);
      continue;
    }
    try {
      out.push(...parseDockerConfig(secret));
    } catch (err) {
      warn(`Unable to use pull secret ${namespace}/${name}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** The credentials of one secret; throws naming the key when its content is not what its type says. */
export function parseDockerConfig(secret: Secret): RegistryCredential[] {
  let key: string;
  if (secret.type === 'kubernetes.io/dockerconfigjson') key = '.dockerconfigjson';
  else if (secret.type === 'kubernetes.io/dockercfg') key = '.dockercfg';
  else throw new Error(`secret type ${JSON.stringify(secret.type ?? '')} is not kubernetes.io/dockerconfigjson`);
  const raw = secret.data?.[key];
  if (raw === undefined) throw new Error(`data[${key}]: Required value`);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch (err) {
    throw new Error(`data[${key}]: invalid JSON: ${(err as Error).message}`);
  }
  const auths = key === '.dockerconfigjson' ? (doc as { auths?: unknown } | null)?.auths : doc;
  if (auths === null || typeof auths !== 'object') throw new Error(`data[${key}]: expected an object of registries${key === '.dockerconfigjson' ? ' under "auths"' : ''}`);
  const out: RegistryCredential[] = [];
  for (const [host, v] of Object.entries(auths as Record<string, unknown>)) {
    if (v === null || typeof v !== 'object') throw new Error(`data[${key}]: entry ${JSON.stringify(host)} is not an object`);
    const e = v as Record<string, unknown>;
    const str = (k: string): string | undefined => (typeof e[k] === 'string' && e[k] !== '' ? (e[k] as string) : undefined);
    out.push({ registry: registryHost(host), username: str('username'), password: str('password'), auth: str('auth'), identityToken: str('identitytoken') ?? str('identityToken') });
  }
  return out;
}

/** "https://index.docker.io/v1/" -> "index.docker.io", "127.0.0.1:5000" stays. */
export function registryHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

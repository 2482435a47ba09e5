// ConfigMap and Secret reads for env and volumes: the object, or undefined when the API says it does
// not exist. Other failures (the masters unreachable) are thrown, so a pod is not started with an
// optional value silently missing.

import type { ConfigMap, Secret } from '../../gen/navarch/api/v1/core.js';
import { isApiError } from '../apiserver/api_error.js';
import type { ObjectClient } from '../controllers/client.js';

export type ObjectGetter = Pick<ObjectClient, 'get'>;

async function getOrUndefined<T>(client: ObjectGetter, resource: string, namespace: string, name: string): Promise<T | undefined> {
  try {
    return (await client.get(resource, namespace, name)) as T;
  } catch (err) {
    if (isApiError(err, 'NotFound')) return undefined;
    throw err;
  }
}

export function getConfigMap(client: ObjectGetter, namespace: string, name: string): Promise<ConfigMap | undefined> {
  return getOrUndefined<ConfigMap>(client, 'configmaps', namespace, name);
}

export function getSecret(client: ObjectGetter, namespace: string, name: string): Promise<Secret | undefined> {
  return getOrUndefined<Secret>(client, 'secrets', namespace, name);
}

/** The getConfigMap/getSecret pair that resolveEnv takes, over an API client. */
export function objectGetters(client: ObjectGetter) {
  return {
    getConfigMap: (namespace: string, name: string) => getConfigMap(client, namespace, name),
    getSecret: (namespace: string, name: string) => getSecret(client, namespace, name),
  };
}

// Checks shared by every write: the kind matches the request, the encoded size is under the limit,
// and a namespaced object's namespace exists and is not terminating.

import { infoOf } from '../api/convert/object.js';
import { isStoredKind, kindByName, type KindInfo, type KubeObject } from '../api/registry.js';
import { ApiError, badRequest, forbidden, notFound, qualifiedResource } from './api_error.js';
import { readKv, type Context } from './context.js';
import type { Compare, KeyValue } from '../store/mod.js';
import { decodeStoredKv, objectKey } from './objects.js';

/** The object's kind, which must be the one the request is for. */
export function kindOfBody(info: KindInfo | undefined, object: KubeObject): KindInfo {
  let own: KindInfo;
  try {
    own = infoOf(object);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  if (!isStoredKind(own) && own !== info) throw badRequest(`Cannot write a ${own.kind} of ${JSON.stringify(own.apiVersion)} as an object: it is the body of the scale subresource (subresource "scale" of deployments, replicasets or statefulsets)`);
  if (info && own !== info) {
    throw badRequest(`Cannot write ${qualifiedResource(info)}: the body is a ${object.kind} of ${JSON.stringify(object.apiVersion)}, not a ${info.kind} of ${JSON.stringify(info.apiVersion)}`);
  }
  return own;
}

export function checkSize(ctx: Context, info: KindInfo, name: string, bytes: Uint8Array): void {
  if (bytes.byteLength > ctx.maxObjectBytes) {
    throw new ApiError('TooLarge', `Cannot store ${qualifiedResource(info)} ${JSON.stringify(name)}: the object is ${bytes.byteLength} bytes, over the limit of ${ctx.maxObjectBytes} bytes`, {
      resource: info.resource,
      group: info.group,
      kind: info.kind,
      name,
    });
  }
}

const NAMESPACE = kindByName('Namespace');

/**
 * For a namespaced kind: the namespace must exist and not be terminating. Returns a compare that
 * pins the namespace as read, so a namespace deleted meanwhile makes the txn fail.
 */
export async function namespaceGuard(ctx: Context, info: KindInfo, namespace: string | undefined, name: string): Promise<Compare[]> {
  if (!info.namespaced || namespace === undefined) return [];
  // A replica's read is enough when it finds the namespace: the returned compare makes the write
  // fail if that was stale.
  const kv = (await readKv(ctx, NAMESPACE, undefined, namespace, 0, true)) ?? (await readKv(ctx, NAMESPACE, undefined, namespace));
  if (!kv) throw notFound(NAMESPACE, namespace);
  if (terminating(ctx, namespace, kv)) {
    throw forbidden(info, name, `unable to create new content in namespace ${namespace} because it is being terminated`, [
      { field: 'metadata.namespace', type: 'NamespaceTerminating', detail: `namespace ${namespace} is being terminated` },
    ]);
  }
  return [{ key: objectKey(NAMESPACE, undefined, namespace), target: 'modRevision', result: '=', number: kv.modRevision }];
}

/**
 * Whether the namespace is being deleted. Every create in a namespace reads it: the version's
 * modRevision names what an earlier decode found, so most creates decode nothing.
 */
function terminating(ctx: Context, namespace: string, kv: KeyValue): boolean {
  return ctx.namespaceStates.get(namespace, kv, () => !!decodeStoredKv(NAMESPACE, kv).metadata?.deletionTimestamp);
}

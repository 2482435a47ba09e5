// Get: one object by name, at the current revision or at an exact resourceVersion still in history.

import type { KindInfo, KubeObject } from '../api/registry.js';
import type { KeyValue } from '../store/mod.js';
import { ApiError, notFound } from './api_error.js';
import { encodeBinary } from '../api/convert/binary.js';
import { scaleOf } from './scale.js';
import { checkName, namespaceOf, readKv, resolve, type Context, type ObjectRef } from './context.js';
import { decodeStoredKv } from './objects.js';
import { storedKvBytes } from './stored_bytes.js';
import { parseResourceVersion } from './resource_version.js';

export interface GetRequest extends ObjectRef {
  /** "scale": the object's autoscaling/v1 Scale (Deployments, ReplicaSets, StatefulSets). */
  subresource?: string;
  /** "" or "0": the current state; otherwise the object as it was at that revision. */
  resourceVersion?: string;
  /** Read this member's replica without confirming it is up to date. @default false */
  serializable?: boolean;
}

export async function get(ctx: Context, req: GetRequest): Promise<KubeObject> {
  const { info, kv } = await getKv(ctx, req);
  const o = decodeStoredKv(info, kv);
  return req.subresource === 'scale' ? scaleOf(o) : o;
}

/** get with the object as its protobuf bytes (what the gRPC API sends), without decoding it. */
export async function getBytes(ctx: Context, req: GetRequest): Promise<Buffer> {
  const { info, kv } = await getKv(ctx, req);
  if (req.subresource === 'scale') return Buffer.from(encodeBinary(scaleOf(decodeStoredKv(info, kv))));
  return storedKvBytes(info, kv);
}

async function getKv(ctx: Context, req: GetRequest): Promise<{ info: KindInfo; kv: KeyValue }> {
  const info = resolve(req.resource);
  const sub = req.subresource ?? '';
  if (sub !== '' && !(sub === 'scale' && info.hasScale)) {
    throw new ApiError('NotFound', `the server could not find the requested resource (get ${info.resource}/${sub})`, { resource: info.resource, group: info.group });
  }
  const name = checkName(info, req.name);
  const ns = namespaceOf(info, req.namespace, 'get');
  const kv = await readKv(ctx, info, ns, name, parseResourceVersion(req.resourceVersion), req.serializable === true);
  if (!kv) throw notFound(info, name);
  return { info, kv };
}

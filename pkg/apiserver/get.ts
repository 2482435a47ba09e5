// Get: one object by name, at the current revision or at an exact resourceVersion still in history.

import type { KindInfo, KubeObject } from '../api/registry.js';
import type { KeyValue } from '../store/mod.js';
import { notFound } from './api_error.js';
import { checkName, namespaceOf, readKv, resolve, type Context, type ObjectRef } from './context.js';
import { decodeStoredKv } from './objects.js';
import { storedKvBytes } from './stored_bytes.js';
import { parseResourceVersion } from './resource_version.js';

export interface GetRequest extends ObjectRef {
  /** "" or "0": the current state; otherwise the object as it was at that revision. */
  resourceVersion?: string;
  /** Read this member's replica without confirming it is up to date. @default false */
  serializable?: boolean;
}

export async function get(ctx: Context, req: GetRequest): Promise<KubeObject> {
  const { info, kv } = await getKv(ctx, req);
  return decodeStoredKv(info, kv);
}

/** get with the object as its protobuf bytes (what the gRPC API sends), without decoding it. */
export async function getBytes(ctx: Context, req: GetRequest): Promise<Buffer> {
  const { info, kv } = await getKv(ctx, req);
  return storedKvBytes(info, kv);
}

async function getKv(ctx: Context, req: GetRequest): Promise<{ info: KindInfo; kv: KeyValue }> {
  const info = resolve(req.resource);
  const name = checkName(info, req.name);
  const ns = namespaceOf(info, req.namespace, 'get');
  const kv = await readKv(ctx, info, ns, name, parseResourceVersion(req.resourceVersion), req.serializable === true);
  if (!kv) throw notFound(info, name);
  return { info, kv };
}

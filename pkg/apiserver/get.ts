// Get: one object by name, at the current revision or at an exact resourceVersion still in history.

import type { KubeObject } from '../api/registry.js';
import { notFound } from './api_error.js';
import { checkName, namespaceOf, readObject, resolve, type Context, type ObjectRef } from './context.js';
import { parseResourceVersion } from './resource_version.js';

export interface GetRequest extends ObjectRef {
  /** "" or "0": the current state; otherwise the object as it was at that revision. */
  resourceVersion?: string;
  /** Read this member's replica without confirming it is up to date. @default false */
  serializable?: boolean;
}

export async function get(ctx: Context, req: GetRequest): Promise<KubeObject> {
  const info = resolve(req.resource);
  const name = checkName(info, req.name);
  const ns = namespaceOf(info, req.namespace, 'get');
  const found = await readObject(ctx, info, ns, name, parseResourceVersion(req.resourceVersion), req.serializable === true);
  if (!found) throw notFound(info, name);
  return found.object;
}

// Patch: applies a JSON merge, JSON (RFC 6902) or strategic merge patch to the current object's
// JSON, decodes the result with full field checking, and writes it through the update path. A
// patch carrying metadata.resourceVersion is a precondition; otherwise a lost race re-reads and
// re-applies the patch, as Kubernetes does.

import { decodeObject, DecodeError, encodeObject } from '../api/convert/object.js';
import { SCALE, type KindInfo, type KubeObject } from '../api/registry.js';
import { badRequest, conflict, invalid, notFound } from './api_error.js';
import { checkName, namespaceOf, resolve, type Context, type ObjectRef } from './context.js';
import { applyJsonPatch } from './patch/json_patch.js';
import { applyMergePatch } from './patch/json_merge_patch.js';
import { isObject, PatchError, type Json } from './patch/patch_error.js';
import { applyStrategicMergePatch } from './patch/strategic_merge_patch.js';
import { scaleOf } from './scale.js';
import { checkFencingToken, type FencingToken } from './fencing.js';
import { checkSubresource, LOST_RACE, mergeForUpdate, readForWrite, RECHECK, writeUpdate } from './update.js';
import { kindOfBody } from './write_checks.js';

export type PatchType = 'merge' | 'json' | 'strategic';

/** The Content-Type Kubernetes uses for each patch type. */
export const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface PatchRequest extends ObjectRef {
  type: PatchType;
  /** The patch document: JSON text, or already parsed. */
  patch: string | unknown;
  subresource?: string;
  dryRun?: boolean;
  /** Write only while this Lease is held as the token says (else Forbidden). */
  fencing?: FencingToken;
}

/** Applying a patch recurses once per level, so deeper ones are refused (objects are a few dozen levels deep). */
export const MAX_PATCH_DEPTH = 1000;

/** Whether a JSON value nests deeper than `max` levels (iterative: the value may be deeper than the stack). */
function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

function parsePatch(p: string | unknown): Json {
  let doc: Json;
  try {
    doc = (typeof p === 'string' ? JSON.parse(p) : p) as Json;
  } catch (err) {
    throw badRequest(`Cannot parse patch: ${(err as Error).message}`);
  }
  if (deeperThan(doc, MAX_PATCH_DEPTH)) throw badRequest(`Cannot parse patch: it nests deeper than ${MAX_PATCH_DEPTH} levels`);
  return doc;
}

export async function patch(ctx: Context, req: PatchRequest): Promise<KubeObject> {
  const info = resolve(req.resource);
  const name = checkName(info, req.name);
  const ns = namespaceOf(info, req.namespace, 'patch');
  const subresource = checkSubresource(info, req.subresource);
  const fencing = checkFencingToken(req.fencing);
  if (req.type !== 'merge' && req.type !== 'json' && req.type !== 'strategic') {
    throw badRequest(`Unsupported patch type ${JSON.stringify(req.type)}: expected merge, json or strategic`);
  }
  const doc = parsePatch(req.patch);
  let local = !req.dryRun;
  for (let attempt = 0; ; ) {
    const cur = await readForWrite(ctx, info, ns, name, local);
    let merged: KubeObject;
    try {
      if (!cur) throw notFound(info, name);
      // A scale patch applies to the Scale (kubectl sends {"spec":{"replicas":N}}), then to the object.
      const patched = subresource === 'scale' ? applyPatch(SCALE, name, scaleOf(cur.object), req.type, doc) : applyPatch(info, name, cur.object, req.type, doc);
      // The patched object is decoded anew for each attempt: this attempt's to fill in.
      merged = mergeForUpdate(info, cur.object, patched, subresource, true);
    } catch (err) {
      if (!local) throw err;
      // A lagging replica may show an older object: decide the refusal on a fresh read.
      local = false;
      continue;
    }
    const result = await writeUpdate(ctx, info, cur, merged, { dryRun: req.dryRun, fencing, local, subresource });
    if (result !== LOST_RACE && result !== RECHECK) return subresource === 'scale' ? scaleOf(result) : result;
    if (local) {
      local = false;
      continue;
    }
    if (attempt++ >= ctx.maxConflictRetries) throw conflict(info, name);
  }
}

/** The patched object, decoded with full field checking; a resourceVersion in the patch must match. */
function applyPatch(info: KindInfo, name: string, current: KubeObject, type: PatchType, doc: Json): KubeObject {
  const json = encodeObject(current) as Json;
  let patched: Json;
  try {
    patched = type === 'json' ? applyJsonPatch(json, doc) : type === 'merge' ? applyMergePatch(json, doc) : applyStrategicMergePatch(info.messageName, json, doc);
  } catch (err) {
    if (err instanceof PatchError) throw badRequest(err.message);
    throw err;
  }
  let decoded: KubeObject;
  try {
    decoded = decodeObject(patched).object;
  } catch (err) {
    if (err instanceof DecodeError) throw err.errors.length ? invalid(info, name, err.errors) : badRequest(`Cannot apply patch to ${info.resource} ${JSON.stringify(name)}: ${err.message}`);
    throw err;
  }
  kindOfBody(info, decoded);
  const patchedRv = isObject(patched) && isObject(patched.metadata) ? patched.metadata.resourceVersion : undefined;
  if (patchedRv !== undefined && patchedRv !== current.metadata?.resourceVersion) throw conflict(info, name);
  return decoded;
}

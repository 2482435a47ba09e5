// The three-way patch `navctl apply` sends, as kubectl computes it: from the last applied manifest
// (original), the manifest now (modified) and the live object (current). Fields in the manifest
// that differ from the live object are set; fields dropped from the manifest since the last apply
// are removed; fields only others set (status, defaults, labels added by hand) are left alone.
// The patch is a strategic merge patch, as kubectl sends: maps merge key by key; lists tagged with
// a merge key in the schema (containers by name, ports by containerPort, ...) are patched item by
// item, with `$setElementOrder/<list>` giving the manifest's order; other lists are replaced whole,
// and only when the manifest changed them, because the server's defaults inside list items would
// otherwise make every apply look like a change.

import { messageSchema, type MessageSchema } from '../../pkg/api/schema.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

export interface ThreeWayPatch {
  /** The strategic merge patch; `{}` when the live object already matches the manifest. */
  patch: JsonObject;
}

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** `sub` says nothing `sup` contradicts: every field of sub is in sup with a matching value. */
function isSubset(sub: Json | undefined, sup: Json | undefined): boolean {
  if (isObject(sub)) return isObject(sup) && Object.entries(sub).every(([k, v]) => isSubset(v, sup[k]));
  if (Array.isArray(sub)) return Array.isArray(sup) && sub.length === sup.length && sub.every((x, i) => isSubset(x, sup[i]));
  return deepEqual(sub, sup);
}

function schemaOf(name: string | undefined): MessageSchema | undefined {
  if (!name) return undefined;
  try {
    return messageSchema(name);
  } catch {
    return undefined;
  }
}

/** The patch turning `current` into `modified` where the user owns the fields; undefined: no change. */
function diffObject(schema: MessageSchema | undefined, original: Json | undefined, modified: JsonObject, current: JsonObject, isMap: boolean): JsonObject | undefined {
  const out: JsonObject = {};
  const orig = isObject(original) ? original : {};
  for (const [k, mod] of Object.entries(modified)) {
    const field = isMap ? undefined : schema?.byJsonName.get(k);
    const cur = current[k];
    if (mod === null) {
      if (cur !== undefined) out[k] = null;
      continue;
    }
    if (cur === undefined) {
      out[k] = mod;
      continue;
    }
    if (Array.isArray(mod)) {
      const list = diffList(field, orig[k], mod, cur);
      if (list === undefined) continue;
      out[k] = list;
      // As kubectl: a keyed list's patch carries the manifest's order (the patch alone cannot say
      // where a new item goes among the ones it leaves out).
      const key = keyOf(field);
      if (key && mod.every((x) => isObject(x) && x[key] !== undefined)) out[`$setElementOrder/${k}`] = mod.map((x) => ({ [key]: (x as JsonObject)[key] }));
      continue;
    }
    if (isObject(mod)) {
      if (!isObject(cur)) {
        out[k] = mod;
        continue;
      }
      // A map's entries and a message's fields both merge key by key.
      const sub = field?.isMessage && field.label !== 'map' ? schemaOf(field.type) : undefined;
      const d = diffObject(sub, orig[k], mod, cur, field?.label === 'map' || (field === undefined && isMap));
      if (d !== undefined) out[k] = d;
      continue;
    }
    if (!deepEqual(mod, cur)) out[k] = mod;
  }
  for (const k of Object.keys(orig)) {
    if (!(k in modified) && current[k] !== undefined) out[k] = null;
  }
  return Object.keys(out).length ? out : undefined;
}

function keyOf(field: MessageSchema['fields'][number] | undefined): string | undefined {
  return field?.label === 'repeated' && field.isMessage ? field.mergeKey : undefined;
}

function diffList(field: MessageSchema['fields'][number] | undefined, original: Json | undefined, modified: Json[], current: Json): Json[] | undefined {
  const mergeKey = keyOf(field);
  if (mergeKey && Array.isArray(current) && modified.every((x) => isObject(x) && x[mergeKey] !== undefined)) {
    return diffKeyedList(schemaOf(field!.type), mergeKey, original, modified, current);
  }
  // Unchanged since the last apply and still there (perhaps with defaults added): leave it be.
  const userChanged = original === undefined || !deepEqual(original, modified);
  if (deepEqual(modified, current) || (!userChanged && isSubset(modified, current))) return undefined;
  return modified;
}

function diffKeyedList(schema: MessageSchema | undefined, key: string, original: Json | undefined, modified: Json[], current: Json[]): Json[] | undefined {
  const find = (list: Json | undefined, k: Json): JsonObject | undefined =>
    Array.isArray(list) ? (list.find((x) => isObject(x) && deepEqual(x[key], k)) as JsonObject | undefined) : undefined;
  const out: Json[] = [];
  for (const item of modified as JsonObject[]) {
    const cur = find(current, item[key]);
    if (!cur) {
      out.push(item);
      continue;
    }
    const d = diffObject(schema, find(original, item[key]), item, cur, false);
    if (d !== undefined) out.push({ [key]: item[key], ...d });
  }
  if (Array.isArray(original)) {
    for (const o of original) {
      if (!isObject(o) || find(modified, o[key]) || !find(current, o[key])) continue;
      out.push({ [key]: o[key], $patch: 'delete' });
    }
  }
  return out.length === 0 ? undefined : out;
}

/**
 * The three-way patch for an object of message type `messageName` (all three in Kubernetes JSON).
 * `original` is undefined when the object was never applied (created another way).
 */
export function threeWayPatch(messageName: string, original: JsonObject | undefined, modified: JsonObject, current: JsonObject): ThreeWayPatch {
  const patch = diffObject(schemaOf(messageName), original, modified, current, false) ?? {};
  return { patch };
}

/**
 * The manifest as apply sends it: with the last-applied annotation holding the manifest itself
 * (without that annotation), so the next apply knows which fields it owns.
 */
export function withLastApplied(manifest: JsonObject): JsonObject {
  const meta: JsonObject = isObject(manifest.metadata) ? { ...manifest.metadata } : {};
  const annotations = isObject(meta.annotations) ? { ...meta.annotations } : {};
  delete annotations[LAST_APPLIED_ANNOTATION];
  if (Object.keys(annotations).length) meta.annotations = annotations;
  else delete meta.annotations;
  const bare: JsonObject = { ...manifest, metadata: meta };
  return { ...bare, metadata: { ...meta, annotations: { ...annotations, [LAST_APPLIED_ANNOTATION]: JSON.stringify(bare) } } };
}

/** The last applied manifest recorded on a live object, or undefined (never applied, or unreadable). */
export function lastApplied(current: JsonObject): JsonObject | undefined {
  const meta = current.metadata;
  const text = isObject(meta) && isObject(meta.annotations) ? meta.annotations[LAST_APPLIED_ANNOTATION] : undefined;
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as Json;
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

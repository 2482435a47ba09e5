// Strategic merge patch, as kubectl sends it (`apply`, `set image`, `rollout pause`): a merge patch
// in which maps (labels, annotations, ConfigMap data, nodeSelector, resource lists) merge key by key
// with `null` deleting a key, and lists of objects tagged with a merge key in the .proto sources
// (+mergeKey=name: containers, initContainers, env, volumes; ports by containerPort, volumeMounts by
// mountPath, ...) merge item by item instead of being replaced. Other lists are replaced, except the
// lists of strings Kubernetes merges as sets (finalizers). Directives, as Kubernetes applies them:
// - `$patch: replace` in a map or message replaces it; as a list item, the list becomes the other items;
// - `$patch: delete` in a map or message empties it; as a keyed list item, removes the items with that key;
// - `$deleteFromPrimitiveList/<list>: [values]` removes values from a list of strings;
// - `$setElementOrder/<list>: [...]` gives the order of the items the patch names (server-only items
//   keep their place relative to them);
// - `$retainKeys: [fields]` clears every field not listed before merging.

import { messageSchema, type FieldSchema, type MessageSchema } from '../../api/schema.js';
import { isObject, PatchError, type Json } from './patch_error.js';

type JsonObject = { [key: string]: Json };

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

/** Lists of scalars Kubernetes tags patchStrategy=merge: a patch adds to them instead of replacing them. */
const MERGED_SCALAR_LISTS: ReadonlySet<string> = new Set(['ObjectMeta.finalizers', 'NodeSpec.podCIDRs']);

function fail(path: string, problem: string): never {
  throw new PatchError(`Cannot apply strategic merge patch: ${path || 'the object'} ${problem}`);
}

const at = (path: string, k: string): string => (path ? `${path}.${k}` : k);

function applyRetainKeys(out: JsonObject, patch: JsonObject, path: string): void {
  const keep = patch[RETAIN_KEYS];
  if (keep === undefined) return;
  if (!Array.isArray(keep) || !keep.every((k) => typeof k === 'string')) fail(path, `has ${RETAIN_KEYS} ${JSON.stringify(keep)}; expected a list of field names`);
  const retained = new Set(keep as string[]);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith('$')) continue;
    if (!retained.has(k)) fail(path, `sets ${JSON.stringify(k)}, which its ${RETAIN_KEYS} list does not name`);
  }
  for (const k of Object.keys(out)) if (!retained.has(k)) delete out[k];
}

/** Merges `patch` into a message (`schema`), or into a map whose values `mapValues` describes. */
function mergeObject(schema: MessageSchema | undefined, target: Json | undefined, patch: JsonObject, path: string, mapValues?: FieldSchema): Json {
  const directive = patch[DIRECTIVE];
  if (directive !== undefined) {
    if (directive === 'replace') {
      const rest = { ...patch };
      delete rest[DIRECTIVE];
      return rest;
    }
    if (directive === 'delete') return {};
    fail(path, `has unknown $patch directive ${JSON.stringify(directive)}; expected replace or delete`);
  }
  const out: JsonObject = isObject(target) ? { ...target } : {};
  applyRetainKeys(out, patch, path);
  // Read first: a list's order may come after the list in the patch.
  const orders = new Map<string, Json>();
  for (const [k, v] of Object.entries(patch)) if (k.startsWith(SET_ORDER)) orders.set(k.slice(SET_ORDER.length), v);
  for (const [k, v] of Object.entries(patch)) {
    if (k === RETAIN_KEYS || k.startsWith(SET_ORDER)) continue;
    if (k.startsWith(DELETE_FROM)) {
      const field = k.slice(DELETE_FROM.length);
      if (!Array.isArray(v)) fail(at(path, k), 'is not a list');
      const cur = out[field];
      if (Array.isArray(cur)) out[field] = cur.filter((x) => !v.some((d) => d === x));
      continue;
    }
    const p = mapValues ? `${path}[${JSON.stringify(k)}]` : at(path, k);
    if (v === null) {
      delete out[k];
      continue;
    }
    const field = mapValues ?? schema?.byJsonName.get(k);
    // Unknown fields pass through: decoding reports them with their path.
    if (!field) {
      out[k] = v;
      continue;
    }
    out[k] = mergeField(schema, field, out[k], v, p, orders.get(k), !!mapValues);
  }
  // An order for a list the patch does not otherwise touch still reorders it.
  for (const [k, order] of orders) {
    if (Object.hasOwn(patch, k)) continue;
    const field = schema?.byJsonName.get(k);
    if (field?.label !== 'repeated' || !Array.isArray(out[k])) continue;
    const key = field.isMessage ? field.mergeKey : undefined;
    if (field.isMessage && !key) continue;
    out[k] = ordered(out[k] as Json[], [], checkOrder(order, key, at(path, k)), out[k] as Json[], key);
  }
  return out;
}

function mergeField(schema: MessageSchema | undefined, field: FieldSchema, cur: Json | undefined, v: Json, p: string, order: Json | undefined, inMap: boolean): Json {
  if (!inMap && field.label === 'map') {
    if (!isObject(v)) return v;
    return mergeObject(undefined, cur, v, p, { ...field, label: 'single' });
  }
  if (!inMap && field.label === 'repeated') {
    if (!Array.isArray(v)) return v;
    if (field.isMessage) {
      if (!field.mergeKey) return v;
      return mergeKeyedList(messageSchema(field.type), field.mergeKey, cur, v, p, order);
    }
    if (schema && MERGED_SCALAR_LISTS.has(`${schema.name}.${field.name}`)) return mergeScalarList(cur, v, p, order);
    return v;
  }
  if (field.isMessage && field.type !== 'IntOrString' && isObject(v)) return mergeObject(messageSchema(field.type), cur, v, p);
  return v;
}

function checkOrder(order: Json | undefined, key: string | undefined, path: string): Json[] | undefined {
  if (order === undefined) return undefined;
  const directive = SET_ORDER + path.slice(path.lastIndexOf('.') + 1);
  if (!Array.isArray(order)) fail(path, `has ${directive} ${JSON.stringify(order)}; expected a list`);
  if (key !== undefined && !order.every((o) => isObject(o) && o[key] !== undefined && o[key] !== null)) {
    fail(path, `has a ${directive} item without the merge key ${JSON.stringify(key)}`);
  }
  return order;
}

/** A list item's identity: its merge key's value, or the value itself in a list of scalars. */
function idOf(x: Json | undefined, key: string | undefined): string {
  const v = key === undefined ? x : isObject(x) ? x[key] : undefined;
  return typeof v === 'string' ? `s${v}` : `j${JSON.stringify(v)}`;
}

/** First position of each identity in a list (lookups stay linear in big lists). */
function positions(list: Json[], key: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  list.forEach((x, i) => {
    const id = idOf(x, key);
    if (!m.has(id)) m.set(id, i);
  });
  return m;
}

function mergeKeyedList(schema: MessageSchema, key: string, target: Json | undefined, patch: Json[], path: string, order: Json | undefined): Json {
  const original: Json[] = Array.isArray(target) ? target : [];
  const setOrder = checkOrder(order, key, path);
  const items: JsonObject[] = [];
  const deleted = new Set<string>();
  let replace = false;
  for (const item of patch) {
    if (!isObject(item)) fail(path, `has an item that is not an object; its items merge by ${JSON.stringify(key)}`);
    const directive = item[DIRECTIVE];
    if (directive === undefined) {
      if (item[key] === undefined || item[key] === null) fail(path, `has an item without its merge key ${JSON.stringify(key)}`);
      items.push(item);
    } else if (directive === 'replace') replace = true;
    else if (directive === 'delete') {
      if (item[key] === undefined || item[key] === null) fail(path, `has a $patch: delete item without its merge key ${JSON.stringify(key)}`);
      deleted.add(idOf(item, key));
    } else fail(`${path}[${key}=${JSON.stringify(item[key])}]`, `has unknown $patch directive ${JSON.stringify(directive)}; expected replace or delete`);
  }
  const itemPath = (item: JsonObject): string => `${path}[${key}=${JSON.stringify(item[key])}]`;
  if (replace) return items.map((item) => mergeObject(schema, undefined, item, itemPath(item)));
  const out = deleted.size ? original.filter((x) => !deleted.has(idOf(x, key))) : [...original];
  const where = positions(out, key);
  for (const item of items) {
    const id = idOf(item, key);
    const i = where.get(id);
    const merged = mergeObject(schema, i === undefined ? undefined : out[i], item, itemPath(item));
    if (i !== undefined) out[i] = merged;
    else {
      where.set(id, out.length);
      out.push(merged);
    }
  }
  return ordered(out, items, setOrder, original, key);
}

function mergeScalarList(target: Json | undefined, patch: Json[], path: string, order: Json | undefined): Json {
  const original: Json[] = Array.isArray(target) ? target : [];
  if (patch.some((x) => isObject(x) || Array.isArray(x))) fail(path, 'is a list of values; its patch has an object or list in it');
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const x of [...original, ...patch]) {
    const id = idOf(x, undefined);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(x);
  }
  return ordered(out, patch, checkOrder(order, undefined, path), original, undefined);
}

/**
 * The order Kubernetes gives a merged list: the items the patch names (or its $setElementOrder
 * list names) in that order, the others in the order the server had them, the two interleaved so
 * that an item the server had comes before a named one it preceded there.
 */
function ordered(merged: Json[], patchItems: Json[], setOrder: Json[] | undefined, original: Json[], key: string | undefined): Json[] {
  const inOrder = positions(setOrder ?? patchItems, key);
  const inOriginal = positions(original, key);
  // Each item's rank in the order list (named items) or on the server (the others), computed once.
  const named: Array<{ x: Json; rank: number; server: number }> = [];
  const serverOnly: Array<{ x: Json; rank: number; server: number }> = [];
  for (const x of merged) {
    const id = idOf(x, key);
    const server = inOriginal.get(id) ?? -1;
    const rank = inOrder.get(id);
    if (rank === undefined) serverOnly.push({ x, rank: server, server });
    else named.push({ x, rank, server });
  }
  named.sort((a, b) => a.rank - b.rank);
  serverOnly.sort((a, b) => a.rank - b.rank);
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < named.length) {
    if (j >= named.length) out.push(serverOnly[i++].x);
    else if (i >= serverOnly.length) out.push(named[j++].x);
    else {
      const si = serverOnly[i].server;
      const ni = named[j].server;
      if (si >= 0 && ni >= 0 && si < ni) out.push(serverOnly[i++].x);
      else out.push(named[j++].x);
    }
  }
  return out;
}

/** Applies a strategic merge patch to an object of message type `messageName` (JSON form). */
export function applyStrategicMergePatch(messageName: string, target: Json, patch: Json): Json {
  if (!isObject(patch)) throw new PatchError('Invalid strategic merge patch: expected a JSON object');
  if (patch[DIRECTIVE] === 'delete') throw new PatchError('Cannot apply strategic merge patch: it deletes the whole object');
  return mergeObject(messageSchema(messageName), target, patch, '');
}

// Strategic merge patch, as kubectl sends it: a merge patch whose lists of objects tagged with a
// merge key in the .proto sources (+mergeKey=name: containers, env, volumes, volumeMounts; ports by
// containerPort; ...) are merged item by item instead of replaced. Directives: `$patch: delete` on
// a list item removes it, `$patch: replace` on a map or as a list item replaces instead of merging,
// `$deleteFromPrimitiveList/<field>` removes values from a list of scalars; `$setElementOrder/...`
// and `$retainKeys` are accepted and ignored.

import { messageSchema, type MessageSchema } from '../../api/schema.js';
import { isObject, PatchError, type Json } from './patch_error.js';

const DIRECTIVE = '$patch';

function mergeObject(schema: MessageSchema | undefined, target: Json | undefined, patch: { [key: string]: Json }, path: string): Json | undefined {
  const directive = patch[DIRECTIVE];
  if (directive !== undefined) {
    if (directive === 'delete') return undefined;
    if (directive === 'replace') {
      const rest = { ...patch };
      delete rest[DIRECTIVE];
      return rest;
    }
    throw new PatchError(`Cannot apply strategic merge patch: ${path || 'the object'} has unknown $patch directive ${JSON.stringify(directive)}; expected delete or replace`);
  }
  const out: { [key: string]: Json } = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    const p = path ? `${path}.${k}` : k;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (!Array.isArray(v)) throw new PatchError(`Cannot apply strategic merge patch: ${p} is not a list`);
      const cur = out[field];
      if (Array.isArray(cur)) out[field] = cur.filter((x) => !v.some((d) => d === x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const field = schema?.byJsonName.get(k);
    // Unknown fields pass through: decoding reports them with their path.
    if (!field || !field.isMessage || field.type === 'IntOrString') {
      out[k] = v;
      continue;
    }
    const sub = messageSchema(field.type);
    if (field.label === 'repeated') {
      out[k] = field.mergeKey ? mergeList(sub, field.mergeKey, out[k], v, p) : v;
    } else if (field.label === 'map') {
      if (!isObject(v)) {
        out[k] = v;
        continue;
      }
      const m: { [key: string]: Json } = isObject(out[k]) ? { ...(out[k] as { [key: string]: Json }) } : {};
      for (const [mk, mv] of Object.entries(v)) {
        if (mv === null) delete m[mk];
        else if (isObject(mv)) {
          const merged = mergeObject(sub, m[mk], mv, `${p}[${mk}]`);
          if (merged === undefined) delete m[mk];
          else m[mk] = merged;
        } else m[mk] = mv;
      }
      out[k] = m;
    } else if (isObject(v)) {
      const merged = mergeObject(sub, out[k], v, p);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = v;
    }
  }
  return out;
}

function mergeList(schema: MessageSchema, mergeKey: string, target: Json | undefined, patch: Json, path: string): Json {
  if (!Array.isArray(patch)) return patch;
  if (patch.some((item) => isObject(item) && item[DIRECTIVE] === 'replace')) {
    return patch.filter((item) => !(isObject(item) && item[DIRECTIVE] === 'replace'));
  }
  const out: Json[] = Array.isArray(target) ? [...target] : [];
  for (const item of patch) {
    if (!isObject(item)) throw new PatchError(`Cannot apply strategic merge patch: ${path} items must be objects merged by ${JSON.stringify(mergeKey)}`);
    const key = item[mergeKey];
    if (key === undefined || key === null) throw new PatchError(`Cannot apply strategic merge patch: an item of ${path} has no merge key ${JSON.stringify(mergeKey)}`);
    const at = out.findIndex((x) => isObject(x) && x[mergeKey] === key);
    const p = `${path}[${mergeKey}=${JSON.stringify(key)}]`;
    if (item[DIRECTIVE] === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    const merged = mergeObject(schema, at >= 0 ? out[at] : undefined, item, p);
    if (merged === undefined) {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) out[at] = merged;
    else out.push(merged);
  }
  return out;
}

/** Applies a strategic merge patch to an object of message type `messageName` (JSON form). */
export function applyStrategicMergePatch(messageName: string, target: Json, patch: Json): Json {
  if (!isObject(patch)) throw new PatchError('Invalid strategic merge patch: expected a JSON object');
  const out = mergeObject(messageSchema(messageName), target, patch, '');
  if (out === undefined) throw new PatchError('Cannot apply strategic merge patch: it deletes the whole object');
  return out;
}

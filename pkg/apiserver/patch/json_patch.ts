// JSON patch (RFC 6902): add, remove, replace, move, copy and test on JSON pointers (RFC 6901).
// Operations apply in order to a copy; any failing operation fails the whole patch.

import { isObject, PatchError, type Json } from './patch_error.js';
import { deepCopy } from '../../api/deep_copy.js';

/** Most operations one patch may hold. */
export const MAX_JSON_PATCH_OPS = 10_000;

type Container = Json[] | { [key: string]: Json };

function parsePointer(pointer: unknown, i: number, field: string): string[] {
  if (typeof pointer !== 'string') throw new PatchError(`Invalid JSON patch: operation ${i} has no ${JSON.stringify(field)} string`);
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`Invalid JSON patch: operation ${i} ${field} ${JSON.stringify(pointer)} does not start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(list: Json[], token: string, pointer: string, allowEnd: boolean): number {
  if (allowEnd && token === '-') return list.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`Cannot apply JSON patch: ${JSON.stringify(pointer)}: ${JSON.stringify(token)} is not a list index`);
  const n = Number(token);
  if (n > list.length || (!allowEnd && n === list.length)) throw new PatchError(`Cannot apply JSON patch: ${JSON.stringify(pointer)}: index ${n} is out of range (the list has ${list.length} items)`);
  return n;
}

/** The container holding the last token, and that token. */
function parentOf(doc: Json, tokens: string[], pointer: string): { parent: Container; last: string } {
  let cur: Json = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, pointer, false)];
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new PatchError(`Cannot apply JSON patch: path ${JSON.stringify(pointer)} does not exist`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw new PatchError(`Cannot apply JSON patch: path ${JSON.stringify(pointer)} does not exist`);
  return { parent: cur, last: tokens[tokens.length - 1] };
}

function getAt(doc: Json, tokens: string[], pointer: string): Json {
  if (tokens.length === 0) return doc;
  const { parent, last } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, pointer, false)];
  if (!Object.hasOwn(parent, last)) throw new PatchError(`Cannot apply JSON patch: path ${JSON.stringify(pointer)} does not exist`);
  return parent[last];
}

function removeAt(doc: Json, tokens: string[], pointer: string): Json {
  if (tokens.length === 0) throw new PatchError('Cannot apply JSON patch: cannot remove the whole document');
  const { parent, last } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, pointer, false), 1)[0];
  if (!Object.hasOwn(parent, last)) throw new PatchError(`Cannot apply JSON patch: path ${JSON.stringify(pointer)} does not exist`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function addAt(doc: Json, tokens: string[], pointer: string, value: Json, replace: boolean): Json {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, pointer, !replace);
    parent.splice(i, replace ? 1 : 0, value);
  } else {
    if (replace && !Object.hasOwn(parent, last)) throw new PatchError(`Cannot apply JSON patch: path ${JSON.stringify(pointer)} does not exist`);
    parent[last] = value;
  }
  return doc;
}

function equal(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

export function applyJsonPatch(target: Json, patch: unknown): Json {
  if (!Array.isArray(patch)) throw new PatchError('Invalid JSON patch: expected a list of operations');
  if (patch.length > MAX_JSON_PATCH_OPS) throw new PatchError(`Invalid JSON patch: ${patch.length} operations, over the limit of ${MAX_JSON_PATCH_OPS}`);
  let doc: Json = deepCopy(target);
  patch.forEach((op: unknown, i) => {
    if (!isObject(op)) throw new PatchError(`Invalid JSON patch: operation ${i} is not an object`);
    const path = parsePointer(op.path, i, 'path');
    const pointer = op.path as string;
    const needValue = (): Json => {
      if (!Object.hasOwn(op, 'value')) throw new PatchError(`Invalid JSON patch: operation ${i} (${op.op}) has no "value"`);
      return deepCopy(op.value);
    };
    switch (op.op) {
      case 'add':
        doc = addAt(doc, path, pointer, needValue(), false);
        break;
      case 'remove':
        removeAt(doc, path, pointer);
        break;
      case 'replace':
        doc = addAt(doc, path, pointer, needValue(), true);
        break;
      case 'move': {
        const from = parsePointer(op.from, i, 'from');
        if (pointer.startsWith(`${op.from as string}/`)) throw new PatchError(`Cannot apply JSON patch: operation ${i} moves ${JSON.stringify(op.from)} into itself`);
        const v = removeAt(doc, from, op.from as string);
        doc = addAt(doc, path, pointer, v, false);
        break;
      }
      case 'copy': {
        const from = parsePointer(op.from, i, 'from');
        doc = addAt(doc, path, pointer, deepCopy(getAt(doc, from, op.from as string)), false);
        break;
      }
      case 'test': {
        const want = needValue();
        if (!equal(getAt(doc, path, pointer), want)) throw new PatchError(`Cannot apply JSON patch: test of ${JSON.stringify(pointer)} failed: the value is not ${JSON.stringify(want)}`);
        break;
      }
      default:
        throw new PatchError(`Invalid JSON patch: operation ${i} has unknown op ${JSON.stringify(op.op)}; expected add, remove, replace, move, copy or test`);
    }
  });
  return doc;
}

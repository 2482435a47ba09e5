// JSON merge patch (RFC 7386): objects merge key by key, null removes a key, anything else
// (lists included) replaces the target's value.

import { isObject, type Json } from './patch_error.js';

export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: { [key: string]: Json } = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

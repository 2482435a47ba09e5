// Equality of API objects' plain data as their JSON would compare: a field set to undefined is the
// same as one left out; bytes compare by content. It allocates nothing, so a check that two specs
// are alike costs a walk instead of two copies and two JSON texts.

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) if (x[k] !== undefined && !deepEqual(x[k], y[k])) return false;
  for (const k in y) if (y[k] !== undefined && x[k] === undefined) return false;
  return true;
}

/**
 * deepEqual where a field that is absent, undefined, an empty list or an object of such fields
 * counts as left out: the API's decoded form has empty lists where a writer left fields out.
 */
export function sameIgnoringEmpty(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameIgnoringEmpty(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) return deepEqual(a, b);
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) if (!sameField(x[k], y[k])) return false;
  for (const k in y) if (!Object.hasOwn(x, k) && !isEmptyField(y[k])) return false;
  return true;
}

function sameField(a: unknown, b: unknown): boolean {
  const ea = isEmptyField(a);
  const eb = isEmptyField(b);
  return ea || eb ? ea && eb : sameIgnoringEmpty(a, b);
}

function isEmptyField(v: unknown): boolean {
  if (v === undefined) return true;
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return false;
  if (Array.isArray(v)) return v.length === 0;
  for (const k in v as Record<string, unknown>) if (!isEmptyField((v as Record<string, unknown>)[k])) return false;
  return true;
}

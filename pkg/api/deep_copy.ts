// A deep copy of an API object (plain data: strings, numbers, booleans, lists, maps, bytes), as
// Kubernetes' generated DeepCopy. Unlike structuredClone it never keeps aliasing: objects kept in
// caches share one frozen empty list or map among many fields (see shared_values.ts), and a copy
// must give each field a list of its own that the caller may fill.

export function deepCopy<T>(v: T): T {
  return copy(v) as T;
}

function copy(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copy(v[i]);
    return out;
  }
  if (v instanceof Uint8Array) return new Uint8Array(v);
  const proto = Object.getPrototypeOf(v);
  // Anything that is not plain data (a Map or Date from a test, say) keeps structuredClone's rules.
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  const o = v as Record<string, unknown>;
  for (const k in o) out[k] = copy(o[k]);
  return out;
}

// Freezes an object and everything in it (byte arrays aside), stopping at parts already frozen.
// For objects many readers share: a change made by mistake then throws where it is made, instead
// of showing up in every other reader's copy.

export function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== "object" || Object.isFrozen(v) || ArrayBuffer.isView(v)) return v;
  // Indexed and for-in loops rather than Object.values: no array per object (every watch event of
  // an informer in a master freezes a pod's unshared parts, some twenty objects).
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) deepFreeze(v[i]);
  } else {
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const x = o[k];
      if (typeof x === "object" && x !== null) deepFreeze(x);
    }
  }
  return Object.freeze(v);
}

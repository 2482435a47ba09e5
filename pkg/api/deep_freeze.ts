// Freezes an object and everything in it (byte arrays aside), stopping at parts already frozen.
// For objects many readers share: a change made by mistake then throws where it is made, instead
// of showing up in every other reader's copy.

export function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== "object" || Object.isFrozen(v) || ArrayBuffer.isView(v)) return v;
  for (const x of Object.values(v as object)) deepFreeze(x);
  return Object.freeze(v);
}

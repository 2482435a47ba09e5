// Objects kept for long in caches (informer stores, the API server's watch cache) share what
// decoding makes once per object and field:
// - short strings: one copy of each seen lately (namespaces, condition types and statuses, images,
//   node names, timestamps);
// - empty lists and maps: one frozen instance. A decoded Pod has about 20 of them (tolerations,
//   volumes, env, nodeSelector, ...), some 900 bytes of its 2.9 KB.
// A cached object must not be changed in place (as in client-go); a writer copies it with
// deepCopy, which gives each field a list of its own (structuredClone would keep the aliasing).

/** Strings longer than this are rarely repeated (messages, annotations' JSON): not interned. */
const MAX_INTERNED_LENGTH = 64;

/**
 * A bounded intern table: one instance per distinct short string. When full it starts over, so
 * unique strings (uids, names) cannot grow it; objects keep the instances they were given.
 */
export class StringTable {
  private table = new Map<string, string>();

  constructor(private readonly maxEntries = 65_536) {}

  intern(s: string): string {
    if (s.length > MAX_INTERNED_LENGTH) return s;
    const seen = this.table.get(s);
    if (seen !== undefined) return seen;
    if (this.table.size >= this.maxEntries) this.table = new Map();
    this.table.set(s, s);
    return s;
  }

  get size(): number {
    return this.table.size;
  }
}

const processTable = new StringTable();

/** The one empty list and the one empty map of cached objects. */
export const EMPTY_LIST: readonly never[] = Object.freeze([]);
export const EMPTY_MAP: Readonly<Record<string, never>> = Object.freeze({});

/** Rewrites an object (plain data) in place to use shared strings, empty lists and maps, and lists of their own length; returns it (a list comes back as a new one). */
export function shareValues<T>(object: T, strings: StringTable = processTable): T {
  return share(object, strings) as T;
}

/**
 * Strings that are one object's alone: looking them up would only fill the table (and start it
 * over sooner). By the field they are under: an object's own name, uid and resourceVersion, a
 * pod's IPs and its containers' IDs.
 */
const OWN_STRINGS_BELOW: ReadonlyMap<string, ReadonlySet<string>> = (() => {
  const containerStatus = new Set(['containerID']);
  return new Map<string, ReadonlySet<string>>([
    ['metadata', new Set(['name', 'uid', 'resourceVersion'])],
    ['status', new Set(['podIP'])],
    ['podIPs', new Set(['ip'])],
    ['containerStatuses', containerStatus],
    ['initContainerStatuses', containerStatus],
    ['ephemeralContainerStatuses', containerStatus],
  ]);
})();

/** shareValues for one top-level field of an object (its metadata, spec or status), as shareValues treats it inside the object. */
export function shareField<T>(field: string, value: T, strings: StringTable = processTable): T {
  return share(value, strings, OWN_STRINGS_BELOW.get(field)) as T;
}

/** `ownKeys`: keys whose strings are left as they are, of this object or, for a list, of its items (OWN_STRINGS_BELOW). */
function share(v: unknown, strings: StringTable, ownKeys?: ReadonlySet<string>): unknown {
  if (typeof v === 'string') return strings.intern(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    if (v.length === 0) return EMPTY_LIST;
    for (let i = 0; i < v.length; i++) v[i] = share(v[i], strings, ownKeys);
    // A copy of its own length: a decoded list grew by push, which leaves room for 17 items, 152
    // bytes for a pod's one IP or four conditions; a cache keeps it for as long as the object.
    return v.slice();
  }
  // Messages and maps are plain objects; bytes (Uint8Array) and anything else stay as they are.
  if (Object.getPrototypeOf(v) !== Object.prototype || Object.isFrozen(v)) return v;
  const o = v as Record<string, unknown>;
  let empty = true;
  for (const k in o) {
    empty = false;
    const x = o[k];
    if (typeof x === 'object' ? x !== null : typeof x === 'string' && !ownKeys?.has(k)) o[k] = share(x, strings, typeof x === 'object' ? OWN_STRINGS_BELOW.get(k) : undefined);
  }
  return empty ? EMPTY_MAP : o;
}

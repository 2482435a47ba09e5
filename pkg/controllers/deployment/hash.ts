// The pod-template-hash: a stable name for a pod template, as Kubernetes' controller.ComputeHash.
// FNV-1a (32 bit) over the template's canonical JSON (keys sorted, so map order never matters),
// with the Deployment's collisionCount mixed in when set, so a collision can be escaped by
// bumping it; the number is then spelled with consonants and digits that never form words.
// Stable across processes and versions of Navarch, but not the values Kubernetes computes (it
// hashes Go's spew dump of the struct), so a ReplicaSet imported from Kubernetes gets a new name.

import type { PodTemplateSpec } from '../../../gen/navarch/api/v1/core.js';
import { toJson } from '../../api/convert/json.js';
import { deepCopy } from '../../api/deep_copy.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Kubernetes' rand.SafeEncodeString alphabet: no vowels, no 0/1/3 that read as o/l/e.
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function fnv1a(h: number, bytes: Uint8Array): number {
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h;
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v as Record<string, unknown>).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The template's canonical Kubernetes JSON (empty lists and maps dropped, keys sorted). */
export function templateJson(t: PodTemplateSpec | undefined): string {
  return canonicalJson(toJson('PodTemplateSpec', t ?? {}));
}

export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** The pod-template-hash label value of a template (computed without any hash label it carries). */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv1a(FNV_OFFSET, new TextEncoder().encode(templateJson(withoutHashLabel(template))));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv1a(h, b);
  }
  return safeEncode(String(h));
}

/** A copy of the template without the pod-template-hash label. */
export function withoutHashLabel(t: PodTemplateSpec | undefined): PodTemplateSpec | undefined {
  if (!t) return t;
  const labels = t.metadata?.labels;
  if (!labels || !(POD_TEMPLATE_HASH_LABEL in labels)) return t;
  const copy = deepCopy(t);
  delete copy.metadata!.labels[POD_TEMPLATE_HASH_LABEL];
  return copy;
}

/** Kubernetes' EqualIgnoreHash: the same template apart from the pod-template-hash label. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return templateJson(withoutHashLabel(a)) === templateJson(withoutHashLabel(b));
}

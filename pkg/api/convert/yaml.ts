// Multi-document YAML manifests ↔ typed objects.
//
// YAML is read as YAML 1.1, as Kubernetes' decoder does (0644 is octal, yes/no are booleans),
// except that timestamps and sexagesimal numbers stay strings: Kubernetes keeps
// "2024-01-01T00:00:00Z" as text and so do we.

import { parseAllDocuments, stringify, type Tags } from "yaml";
import type { KubeObject } from "../registry.js";
import type { FromJsonOptions } from "./json.js";
import { DecodeError, type Decoded, decodeObject, encodeObject } from "./object.js";

export interface ManifestDocument {
  /** 0-based position among the non-empty documents of the stream. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  /** Set when the document decoded. */
  decoded?: Decoded;
  /** Set when it did not. */
  error?: DecodeError;
}

export interface YamlReadOptions extends FromJsonOptions {
  /** Refuse streams with more documents than this. @default 10000 */
  maxDocuments?: number;
}

function k8sTags(tags: Tags): Tags {
  return tags.filter((t) => {
    const tag = (t as { tag?: string }).tag;
    const format = (t as { format?: string }).format;
    return tag !== "tag:yaml.org,2002:timestamp" && format !== "TIME";
  });
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Parses YAML (or JSON) text into plain values, one per non-empty document. */
export function parseYamlDocuments(text: string, maxDocuments = 10000): Array<{ line: number; value?: unknown; error?: DecodeError }> {
  const docs = parseAllDocuments(text, { version: "1.1", customTags: k8sTags, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: Array<{ line: number; value?: unknown; error?: DecodeError }> = [];
  for (const doc of list) {
    const line = lineOf(text, doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0);
    if (doc.errors.length > 0) {
      const first = doc.errors[0];
      const at = first.linePos ? `line ${first.linePos[0].line}` : `line ${line}`;
      out.push({ line, error: new DecodeError("Malformed", `Cannot parse YAML at ${at}: ${first.message.split("\n")[0]}`) });
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    if (out.length >= maxDocuments) {
      throw new DecodeError("Malformed", `Cannot read manifests: more than ${maxDocuments} documents`);
    }
    out.push({ line, value });
  }
  return out;
}

/**
 * Decodes every document of a YAML stream. Each document succeeds or fails on its own, so a caller
 * can report all problems at once. A `kind: List` document (kubectl's `get -o yaml` output) is
 * expanded into its items.
 */
export function decodeManifests(text: string, options: YamlReadOptions = {}): ManifestDocument[] {
  const out: ManifestDocument[] = [];
  for (const d of parseYamlDocuments(text, options.maxDocuments)) {
    if (d.error) {
      out.push({ index: out.length, line: d.line, error: d.error });
      continue;
    }
    const values = isList(d.value) ? (d.value as { items: unknown[] }).items : [d.value];
    for (const v of values) {
      try {
        out.push({ index: out.length, line: d.line, decoded: decodeObject(v, options) });
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        out.push({ index: out.length, line: d.line, error: e });
      }
    }
  }
  return out;
}

function isList(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return o.kind === "List" && o.apiVersion === "v1" && Array.isArray(o.items);
}

/** Decodes a YAML stream and throws the first document's error, for callers that want all or nothing. */
export function decodeManifestsStrict(text: string, options: YamlReadOptions = {}): Decoded[] {
  const docs = decodeManifests(text, options);
  const bad = docs.find((d) => d.error);
  if (bad?.error) {
    throw new DecodeError(bad.error.reason, `Document ${bad.index + 1} (line ${bad.line}): ${bad.error.message}`, bad.error.errors);
  }
  return docs.map((d) => d.decoded as Decoded);
}

/** Kubernetes-style YAML for one object. */
export function encodeObjectYaml(object: KubeObject): string {
  return stringify(encodeObject(object), { version: "1.1", lineWidth: 0 });
}

/** Several objects as one multi-document YAML stream. */
export function encodeObjectsYaml(objects: readonly KubeObject[]): string {
  return objects.map(encodeObjectYaml).join("---\n");
}

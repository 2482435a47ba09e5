// The field schema of every navarch.api.v1 message, read from the .proto sources at load time.
//
// The .proto files are the one source of truth: ts-proto generates the types and the binary codec
// from them, and this module gives the converter, defaulting and patching what ts-proto does not
// expose: field names and kinds, and the comment tags (+quantity, +time, +mergeKey=k).
// It reads only the subset of proto3 that proto/navarch/api/v1 uses and throws on anything else,
// so a new construct there fails loudly here instead of being misread.

import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export type ScalarType = "string" | "bool" | "int32" | "int64" | "uint32" | "uint64" | "double" | "float" | "bytes";

export interface FieldSchema {
  name: string;
  jsonName: string;
  number: number;
  /** "single" may be absent (every scalar is proto3 `optional`, messages have presence). */
  label: "single" | "repeated" | "map";
  /** A scalar type name, or a message name when isMessage. For maps: the value type. */
  type: string;
  isMessage: boolean;
  quantity: boolean;
  time: boolean;
  mergeKey?: string;
}

export interface MessageSchema {
  name: string;
  file: string;
  fields: readonly FieldSchema[];
  byJsonName: ReadonlyMap<string, FieldSchema>;
}

const SCALARS = new Set<string>(["string", "bool", "int32", "int64", "uint32", "uint64", "double", "float", "bytes"]);

const FIELD_RE =
  /^(optional\s+|repeated\s+)?(map\s*<\s*(\w+)\s*,\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(\[(.*)\])?\s*;$/;

export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchemaError";
  }
}

/** Parses the proto files' text into message schemas (exported for tests). */
export function parseProtoFiles(files: ReadonlyArray<{ name: string; text: string }>): Map<string, MessageSchema> {
  const out = new Map<string, MessageSchema>();
  for (const { name: file, text } of files) {
    let current: { name: string; fields: FieldSchema[] } | undefined;
    let tags: string[] = [];
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const where = `${file}:${i + 1}`;
      const line = lines[i].trim();
      if (line === "" || line.startsWith("syntax ") || line.startsWith("package ") || line.startsWith("import ")) {
        continue;
      }
      if (line.startsWith("option ")) continue;
      if (line.startsWith("//")) {
        const tag = /^\/\/\s*\+(\S+)/.exec(line);
        if (tag) tags.push(tag[1]);
        continue;
      }
      const msg = /^message\s+(\w+)\s*\{$/.exec(line);
      if (msg) {
        if (current) throw new SchemaError(`Cannot read ${where}: nested messages are not supported`);
        current = { name: msg[1], fields: [] };
        tags = [];
        continue;
      }
      if (line === "}") {
        if (!current) throw new SchemaError(`Cannot read ${where}: unbalanced "}"`);
        if (out.has(current.name)) throw new SchemaError(`Cannot read ${where}: message ${current.name} defined twice`);
        const byJsonName = new Map(current.fields.map((f) => [f.jsonName, f]));
        out.set(current.name, { name: current.name, file, fields: current.fields, byJsonName });
        current = undefined;
        tags = [];
        continue;
      }
      const f = FIELD_RE.exec(line.replace(/\s*\/\/.*$/, ""));
      if (!f || !current) throw new SchemaError(`Cannot read ${where}: unsupported line ${JSON.stringify(line)}`);
      const [, modifier, typeText, mapKey, mapValue, fieldName, num, , options] = f;
      const isMap = mapKey !== undefined;
      if (isMap && mapKey !== "string") throw new SchemaError(`Cannot read ${where}: map keys must be string`);
      const type = isMap ? mapValue : typeText;
      const jsonOpt = options ? /json_name\s*=\s*"([^"]+)"/.exec(options) : null;
      const mergeTag = tags.find((t) => t.startsWith("mergeKey="));
      current.fields.push({
        name: fieldName,
        jsonName: jsonOpt ? jsonOpt[1] : fieldName.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
        number: Number(num),
        label: isMap ? "map" : modifier?.trim() === "repeated" ? "repeated" : "single",
        type,
        isMessage: !SCALARS.has(type),
        quantity: tags.includes("quantity"),
        time: tags.includes("time"),
        ...(mergeTag ? { mergeKey: mergeTag.slice("mergeKey=".length) } : {}),
      });
      tags = [];
    }
    if (current) throw new SchemaError(`Cannot read ${file}: message ${current.name} is not closed`);
  }
  for (const m of out.values()) {
    for (const f of m.fields) {
      if (f.isMessage && !out.has(f.type)) {
        throw new SchemaError(`Cannot read ${m.file}: field ${m.name}.${f.name} has unknown type ${f.type}`);
      }
    }
  }
  return out;
}

/** proto/navarch/api/v1, resolved from this file's location in the repository. */
export const PROTO_DIR = fileURLToPath(new URL("../../proto/navarch/api/v1/", import.meta.url));

function loadSchemas(): Map<string, MessageSchema> {
  const names = readdirSync(PROTO_DIR)
    .filter((n) => n.endsWith(".proto"))
    .sort();
  return parseProtoFiles(names.map((name) => ({ name, text: readFileSync(PROTO_DIR + name, "utf8") })));
}

const SCHEMAS = loadSchemas();

/** The schema of a navarch.api.v1 message; throws for an unknown name (a programming error). */
export function messageSchema(name: string): MessageSchema {
  const s = SCHEMAS.get(name);
  if (!s) throw new SchemaError(`Unknown message ${JSON.stringify(name)} in navarch.api.v1`);
  return s;
}

export function hasMessage(name: string): boolean {
  return SCHEMAS.has(name);
}

export function allMessages(): Iterable<MessageSchema> {
  return SCHEMAS.values();
}

/**
 * Follows a JSON field path (["spec", "template", "spec", "containers"]) from a message and returns
 * the field reached, or undefined. Useful for strategic merge (mergeKey) lookups.
 */
export function fieldAt(messageName: string, jsonPath: readonly string[]): FieldSchema | undefined {
  let msg: MessageSchema | undefined = messageSchema(messageName);
  let field: FieldSchema | undefined;
  for (const key of jsonPath) {
    if (!msg) return undefined;
    field = msg.byJsonName.get(key);
    if (!field) return undefined;
    msg = field.isMessage ? messageSchema(field.type) : undefined;
  }
  return field;
}

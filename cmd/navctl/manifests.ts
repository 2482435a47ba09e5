// Reads what -f names: files, directories (their .yaml/.yml/.json files in name order; with -R the
// subdirectories too) and "-" for stdin. Every document is decoded on its own, so one bad document
// is reported with its file and position while the others still go to the server.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Decoded } from '../../pkg/api/convert/object.js';
import { decodeManifests } from '../../pkg/api/convert/yaml.js';

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];
/** Refuse to read more than this from one file or stdin: a manifest set, not a data dump. */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export interface ManifestItem {
  /** The file as named on the command line (or found in a directory); "STDIN" for -. */
  source: string;
  /** 1-based position among the documents of the file (a List's items count one each). */
  document: number;
  line: number;
  decoded?: Decoded;
  /** Why the document could not be decoded. */
  error?: string;
}

export interface ManifestIo {
  readFile: (path: string) => string;
  readStdin: () => string;
  /** Names in a directory, or undefined when `path` is not a directory; throws when it does not exist. */
  listDir: (path: string) => Array<{ name: string; dir: boolean }> | undefined;
}

export class ManifestPathError extends Error {
  override name = 'ManifestPathError';
}

/** Every file to read for these -f values, in order. */
export function manifestFiles(paths: readonly string[], recursive: boolean, io: ManifestIo): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    const entries = io.listDir(dir) ?? [];
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(dir, e.name);
      if (e.dir) {
        if (recursive) walk(p);
      } else if (MANIFEST_EXTENSIONS.some((x) => e.name.endsWith(x))) out.push(p);
    }
  };
  for (const p of paths) {
    if (p === '-') {
      out.push('-');
      continue;
    }
    let entries: ReturnType<ManifestIo['listDir']>;
    try {
      entries = io.listDir(p);
    } catch {
      throw new ManifestPathError(`the path "${p}" does not exist`);
    }
    if (entries === undefined) out.push(p);
    else walk(p);
  }
  return out;
}

/** Decodes every document of every file; a file that cannot be read is an error for the whole command. */
export function readManifests(paths: readonly string[], recursive: boolean, io: ManifestIo): ManifestItem[] {
  if (paths.length === 0) throw new ManifestPathError('must specify -f FILE (a manifest file, a directory of them, or - for stdin)');
  const items: ManifestItem[] = [];
  for (const file of manifestFiles(paths, recursive, io)) {
    const source = file === '-' ? 'STDIN' : file;
    const text = file === '-' ? io.readStdin() : io.readFile(file);
    if (text.length > MAX_MANIFEST_BYTES) throw new ManifestPathError(`Cannot read ${source}: larger than ${MAX_MANIFEST_BYTES} bytes`);
    let docs: ReturnType<typeof decodeManifests>;
    try {
      docs = decodeManifests(text);
    } catch (e) {
      items.push({ source, document: 1, line: 1, error: (e as Error).message });
      continue;
    }
    for (const d of docs) {
      items.push({ source, document: d.index + 1, line: d.line, decoded: d.decoded, error: d.error?.message });
    }
  }
  return items;
}

/** The file system and stdin of this process. */
export const processIo: ManifestIo = {
  readFile: (p) => {
    const size = statSync(p).size;
    if (size > MAX_MANIFEST_BYTES) throw new ManifestPathError(`Cannot read ${p}: larger than ${MAX_MANIFEST_BYTES} bytes`);
    return readFileSync(p, 'utf8');
  },
  readStdin: () => readFileSync(0, 'utf8'),
  listDir: (p) => {
    const st = statSync(p);
    if (!st.isDirectory()) return undefined;
    return readdirSync(p, { withFileTypes: true }).map((e) => ({ name: e.name, dir: e.isDirectory() }));
  },
};

/** "web.yaml" (document 2, line 14): where a document came from, for messages. */
export function where(item: ManifestItem): string {
  return `"${item.source}" (document ${item.document}, line ${item.line})`;
}

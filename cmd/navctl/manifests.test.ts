import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManifestPathError, manifestFiles, readManifests, type ManifestIo } from './manifests.js';

/** An in-memory tree: paths ending in "/" are directories. */
function memIo(files: Record<string, string>, stdin = ''): ManifestIo {
  return {
    readFile: (p) => {
      if (!(p in files)) throw new Error(`ENOENT ${p}`);
      return files[p];
    },
    readStdin: () => stdin,
    listDir: (p) => {
      const dir = p.endsWith('/') ? p : `${p}/`;
      const under = Object.keys(files).filter((f) => f.startsWith(dir));
      if (under.length === 0) {
        if (p in files) return undefined;
        throw new Error(`ENOENT ${p}`);
      }
      const names = new Map<string, boolean>();
      for (const f of under) {
        const rest = f.slice(dir.length);
        const i = rest.indexOf('/');
        names.set(i < 0 ? rest : rest.slice(0, i), i >= 0);
      }
      return [...names].map(([name, isDir]) => ({ name, dir: isDir }));
    },
  };
}

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: "1"\n`;

test('manifestFiles() takes a directory\'s manifest files in name order, and subdirectories only with -R', () => {
  const io = memIo({ 'm/b.yaml': cm('b'), 'm/a.json': '{}', 'm/notes.txt': 'x', 'm/sub/c.yml': cm('c'), 'one.yaml': cm('o') });
  assert.deepEqual(manifestFiles(['m'], false, io), ['m/a.json', 'm/b.yaml']);
  assert.deepEqual(manifestFiles(['one.yaml', 'm', '-'], true, io), ['one.yaml', 'm/a.json', 'm/b.yaml', 'm/sub/c.yml', '-']);
  assert.throws(() => manifestFiles(['missing.yaml'], false, io), (e: Error) => e instanceof ManifestPathError && e.message === 'the path "missing.yaml" does not exist');
});

test('readManifests() decodes multi-document YAML, JSON, List kinds and stdin, with positions', () => {
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [JSON.parse(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n1' } })), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n2' } }] });
  const io = memIo({ 'd/1.yaml': `${cm('a')}---\n${cm('b')}`, 'd/2.json': list }, cm('from-stdin'));
  const items = readManifests(['d', '-'], false, io);
  assert.deepEqual(
    items.map((i) => [i.source, i.document, i.decoded?.object.metadata?.name, i.error]),
    [
      ['d/1.yaml', 1, 'a', undefined],
      ['d/1.yaml', 2, 'b', undefined],
      ['d/2.json', 1, 'n1', undefined],
      ['d/2.json', 2, 'n2', undefined],
      ['STDIN', 1, 'from-stdin', undefined],
    ],
  );
  assert.equal(items[1].line, 8);
});

test('readManifests() reports a bad document with its field path and still returns the good ones', () => {
  const bad = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containerz: []\n';
  const items = readManifests(['f.yaml'], false, memIo({ 'f.yaml': `${cm('ok')}---\n${bad}---\nkind: Gizmo\napiVersion: v9\n` }));
  assert.equal(items.length, 3);
  assert.equal(items[0].decoded?.object.metadata?.name, 'ok');
  assert.match(items[1].error ?? '', /spec\.containerz/);
  assert.equal(items[1].document, 2);
  assert.match(items[2].error ?? '', /no matches for kind "Gizmo" in version "v9"/);
});

test('readManifests() without -f says so', () => {
  assert.throws(() => readManifests([], false, memIo({})), /must specify -f FILE/);
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeBinary, encodeBinary } from '../api/convert/binary.js';
import { decodeManifestsStrict } from '../api/convert/yaml.js';
import { KINDS, kindByName, type KubeObject } from '../api/registry.js';
import type { KeyValue } from '../store/mod.js';
import { decodeStoredKv, emptyMeta, encodeStored } from './objects.js';
import { withResourceVersion } from './stored_bytes.js';

const TESTDATA = fileURLToPath(new URL('../api/testdata/', import.meta.url));
const manifests = readdirSync(TESTDATA)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => decodeManifestsStrict(readFileSync(TESTDATA + f, 'utf8')));

function kv(value: Uint8Array, modRevision: number): KeyValue {
  return { key: 'k', value, createRevision: 1, modRevision, version: 1, lease: 0 };
}

/** What a client decodes from the spliced bytes equals what decoding and re-encoding would give. */
function assertSameAsDecoded(object: KubeObject, modRevision: number): void {
  const info = kindByName(object.kind as never);
  const stored = encodeStored(object);
  const spliced = withResourceVersion(stored, modRevision);
  const expected = decodeStoredKv(info, kv(stored, modRevision));
  assert.deepEqual(decodeBinary(info, spliced), expected);
  assert.equal(spliced.byteLength, encodeBinary(expected).byteLength, 'no byte more than the encoder writes');
  // The store keeps values as latin1 strings: read in place, they give the same bytes.
  assert.deepEqual(withResourceVersion(latin1(stored), modRevision), spliced);
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

describe('withResourceVersion', () => {
  it('gives every kind its resourceVersion without decoding it', () => {
    const kinds = new Set(manifests.map((m) => m.info.kind));
    for (const info of KINDS) assert.ok(kinds.has(info.kind), `no testdata manifest for ${info.kind}`);
    for (const { object } of manifests) assertSameAsDecoded(object, 4242);
  });

  it('writes the metadata length in more bytes when the resourceVersion carries it past 127', () => {
    // Each label costs its entry's bytes; find the sizes around the one-byte length limit.
    for (let n = 90; n < 140; n++) {
      const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...emptyMeta(), name: 'c', namespace: 'default', labels: { k: 'x'.repeat(n) } }, data: {}, binaryData: {} } as KubeObject;
      assertSameAsDecoded(object, 1);
      assertSameAsDecoded(object, Number.MAX_SAFE_INTEGER);
    }
  });

  it('adds a metadata field when the stored object has none', () => {
    const stored = encodeBinary({ apiVersion: 'v1', kind: 'Namespace' } as KubeObject);
    const o = decodeBinary(kindByName('Namespace'), withResourceVersion(stored, 7));
    assert.equal(o.metadata?.resourceVersion, '7');
  });

  it('overrides a resourceVersion the stored bytes hold', () => {
    const info = kindByName('ConfigMap');
    const stored = encodeBinary({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...emptyMeta(), name: 'c', resourceVersion: '3' }, data: { a: 'b' }, binaryData: {} } as KubeObject);
    const o = decodeBinary(info, withResourceVersion(stored, 12)) as KubeObject & { data?: Record<string, string> };
    assert.equal(o.metadata?.resourceVersion, '12');
    assert.deepEqual(o.data, { a: 'b' });
  });

  it('refuses bytes that are not an object', () => {
    assert.throws(() => withResourceVersion(Uint8Array.of(0x1a, 0x40, 0x0a), 1), /past the 3 bytes/);
    assert.throws(() => withResourceVersion(Uint8Array.of(0x0a, 0xff), 1));
    assert.throws(() => withResourceVersion('\x1a\x40\x0a', 1), /past the 3 bytes/);
    assert.throws(() => withResourceVersion('\x0a\xff', 1), /runs past the 2 bytes/);
    assert.throws(() => withResourceVersion('\x0a\x09abc', 1), /past the 5 bytes/);
    assert.throws(() => withResourceVersion('\x0b', 1), /wire type 3/);
  });
});

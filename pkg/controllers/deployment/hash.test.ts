import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodTemplateSpec } from '../../../gen/navarch/api/v1/core.js';
import { fromJson } from '../../api/convert/json.js';
import { canonicalJson, computeHash, equalIgnoreHash, POD_TEMPLATE_HASH_LABEL, safeEncode } from './hash.js';

const template = (labels: Record<string, string>, image = 'nginx:1.25'): PodTemplateSpec =>
  fromJson<PodTemplateSpec>('PodTemplateSpec', { metadata: { labels }, spec: { containers: [{ name: 'web', image }] } }).value!;

describe('computeHash', () => {
  it('is stable for the same template, whatever the order of its labels', () => {
    const a = computeHash(template({ app: 'web', tier: 'front' }));
    const b = computeHash(template({ tier: 'front', app: 'web' }));
    assert.equal(a, b);
    assert.equal(computeHash(template({ app: 'web', tier: 'front' })), a);
  });

  it('differs for a different template and for a different collisionCount', () => {
    const base = computeHash(template({ app: 'web' }));
    assert.notEqual(computeHash(template({ app: 'web' }, 'nginx:1.26')), base);
    assert.notEqual(computeHash(template({ app: 'web' }), 1), base);
    assert.notEqual(computeHash(template({ app: 'web' }), 1), computeHash(template({ app: 'web' }), 2));
    assert.equal(computeHash(template({ app: 'web' }), 0) === base, false, 'a collisionCount of 0 is still mixed in, as Kubernetes does once it is set');
  });

  it('ignores the pod-template-hash label the ReplicaSet template carries', () => {
    const plain = template({ app: 'web' });
    const h = computeHash(plain);
    const labelled = template({ app: 'web', [POD_TEMPLATE_HASH_LABEL]: h });
    assert.equal(computeHash(labelled), h);
    assert.ok(equalIgnoreHash(plain, labelled));
    assert.ok(!equalIgnoreHash(plain, template({ app: 'web' }, 'nginx:1.26')));
  });

  it('spells the hash with the safe alphabet only (no vowels, no 0, 1 or 3)', () => {
    for (let i = 0; i < 50; i++) assert.match(computeHash(template({ app: `a${i}` })), /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(safeEncode('0123456789'), '456789bcdf');
  });

  it('canonical JSON sorts keys at every level and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } }), '{"a":{"c":null,"d":[2,{"z":1}]},"b":1}');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepCopy } from './deep_copy.js';

describe('deepCopy', () => {
  it('copies nested lists, maps and bytes: changing the copy leaves the original alone', () => {
    const original = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', args: ['-f'] }] }, data: new Uint8Array([1, 2]), n: 3, b: false, u: undefined };
    const c = deepCopy(original);
    assert.deepEqual(c, original);
    c.metadata.labels.app = 'db';
    c.spec.containers[0].args.push('-v');
    c.data[0] = 9;
    assert.equal(original.metadata.labels.app, 'web');
    assert.deepEqual(original.spec.containers[0].args, ['-f']);
    assert.equal(original.data[0], 1);
    assert.ok('u' in c);
  });

  it('gives each field its own list even where the original shares one frozen list', () => {
    const empty = Object.freeze([]) as unknown as string[];
    const emptyMap = Object.freeze({}) as Record<string, string>;
    const c = deepCopy({ a: empty, b: empty, labels: emptyMap, annotations: emptyMap });
    c.a.push('x');
    c.labels.k = 'v';
    assert.deepEqual(c.b, []);
    assert.deepEqual(c.annotations, {});
    assert.ok(!Object.isFrozen(c.a) && !Object.isFrozen(c.labels));
  });
});

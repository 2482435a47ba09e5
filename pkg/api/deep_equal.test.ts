import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deepEqual } from './deep_equal.js';

test('compares plain data as its JSON would, bytes by content', () => {
  const spec = () => ({ containers: [{ name: 'a', image: 'nginx', ports: [{ containerPort: 80 }], args: [] as string[] }], nodeName: 'n1', priority: 0 });
  assert.ok(deepEqual(spec(), spec()));
  assert.ok(deepEqual({ a: 1, b: undefined }, { a: 1 }), 'undefined is the same as left out');
  assert.ok(deepEqual({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(deepEqual(new Uint8Array([1, 2]), Buffer.from([1, 2])));
  for (const [a, b] of [
    [spec(), { ...spec(), nodeName: 'n2' }],
    [spec(), { ...spec(), containers: [{ ...spec().containers[0], image: 'nginx:2' }] }],
    [spec(), { ...spec(), containers: [] }],
    [{ a: [] }, { a: {} }],
    [{ a: null }, { a: undefined }],
    [{ a: 0 }, { a: '0' }],
    [{ a: 1 }, { b: 1 }],
    [new Uint8Array([1, 2]), new Uint8Array([1, 3])],
    [new Uint8Array([1]), [1]],
  ] as Array<[unknown, unknown]>) {
    assert.equal(deepEqual(a, b), false, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(deepEqual(b, a), false);
  }
});

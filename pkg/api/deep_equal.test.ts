import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deepEqual, sameIgnoringEmpty } from './deep_equal.js';

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

test('sameIgnoringEmpty: absent, undefined, empty lists and objects of such fields are alike; anything else is not', () => {
  const status = () => ({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True', reason: undefined }], podIPs: [{ ip: '198.18.0.2' }], hostIP: '198.18.0.1' });
  assert.ok(sameIgnoringEmpty(status(), status()));
  assert.ok(sameIgnoringEmpty({ ...status(), initContainerStatuses: [], resize: undefined }, status()), 'an empty list is the same as left out');
  assert.ok(sameIgnoringEmpty(status(), { ...status(), qos: { limits: [], requests: {} } }), 'an object of empty fields is the same as left out');
  assert.ok(sameIgnoringEmpty({ conditions: [{ reason: undefined, type: 'Ready' }] }, { conditions: [{ type: 'Ready', message: [] }] }));
  for (const [a, b] of [
    [status(), { ...status(), phase: 'Pending' }],
    [status(), { ...status(), conditions: [...status().conditions, { type: 'Initialized', status: 'True', reason: undefined }] }],
    [status(), { ...status(), conditions: [{ type: 'Ready', status: 'False', reason: undefined }] }],
    [status(), { ...status(), podIPs: [] }],
    [{ a: {} }, { a: { b: 1 } }],
    [{ a: null }, {}],
    [{ a: 0 }, {}],
    [{ a: '' }, {}],
    [[1], [1, 2]],
  ] as Array<[unknown, unknown]>) {
    assert.equal(sameIgnoringEmpty(a, b), false, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(sameIgnoringEmpty(b, a), false);
  }
});

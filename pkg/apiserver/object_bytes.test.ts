import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBinary } from '../api/convert/binary.js';
import { kindByName, type KubeObject, type Pod } from '../api/registry.js';
import { PodStatus } from '../../gen/navarch/api/v1/core.js';
import { encodedObject } from './object_bytes.js';
import { encodeToBuffer } from './objects.js';
import { pod, testServer } from './test_util.js';

const POD = kindByName('Pod')!;

/** The answer's bytes say what the returned object says, resourceVersion included. */
function assertAnswerIs(o: KubeObject, what: string): void {
  const answered = decodeBinary(POD, encodedObject(o));
  assert.deepEqual(answered, decodeBinary(POD, encodeToBuffer(o)), what);
  assert.equal(answered.metadata?.resourceVersion, o.metadata?.resourceVersion, what);
}

describe('encodedObject', () => {
  it("answers a create, an update, a status write, a patch and a binding with the written object's stored bytes", async () => {
    const { server } = await testServer();
    const created = await server.create({ object: pod('a', { labels: { v: '1' } }) });
    assertAnswerIs(created, 'create');
    const updated = await server.update({ object: { ...created, metadata: { ...created.metadata!, labels: { v: '2' } } } });
    assertAnswerIs(updated, 'update');
    const status = await server.update({ object: { ...updated, status: PodStatus.fromPartial({ phase: 'Pending', message: 'waiting' }) } as KubeObject, subresource: 'status' });
    assertAnswerIs(status, 'status');
    const patched = await server.patch({ resource: 'pods', namespace: 'default', name: 'a', type: 'merge', patch: JSON.stringify({ metadata: { annotations: { x: 'y' } } }) });
    assertAnswerIs(patched, 'patch');
    const bound = await server.bind({ namespace: 'default', name: 'a', target: { name: 'node-1' } });
    assertAnswerIs(bound, 'bind');
    assert.equal((decodeBinary(POD, encodedObject(bound)) as Pod).spec?.nodeName, 'node-1');
    assert.notEqual(bound.metadata?.resourceVersion, created.metadata?.resourceVersion);
  });
});

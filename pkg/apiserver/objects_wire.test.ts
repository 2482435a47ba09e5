import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateRequest, DeleteResponse, ObjectResponse, UpdateRequest, WatchEvents } from '../../gen/navarch/apiserver/v1/objects.js';
import { OBJECTS_SERVICE } from './grpc_adapter.js';
import { encodeCreateRequest, encodeDeleteResponse, encodeObjectResponse, encodeUpdateRequest, encodeWatchEvents } from './objects_wire.js';

const generated = (bytes: Uint8Array): Buffer => Buffer.from(bytes);
/** Object bytes whose length prefixes take one, two and three bytes. */
const objects = [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(127, 1), Buffer.alloc(128, 2), Buffer.alloc(20_000, 3)];
const fencings = [
  undefined,
  { leaseNamespace: '', leaseName: '', holderIdentity: '', leaseTransitions: 0 },
  { leaseNamespace: 'kube-system', leaseName: 'kube-scheduler', holderIdentity: 'master-1_ä✓', leaseTransitions: 2 ** 40 },
  { leaseNamespace: 'kube-system', leaseName: 'kube-scheduler', holderIdentity: 'm', leaseTransitions: -1 },
];

test('the exact-size encoders write the bytes the generated encoders write', () => {
  for (const object of objects) {
    assert.deepEqual(encodeObjectResponse({ object }), generated(ObjectResponse.encode({ object }).finish()));
    for (const deleted of [false, true]) assert.deepEqual(encodeDeleteResponse({ object, deleted }), generated(DeleteResponse.encode({ object, deleted }).finish()));
    for (const fencing of fencings) {
      for (const dryRun of [false, true]) {
        const create = { resource: 'pods', namespace: 'défault', object, dryRun, fencing, subresource: '', name: '' };
        assert.deepEqual(encodeCreateRequest(create), generated(CreateRequest.encode(create).finish()));
        const update = { resource: 'pods', namespace: '', object, subresource: dryRun ? 'status' : '', dryRun, fencing };
        assert.deepEqual(encodeUpdateRequest(update), generated(UpdateRequest.encode(update).finish()));
      }
    }
  }
  const events = objects.map((object, i) => ({ type: ['ADDED', 'MODIFIED', '', 'DELETED', 'BOOKMARK'][i], object }));
  for (const m of [{ events: [] }, { events }, { events: events.slice(3) }]) {
    assert.deepEqual(encodeWatchEvents(m), generated(WatchEvents.encode(m).finish()));
    assert.deepEqual(WatchEvents.decode(encodeWatchEvents(m)), WatchEvents.decode(WatchEvents.encode(m).finish()));
  }
});

test('the server answers with the exact-size encoders', () => {
  assert.equal(OBJECTS_SERVICE.watch.responseSerialize, encodeWatchEvents);
  assert.equal(OBJECTS_SERVICE.update.responseSerialize, encodeObjectResponse);
  assert.equal(OBJECTS_SERVICE.delete.responseSerialize, encodeDeleteResponse);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallRequests, CallResponses, CreateBatchRequest, CreateRequest, DeleteResponse, ObjectResponse, UpdateRequest, WatchEvents } from '../../gen/navarch/apiserver/v1/objects.js';
import { encodeCallRequests, encodeCallResponses } from './call_wire.js';
import { OBJECTS_SERVICE } from './grpc_adapter.js';
import { encodeCreateBatchRequest, encodeCreateRequest, encodeDeleteResponse, encodeObjectResponse, encodeUpdateRequest, encodeWatchEvents } from './objects_wire.js';

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

test('the create batch and call stream encoders write the bytes the generated encoders write', () => {
  const creates = objects.flatMap((object) => fencings.map((fencing, i) => ({ resource: 'events', namespace: i % 2 ? 'défault' : '', object, dryRun: i === 1, fencing, subresource: '', name: '' })));
  for (const m of [{ creates: [] }, { creates }, { creates: [...creates.slice(0, 2), { ...creates[2], subresource: 'eviction', name: 'p' }] }]) {
    assert.deepEqual(encodeCreateBatchRequest(m), generated(CreateBatchRequest.encode(m).finish()));
  }
  const calls = objects.map((request, i) => ({ id: [1, 0, 300, 2 ** 40, 2 ** 53 + 2][i], method: ['Create', '', 'BindBatch', 'Update', 'Get'][i], request, timeoutMs: [0, 1, 5000, 0xffffffff, 127][i] }));
  // The last id is past 2^53: the generated encoder writes that batch.
  for (const m of [{ calls: [] }, { calls: calls.slice(0, 4) }, { calls }]) assert.deepEqual(encodeCallRequests(m), generated(CallRequests.encode(m).finish()));
  assert.deepEqual(CallRequests.decode(encodeCallRequests({ calls: calls.slice(0, 4) })).calls, calls.slice(0, 4));
  const answers = objects.map((response, i) => ({
    id: [7, 0, 2 ** 35, 128, 2 ** 53 + 2][i],
    code: [0, 5, 14, 0, 9][i],
    details: ['', 'not found', 'ä✓ unavailable', '', 'x'][i],
    response,
    metadata: [{}, { 'navarch-error-details': '{"code":"NotFound"}' }, { 'navarch-leader': '127.0.0.1:2379', '': '', k: '' }, { '2': 'b', '1': 'a' }, {}][i] as Record<string, string>,
  }));
  for (const m of [{ answers: [] }, { answers: answers.slice(0, 4) }, { answers }]) {
    assert.deepEqual(encodeCallResponses(m), generated(CallResponses.encode(m).finish()));
  }
});

test('the call stream and create batches use the exact-size encoders, on the server and in clients', () => {
  assert.equal(OBJECTS_SERVICE.callBatches.requestSerialize, encodeCallRequests);
  assert.equal(OBJECTS_SERVICE.callBatches.responseSerialize, encodeCallResponses);
  assert.equal(OBJECTS_SERVICE.createBatch.requestSerialize, encodeCreateBatchRequest);
});

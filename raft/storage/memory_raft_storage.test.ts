import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../core/types.js';
import { MemoryRaftStorage } from './memory_raft_storage.js';

const entry = (index: number, term = 1): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });

test('saves, snapshots and compacts like the durable storage', async () => {
  const s = new MemoryRaftStorage();
  await s.save({ entries: [entry(1), entry(2), entry(3)], hardState: { term: 1, vote: 1, commit: 2 } });
  await s.save({ entries: [entry(3, 2)] });
  assert.equal(s.lastIndex(), 3);
  assert.equal(s.term(3), 2);
  const snap = await s.createSnapshot(2, { voters: [1], learners: [] }, new Uint8Array([9]));
  assert.deepEqual(snap.metadata, { index: 2, term: 1, confState: { voters: [1], learners: [] } });
  await assert.rejects(s.compact(3), /Cannot compact the log to index 3: the latest snapshot is at index 2/);
  await s.compact(2);
  assert.equal(s.firstIndex(), 3);
  await s.save({ entries: [], snapshot: { metadata: { index: 10, term: 3, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array(0) } });
  assert.equal(s.firstIndex(), 11);
  assert.deepEqual(s.initialState(), { hardState: { term: 1, vote: 1, commit: 2 }, confState: { voters: [1, 2], learners: [] } });
  await s.close();
  await assert.rejects(s.save({ entries: [entry(11, 3)] }), /Cannot save: the memory raft storage is closed/);
});

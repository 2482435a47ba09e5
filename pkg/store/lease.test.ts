import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from './store.js';
import { StoreError } from './errors.js';
import { TestTime, get, put } from './test_util.js';

test('leases expire by the leader clock; the leader proposes leaseExpire and the keys go in one revision', () => {
  const s = new Store();
  const t = new TestTime(0);
  const l = s.leaseGrant(0, 10, t.tick());
  assert.equal(l.id, 1);
  assert.equal(l.ttlSeconds, 10);
  put(s, t, 'a', '1', l.id);
  put(s, t, 'b', '1', l.id);
  put(s, t, 'c', '1');
  assert.deepEqual(s.leaseTimeToLive(l.id, { keys: true }).keys, ['a', 'b']);
  assert.deepEqual(s.expiredLeases(5_000), []);
  assert.deepEqual(s.expiredLeases(10_001), [1]);
  const w = s.watch({ key: 'a', rangeEnd: 'z' });
  const before = s.revision;
  const r = s.leaseExpire(1, 10_001);
  assert.equal(r.expired, true);
  assert.equal(r.deleted, 2);
  assert.equal(s.revision, before + 1);
  assert.equal(get(s, 'a'), undefined);
  assert.ok(get(s, 'c'));
  const evs = w.poll()!.events;
  assert.deepEqual(evs.map((e) => [e.type, e.kv.key, e.kv.modRevision]), [['delete', 'a', before + 1], ['delete', 'b', before + 1]]);
  assert.equal(s.leaseTimeToLive(1).ttlSeconds, -1);
});

test('a keepalive that lands before the expire command wins; revoke deletes keys at once', () => {
  const s = new Store();
  const t = new TestTime(0);
  const id = s.leaseGrant(7, 5, 1_000).id;
  assert.equal(id, 7);
  put(s, t, 'k', 'v', id);
  // The leader saw it expired at 6000, but a keepalive applied first.
  s.leaseKeepAlive(id, 5_500);
  const r = s.leaseExpire(id, 6_000);
  assert.equal(r.expired, false);
  assert.ok(get(s, 'k'));
  assert.equal(s.leaseTimeToLive(id).ttlSeconds, 5);
  assert.equal(s.leaseRevoke(id, 7_000).deleted, 1);
  assert.equal(get(s, 'k'), undefined);
  assert.throws(() => s.leaseRevoke(id, 7_001), (e: unknown) => e instanceof StoreError && e.code === 'LeaseNotFound' && /lease 7/.test(e.message));
  assert.throws(() => s.leaseKeepAlive(id, 7_002), (e: unknown) => e instanceof StoreError && e.code === 'LeaseNotFound');
});

test('a new leader gives every lease a full TTL before expiring it (promote)', () => {
  const s = new Store();
  s.leaseGrant(1, 10, 0);
  assert.deepEqual(s.expiredLeases(20_000), [1]);
  s.promote(15_000);
  assert.deepEqual(s.expiredLeases(20_000), []);
  assert.deepEqual(s.expiredLeases(25_000), [1]);
  s.demote();
  assert.deepEqual(s.expiredLeases(20_000), [1]);
});

test('lease grants: small TTLs rise to the minimum, duplicates and bad ids are refused, auto ids skip taken ones', () => {
  const s = new Store({ minLeaseTtlSeconds: 3 });
  assert.equal(s.leaseGrant(0, 1, 0).ttlSeconds, 3);
  s.leaseGrant(2, 60, 0);
  assert.equal(s.leaseGrant(0, 60, 0).id, 3);
  assert.throws(() => s.leaseGrant(2, 60, 0), (e: unknown) => e instanceof StoreError && e.code === 'LeaseExists');
  assert.throws(() => s.leaseGrant(-1, 60, 0), /Invalid lease id -1/);
  assert.deepEqual(s.leaseIds(), [1, 2, 3]);
});

test('moving a key to another lease or deleting it detaches it from the old lease', () => {
  const s = new Store();
  const t = new TestTime(0);
  const a = s.leaseGrant(0, 60, t.tick()).id;
  const b = s.leaseGrant(0, 60, t.tick()).id;
  put(s, t, 'k', '1', a);
  put(s, t, 'k', '2', b);
  assert.deepEqual(s.leaseTimeToLive(a, { keys: true }).keys, []);
  assert.equal(s.leaseRevoke(a, t.tick()).deleted, 0);
  assert.ok(get(s, 'k'));
  s.txn({ success: [{ type: 'deleteRange', key: 'k' }] }, t.tick());
  assert.deepEqual(s.leaseTimeToLive(b, { keys: true }).keys, []);
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event } from '../api/registry.js';
import { objectKey } from './objects.js';
import { kindByName } from '../api/registry.js';
import { obj, pod, testServer, type TestServer } from './test_util.js';

const EVENT = kindByName('Event');
const TTL_S = 3600;
const MIN = 60_000;

function event(name: string): Event {
  return obj<Event>({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' },
    reason: 'Scheduled',
    message: 'Successfully assigned default/web to n0',
    type: 'Normal',
    count: 1,
  });
}

function leaseOf(t: TestServer, name: string): number | undefined {
  return t.store.range({ key: objectKey(EVENT, 'default', name) }).kvs[0]?.lease;
}

/** What the leader's lease keeper does at time nowMs: expire every lease whose time has come. */
function expireLeases(t: TestServer, nowMs: number): void {
  for (const id of t.store.expiredLeases(nowMs)) t.store.leaseExpire(id, nowMs);
}

async function eventNames(t: TestServer): Promise<string[]> {
  return (await t.server.list({ resource: 'events', namespace: 'default' })).items.map((e) => e.metadata?.name ?? '');
}

describe('event TTL', () => {
  it('deletes an Event once the TTL has passed since its write, and nothing else', async () => {
    const t = await testServer({ eventTtlSeconds: TTL_S });
    t.store.promote(t.clock.nowMs);
    const start = t.clock.nowMs;
    await t.server.create({ object: event('e1') });
    await t.server.create({ object: pod('web') });
    assert.ok(leaseOf(t, 'e1'), 'the event is written with a lease');
    assert.equal(t.store.range({ key: objectKey(kindByName('Pod'), 'default', 'web') }).kvs[0]?.lease, 0, 'a pod is not');
    expireLeases(t, start + TTL_S * 1000 - 1);
    assert.deepEqual(await eventNames(t), ['e1'], 'kept for the whole TTL');
    expireLeases(t, start + TTL_S * 1000 + 2 * MIN);
    assert.deepEqual(await eventNames(t), [], 'gone after the TTL and the reuse window');
    assert.equal((await t.server.get({ resource: 'pods', namespace: 'default', name: 'web' })).metadata?.name, 'web');
  });

  it('writes the events of a short window with one lease, and grants a new one after it', async () => {
    const t = await testServer({ eventTtlSeconds: TTL_S });
    await t.server.create({ object: event('a') });
    t.clock.nowMs += 30_000;
    await Promise.all([t.server.create({ object: event('b') }), t.server.create({ object: event('c') })]);
    assert.equal(leaseOf(t, 'b'), leaseOf(t, 'a'));
    assert.equal(leaseOf(t, 'c'), leaseOf(t, 'a'));
    t.clock.nowMs += 31_000;
    await t.server.create({ object: event('d') });
    assert.notEqual(leaseOf(t, 'd'), leaseOf(t, 'a'));
    assert.equal(t.store.leaseIds().length, 2);
  });

  it('grants one lease for writes that come at once, and a new one after 1,000 writes', async () => {
    const t = await testServer({ eventTtlSeconds: TTL_S });
    await Promise.all(Array.from({ length: 20 }, (_, i) => t.server.create({ object: event(`burst-${i}`) })));
    assert.equal(t.store.leaseIds().length, 1, 'concurrent writes share the grant in flight');
    await Promise.all(Array.from({ length: 985 }, (_, i) => t.server.create({ object: event(`more-${i}`) })));
    assert.equal(t.store.leaseIds().length, 2, 'the 1,001st write is on a new lease');
    const [first, second] = t.store.leaseIds();
    assert.equal(t.store.leaseTimeToLive(first, { keys: true }).keys?.length, 1000);
    assert.equal(t.store.leaseTimeToLive(second, { keys: true }).keys?.length, 5);
  });

  it('counts the TTL from the last update: an event updated late outlives its first lease', async () => {
    const t = await testServer({ eventTtlSeconds: TTL_S });
    t.store.promote(t.clock.nowMs);
    const start = t.clock.nowMs;
    const created = (await t.server.create({ object: event('repeated') })) as Event;
    t.clock.nowMs += 50 * MIN;
    await t.server.update({ object: { ...created, count: 2 } });
    expireLeases(t, start + 65 * MIN);
    assert.deepEqual(await eventNames(t), ['repeated']);
    expireLeases(t, start + 50 * MIN + TTL_S * 1000 + 2 * MIN);
    assert.deepEqual(await eventNames(t), []);
  });

  it('grants a new lease when the one in use was revoked, and the write succeeds', async () => {
    const t = await testServer({ eventTtlSeconds: TTL_S });
    await t.server.create({ object: event('a') });
    const first = leaseOf(t, 'a')!;
    t.store.leaseRevoke(first, t.clock.nowMs);
    assert.deepEqual(await eventNames(t), []);
    await t.server.create({ object: event('b') });
    const second = leaseOf(t, 'b');
    assert.ok(second && second !== first, `a new lease (${second}) instead of ${first}`);
  });

  it('keeps events for ever with eventTtlSeconds 0', async () => {
    const t = await testServer({ eventTtlSeconds: 0 });
    await t.server.create({ object: event('a') });
    assert.equal(leaseOf(t, 'a'), 0);
    assert.deepEqual(t.store.leaseIds(), []);
  });
});

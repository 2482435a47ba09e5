import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { catchUpInformers } from './catch_up.js';

const listAt = (revision: number) => ({ list: async () => ({ kind: 'NamespaceList', apiVersion: 'v1', items: [], resourceVersion: String(revision) }) });

test('a new term waits until every warm informer has seen the revision the cluster is at, asking for bookmarks', async () => {
  const clock = new FakeClock();
  const rvs = ['7', '12'];
  let asked = 0;
  const done = catchUpInformers({
    client: listAt(12),
    informers: { resourceVersions: () => rvs },
    // The bookmark brings the lagging informer to the current revision.
    requestWatchProgress: () => {
      asked++;
      clock.setTimeout(() => (rvs[0] = '12'), 100);
    },
    clock,
  });
  await clock.advance(60);
  assert.equal(rvs[0], '7', 'still behind before the bookmark arrives');
  await clock.advance(100);
  assert.deepEqual(await done, { revision: 12, caughtUp: true, listMs: 0 });
  assert.equal(asked, 1);
});

test('a bookmark request that goes unanswered is made again, so the term does not wait out the timeout', async () => {
  const clock = new FakeClock();
  const rvs = ['7'];
  let asked = 0;
  const done = catchUpInformers({
    client: listAt(12),
    informers: { resourceVersions: () => rvs },
    // The first request is lost (the member's watches were being re-established); the second is answered.
    requestWatchProgress: () => {
      if (++asked === 2) clock.setTimeout(() => (rvs[0] = '12'), 50);
    },
    clock,
  });
  await clock.advance(200);
  assert.equal(rvs[0], '7');
  await clock.advance(120);
  assert.deepEqual(await done, { revision: 12, caughtUp: true, listMs: 0 });
  assert.equal(asked, 2);
});

test('informers that never catch up hold the term back only until the timeout', async () => {
  const clock = new FakeClock();
  const done = catchUpInformers({ client: listAt(50), informers: { resourceVersions: () => ['3'] }, requestWatchProgress: () => undefined, clock, timeoutMs: 1000 });
  await clock.advance(1200);
  assert.deepEqual(await done, { revision: 50, caughtUp: false, listMs: 0 });
});

test('informers already at the revision start the term at once, without a bookmark request', async () => {
  const clock = new FakeClock();
  let asked = 0;
  const r = await catchUpInformers({ client: listAt(9), informers: { resourceVersions: () => ['9', '10'] }, requestWatchProgress: () => asked++, clock });
  assert.deepEqual(r, { revision: 9, caughtUp: true, listMs: 0 });
  assert.equal(asked, 0);
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigMap } from '../../api/registry.js';
import { obj } from '../../apiserver/test_util.js';
import type { ClientWatchEvent } from '../watch.js';
import { FakeListWatch } from './fake_list_watch.js';
import { eventually } from './settle.js';

const cm = (name: string, data: Record<string, string> = {}) => obj<ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
const line = (e: ClientWatchEvent<ConfigMap>) => `${e.type} ${e.object.metadata?.name ?? ''}@${e.object.metadata?.resourceVersion}`;

/** Reads a watch in the background, recording events and how it ended. */
function collect(w: AsyncIterable<ClientWatchEvent<ConfigMap>>) {
  const out = { events: [] as string[], error: undefined as unknown, ended: false };
  void (async () => {
    try {
      for await (const e of w) out.events.push(line(e));
    } catch (err) {
      out.error = err;
    }
    out.ended = true;
  })();
  return out;
}

describe('FakeListWatch', () => {
  it('lists at one revision and watches every change after a resourceVersion, in order', async () => {
    const s = new FakeListWatch<ConfigMap>();
    s.create(cm('a'));
    s.create(cm('b'));
    const listed = await s.list();
    assert.deepEqual([listed.items.map((i) => i.metadata?.resourceVersion), listed.resourceVersion], [['1', '2'], '2']);
    const w = collect(s.watch({ resourceVersion: '1', allowBookmarks: false }));
    s.update(cm('a', { k: 'v' }));
    s.delete('default', 'b');
    await eventually('three events', () => w.events.length === 3);
    assert.deepEqual(w.events, ['ADDED b@2', 'MODIFIED a@3', 'DELETED b@4']);
    assert.throws(() => s.create(cm('a')), /default\/a already exists/);
  });

  it('ends a watch with Expired when its revision was compacted, at open or while it lags', async () => {
    const s = new FakeListWatch<ConfigMap>();
    s.create(cm('a'));
    s.create(cm('b'));
    s.compact(2);
    const stale = collect(s.watch({ resourceVersion: '1', allowBookmarks: false }));
    await eventually('the end', () => stale.ended);
    assert.match(String(stale.error), /too old resource version: 1 \(2\)/);
    const lagging = collect(s.watch({ resourceVersion: '2', allowBookmarks: false }));
    s.create(cm('c'));
    s.create(cm('d'));
    s.compact();
    await eventually('the end', () => lagging.ended);
    assert.deepEqual(lagging.events, []);
    assert.equal((lagging.error as { code?: string }).code, 'Expired');
    assert.equal(s.openWatches, 0);
  });

  it('keeps at most maxHistoryEvents of history', async () => {
    const s = new FakeListWatch<ConfigMap>({ maxHistoryEvents: 3 });
    for (let i = 0; i < 5; i++) s.create(cm(`c${i}`));
    assert.equal(s.compactRevision, 2);
    const w = collect(s.watch({ resourceVersion: '2', allowBookmarks: false }));
    await eventually('three events', () => w.events.length === 3);
    assert.deepEqual(w.events, ['ADDED c2@3', 'ADDED c3@4', 'ADDED c4@5']);
    const tooOld = collect(s.watch({ resourceVersion: '1', allowBookmarks: false }));
    await eventually('the end', () => tooOld.ended);
    assert.equal((tooOld.error as { code?: string }).code, 'Expired');
  });

  it('sends bookmarks only to watches that allow them', async () => {
    const s = new FakeListWatch<ConfigMap>();
    const withMarks = collect(s.watch({ resourceVersion: '0', allowBookmarks: true }));
    const without = collect(s.watch({ resourceVersion: '0', allowBookmarks: false }));
    s.bumpRevision(4);
    s.bookmark();
    await eventually('the bookmark', () => withMarks.events.length === 1);
    assert.deepEqual(withMarks.events, ['BOOKMARK @4']);
    assert.deepEqual(without.events, []);
  });
});

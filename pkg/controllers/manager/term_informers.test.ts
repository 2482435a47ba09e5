import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../api/registry.js';
import { pod } from '../../apiserver/test_util.js';
import { InformerFactory } from '../../client/informer/mod.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { FakeListWatch } from '../../client/testing/fake_list_watch.js';
import { eventually } from '../../client/testing/settle.js';
import { TermInformers } from './term_informers.js';

/** Shared informers of pods, started and synced, over a fake list-watch holding pod "a". */
async function sharedPods(): Promise<{ lw: FakeListWatch<Pod>; shared: InformerFactory }> {
  const lw = new FakeListWatch<Pod>();
  lw.create(pod('a') as Pod);
  const shared = new InformerFactory(() => lw, { clock: new FakeClock(0), logger: { warn: () => {} } });
  shared.informer('pods');
  shared.start();
  await shared.waitForSync();
  return { lw, shared };
}

test('a term hears of changes through the shared informers until it ends; the informers keep running for the next term', async () => {
  const { lw, shared } = await sharedPods();

  const first = new TermInformers(shared);
  const heard: string[] = [];
  first.informer<Pod>('pods').addEventHandler({ onAdd: (p) => heard.push(`first ${p.metadata!.name}`) });
  assert.deepEqual(heard, ['first a'], 'a late handler gets the current objects');
  first.informer('pods').stop(); // a part stopping "its" informer does not stop the shared one
  first.stop();
  lw.create(pod('b') as Pod);
  const second = new TermInformers(shared);
  second.informer<Pod>('pods').addEventHandler({ onAdd: (p) => heard.push(`second ${p.metadata!.name}`) });
  lw.create(pod('c') as Pod);
  await eventually('the second term hears of c', () => heard.includes('second c'));
  assert.deepEqual(heard, ['first a', 'second a', 'second b', 'second c']);
  assert.equal(second.informer('pods').store.list().length, 3);
  assert.throws(() => first.informer<Pod>('pods').addEventHandler({}), /its term has ended/);
  shared.stop();
});

test("a term's informer syncs only when its handlers have heard of every object the shared store held", async () => {
  const lw = new FakeListWatch<Pod>();
  for (let i = 0; i < 20; i++) lw.create(pod(`p${i}`) as Pod);
  const shared = new InformerFactory(() => lw, { clock: new FakeClock(0), logger: { warn: () => {} }, replayChunkObjects: 4 });
  shared.informer('pods');
  shared.start();
  await shared.waitForSync();

  const term = new TermInformers(shared);
  const pods = term.informer<Pod>('pods');
  const heard = new Set<string>();
  pods.addEventHandler({ onAdd: (p) => heard.add(p.metadata!.name!) });
  assert.equal(heard.size, 4, 'the rest is replayed in later turns');
  await pods.waitForSync();
  assert.equal(heard.size, 20);
  heard.clear();
  term.informer<Pod>('pods').addEventHandler({ onAdd: (p) => heard.add(p.metadata!.name!) });
  await term.waitForSync();
  assert.equal(heard.size, 20);
  term.stop();
  shared.stop();
});

test("a term's informer hands out its methods bound to the shared one, the same function each time", async () => {
  const { shared } = await sharedPods();
  const term = new TermInformers(shared);
  const pods = term.informer<Pod>('pods');
  const { hasSynced } = pods;
  assert.equal(pods.hasSynced, hasSynced);
  assert.equal(hasSynced(), true, 'called detached, it still reads the shared informer');
  term.stop();
  shared.stop();
});

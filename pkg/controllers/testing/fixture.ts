// A controller fixture for tests (sample-controller's `fixture`): an in-process API server, a
// RecordingClient over it, informers fed straight from the server's list and watch, a FakeClock
// and a RecordingEventRecorder. A test writes objects with `server`, waits for the informers with
// `synced()`, calls the controller's syncKey(key) and asserts client.takeSummary().

import type { KubeObject } from '../../api/registry.js';
import type { ApiServer } from '../../apiserver/api_server.js';
import { testServer } from '../../apiserver/test_util.js';
import { RecordingEventRecorder } from '../../client/events/recorder.js';
import { InformerFactory } from '../../client/informer/informer_factory.js';
import type { ListWatcher, WatchStream } from '../../client/informer/list_watcher.js';
import { FakeClock } from '../../client/testing/fake_clock.js';
import { settle } from '../../client/testing/settle.js';
import { RecordingClient } from './recording_client.js';

/** A ListWatcher over an in-process ApiServer, for informers in tests. */
export function serverListWatcher<T extends KubeObject = KubeObject>(server: ApiServer, resource: string): ListWatcher<T> {
  return {
    async list() {
      const r = await server.list({ resource });
      return { items: r.items as T[], resourceVersion: r.resourceVersion };
    },
    watch(w) {
      const watch = server.watch({ resource, resourceVersion: w.resourceVersion, allowBookmarks: w.allowBookmarks });
      return watch as unknown as WatchStream<T>;
    },
  };
}

export interface Fixture {
  server: ApiServer;
  client: RecordingClient;
  factory: InformerFactory;
  clock: FakeClock;
  events: RecordingEventRecorder;
  /** The API server's wall clock; move it with the FakeClock (setNow) for timestamps. */
  apiClock: { nowMs: number };
  /** Starts every informer asked for so far and waits until each store shows the server's latest writes. */
  synced(): Promise<void>;
  /** Moves both the FakeClock and the API server's clock forward. */
  advance(ms: number): Promise<void>;
  close(): void;
}

export async function fixture(o: { namespaces?: string[] } = {}): Promise<Fixture> {
  let n = 0;
  const t = await testServer({ namespaces: o.namespaces, randomSuffix: () => `p${String(++n).padStart(4, '0')}` });
  const clock = new FakeClock(t.clock.nowMs);
  const informers = new Set<string>();
  const factory = new InformerFactory(
    (resource) => {
      informers.add(resource);
      return serverListWatcher(t.server, resource);
    },
    { clock, logger: { warn: () => {} } },
  );
  const f: Fixture = {
    server: t.server,
    client: new RecordingClient(t.server),
    factory,
    clock,
    events: new RecordingEventRecorder(),
    apiClock: t.clock,
    async synced() {
      factory.start();
      await factory.waitForSync();
      // Every informer catches up to the newest revision the server has written.
      const probe = await t.server.list({ resource: 'namespaces', limit: 1 });
      const target = Number(probe.resourceVersion);
      for (let i = 0; i < 1000; i++) {
        const lagging = [...informers].some((r) => Number(factory.informer(r).lastSyncResourceVersion) < target);
        if (!lagging) break;
        t.server.requestWatchProgress();
        await settle();
      }
      await settle();
    },
    async advance(ms) {
      t.clock.nowMs += ms;
      await clock.advance(ms);
    },
    close() {
      factory.stop();
      t.server.closeWatches();
    },
  };
  return f;
}

// Before a new term acts on warm informers, they must have seen every write the previous holder
// made: informers fed by this member's watch can trail the cluster (replication, a busy event loop),
// and a ReplicaSet controller acting on a stale cache creates pods that already exist. The barrier:
// a linearizable read gives the revision the cluster is at, the member is asked for a bookmark on
// every watch (delivered once everything up to now is), and the term starts when every informer has
// reached that revision, or after a bounded wait, with a warning.

import type { Clock } from '../../../raft/node/ports.js';
import type { NavarchClient } from '../../client/client.js';
import type { InformerFactory } from '../../client/informer/informer_factory.js';

export interface CatchUpOptions {
  client: Pick<NavarchClient, 'list'>;
  informers: Pick<InformerFactory, 'resourceVersions'>;
  /** Asks the member the informers watch for a BOOKMARK on each watch (ApiServer.requestWatchProgress). */
  requestWatchProgress: () => void;
  clock: Clock;
  /** @default 5000 */
  timeoutMs?: number;
  /** @default 20 */
  pollMs?: number;
  /** While behind, the bookmarks are asked for again this often. @default 250 */
  askEveryMs?: number;
  signal?: AbortSignal;
}

/** Resolves with how far behind the informers were (false: gave up at the timeout). */
export async function catchUpInformers(o: CatchUpOptions): Promise<{ revision: number; caughtUp: boolean; listMs: number }> {
  const t0 = o.clock.nowMs();
  const list = await o.client.list('namespaces', { limit: 1 });
  const listMs = o.clock.nowMs() - t0;
  const revision = Number(list.resourceVersion || 0);
  const behind = (): boolean => o.informers.resourceVersions().some((rv) => Number(rv || 0) < revision);
  const deadlineMs = o.clock.nowMs() + (o.timeoutMs ?? 5_000);
  const askEveryMs = o.askEveryMs ?? 250;
  let askedAtMs: number | undefined;
  while (behind()) {
    const now = o.clock.nowMs();
    if (o.signal?.aborted || now >= deadlineMs) return { revision, caughtUp: false, listMs };
    // Asked again while behind: a request made while the member's watches were being re-established
    // (a new Raft leader, a watch resumed) is answered by no bookmark, and the term would wait out the timeout.
    if (askedAtMs === undefined || now - askedAtMs >= askEveryMs) {
      o.requestWatchProgress();
      askedAtMs = now;
    }
    await new Promise<void>((r) => o.clock.setTimeout(r, o.pollMs ?? 20));
  }
  return { revision, caughtUp: true, listMs };
}

// `navctl rollout status deployment/NAME`: kubectl's status viewer. It reads the Deployment once,
// then watches it by name and prints one line per change until the rollout is complete (exit 0),
// its progress deadline is exceeded or the revision is not the one asked for (exit 1), or the
// --timeout passes. With --watch=false it prints the current state once and exits 0.

import type { Deployment } from '../../pkg/api/registry.js';
import { isApiError, type NavarchClient } from '../../pkg/client/mod.js';
import { PROGRESSING, REASON, revisionOf } from '../../pkg/controllers/deployment/util.js';

export interface RolloutState {
  message: string;
  done: boolean;
}

/** kubectl's DeploymentStatusViewer: what to print for one observed Deployment; throws when the rollout failed. */
export function deploymentRolloutState(d: Deployment, revision = 0): RolloutState {
  const name = d.metadata?.name ?? '';
  if (revision > 0) {
    const current = revisionOf(d);
    if (current !== revision) throw new Error(`desired revision (${revision}) is different from the running revision (${current})`);
  }
  if ((d.metadata?.generation ?? 0) > (d.status?.observedGeneration ?? 0)) return { message: 'Waiting for deployment spec update to be observed...', done: false };
  const s = d.status ?? ({} as NonNullable<Deployment['status']>);
  const progressing = (s.conditions ?? []).find((c) => c.type === PROGRESSING);
  if (progressing?.reason === REASON.timedOut) throw new Error(`deployment "${name}" exceeded its progress deadline`);
  const updated = s.updatedReplicas ?? 0;
  const wanted = d.spec?.replicas;
  const waiting = `Waiting for deployment "${name}" rollout to finish:`;
  if (wanted !== undefined && updated < wanted) return { message: `${waiting} ${updated} out of ${wanted} new replicas have been updated...`, done: false };
  if ((s.replicas ?? 0) > updated) return { message: `${waiting} ${(s.replicas ?? 0) - updated} old replicas are pending termination...`, done: false };
  if ((s.availableReplicas ?? 0) < updated) return { message: `${waiting} ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...`, done: false };
  return { message: `deployment "${name}" successfully rolled out`, done: true };
}

export interface StatusOptions {
  /** Keep watching until done (kubectl's --watch, default true). */
  watch: boolean;
  /** The revision the rollout must be at; 0: any. */
  revision: number;
  /** Give up after this long; 0: never. */
  timeoutMs: number;
}

/** Prints the rollout's progress through `print` until it is done; rejects on failure, deletion or timeout. */
export async function followRollout(client: NavarchClient, namespace: string, name: string, o: StatusOptions, print: (line: string) => void): Promise<void> {
  const abort = new AbortController();
  const timer = o.timeoutMs > 0 ? setTimeout(() => abort.abort(), o.timeoutMs) : undefined;
  try {
    // As kubectl, a GET first: a missing Deployment is the server's NotFound.
    await client.get<Deployment>('deployments', namespace, name);
    for (;;) {
      // List by name rather than get: the list's revision is where the watch starts, so no change is missed.
      const list = await client.list<Deployment>('deployments', { namespace, fieldSelector: `metadata.name=${name}` });
      const first = list.items[0];
      if (!first) throw new Error(`deployments.apps "${name}" not found`);
      const state = deploymentRolloutState(first, o.revision);
      print(state.message);
      if (state.done || !o.watch) return;
      try {
        const watch = client.watch<Deployment>('deployments', { namespace, fieldSelector: `metadata.name=${name}`, resourceVersion: list.resourceVersion, signal: abort.signal });
        for await (const ev of watch) {
          if (ev.type === 'BOOKMARK') continue;
          if (ev.type === 'DELETED') throw new Error('object has been deleted');
          const next = deploymentRolloutState(ev.object, o.revision);
          print(next.message);
          if (next.done) return;
        }
      } catch (e) {
        // The watch fell behind the store's compaction: read again and go on, as an informer relists.
        if (!abort.signal.aborted && !isApiError(e, 'Expired')) throw e;
      }
      if (abort.signal.aborted) throw new Error('timed out waiting for the condition');
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
}

// The namespaces every cluster has, as Kubernetes' apiserver makes them: default, kube-system (the
// control plane's leases and objects), kube-public and kube-node-lease (nodes' heartbeat leases).
// The Raft leader creates any that are missing, when it takes office and then once a minute.

import { decodeObject } from '../api/convert/object.js';
import { isApiError } from '../apiserver/api_error.js';
import type { ApiServer } from '../apiserver/api_server.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

/** Creates the missing system namespaces; returns the ones it created. Idempotent. */
export async function ensureSystemNamespaces(api: ApiServer): Promise<string[]> {
  const created: string[] = [];
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await api.get({ resource: 'namespaces', name });
      continue;
    } catch (err) {
      if (!isApiError(err, 'NotFound')) throw err;
    }
    try {
      await api.create({ object: decodeObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).object });
      created.push(name);
    } catch (err) {
      // Another writer (a user, or a previous leader's last attempt) made it meanwhile.
      if (!isApiError(err, 'AlreadyExists')) throw err;
    }
  }
  return created;
}

export interface SystemNamespacesLoop {
  stop(): void;
}

/**
 * Runs ensureSystemNamespaces whenever `isLeader()` turns true for a new term, then every
 * recheckMs while it stays leader; a failed attempt is retried at the next poll.
 */
export function keepSystemNamespaces(o: { api: ApiServer; isLeader: () => boolean; term: () => number; pollMs?: number; recheckMs?: number; onError?: (err: unknown) => void }): SystemNamespacesLoop {
  const pollMs = o.pollMs ?? 200;
  const recheckMs = o.recheckMs ?? 60_000;
  let doneTerm = -1;
  let doneAtMs = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || !o.isLeader()) return;
    const term = o.term();
    if (term === doneTerm && performance.now() - doneAtMs < recheckMs) return;
    busy = true;
    ensureSystemNamespaces(o.api).then(
      () => {
        doneTerm = term;
        doneAtMs = performance.now();
        busy = false;
      },
      (err: unknown) => {
        busy = false;
        o.onError?.(err);
      },
    );
  }, pollMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

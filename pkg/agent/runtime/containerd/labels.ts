// What a container's labels in containerd carry, so that a restarted agent recovers its containers
// from containerd alone: whose it is, which attempt, where its log goes, when it started.

import type { ContainerConfig } from '../runtime.js';

export const LABEL = {
  podUid: 'io.navarch.pod.uid',
  podName: 'io.navarch.pod.name',
  podNamespace: 'io.navarch.pod.namespace',
  containerName: 'io.navarch.container.name',
  attempt: 'io.navarch.container.attempt',
  logPath: 'io.navarch.container.log-path',
  imageDigest: 'io.navarch.container.image-digest',
  startedAt: 'io.navarch.container.started-at-ms',
  oomKilled: 'io.navarch.container.oom-killed',
} as const;

const OURS = new Set<string>(Object.values(LABEL));

export function containerLabels(c: ContainerConfig, imageDigest: string): Record<string, string> {
  for (const k of Object.keys(c.labels)) {
    if (OURS.has(k)) throw new TypeError(`Invalid container config ${c.id}: label "${k}" is reserved for the runtime`);
  }
  return {
    ...c.labels,
    [LABEL.podUid]: c.podUid,
    [LABEL.podName]: c.podName,
    [LABEL.podNamespace]: c.podNamespace,
    [LABEL.containerName]: c.containerName,
    [LABEL.attempt]: String(c.attempt),
    [LABEL.logPath]: c.logPath,
    [LABEL.imageDigest]: imageDigest,
  };
}

/** The caller's labels plus the pod ones (pod uid, names, attempt), without the runtime's bookkeeping. */
export function visibleLabels(labels: Record<string, string>): Record<string, string> {
  const out = { ...labels };
  delete out[LABEL.logPath];
  delete out[LABEL.imageDigest];
  delete out[LABEL.startedAt];
  delete out[LABEL.oomKilled];
  return out;
}

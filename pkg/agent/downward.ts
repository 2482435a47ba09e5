// The downward API: values of a pod's own fields (fieldRef) and of its containers' resources
// (resourceFieldRef), for env variables and downwardAPI volume files. The field paths are the ones
// Kubernetes supports; any other is refused with an error naming it.

import type { Pod } from '../../gen/navarch/api/v1/core.js';
import { Quantity } from '../api/quantity.js';

/** What the pod object does not carry yet when a container starts. */
export interface DownwardContext {
  podIP?: string;
  /** Every pod IP (dual stack); defaults to [podIP]. */
  podIPs?: string[];
  hostIP?: string;
  nodeName?: string;
  /** Used for limits.cpu / limits.memory of a container without a limit, as the kubelet does. */
  nodeAllocatable?: { cpu?: string; memory?: string; 'ephemeral-storage'?: string };
}

/** Where a field may be used: env supports status.* and spec.*, volumes only metadata.*. */
export type DownwardUse = 'env' | 'volume';

export class DownwardError extends Error {
  override name = 'DownwardError';
}

const KEYED = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/** "k1=\"v1\"\nk2=\"v2\"" sorted by key, as Kubernetes formats whole label/annotation maps in volumes. */
function formatMap(m: Record<string, string>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${JSON.stringify(m[k])}`)
    .join('\n');
}

/** The value of `fieldPath` (e.g. "metadata.labels['app']"); throws DownwardError for an unsupported path. */
export function podFieldValue(pod: Pod, fieldPath: string, ctx: DownwardContext, use: DownwardUse): string {
  const md = pod.metadata;
  const keyed = KEYED.exec(fieldPath);
  if (keyed) {
    const map = keyed[1] === 'labels' ? md?.labels : md?.annotations;
    return map?.[keyed[2]] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return md?.name ?? '';
    case 'metadata.namespace':
      return md?.namespace ?? '';
    case 'metadata.uid':
      return md?.uid ?? '';
    case 'metadata.labels':
    case 'metadata.annotations':
      if (use === 'volume') return formatMap((fieldPath === 'metadata.labels' ? md?.labels : md?.annotations) ?? {});
      break;
    default:
      if (use === 'env') {
        const podIP = ctx.podIP ?? pod.status?.podIP ?? '';
        switch (fieldPath) {
          case 'spec.nodeName':
            return ctx.nodeName ?? pod.spec?.nodeName ?? '';
          case 'spec.serviceAccountName':
            return pod.spec?.serviceAccountName ?? '';
          case 'status.podIP':
            return podIP;
          case 'status.podIPs':
            return (ctx.podIPs ?? (podIP ? [podIP] : [])).join(',');
          case 'status.hostIP':
            return ctx.hostIP ?? pod.status?.hostIP ?? '';
          case 'status.hostIPs':
            return ctx.hostIP ?? pod.status?.hostIP ?? '';
        }
      }
  }
  throw new DownwardError(`unsupported fieldPath ${JSON.stringify(fieldPath)}${use === 'volume' ? ' (volumes support metadata.name, metadata.namespace, metadata.uid, metadata.labels and metadata.annotations)' : ''}`);
}

const RESOURCES = new Set(['limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage']);

/** A container's resource in units of `divisor` (default 1), rounded up, as Kubernetes' resourceFieldRef. */
export function resourceFieldValue(pod: Pod, containerName: string, resource: string, divisor: string | undefined, ctx: DownwardContext): string {
  if (!RESOURCES.has(resource)) throw new DownwardError(`unsupported resource ${JSON.stringify(resource)}`);
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === containerName);
  if (!c) throw new DownwardError(`container ${JSON.stringify(containerName)} not found in the pod`);
  const [kind, name] = resource.split('.') as ['limits' | 'requests', 'cpu' | 'memory' | 'ephemeral-storage'];
  let text = kind === 'limits' ? c.resources?.limits?.[name] : c.resources?.requests?.[name];
  // No limit: the node's allocatable is the effective limit; no request: 0 (the scheduler's view).
  if (text === undefined && kind === 'limits') text = ctx.nodeAllocatable?.[name];
  const q = Quantity.tryParse(text ?? '0');
  if (q === undefined) throw new DownwardError(`${resource} of container ${JSON.stringify(containerName)} is not a quantity: ${JSON.stringify(text)}`);
  const d = divisor === undefined || divisor === '' ? Quantity.fromNumber(1) : Quantity.tryParse(divisor);
  if (d === undefined || d.sign() <= 0) throw new DownwardError(`divisor must be a quantity greater than 0, got ${JSON.stringify(divisor)}`);
  if (name === 'cpu') return String(Math.ceil(q.milliValue() / d.milliValue()));
  return String(Math.ceil(q.value() / d.value()));
}

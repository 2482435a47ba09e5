// Where a logs or exec request goes: the pod's node's agent, found through the object API, with the
// checks and messages of Kubernetes' LogLocation and ExecLocation (pkg/registry/core/pod).
// Transport-free: it reads objects from the ApiServer core and returns an address.

import type { Container } from '../../../gen/navarch/api/v1/core.js';
import type { Node, Pod } from '../../api/registry.js';
import { ApiError } from '../api_error.js';
import type { ApiServer } from '../api_server.js';

export interface StreamTarget {
  pod: Pod;
  uid: string;
  container: string;
  nodeName: string;
  /** The agent's stream endpoint, host:port. */
  agentAddress: string;
}

const names = (cs: readonly Container[] | undefined): string[] => (cs ?? []).map((c) => c.name ?? '');

/** The container asked for, or the only one; Kubernetes' BadRequest messages otherwise (Invalid here). */
export function pickContainer(pod: Pod, container: string): string {
  const name = pod.metadata?.name ?? '';
  const main = names(pod.spec?.containers);
  const init = names(pod.spec?.initContainers);
  const choices = `choose one of: [${main.join(' ')}]${init.length ? ` or one of the init containers: [${init.join(' ')}]` : ''}`;
  if (container === '') {
    if (main.length === 1) return main[0];
    throw new ApiError('Invalid', `a container name must be specified for pod ${name}, ${choices}`, { kind: 'Pod', name });
  }
  if (!main.includes(container) && !init.includes(container)) throw new ApiError('Invalid', `container ${container} is not valid for pod ${name}: ${choices}`, { kind: 'Pod', name });
  return container;
}

/** "10.0.0.1:10250", "[fd00::1]:10250": the agent's InternalIP and kubelet endpoint port. */
export function agentAddress(node: Node): string {
  const name = node.metadata?.name ?? '';
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!ip) throw new ApiError('Unavailable', `Cannot reach the agent of node "${name}": the node reports no InternalIP address`, { kind: 'Node', name, retryAfterSeconds: 1 });
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!port) throw new ApiError('Unavailable', `Cannot reach the agent of node "${name}": the node reports no status.daemonEndpoints.kubeletEndpoint.Port`, { kind: 'Node', name, retryAfterSeconds: 1 });
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

async function locate(api: ApiServer, namespace: string, name: string, container: string): Promise<StreamTarget> {
  const pod = (await api.get({ resource: 'pods', namespace, name })) as Pod;
  const picked = pickContainer(pod, container);
  const nodeName = pod.spec?.nodeName ?? '';
  if (!nodeName) throw new ApiError('Invalid', `pod ${name} does not have a host assigned`, { kind: 'Pod', name });
  const node = (await api.get({ resource: 'nodes', name: nodeName })) as Node;
  return { pod, uid: pod.metadata?.uid ?? '', container: picked, nodeName, agentAddress: agentAddress(node) };
}

function statusOf(pod: Pod, container: string) {
  const s = pod.status;
  return [...(s?.containerStatuses ?? []), ...(s?.initContainerStatuses ?? [])].find((c) => c.name === container);
}

/** For GET pods/{name}/log. */
export async function logsTarget(api: ApiServer, r: { namespace: string; name: string; container: string; previous: boolean }): Promise<StreamTarget> {
  const t = await locate(api, r.namespace, r.name, r.container);
  const cs = statusOf(t.pod, t.container);
  // A container that never ran has no logs; one waiting to restart still shows its last run's.
  if (!r.previous && cs?.state?.waiting && !cs.containerID && !cs.lastState?.terminated) {
    throw new ApiError('Invalid', `container "${t.container}" in pod "${r.name}" is waiting to start: ${cs.state.waiting.reason || 'ContainerCreating'}`, { kind: 'Pod', name: r.name });
  }
  if (r.previous && cs && !cs.lastState?.terminated && !(cs.restartCount ?? 0)) {
    throw new ApiError('NotFound', `previous terminated container "${t.container}" in pod "${r.name}" not found`, { kind: 'Pod', name: r.name });
  }
  return t;
}

/** For POST pods/{name}/exec. */
export async function execTarget(api: ApiServer, r: { namespace: string; name: string; container: string }): Promise<StreamTarget> {
  const t = await locate(api, r.namespace, r.name, r.container);
  const phase = t.pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new ApiError('Invalid', `cannot exec into a container in a completed pod; current phase is ${phase}`, { kind: 'Pod', name: r.name });
  const cs = statusOf(t.pod, t.container);
  if (cs?.state && !cs.state.running) throw new ApiError('Invalid', `container "${t.container}" in pod "${r.name}" is not running`, { kind: 'Pod', name: r.name });
  return t;
}

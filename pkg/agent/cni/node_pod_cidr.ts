// The agent's side of the node IPAM controller: after registering its Node, the agent waits until
// the masters have given the Node a podCIDR, and builds its pod bridge on it.

import type { Clock } from '../../../raft/node/ports.js';
import { parseIpv4Cidr } from '../../api/cidr.js';
import type { Node } from '../../api/registry.js';
import type { ObjectClient } from '../../controllers/client.js';

export interface WaitForPodCidrOptions {
  clock: Clock;
  /** How often the Node is read again. @default 500 */
  pollMs?: number;
  /** Gives up after this long (the controller manager may be down). @default 60000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The Node's spec.podCIDR (else spec.podCIDRs[0]) once it has one; a read error is retried until the timeout. */
export async function waitForPodCidr(client: Pick<ObjectClient, 'get'>, nodeName: string, o: WaitForPodCidrOptions): Promise<string> {
  const pollMs = o.pollMs ?? 500;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const deadlineMs = o.clock.nowMs() + timeoutMs;
  let lastError: Error | undefined;
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      const node = await client.get<Node>('nodes', undefined, nodeName);
      const cidr = node.spec?.podCIDR || node.spec?.podCIDRs?.[0];
      if (cidr) {
        parseIpv4Cidr(cidr, `Node ${nodeName} spec.podCIDR`);
        return cidr;
      }
      lastError = undefined;
    } catch (e) {
      if (e instanceof TypeError) throw e;
      lastError = e as Error;
    }
    if (o.clock.nowMs() >= deadlineMs) {
      throw new Error(`Node ${nodeName} has no spec.podCIDR after ${timeoutMs} ms: is the controller manager running (its node IPAM controller gives one out)?${lastError ? ` Last read failed: ${lastError.message}` : ''}`);
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        o.clock.clearTimeout(timer);
        reject(o.signal!.reason);
      };
      const timer = o.clock.setTimeout(() => {
        o.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.min(pollMs, Math.max(1, deadlineMs - o.clock.nowMs())));
      o.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

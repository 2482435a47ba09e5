// The node IPAM controller, as Kubernetes' range allocator: every Node without spec.podCIDR gets
// the next free node range (a /24 by default) of the cluster CIDR (198.18.0.0/16 by default), in
// spec.podCIDR and spec.podCIDRs; the agent builds its pod bridge on it. No two nodes get the same
// range; a deleted Node's range is free again. What is taken lives only in memory and is rebuilt
// from the Nodes' podCIDRs when the controller starts (a new leader), before anything is given out.
// When every range is taken, the Node gets a CIDRNotAvailable event and waits for one to be freed.

import { Gauge, type Registry } from 'prom-client';
import { formatIpv4Cidr } from '../../api/cidr.js';
import type { Node } from '../../api/registry.js';
import { isApiError } from '../../apiserver/api_error.js';
import type { EventRecorder } from '../../client/events/recorder.js';
import type { InformerFactory } from '../../client/informer/informer_factory.js';
import type { SharedInformer } from '../../client/informer/shared_informer.js';
import type { ObjectClient } from '../client.js';
import { QueueController, type QueueControllerOptions } from '../controller_utils.js';
import { CidrSet } from './cidr_set.js';

export const DEFAULT_CLUSTER_CIDR = '198.18.0.0/16';
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

export interface NodeIpamOptions extends QueueControllerOptions {
  client: ObjectClient;
  /** Where the nodes informer comes from (shared with other controllers). */
  factory: InformerFactory;
  recorder: EventRecorder;
  /** The range node ranges are cut from. @default "198.18.0.0/16" */
  clusterCIDR?: string;
  /** Prefix length of each node's range. @default 24 */
  nodeCIDRMaskSize?: number;
}

const usageByRegistry = new WeakMap<Registry, Gauge>();

function usageGauge(registry: Registry): Gauge {
  let g = usageByRegistry.get(registry);
  if (g === undefined) {
    g = new Gauge({ name: 'node_ipam_controller_cidrset_usage_cidrs', help: 'Fraction of the cluster CIDR\'s node ranges that are taken', labelNames: ['clusterCIDR'], registers: [registry] });
    usageByRegistry.set(registry, g);
  }
  return g;
}

export class NodeIpamController extends QueueController {
  readonly cidrs: CidrSet;
  private readonly client: ObjectClient;
  private readonly recorder: EventRecorder;
  private readonly nodes: SharedInformer<Node>;
  /** The range each node holds, or is being given (written to the API but not yet seen back). */
  private readonly byNode = new Map<string, string>();
  /** Which node a taken range of the cluster CIDR belongs to. */
  private readonly holder = new Map<string, string>();
  /** Nodes that found every range taken; synced again when one is freed. */
  private readonly waiting = new Set<string>();
  private readonly usage: Gauge | undefined;
  private primed = false;

  constructor(o: NodeIpamOptions) {
    super('node-ipam', o);
    this.client = o.client;
    this.recorder = o.recorder;
    this.cidrs = new CidrSet(o.clusterCIDR ?? DEFAULT_CLUSTER_CIDR, o.nodeCIDRMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE);
    this.usage = o.registry ? usageGauge(o.registry) : undefined;
    this.nodes = o.factory.informer<Node>('nodes');
    this.waitFor(this.nodes);
    // A range a node shows is taken at once, not when its key comes up: another node's sync in
    // between must not be given it. Only nodes without one are queued (status updates of
    // thousands of nodes cost no syncs); before the first sync, prime() reads them all.
    const seen = (n: Node) => {
      const cidr = podCidrOf(n);
      if (cidr === undefined) this.enqueueObject(n);
      else if (this.primed) this.observe(n, cidr);
    };
    this.nodes.addEventHandler({ onAdd: seen, onUpdate: (_, n) => seen(n), onDelete: (n) => this.enqueueObject(n) });
  }

  protected async sync(name: string): Promise<void> {
    this.prime();
    const node = this.nodes.store.get(undefined, name);
    if (node === undefined) {
      this.releaseNode(name);
      return;
    }
    const have = podCidrOf(node);
    if (have !== undefined) {
      this.observe(node, have);
      return;
    }
    let cidr = this.byNode.get(name);
    if (cidr === undefined) {
      cidr = this.cidrs.allocateNext();
      if (cidr === undefined) {
        if (!this.waiting.has(name)) this.recorder.event(node, 'Warning', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable (every /${this.cidrs.nodeMaskBits} of ${this.clusterCIDR()} is taken)`);
        this.waiting.add(name);
        return;
      }
      this.byNode.set(name, cidr);
      this.holder.set(cidr, name);
      this.updateUsage();
    }
    this.waiting.delete(name);
    try {
      // Conditional on the version we read: a podCIDR set meanwhile by someone else is never overwritten.
      await this.client.patch<Node>('nodes', undefined, name, 'merge', { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { podCIDR: cidr, podCIDRs: [cidr] } });
    } catch (err) {
      if (isApiError(err, 'NotFound')) {
        this.releaseNode(name);
        return;
      }
      // Kept for this node: the retry writes the same range.
      throw err;
    }
  }

  /** Rebuilds what is taken from every Node the informer holds, once, before the first decision. */
  private prime(): void {
    if (this.primed) return;
    for (const n of this.nodes.store.list()) {
      const cidr = podCidrOf(n);
      if (cidr !== undefined) this.observe(n, cidr);
    }
    this.primed = true;
  }

  /** Records that the node holds `cidr` (its spec says so). */
  private observe(node: Node, cidr: string): void {
    const name = node.metadata!.name!;
    const before = this.byNode.get(name);
    if (before === cidr) return;
    if (before !== undefined) this.releaseNode(name);
    this.byNode.set(name, cidr);
    this.waiting.delete(name);
    const other = this.holder.get(cidr);
    if (other !== undefined && other !== name && this.byNode.get(other) === cidr) {
      this.recorder.event(node, 'Warning', 'CIDRAssignmentFailed', `Node ${name} has podCIDR ${cidr}, which node ${other} holds too`);
      return;
    }
    this.holder.set(cidr, name);
    this.cidrs.occupy(cidr);
    this.updateUsage();
  }

  private releaseNode(name: string): void {
    const cidr = this.byNode.get(name);
    this.byNode.delete(name);
    this.waiting.delete(name);
    if (cidr === undefined || this.holder.get(cidr) !== name) return;
    // Another node showing the same range (a conflict reported earlier) keeps it taken.
    const sharer = [...this.byNode].find(([, c]) => c === cidr)?.[0];
    if (sharer !== undefined) {
      this.holder.set(cidr, sharer);
      return;
    }
    this.holder.delete(cidr);
    this.cidrs.release(cidr);
    this.updateUsage();
    for (const w of this.waiting) this.enqueue(w);
  }

  private clusterCIDR(): string {
    return formatIpv4Cidr(this.cidrs.cluster);
  }

  private updateUsage(): void {
    this.usage?.set({ clusterCIDR: this.clusterCIDR() }, (this.cidrs.capacity - this.cidrs.free) / this.cidrs.capacity);
  }
}

/** The node's IPv4 range: spec.podCIDR, else the first of spec.podCIDRs. */
function podCidrOf(n: Node): string | undefined {
  return n.spec?.podCIDR || n.spec?.podCIDRs?.[0] || undefined;
}

// The pods bound to this agent's node(s): one informer (list, then watch) over the pods whose
// spec.nodeName is set, indexed by node, dispatching each change to the handler of that node.
// A real agent watches `spec.nodeName=<its node>`; a process of many hollow nodes shares one
// watch of every bound pod (`spec.nodeName!=`) instead of opening one per node.

import type { Pod } from '../../gen/navarch/api/v1/core.js';
import type { Clock } from '../../raft/node/ports.js';
import type { NavarchClient } from '../client/client.js';
import { clientListWatcher, type ListWatcher } from '../client/informer/list_watcher.js';
import type { ReflectorLogger } from '../client/informer/reflector.js';
import { SharedInformer, type HandlerRegistration } from '../client/informer/shared_informer.js';

export const NODE_INDEX = 'byNode';

/** What a node's pod worker hears. Handlers run in the informer's turn: note the work and return. */
export interface NodePodHandler {
  /** Added or changed (also on each resync): the pod as it is now. */
  onPod(pod: Pod): void;
  /** Gone from the API (or found gone on a relist). */
  onPodGone(pod: Pod): void;
}

export interface PodSourceOptions {
  clock?: Clock;
  /** Every this many ms, onPod for every pod again (level-triggered repair). 0: never. @default 0 */
  resyncPeriodMs?: number;
  logger?: ReflectorLogger;
}

/** The field selector of the pods bound to one node. */
export const podsOnNodeSelector = (nodeName: string): string => `spec.nodeName=${nodeName}`;
/** The field selector of every bound pod. */
export const BOUND_PODS_SELECTOR = 'spec.nodeName!=';

export class PodSource {
  readonly informer: SharedInformer<Pod>;
  private readonly handlers = new Map<string, NodePodHandler>();

  constructor(lw: ListWatcher<Pod>, o: PodSourceOptions = {}) {
    this.informer = new SharedInformer<Pod>(lw, {
      name: 'pods',
      clock: o.clock,
      resyncPeriodMs: o.resyncPeriodMs,
      logger: o.logger,
      indexers: { [NODE_INDEX]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
    });
    this.informer.addEventHandler({
      onAdd: (p) => this.handlers.get(p.spec?.nodeName ?? '')?.onPod(p),
      onUpdate: (_, p) => this.handlers.get(p.spec?.nodeName ?? '')?.onPod(p),
      onDelete: (p) => this.handlers.get(p.spec?.nodeName ?? '')?.onPodGone(p),
    });
  }

  /** The pods bound to one node, through a client (a real agent). */
  static forNode(client: NavarchClient, nodeName: string, o: PodSourceOptions & { pageSize?: number } = {}): PodSource {
    return new PodSource(clientListWatcher<Pod>(client, 'pods', { fieldSelector: podsOnNodeSelector(nodeName), pageSize: o.pageSize }), o);
  }

  /** Every bound pod, through a client (many hollow nodes in one process). */
  static forAllNodes(client: NavarchClient, o: PodSourceOptions & { pageSize?: number } = {}): PodSource {
    return new PodSource(clientListWatcher<Pod>(client, 'pods', { fieldSelector: BOUND_PODS_SELECTOR, pageSize: o.pageSize }), o);
  }

  /** Sends the changes of the pods bound to `nodeName` to `handler` (one handler per node). */
  handle(nodeName: string, handler: NodePodHandler): HandlerRegistration {
    if (this.handlers.has(nodeName)) throw new Error(`Cannot handle the pods of node ${nodeName}: it already has a handler`);
    this.handlers.set(nodeName, handler);
    return { remove: () => this.handlers.get(nodeName) === handler && this.handlers.delete(nodeName) };
  }

  /** The pods bound to a node, as last seen (read-only objects). */
  podsOn(nodeName: string): Pod[] {
    return this.informer.store.byIndex(NODE_INDEX, nodeName);
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  start(): void {
    this.informer.start();
  }

  waitForSync(o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    return this.informer.waitForSync(o);
  }

  stop(): void {
    this.informer.stop();
  }
}

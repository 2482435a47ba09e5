// What each leader-elected component runs during a term: the scheduler, and the controller
// manager's controllers (ReplicaSet, Deployment, garbage collector, namespace, node lifecycle,
// node IPAM).
// Every writer gets the term's fenced client; events go through one recorder per source component,
// as Kubernetes names them ("default-scheduler", "deployment-controller", ...).

import type { Deployment, Pod, ReplicaSet } from '../../api/registry.js';
import { ApiEventRecorder } from '../../client/events/mod.js';
import { clientBinder, Scheduler, type SchedulerOptions } from '../../scheduler/mod.js';
import { DeploymentController } from '../deployment/mod.js';
import { GarbageCollector } from '../garbagecollector/index.js';
import { NamespaceController } from '../namespace/index.js';
import { NodeIpamController } from '../nodeipam/mod.js';
import { NodeLifecycleController } from '../nodelifecycle/mod.js';
import { ReplicaSetController } from '../replicaset/index.js';
import type { Part, TermContext, TermStarter } from './leader_run.js';

export const SCHEDULER_LEASE = 'kube-scheduler';
export const CONTROLLER_MANAGER_LEASE = 'kube-controller-manager';

export interface ComponentLogger {
  warn(msg: string): void;
}

function recorder(ctx: TermContext, parts: Part[], component: string): ApiEventRecorder {
  const r = new ApiEventRecorder({ client: ctx.client, component, instance: ctx.identity, clock: ctx.clock, registry: ctx.registry });
  parts.push({ name: `${component} events`, stop: () => r.stop() });
  return r;
}

export function schedulerStarter(o: { logger: ComponentLogger; options?: SchedulerOptions }): TermStarter {
  return async (ctx, parts) => {
    const recorders: Part[] = [];
    const scheduler = new Scheduler(
      {
        client: ctx.client,
        binder: clientBinder(ctx.client),
        informers: ctx.informers,
        clock: ctx.clock,
        random: ctx.random,
        recorder: recorder(ctx, recorders, 'default-scheduler'),
        registry: ctx.registry,
      },
      { logger: o.logger, ...o.options },
    );
    // The scheduler stops first, then its recorder: its last events still go out.
    parts.push({ name: 'scheduler', stop: () => scheduler.stop() }, ...recorders);
    await scheduler.start();
  };
}

export interface ControllerManagerOptions {
  logger: ComponentLogger;
  /** A node whose Lease stops for this long is Unknown and tainted. @default 10000 */
  nodeMonitorGracePeriodMs?: number;
  /** Pods without a toleration for the unreachable/not-ready taints are evicted after this. @default 20 */
  defaultTolerationSeconds?: number;
  /** Node podCIDRs are cut from this range. @default "198.18.0.0/16" */
  clusterCIDR?: string;
  /** Prefix length of each node's podCIDR. @default 24 */
  nodeCIDRMaskSize?: number;
  /** Workers per controller. @default 2 (the controllers' own default) */
  workers?: number;
}

export function controllerManagerStarter(o: ControllerManagerOptions): TermStarter {
  return async (ctx, parts) => {
    const base = { client: ctx.client, informers: ctx.informers, clock: ctx.clock, registry: ctx.registry, logger: o.logger, workers: o.workers };
    const f = ctx.informers;
    const controllers: Array<{ name: string; start(): void; stop(): Promise<void> }> = [];
    const recorders: Part[] = [];
    const events = (component: string): ApiEventRecorder => recorder(ctx, recorders, component);
    controllers.push(
      named('replicaset', new ReplicaSetController({ ...base, events: events('replicaset-controller') })),
      named(
        'deployment',
        new DeploymentController({
          ...base,
          recorder: events('deployment-controller'),
          deployments: f.informer<Deployment>('deployments'),
          replicaSets: f.informer<ReplicaSet>('replicasets'),
          pods: f.informer<Pod>('pods'),
        }),
      ),
      named('garbagecollector', new GarbageCollector({ ...base, events: events('garbage-collector-controller') })),
      named('namespace', new NamespaceController({ ...base, events: events('namespace-controller') })),
      named(
        'nodelifecycle',
        new NodeLifecycleController({
          ...base,
          factory: f,
          recorder: events('node-controller'),
          nodeMonitorGracePeriodMs: o.nodeMonitorGracePeriodMs,
          defaultTolerationSeconds: o.defaultTolerationSeconds,
        }),
      ),
      named('nodeipam', new NodeIpamController({ ...base, factory: f, recorder: events('node-ipam-controller'), clusterCIDR: o.clusterCIDR, nodeCIDRMaskSize: o.nodeCIDRMaskSize })),
    );
    // All controllers stop at once, then their recorders.
    parts.push({ name: controllers.map((c) => c.name).join(', '), stop: async () => void (await Promise.all(controllers.map((c) => c.stop()))) }, ...recorders);
    // The informers the controllers asked for start with the term; each controller waits for its own.
    f.start();
    for (const c of controllers) c.start();
  };
}

function named<C extends { start(): void; stop(): Promise<void> }>(name: string, c: C): { name: string; start(): void; stop(): Promise<void> } {
  return { name, start: () => c.start(), stop: () => c.stop() };
}

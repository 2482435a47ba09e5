// What each leader-elected component runs during a term: the scheduler, and the controller
// manager's controllers (ReplicaSet, Deployment, garbage collector, namespace, node lifecycle,
// node IPAM, pod GC, disruption).
// Every writer gets the term's fenced client; events go through one recorder per source component,
// as Kubernetes names them ("default-scheduler", "deployment-controller", ...).

import type { Deployment, KubeObject, Pod, ReplicaSet } from '../../api/registry.js';
import { ApiEventRecorder, type EventRecorder } from '../../client/events/mod.js';
import type { IndexFunc } from '../../client/informer/mod.js';
import type { NavarchClient } from '../../client/mod.js';
import { clientBinder, Scheduler, type BatchBindClient, type SchedulerOptions } from '../../scheduler/mod.js';
import type { ObjectClient } from '../client.js';
import { DeploymentController } from '../deployment/mod.js';
import { DISRUPTION_EVENT_COMPONENT, DisruptionController } from '../disruption/mod.js';
import { GarbageCollector, OWNER_INDEXERS } from '../garbagecollector/index.js';
import { NamespaceController } from '../namespace/index.js';
import { NodeIpamController } from '../nodeipam/mod.js';
import { NODELIFECYCLE_POD_INDEXERS, NodeLifecycleController } from '../nodelifecycle/mod.js';
import { PodGcController } from '../podgc/mod.js';
import { REPLICASET_POD_INDEXERS, ReplicaSetController } from '../replicaset/index.js';
import type { Part, StandbyBuilder, TermContext, TermStarter } from './leader_run.js';

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

/**
 * The scheduler kept ready while standing by: its cache and queue follow the warm informers from
 * the start, and a takeover lends it the term's fenced client and recorder and runs its loop,
 * instead of building a new scheduler that replays every pod and node first (seconds on a busy
 * master, all of it in the binding gap). Nothing is written before the term: the loop is not running.
 */
export function schedulerStandby(o: { logger: ComponentLogger; options?: SchedulerOptions }): StandbyBuilder {
  return (sctx) => {
    let term: { client: NavarchClient; recorder: EventRecorder } | undefined;
    const writer = (): { client: NavarchClient; recorder: EventRecorder } => {
      if (!term) throw new Error('The standby scheduler wrote before its term began');
      return term;
    };
    // bindBatch too: without it clientBinder falls back to one bind call per pod.
    const client: ObjectClient & BatchBindClient = {
      get: (...a) => writer().client.get(...a),
      list: (...a) => writer().client.list(...a),
      create: (...a) => writer().client.create(...a),
      update: (...a) => writer().client.update(...a),
      updateStatus: (...a) => writer().client.updateStatus(...a),
      patch: (...a) => writer().client.patch(...a),
      delete: (...a) => writer().client.delete(...a),
      bind: (...a) => writer().client.bind(...a),
      bindBatch: (bindings) => writer().client.bindBatch(bindings),
    };
    const scheduler = new Scheduler(
      {
        client,
        binder: clientBinder(client),
        informers: sctx.informers,
        clock: sctx.clock,
        random: sctx.random,
        recorder: { event: (...a) => writer().recorder.event(...a) },
        registry: sctx.registry,
      },
      { logger: o.logger, ...o.options },
    );
    const prepared = scheduler.prepare();
    prepared.catch((e: unknown) => o.logger.warn(`standby scheduler: ${(e as Error)?.message ?? e}`));
    return {
      async activate(ctx, parts) {
        const recorders: Part[] = [];
        term = { client: ctx.client, recorder: recorder(ctx, recorders, 'default-scheduler') };
        parts.push({ name: 'scheduler', stop: () => scheduler.stop() }, ...recorders);
        await prepared;
        scheduler.run();
      },
      discard: () => scheduler.stop(),
      // A failed prepare is logged above; the term then starts the scheduler as it can.
      ready: prepared.catch(() => undefined),
    };
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

/**
 * The indexes the controllers add to an informer of `resource`. A master adds them to its warm
 * informers at the start, so they fill as the informers do: added when the master took the
 * controller lease, they indexed every pod at once (0.2 s at 150,000 pods on an idle machine, about
 * a second on a loaded one, while its new scheduler waited for the event loop).
 */
export function controllerIndexers(resource: string): Readonly<Record<string, IndexFunc<KubeObject>>> {
  const pods = resource === 'pods' ? { ...REPLICASET_POD_INDEXERS, ...NODELIFECYCLE_POD_INDEXERS } : {};
  return { ...(pods as Record<string, IndexFunc<KubeObject>>), ...OWNER_INDEXERS };
}

export function controllerManagerStarter(o: ControllerManagerOptions): TermStarter {
  return async (ctx, parts) => {
    const base = { client: ctx.client, informers: ctx.informers, clock: ctx.clock, registry: ctx.registry, logger: o.logger, workers: o.workers };
    const f = ctx.informers;
    const controllers: Array<{ name: string; start(): void; stop(): Promise<void> }> = [];
    const recorders: Part[] = [];
    const events = (component: string): ApiEventRecorder => recorder(ctx, recorders, component);
    // Registered before anything is built: should a constructor throw, the controllers and
    // recorders built so far are stopped with the term (their queues detached), so the next term
    // can build them again. All controllers stop at once, then their recorders.
    const controllersPart: Part = { name: 'controllers', stop: async () => void (await Promise.all(controllers.map((c) => c.stop()))) };
    parts.push(controllersPart, { name: 'controller events', stop: async () => void (await Promise.all(recorders.map((r) => r.stop()))) });
    // One at a time, so each is in the list (and stopped) as soon as it exists.
    const build = (name: string, make: () => { start(): void; stop(): Promise<void> }): void => void controllers.push(named(name, make()));
    build('replicaset', () => new ReplicaSetController({ ...base, events: events('replicaset-controller') }));
    build(
      'deployment',
      () =>
        new DeploymentController({
          ...base,
          recorder: events('deployment-controller'),
          deployments: f.informer<Deployment>('deployments'),
          replicaSets: f.informer<ReplicaSet>('replicasets'),
          pods: f.informer<Pod>('pods'),
        }),
    );
    build('garbagecollector', () => new GarbageCollector({ ...base, events: events('garbage-collector-controller') }));
    build('namespace', () => new NamespaceController({ ...base, events: events('namespace-controller') }));
    build(
      'nodelifecycle',
      () =>
        new NodeLifecycleController({
          ...base,
          factory: f,
          recorder: events('node-controller'),
          nodeMonitorGracePeriodMs: o.nodeMonitorGracePeriodMs,
          defaultTolerationSeconds: o.defaultTolerationSeconds,
        }),
    );
    build('nodeipam', () => new NodeIpamController({ ...base, factory: f, recorder: events('node-ipam-controller'), clusterCIDR: o.clusterCIDR, nodeCIDRMaskSize: o.nodeCIDRMaskSize }));
    build('podgc', () => new PodGcController({ client: ctx.client, factory: f, clock: ctx.clock, logger: o.logger }));
    build('disruption', () => new DisruptionController({ ...base, recorder: events(DISRUPTION_EVENT_COMPONENT) }));
    controllersPart.name = controllers.map((c) => c.name).join(', ');
    // The informers the controllers asked for start with the term; each controller waits for its own.
    f.start();
    for (const c of controllers) c.start();
  };
}

function named<C extends { start(): void; stop(): Promise<void> }>(name: string, c: C): { name: string; start(): void; stop(): Promise<void> } {
  return { name, start: () => c.start(), stop: () => c.stop() };
}

// The disruption controller, as Kubernetes' (pkg/controller/disruption): keeps each
// PodDisruptionBudget's status current, so the eviction API knows how many of its pods may be
// evicted now. For a budget it takes the pods of its namespace that its selector matches ({}
// matches them all, no selector none), works out how many are expected and how many must stay
// healthy (expected_pods.ts), counts the healthy ones (status.ts) and writes
// status.disruptionsAllowed, the counts, the disruptedPods still awaited and the DisruptionAllowed
// condition, only when something changed. A budget that cannot be computed (a pod whose controller
// is unknown or missing) is left allowing no disruptions (Kubernetes' failSafe).
//
// The queue is keyed by budget ("namespace/name"). A pod's change queues every budget of its
// namespace that matches it (before or after the change); a change to the replicas of a
// ReplicaSet, Deployment or StatefulSet queues its namespace's budgets that count replicas.
//
// Kubernetes' stale-disruption path runs beside it, on a second queue keyed by pod
// (stale_disruption.ts): a pod marked DisruptionTarget=True (eviction, preemption) that is not
// being deleted 2 minutes after the condition's lastTransitionTime gets the condition reset to
// False. The pod handlers below feed that queue too; the two queues start and stop together.

import type { TimerHandle } from '../../../raft/node/ports.js';
import type { Deployment, KubeObject, Pod, PodDisruptionBudget, ReplicaSet, StatefulSet } from '../../api/registry.js';
import { labelSelectorToString, selectorFromLabelSelector, type Labels, type Selector } from '../../api/labels.js';
import { isApiError } from '../../apiserver/api_error.js';
import type { EventRecorder } from '../../client/events/recorder.js';
import { NAMESPACE_INDEX } from '../../client/informer/indexer.js';
import type { InformerFactory } from '../../client/informer/informer_factory.js';
import type { SharedInformer } from '../../client/informer/shared_informer.js';
import { deepEqual } from '../../api/deep_equal.js';
import { deepCopy } from '../../api/deep_copy.js';
import type { PodDisruptionBudgetStatus } from '../../../gen/navarch/api/v1/policy.js';
import type { ObjectClient } from '../client.js';
import { getControllerOf, message, QueueController, type QueueControllerOptions } from '../controller_utils.js';
import { dependsOnScale, ExpectedPodCountError, expectedPodCount, type ControllerSources } from './expected_pods.js';
import { StalePodDisruptionController } from './stale_disruption.js';
import { buildDisruptedPodMap, countHealthyPods, failSafeStatus, nextStatus } from './status.js';

/** How often every budget is synced again with no event (Kubernetes' resync of the PDB handler). */
export const PDB_RESYNC_MS = 30_000;

/** The event source Kubernetes' disruption controller reports as. */
export const DISRUPTION_EVENT_COMPONENT = 'controllermanager';

export interface DisruptionControllerOptions extends QueueControllerOptions {
  client: ObjectClient;
  /** Where the budgets, pods, ReplicaSets, Deployments and StatefulSets informers come from (shared). */
  informers: InformerFactory;
  recorder: EventRecorder;
}

type Scalable = ReplicaSet | Deployment | StatefulSet;

export class DisruptionController extends QueueController {
  private readonly client: ObjectClient;
  private readonly recorder: EventRecorder;
  private readonly pdbs: SharedInformer<PodDisruptionBudget>;
  private readonly pods: SharedInformer<Pod>;
  private readonly sources: ControllerSources;
  /** Parsed selectors by budget uid, with the generation they were parsed at (the selector is mutable). */
  private readonly selectors = new Map<string, { generation: number; selector: Selector | Error }>();
  private resyncTimer: TimerHandle | undefined;
  private stopped = false;
  /** The second queue: pods whose DisruptionTarget condition is to be reset once stale. */
  readonly stalePodDisruptions: StalePodDisruptionController;

  constructor(o: DisruptionControllerOptions) {
    super('disruption', o);
    this.client = o.client;
    this.recorder = o.recorder;
    this.pdbs = o.informers.informer<PodDisruptionBudget>('poddisruptionbudgets');
    this.pods = o.informers.informer<Pod>('pods');
    const { clock, registry, workers, maxRetries, maxQueueDepth, logger } = o;
    this.stalePodDisruptions = new StalePodDisruptionController({ client: o.client, pods: this.pods, clock, registry, workers, maxRetries, maxQueueDepth, logger });
    const replicaSets = o.informers.informer<ReplicaSet>('replicasets');
    const deployments = o.informers.informer<Deployment>('deployments');
    const statefulSets = o.informers.informer<StatefulSet>('statefulsets');
    this.sources = {
      replicaSets: replicaSets.store,
      deployments: deployments.store,
      statefulSets: statefulSets.store,
      read: (resource, namespace, name) => this.readController(resource, namespace, name),
    };
    this.pdbs.addEventHandler({
      onAdd: (pdb) => this.enqueueObject(pdb),
      onUpdate: (old, pdb) => {
        if (old.metadata?.resourceVersion === pdb.metadata?.resourceVersion) return;
        if (old.metadata?.uid !== pdb.metadata?.uid) this.forget(old);
        this.enqueueObject(pdb);
      },
      onDelete: (pdb) => {
        this.forget(pdb);
        this.enqueueObject(pdb);
      },
    });
    this.pods.addEventHandler({
      onAdd: (p) => {
        this.podChanged(undefined, p);
        this.stalePodDisruptions.podChanged(p);
      },
      onUpdate: (old, p) => {
        if (old.metadata?.resourceVersion !== p.metadata?.resourceVersion) this.podChanged(old, p);
        this.stalePodDisruptions.podChanged(p);
      },
      onDelete: (p) => this.podChanged(undefined, p, false),
    });
    for (const inf of [replicaSets, deployments, statefulSets] as Array<SharedInformer<Scalable>>) {
      inf.addEventHandler({
        onAdd: (c) => this.scaleChanged(c),
        onUpdate: (old, c) => {
          const moved = old.spec?.replicas !== c.spec?.replicas || old.metadata?.uid !== c.metadata?.uid || getControllerOf(old)?.uid !== getControllerOf(c)?.uid;
          if (moved) this.scaleChanged(c);
        },
        onDelete: (c) => this.scaleChanged(c),
      });
    }
    this.waitFor(this.pdbs, this.pods, replicaSets, deployments, statefulSets);
  }

  /** Runs both queues (budgets and stale pod disruptions); resolves once both have stopped. */
  override run(): Promise<void> {
    if (this.resyncTimer === undefined && !this.stopped) this.resyncTimer = this.clock.setTimeout(() => this.resync(), PDB_RESYNC_MS);
    return Promise.all([super.run(), this.stalePodDisruptions.run()]).then(() => {});
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    await Promise.all([super.stop(), this.stalePodDisruptions.stop()]);
  }

  /** Every budget again, as Kubernetes' 30-s resync of its PDB handler: one left at 0 by a failed sync recovers without an event. */
  private resync(): void {
    if (this.stopped) return;
    for (const pdb of this.pdbs.store.list()) this.enqueueObject(pdb);
    this.resyncTimer = this.clock.setTimeout(() => this.resync(), PDB_RESYNC_MS);
  }

  private forget(pdb: PodDisruptionBudget): void {
    if (pdb.metadata?.uid) this.selectors.delete(pdb.metadata.uid);
  }

  /** The budget's selector (cached per generation); an Error if it cannot be parsed. */
  private selectorOf(pdb: PodDisruptionBudget): Selector | Error {
    const uid = pdb.metadata?.uid ?? '';
    const generation = pdb.metadata?.generation ?? 0;
    const cached = this.selectors.get(uid);
    if (cached !== undefined && cached.generation === generation) return cached.selector;
    let selector: Selector | Error;
    try {
      selector = selectorFromLabelSelector(pdb.spec?.selector);
    } catch (err) {
      selector = err instanceof Error ? err : new Error(String(err));
    }
    if (uid) this.selectors.set(uid, { generation, selector });
    return selector;
  }

  /** Budgets of the pod's namespace whose (valid) selector matches these labels. */
  private budgetsMatching(namespace: string, labels: Labels): PodDisruptionBudget[] {
    return this.pdbs.store.byIndex(NAMESPACE_INDEX, namespace).filter((pdb) => {
      const s = this.selectorOf(pdb);
      return !(s instanceof Error) && s.matches(labels);
    });
  }

  /** Queues the budgets that match the pod now or matched it before; warns (on a new match set) when it has several. */
  private podChanged(old: Pod | undefined, p: Pod, warn = true): void {
    const namespace = p.metadata?.namespace ?? '';
    const now = this.budgetsMatching(namespace, p.metadata?.labels);
    for (const pdb of now) this.enqueueObject(pdb);
    const relabelled = old !== undefined && !deepEqual(old.metadata?.labels ?? {}, p.metadata?.labels ?? {});
    if (relabelled) for (const pdb of this.budgetsMatching(namespace, old.metadata?.labels)) this.enqueueObject(pdb);
    if (warn && now.length > 1 && (old === undefined || relabelled)) {
      // Kubernetes' words, two spaces included.
      this.recorder.event(p, 'Warning', 'MultiplePodDisruptionBudgets', `Pod ${JSON.stringify(namespace)}/${JSON.stringify(p.metadata?.name ?? '')} matches multiple PodDisruptionBudgets.  Chose ${JSON.stringify(now[0].metadata?.name ?? '')} arbitrarily.`);
    }
  }

  /** A controller's replicas may have changed: its namespace's budgets that count replicas are queued. */
  private scaleChanged(c: Scalable): void {
    for (const pdb of this.pdbs.store.byIndex(NAMESPACE_INDEX, c.metadata?.namespace ?? '')) if (dependsOnScale(pdb)) this.enqueueObject(pdb);
  }

  private async readController(resource: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.client.get(resource, namespace, name);
    } catch (err) {
      if (isApiError(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  protected async sync(key: string): Promise<void> {
    const pdb = this.pdbs.store.getByKey(key);
    if (pdb === undefined) return;
    try {
      await this.trySync(key, pdb);
    } catch (err) {
      // A conflict means a newer budget is on its way: retry without touching it.
      if (isApiError(err, 'Conflict')) throw err;
      if (isApiError(err, 'NotFound')) return;
      this.logger.warn(`Controller "${this.name}": sync of PodDisruptionBudget ${key} failed, allowing no disruptions: ${message(err)}`);
      await this.writeStatus(pdb, failSafeStatus(pdb, message(err), this.clock.nowMs()));
      // A budget that cannot be computed waits for its next change, as in Kubernetes; anything else (the API) is retried.
      if (!(err instanceof ExpectedPodCountError)) throw err;
    }
  }

  private async trySync(key: string, pdb: PodDisruptionBudget): Promise<void> {
    const selector = this.selectorOf(pdb);
    if (selector instanceof Error) {
      this.recorder.event(pdb, 'Warning', 'NoPods', `Failed to get pods: ${selector.message}`);
      throw new ExpectedPodCountError(selector.message);
    }
    const pods = selector.isNothing() ? [] : this.pods.store.byIndex(NAMESPACE_INDEX, pdb.metadata?.namespace ?? '').filter((p) => selector.matches(p.metadata?.labels));
    if (pods.length === 0) this.recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');

    let counts;
    try {
      counts = await expectedPodCount(pdb, pods, this.sources);
    } catch (err) {
      this.recorder.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${message(err)}`);
      throw err;
    }
    if (counts.unmanagedPods.length > 0) {
      this.recorder.event(
        pdb,
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${labelSelectorToString(pdb.spec?.selector)}) were found to be unmanaged. ` +
          'As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. ' +
          'To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.',
      );
    }

    const nowMs = this.clock.nowMs();
    const disrupted = buildDisruptedPodMap(pods, pdb, nowMs);
    for (const p of disrupted.expired) {
      this.recorder.event(p, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata?.namespace}/${pdb.metadata?.name} to be deleted but it wasn't`);
    }
    const currentHealthy = countHealthyPods(pods, disrupted.disruptedPods, nowMs);
    const status = nextStatus(pdb, { currentHealthy, desiredHealthy: counts.desiredHealthy, expectedPods: counts.expectedCount, disruptedPods: disrupted.disruptedPods }, nowMs);
    await this.writeStatus(pdb, status);
    // The earliest disruptedPods entry expires then: the budget is counted again without it.
    if (disrupted.recheckAtMs !== undefined) this.enqueueAfter(key, disrupted.recheckAtMs - nowMs);
  }

  /** Writes the status (nothing when undefined), conditional on the budget's resourceVersion. */
  private async writeStatus(pdb: PodDisruptionBudget, status: PodDisruptionBudgetStatus | undefined): Promise<void> {
    if (status === undefined) return;
    const next = deepCopy(pdb);
    next.status = status;
    await this.client.updateStatus(next);
  }
}

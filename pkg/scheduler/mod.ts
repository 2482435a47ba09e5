// The scheduler's public entry.
//
// Running it (the controller manager / master, under leader election with a fenced client):
//
//   const informers = InformerFactory.forClient(client, { clock });   // or new InformerFactory(lw => ...)
//   const scheduler = new Scheduler(
//     { client: fencedClient, binder: clientBinder(fencedClient), informers, clock, random, recorder, registry },
//     { schedulerName: "default-scheduler" },                           // options: see SchedulerOptions
//   );
//   await scheduler.start();   // starts pods/nodes/namespaces informers, waits for their first lists, runs the loop
//   ...
//   await scheduler.stop();    // on losing the lease: stops the loop, waits for bindings in flight
//   informers.stop();          // the factory's owner stops the informers (they may be shared with controllers)
//
// A Scheduler runs once: after stop(), build a new one (its cache and queue start empty and fill
// from the informers' stores). Metrics go to the given prom-client Registry, one set per registry,
// so a new Scheduler on the same registry keeps the series. `binder` is anything with
// bind(namespace, name, nodeName, {uid}) (clientBinder() adapts NavarchClient.bind); a binding
// answered with Conflict or NotFound forgets the pod, any other failure retries it after backoff.
//
// The scheduling cycle alone (what Scheduler drives), for tests and benchmarks: keep one Snapshot
// current from the node, pod and namespace watches; keep one Framework per profile
// (newDefaultFramework()); for each pod taken from the queue call
// schedulePod(pod, snapshot, framework, random). On "scheduled", assume the pod at once
// (snapshot.addPod(result.pod, result.nodeName)) and bind it; if binding fails, forget it
// (snapshot.removePod(result.pod.key)). On "unschedulable", record result.error.message as the
// FailedScheduling event, park the pod until eventMayHelp(framework,
// result.error.diagnosis.unschedulablePlugins, ...) says an event may help, and when
// result.preemption is set: evict its victims, clear the lowerPriorityNominatedPods'
// nominations, and snapshot.nominatePod(pod, nominatedNodeName).

export { CycleState } from "./framework/cycle_state.js";
export { FitError, fitErrorMessage, NO_NODES_AVAILABLE_MESSAGE } from "./framework/fit_error.js";
export { Framework, type PluginEntry, type ProfileConfig } from "./framework/framework.js";
export * from "./framework/interface.js";
export { NodeInfo } from "./framework/node_info.js";
export { PodInfo, podKey } from "./framework/pod_info.js";
export {
  numFeasibleNodesToFind,
  schedulePod,
  SchedulingError,
  type ScheduledResult,
  type ScheduleResult,
  type UnschedulableResult,
} from "./framework/schedule_pod.js";
export { Snapshot } from "./framework/snapshot.js";
export { Code, Status, type StatusCode } from "./framework/status.js";
export * from "./framework/cluster_event.js";
export { DEFAULT_SCHEDULER_NAME, defaultProfile, type DefaultProfileOptions, newDefaultFramework } from "./default_profile.js";
export { clientBinder, type BatchBindClient, type Binder, type BindOptions } from "./binder.js";
export { isTerminal, SchedulerCache, type SchedulerCacheOptions } from "./cache/cache.js";
export { SchedulerMetrics, type AttemptResult } from "./metrics.js";
export { SchedulingQueue, type PendingCounts, type QueuedPodInfo, type SchedulingQueueOptions } from "./queue/scheduling_queue.js";
export { Scheduler, type SchedulerDeps, type SchedulerLogger, type SchedulerOptions } from "./scheduler.js";

// The scheduler's public entry: the scheduling cycle, its inputs (snapshot, profile) and outputs.
//
// Use: keep one Snapshot current from the node, pod and namespace watches; keep one Framework per
// profile (newDefaultFramework()); for each pod taken from the queue call
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

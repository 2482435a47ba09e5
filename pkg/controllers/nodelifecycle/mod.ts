// The node lifecycle controller: Ready=Unknown and the unreachable taint for nodes whose Lease
// stopped, the not-ready taint for nodes reporting Ready=False, eviction of their pods after
// tolerationSeconds, at a bounded rate per zone.
//
//   const c = new NodeLifecycleController({ client, factory, recorder, clock, registry });
//   factory.start();
//   c.start();
//   ...
//   await c.stop();

export { NodeLifecycleController, DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS, NODE_LEASE_NAMESPACE, POD_NODE_INDEX, NODELIFECYCLE_POD_INDEXERS, type NodeLifecycleOptions } from './controller.js';
export { ZoneTaintLimiter, zoneState, zoneOf, type DisruptionOptions, type ZoneState } from './disruption.js';
export { TAINT_NOT_READY, TAINT_UNREACHABLE, evictionAtMs, tolerates, tolerationMs, FOREVER } from './taints.js';

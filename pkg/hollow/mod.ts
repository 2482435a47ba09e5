// Hollow nodes (kubemark's idea): many simulated agents in one process for scale tests, built
// from pkg/agent's parts with a fake runtime. `navarch hollow` (cmd/hollow.ts) runs them.
//
//   const pods = PodSource.forAllNodes(client, { clock: realClock, resyncPeriodMs: 60_000 });
//   const hollow = new HollowNodes({ client, pods, clock: realClock, nodes: 5000 });
//   await hollow.start();   // registered, leases renewing, pods bound to them reported Running

export { HollowNodes, DEFAULT_CAPACITY, HOLLOW_LABEL, type HollowNodesOptions, type HollowStats, type HollowLogger } from './hollow_nodes.js';
export { AddressPlan, PodIpAllocator, hollowAddressPlan, parseCidr, formatCidr, parseAddress, formatAddress, type Cidr, type IpFamily } from './address_plan.js';
export { FakeRuntime, type FakeRuntimeOptions } from './fake_runtime.js';
export { HollowMetrics } from './metrics.js';
export { Limiter } from './limiter.js';

// Leader election over Lease objects with fencing tokens. Import from here.

export { checkElectorOptions, LeaderElector, type LeaderCallbacks, type LeaderElectorOptions, type LeadingContext, type LeaseClient, type Takeover } from './leader_elector.js';
export { formatMicroTime, type LeaderElectionRecord } from './lease_record.js';
export { leaderElectionReady, leaderElectionStatus } from './metrics.js';
export type { FencingToken } from '../../apiserver/fencing.js';

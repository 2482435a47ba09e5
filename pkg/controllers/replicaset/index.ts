// The ReplicaSet controller: what the controller manager starts.
export { REPLICASET_GVK, REPLICASET_POD_INDEXERS, ReplicaSetController, slowStartBatch, type ReplicaSetControllerOptions } from './replica_set.js';
export { compareForDeletion, podsToDelete } from './pod_ranking.js';
export { REPLICA_FAILURE, calculateStatus } from './status.js';

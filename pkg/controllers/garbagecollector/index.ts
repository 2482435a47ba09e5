// The garbage collector: what the controller manager starts.
export { GarbageCollector, OWNER_UID_INDEX, OWNER_INDEXERS, gcKey, type GarbageCollectorOptions } from './garbage_collector.js';
export { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, classifyReferences, policyForDependent, type ClassifiedRefs } from './owners.js';

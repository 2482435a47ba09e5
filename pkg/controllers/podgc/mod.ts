// The pod garbage collector: force-deletes the pods of deleted nodes and the oldest finished pods
// beyond a threshold, on a period.
//
//   const gc = new PodGcController({ client, factory, clock, logger });
//   factory.start();
//   gc.start();
//   ...
//   await gc.stop();

export { PodGcController, DEFAULT_GC_CHECK_PERIOD_MS, DEFAULT_QUARANTINE_MS, DEFAULT_TERMINATED_POD_THRESHOLD, type PodGcOptions } from './controller.js';

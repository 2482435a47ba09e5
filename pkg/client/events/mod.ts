// Events: how controllers and the scheduler tell users what they did ("kubectl describe" shows them).
//
//   const recorder = new ApiEventRecorder({ client, component: 'node-lifecycle-controller', clock });
//   recorder.event(node, 'Normal', 'NodeNotReady', 'Node node-1 status is now: NodeNotReady');
//   await recorder.stop();

export { type EventRecorder, type EventType, RecordingEventRecorder } from './recorder.js';
export { ApiEventRecorder, eventNamespace, type ApiEventRecorderOptions } from './api_recorder.js';
export { EventCorrelator, COMBINED_PREFIX, type CorrelatorOptions, type CorrelateResult, type EventPatch } from './correlator.js';
